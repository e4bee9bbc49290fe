//! PATCH semantics: a field absent from the body is left alone, a field set
//! to `null` is cleared, a value replaces. `Option<Option<T>>` with
//! [`double_option`] tells the three apart.

use serde::{Deserialize, Deserializer};

/// Use as `#[serde(default, deserialize_with = "double_option")]` on an
/// `Option<Option<T>>` field: absent → `None`, `null` → `Some(None)`,
/// value → `Some(Some(v))`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct P {
        #[serde(default, deserialize_with = "double_option")]
        a: Option<Option<i64>>,
    }

    #[test]
    fn three_states() {
        assert_eq!(serde_json::from_str::<P>("{}").unwrap().a, None);
        assert_eq!(serde_json::from_str::<P>(r#"{"a":null}"#).unwrap().a, Some(None));
        assert_eq!(serde_json::from_str::<P>(r#"{"a":3}"#).unwrap().a, Some(Some(3)));
    }
}
