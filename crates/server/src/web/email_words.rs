//! How e-mail events read on the timelines (deal, person), in the page's
//! language.

use super::T;
use super::deal::timeline::fill;
use dealflow_store::EmailEventType;

/// One event entry: "E-mail opened 4 times, last …", "Link clicked: …".
/// `last` is the entry's time, already formatted.
pub fn event_text(t: T, kind: EmailEventType, count: i64, last: &str, url: Option<&str>) -> String {
    use EmailEventType as E;
    match kind {
        E::Opened if count > 1 => fill(t.t("connect.ev.opened_n"), &[("n", &count.to_string()), ("last", last)]),
        E::Clicked => fill(t.t("connect.ev.clicked"), &[("url", url.unwrap_or(""))]),
        E::Sent => t.t("connect.ev.sent").to_string(),
        E::Delivered => t.t("connect.ev.delivered").to_string(),
        E::Deferred => t.t("connect.ev.deferred").to_string(),
        E::BouncedSoft => t.t("connect.ev.bounced_soft").to_string(),
        E::BouncedHard => t.t("connect.ev.bounced_hard").to_string(),
        E::Opened => t.t("connect.ev.opened").to_string(),
        E::Unsubscribed => t.t("connect.ev.unsubscribed").to_string(),
        E::Complained => t.t("connect.ev.complained").to_string(),
        E::Replied => t.t("connect.ev.replied").to_string(),
    }
}
