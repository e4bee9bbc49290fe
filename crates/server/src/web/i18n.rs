//! Message catalogs and locale formatting. Every UI string comes from a
//! catalog (`i18n/<lang>/<area>.json`, embedded); English and Simplified Chinese
//! ship. The language is the user's setting, else the browser's
//! Accept-Language, else English.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A supported UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

/// Catalog files per language, one per area of the app so that areas can
/// grow independently; a key must be unique across a language's files.
const EN: &[&str] = &[
    include_str!("../../i18n/en/board.json"),
    include_str!("../../i18n/en/deal.json"),
    include_str!("../../i18n/en/lists.json"),
    include_str!("../../i18n/en/admin.json"),
    include_str!("../../i18n/en/insights.json"),
    include_str!("../../i18n/en/audit.json"),
    include_str!("../../i18n/en/playbooks.json"),
    include_str!("../../i18n/en/connect.json"),
    include_str!("../../i18n/en/scoring.json"),
    include_str!("../../i18n/en/review.json"),
];
const ZH_CN: &[&str] = &[
    include_str!("../../i18n/zh-CN/board.json"),
    include_str!("../../i18n/zh-CN/deal.json"),
    include_str!("../../i18n/zh-CN/lists.json"),
    include_str!("../../i18n/zh-CN/admin.json"),
    include_str!("../../i18n/zh-CN/insights.json"),
    include_str!("../../i18n/zh-CN/audit.json"),
    include_str!("../../i18n/zh-CN/playbooks.json"),
    include_str!("../../i18n/zh-CN/connect.json"),
    include_str!("../../i18n/zh-CN/scoring.json"),
    include_str!("../../i18n/zh-CN/review.json"),
];

type Catalog = HashMap<String, String>;

fn parse(files: &[&str]) -> Catalog {
    // The catalogs are embedded and checked by unit tests, so a parse error
    // cannot reach production; a broken file would only lose its keys.
    files.iter().flat_map(|src| serde_json::from_str::<Catalog>(src).unwrap_or_default()).collect()
}

fn catalog(lang: Lang) -> &'static Catalog {
    static EN_CAT: OnceLock<Catalog> = OnceLock::new();
    static ZH_CAT: OnceLock<Catalog> = OnceLock::new();
    match lang {
        Lang::En => EN_CAT.get_or_init(|| parse(EN)),
        Lang::ZhCn => ZH_CAT.get_or_init(|| parse(ZH_CN)),
    }
}

impl Lang {
    /// The user's stored locale wins; else the first supported language of
    /// the Accept-Language header; else English.
    pub fn pick(user_locale: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(l) = user_locale.and_then(Self::from_tag) {
            return l;
        }
        accept_language
            .into_iter()
            .flat_map(|h| h.split(','))
            .filter_map(|part| part.split(';').next())
            .find_map(|tag| Self::from_tag(tag.trim()))
            .unwrap_or(Lang::En)
    }

    fn from_tag(tag: &str) -> Option<Self> {
        let t = tag.to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }
}

/// Translator handed to templates.
#[derive(Debug, Clone, Copy)]
pub struct T {
    pub lang: Lang,
}

impl T {
    /// The message for `key`; the key itself if missing (a test keeps the
    /// catalogs complete, so this shows up only during development).
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        match catalog(self.lang).get(key) {
            Some(v) => v.as_str(),
            None => key,
        }
    }

    /// Money in whole major units with grouping, e.g. `$12,500` or `€980`;
    /// codes without a common symbol get the code: `12,500 CHF`.
    pub fn money(&self, minor: i64, currency: &str, minor_digits: u8) -> String {
        let grouped = group(dealflow_core::currency::round_to_major(minor, minor_digits));
        match currency {
            "USD" => format!("${grouped}"),
            "EUR" => format!("€{grouped}"),
            "GBP" => format!("£{grouped}"),
            "CNY" => format!("¥{grouped}"),
            "JPY" => format!("JP¥{grouped}"),
            other => format!("{grouped} {other}"),
        }
    }

    /// A short date in the locale: `Mar 1` or `3月1日`.
    pub fn short_date(&self, ms: i64) -> String {
        use chrono::Datelike;
        let Some(d) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) else { return String::new() };
        match self.lang {
            Lang::En => d.format("%b %-d").to_string(),
            Lang::ZhCn => format!("{}月{}日", d.month(), d.day()),
        }
    }
}

/// Groups thousands with commas (both languages use them for numbers).
pub fn group(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_have_the_same_keys() {
        for src in EN.iter().chain(ZH_CN) {
            serde_json::from_str::<Catalog>(src).expect("every catalog file is a JSON object of strings");
        }
        let total: usize = EN.iter().map(|s| serde_json::from_str::<Catalog>(s).map(|c| c.len()).unwrap_or(0)).sum();
        let en = parse(EN);
        let zh = parse(ZH_CN);
        assert_eq!(en.len(), total, "a key appears in two English files");
        let mut missing: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        missing.extend(zh.keys().filter(|k| !en.contains_key(*k)));
        assert!(missing.is_empty(), "keys missing from a catalog: {missing:?}");
        assert!(en.values().chain(zh.values()).all(|v| !v.trim().is_empty()));
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let en = parse(EN);
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        let mut used = Vec::new();
        for dir in ["templates/layouts", "templates/pages", "templates/components", "src/web", "static"] {
            for entry in std::fs::read_dir(format!("{root}{dir}")).expect("read dir") {
                let path = entry.expect("entry").path();
                if path.ends_with("i18n.rs") {
                    continue; // this file names the patterns themselves
                }
                let text = std::fs::read_to_string(path).unwrap_or_default();
                // Keys appear as t.t("group.name") in templates and code, and
                // as data-t="group.name" in markup the script translates.
                for pat in ["t.t(\"", "data-t=\""] {
                    for (i, _) in text.match_indices(pat) {
                        let rest = &text[i + pat.len()..];
                        if let Some(end) = rest.find('"') {
                            used.push(rest[..end].to_string());
                        }
                    }
                }
            }
        }
        assert!(used.len() > 10, "found too few keys: {used:?}");
        let missing: Vec<_> = used.iter().filter(|k| !en.contains_key(k.as_str())).collect();
        assert!(missing.is_empty(), "keys used but not in the catalogs: {missing:?}");
    }

    #[test]
    fn picks_language() {
        assert_eq!(Lang::pick(None, Some("zh-CN,zh;q=0.9,en;q=0.8")), Lang::ZhCn);
        assert_eq!(Lang::pick(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::pick(None, Some("fr-FR, de")), Lang::En);
        assert_eq!(Lang::pick(None, None), Lang::En);
    }

    #[test]
    fn formats_money() {
        let t = T { lang: Lang::En };
        assert_eq!(t.money(1_250_000, "USD", 2), "$12,500");
        assert_eq!(t.money(98_000, "EUR", 2), "€980");
        assert_eq!(t.money(5_000, "JPY", 0), "JP¥5,000");
        assert_eq!(group(-1_234_567), "-1,234,567");
    }
}
