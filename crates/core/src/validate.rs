//! Small reusable checks on text and numbers, each naming the field it
//! checks so the caller gets one message per offending field.

use crate::Invalid;

/// Checks `s` is at most `max` characters, then trims it and checks it is
/// non-empty and one line: no control characters at all (see [`plain_chars`]).
pub fn required_text(field: &str, s: &str, max: usize) -> Result<String, Invalid> {
    checked_text(field, s, max, false)
}

/// Like [`required_text`] for an optional field: blank text becomes `None`.
pub fn optional_text(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    match s {
        Some(s) if !is_blank(s) || s.chars().count() > max => required_text(field, s, max).map(Some),
        _ => Ok(None),
    }
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Like [`required_text`] for text that may span lines (note bodies):
/// tabs and line breaks are allowed, other control characters are not.
pub fn required_multiline(field: &str, s: &str, max: usize) -> Result<String, Invalid> {
    checked_text(field, s, max, true)
}

/// Like [`required_multiline`] for an optional field: blank text becomes `None`.
pub fn optional_multiline(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    match s {
        Some(s) if !is_blank(s) || s.chars().count() > max => required_multiline(field, s, max).map(Some),
        _ => Ok(None),
    }
}

/// The length is counted as sent, white space at the ends included, so the
/// OpenAPI document's `maxLength` states it exactly.
fn checked_text(field: &str, s: &str, max: usize, multiline: bool) -> Result<String, Invalid> {
    let t = s.trim();
    if s.chars().count() > max {
        Err(Invalid::one(field, format!("is too long: at most {max} characters")))
    } else if t.is_empty() {
        Err(Invalid::one(field, "must not be empty"))
    } else {
        plain_chars(field, t, multiline)?;
        Ok(t.to_string())
    }
}

/// Refuses control characters in text: PostgreSQL cannot store NUL in TEXT
/// at all, and the others (escape sequences, form feeds, …) are never
/// meant in a name or title and can garble terminals and exports. Where
/// `multiline`, tab, line feed and carriage return (browsers send CRLF)
/// are allowed. Also for query parameters that filter by text.
pub fn plain_chars(field: &str, s: &str, multiline: bool) -> Result<(), Invalid> {
    let allowed = |c: char| multiline && matches!(c, '\t' | '\n' | '\r');
    match s.chars().find(|&c| c.is_control() && !allowed(c)) {
        None => Ok(()),
        Some(c) => {
            let what = match c {
                '\0' => "a NUL character (U+0000)".to_string(),
                '\n' | '\r' => "a line break".to_string(),
                c => format!("the control character U+{:04X}", u32::from(c)),
            };
            let hint = if multiline { "remove it" } else { "remove it; this field is one line of plain text" };
            Err(Invalid::one(field, format!("contains {what}, which cannot be stored; {hint}")))
        }
    }
}

/// A percentage 0–100.
pub fn percent(field: &str, p: i64) -> Result<i64, Invalid> {
    if (0..=100).contains(&p) { Ok(p) } else { Err(Invalid::one(field, "must be between 0 and 100")) }
}

/// An integer within `[min, max]`.
pub fn int_range(field: &str, v: i64, min: i64, max: i64) -> Result<i64, Invalid> {
    if (min..=max).contains(&v) { Ok(v) } else { Err(Invalid::one(field, format!("must be between {min} and {max}"))) }
}

/// A plausible e-mail address: one `@`, something on both sides, a dot in
/// the domain, no spaces. Lower-cased so lookups are case-insensitive.
pub fn email(field: &str, s: &str) -> Result<String, Invalid> {
    let t = s.trim().to_lowercase();
    // Characters as sent, not bytes of the trimmed address, so the OpenAPI
    // document's maxLength says it.
    let ok = s.chars().count() <= 254
        && !t.contains(|c: char| c.is_whitespace() || c.is_control())
        && t.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if ok { Ok(t) } else { Err(Invalid::one(field, format!("`{s}` is not an e-mail address"))) }
}

/// Limits for text fields, shared by the API and the importers.
pub mod limits {
    pub const NAME: usize = 200;
    pub const SHORT: usize = 100;
    pub const LONG: usize = 10_000;
    pub const NOTE: usize = 100_000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text() {
        assert!(required_text("t", "  ", 5).is_err());
        assert!(required_text("t", "abcdef", 5).is_err());
        assert_eq!(required_text("t", " ab ", 5).unwrap(), "ab");
        assert_eq!(optional_text("t", Some(""), 5).unwrap(), None);
    }

    #[test]
    fn control_characters_are_refused_by_field() {
        let e = required_text("source", "a\0b", 100).unwrap_err();
        assert_eq!(e.0[0].field, "source");
        assert!(e.0[0].message.contains("NUL"), "{e:?}");
        assert!(optional_text("title", Some("a\nb"), 100).unwrap_err().0[0].message.contains("line break"));
        assert!(required_text("t", "a\tb", 100).is_err());
        assert!(required_text("t", "a\u{1b}[31m", 100).unwrap_err().0[0].message.contains("U+001B"));
        assert_eq!(required_multiline("body", "a\r\n\tb", 100).unwrap(), "a\r\n\tb");
        assert!(required_multiline("body", "a\0", 100).is_err());
        assert_eq!(optional_multiline("note", Some(" "), 100).unwrap(), None);
        assert!(email("e", "a\0@b.com").is_err());
        assert!(plain_chars("source", "Ünïcode ok", false).is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(email("e", "A@B.com").unwrap(), "a@b.com");
        for bad in ["a", "a@b", "@b.com", "a b@c.com", "a@b.com."] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }
}
