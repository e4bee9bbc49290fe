//! Small reusable checks on text and numbers, each naming the field it
//! checks so the caller gets one message per offending field.

use crate::Invalid;

/// Trims `s` and checks it is non-empty and at most `max` characters.
pub fn required_text(field: &str, s: &str, max: usize) -> Result<String, Invalid> {
    let t = s.trim();
    if t.is_empty() {
        Err(Invalid::one(field, "must not be empty"))
    } else if t.chars().count() > max {
        Err(Invalid::one(field, format!("is too long: at most {max} characters")))
    } else {
        Ok(t.to_string())
    }
}

/// Like [`required_text`] for an optional field: empty text becomes `None`.
pub fn optional_text(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => required_text(field, t, max).map(Some),
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
    let ok = t.len() <= 254
        && !t.contains(char::is_whitespace)
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
    fn emails() {
        assert_eq!(email("e", "A@B.com").unwrap(), "a@b.com");
        for bad in ["a", "a@b", "@b.com", "a b@c.com", "a@b.com."] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }
}
