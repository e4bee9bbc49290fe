//! ISO 4217 currency codes and money amounts. Money is always an integer
//! number of minor units (cents for USD, yen for JPY) beside its currency;
//! floats never hold money.

use crate::Invalid;
use serde::{Deserialize, Serialize};

/// Active ISO 4217 codes with their number of minor-unit digits.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWL", 2),
];

/// Every accepted currency code (upper case), for the OpenAPI document.
pub fn codes() -> impl Iterator<Item = &'static str> {
    CURRENCIES.iter().map(|(code, _)| *code)
}

/// The largest amount accepted, in minor units: 10^15, i.e. ten trillion
/// dollars. Far above any real deal, far below `i64::MAX`, so that sums over
/// millions of deals cannot overflow.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// A valid ISO 4217 currency code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "USD")]
pub struct Currency(String);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, String> {
        let up = code.trim().to_ascii_uppercase();
        if CURRENCIES.iter().any(|(c, _)| *c == up) {
            Ok(Self(up))
        } else {
            Err(format!("`{code}` is not an ISO 4217 currency code; use a three-letter code such as USD, EUR or CNY"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Number of digits after the decimal point (2 for USD, 0 for JPY).
    pub fn minor_digits(&self) -> u8 {
        CURRENCIES.iter().find(|(c, _)| *c == self.0).map(|(_, d)| *d).unwrap_or(2)
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.0
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a money amount in minor units: not negative, not above [`MAX_AMOUNT`].
pub fn check_amount(field: &str, amount: i64) -> Result<i64, Invalid> {
    if amount < 0 {
        Err(Invalid::one(field, "must not be negative (money is in minor units, e.g. cents)"))
    } else if amount > MAX_AMOUNT {
        Err(Invalid::one(field, format!("is too large: at most {MAX_AMOUNT} minor units")))
    } else {
        Ok(amount)
    }
}

/// Parses an amount written in major units (`12500`, `12,500.50`,
/// `12 500`) into minor units for a currency with `digits` decimals. Exact:
/// digits are read as integers, never through a float, so `0.29` is 29
/// cents. Commas, spaces and underscores group thousands; more decimals
/// than the currency has, a sign, or an amount above [`MAX_AMOUNT`] are
/// refused with a message saying what to write instead.
pub fn parse_major(s: &str, digits: u8) -> Result<i64, String> {
    let cleaned: String = s.trim().chars().filter(|c| !matches!(c, ',' | ' ' | '_')).collect();
    let (whole, frac) = cleaned.split_once('.').unwrap_or((cleaned.as_str(), ""));
    let plain = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !plain(whole) || !plain(frac) {
        return Err(format!("`{s}` is not an amount; write digits with an optional decimal point, like 12500.50"));
    }
    if frac.len() > usize::from(digits) {
        return Err(format!("`{s}` has more than {digits} decimals, which this currency does not have"));
    }
    let too_large = || format!("`{s}` is too large; at most {} in major units", format_major(MAX_AMOUNT, digits));
    let scale = 10i64.checked_pow(u32::from(digits)).ok_or_else(too_large)?;
    // At most 19 digits fit an i64; longer (leading zeros aside) is too large.
    let whole = whole.trim_start_matches('0');
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_large())? };
    let frac_minor: i64 = if frac.is_empty() {
        0
    } else {
        // `frac.len() <= digits`, so this pads to exactly `digits` places.
        let padded = format!("{frac:0<w$}", w = usize::from(digits));
        padded.parse().map_err(|_| too_large())?
    };
    let minor = whole.checked_mul(scale).and_then(|w| w.checked_add(frac_minor)).ok_or_else(too_large)?;
    if minor > MAX_AMOUNT { Err(too_large()) } else { Ok(minor) }
}

/// Minor units as a plain decimal in major units, the form inputs show and
/// [`parse_major`] reads back: `1250050` → `12500.50`, `1250000` → `12500`.
pub fn format_major(minor: i64, digits: u8) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let Some(scale) = 10u64.checked_pow(u32::from(digits)) else { return minor.to_string() };
    let (whole, frac) = (minor.unsigned_abs() / scale, minor.unsigned_abs() % scale);
    if frac == 0 { format!("{sign}{whole}") } else { format!("{sign}{whole}.{frac:0w$}", w = usize::from(digits)) }
}

/// Minor units as a decimal with all of the currency's places, for columns
/// of figures (exports): `12050` → `120.50`, `12000` → `120.00`.
pub fn format_major_fixed(minor: i64, digits: u8) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    match 10u64.checked_pow(u32::from(digits)) {
        Some(scale) if digits > 0 => {
            let abs = minor.unsigned_abs();
            format!("{sign}{}.{:0w$}", abs / scale, abs % scale, w = usize::from(digits))
        }
        _ => minor.to_string(),
    }
}

/// Minor units rounded to whole major units, halves away from zero, in
/// integers: `1250050` (USD) → `12501`.
pub fn round_to_major(minor: i64, digits: u8) -> i64 {
    let Some(scale) = 10i64.checked_pow(u32::from(digits)) else { return 0 };
    let (q, r) = (minor / scale, minor % scale);
    // `r` has the sign of `minor`; twice it reaching the scale is a half or more.
    if r.unsigned_abs() * 2 >= scale.unsigned_abs() { q + minor.signum() } else { q }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "USD");
        assert_eq!(Currency::parse("JPY").unwrap().minor_digits(), 0);
        assert!(Currency::parse("XXX1").is_err());
        assert!(Currency::parse("ABC").is_err());
        assert!(serde_json::from_str::<Currency>("\"ZZZ\"").is_err());
    }

    #[test]
    fn major_units_parse_exactly() {
        assert_eq!(parse_major("50000", 2), Ok(5_000_000));
        assert_eq!(parse_major(" 50,000.5 ", 2), Ok(5_000_050));
        assert_eq!(parse_major("0.29", 2), Ok(29), "no float rounding");
        assert_eq!(parse_major("12 500_00", 0), Ok(1_250_000));
        assert_eq!(parse_major(".5", 2), Ok(50));
        assert_eq!(parse_major("5.", 2), Ok(500));
        assert_eq!(parse_major("1.234", 3), Ok(1234));
        assert_eq!(parse_major("000010", 2), Ok(1000));
        assert_eq!(parse_major("10000000000000", 2), Ok(MAX_AMOUNT));
        for bad in ["", ".", "-1", "+1", "lots", "1e30", "1.2.3", "1.005", "NaN", "inf", "5.5"] {
            let digits = if bad == "5.5" { 0 } else { 2 };
            assert!(parse_major(bad, digits).is_err(), "{bad}");
        }
        assert!(parse_major("10000000000000.01", 2).unwrap_err().contains("too large"));
        assert!(parse_major("99999999999999999999999", 2).unwrap_err().contains("too large"));
        assert!(parse_major("1.005", 2).unwrap_err().contains("more than 2 decimals"));
    }

    #[test]
    fn major_units_format_and_round() {
        assert_eq!(format_major(1_250_000, 2), "12500");
        assert_eq!(format_major(1_250_050, 2), "12500.50");
        assert_eq!(format_major(5, 2), "0.05");
        assert_eq!(format_major(-5, 2), "-0.05");
        assert_eq!(format_major(5_000, 0), "5000");
        assert_eq!(format_major(1_234, 3), "1.234");
        assert_eq!(parse_major(&format_major(1_234_567, 2), 2), Ok(1_234_567), "round trip");
        assert_eq!(format_major_fixed(12_000, 2), "120.00");
        assert_eq!(format_major_fixed(-5, 2), "-0.05");
        assert_eq!(format_major_fixed(500, 0), "500");
        assert_eq!(format_major_fixed(1_234, 3), "1.234");
        assert_eq!(round_to_major(1_250_050, 2), 12_501);
        assert_eq!(round_to_major(1_250_049, 2), 12_500);
        assert_eq!(round_to_major(-150, 2), -2);
        assert_eq!(round_to_major(-149, 2), -1);
        assert_eq!(round_to_major(7, 0), 7);
        assert_eq!(round_to_major(i64::MAX, 2), i64::MAX / 100, "no overflow");
    }

    #[test]
    fn amounts() {
        assert!(check_amount("value", -1).is_err());
        assert!(check_amount("value", MAX_AMOUNT + 1).is_err());
        assert_eq!(check_amount("value", 0).unwrap(), 0);
    }
}
