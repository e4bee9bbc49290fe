//! The deal page's timeline: the store's read model
//! (`Store::deal_timeline`, already merged and ordered) worded in the page's
//! language, with ids shown as names.

use super::views::kind_label;
use super::{iso, when};
use crate::web::T;
use crate::web::email_words::event_text;
use dealflow_core::model::{Activity, Channel, EventKind, FieldChange, Sentiment, StageEvent};
use dealflow_store::{DealTimelineItem, DealTimelineKind, EmailEntry};
use serde_json::Value;
use std::collections::HashMap;

/// One entry of the merged timeline.
pub struct Entry {
    pub iso: String,
    pub when: String,
    /// CSS class: `note`, `activity`, `done`, `stage`, `won`, `lost`, `reopen`, `field`, `outreach`,
    /// `email`, `reply`.
    pub kind: &'static str,
    pub text: String,
    /// Rendered (safe) Markdown of a note.
    pub html: String,
    pub who: String,
    /// For a reply: its id and sentiment (`""` when not rated), so it can
    /// be rated from the timeline.
    pub reply: Option<(String, &'static str)>,
}

/// What the wording needs besides the entries: names by id (as strings)
/// and the deal's currency and person.
pub struct Wording<'a> {
    pub t: T,
    pub tz: chrono_tz::Tz,
    pub users: &'a HashMap<String, String>,
    pub people: &'a HashMap<String, String>,
    pub orgs: &'a HashMap<String, String>,
    pub stages: &'a HashMap<String, String>,
    pub currency: &'a str,
    pub digits: u8,
    /// The deal's person, whom the outreach entries are about.
    pub person: &'a str,
}

/// Replaces `{name}` placeholders of a catalog message.
pub fn fill(msg: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = msg.to_string();
    for (k, v) in pairs {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

fn channel_label(t: T, c: Channel) -> &'static str {
    match c {
        Channel::Email => t.t("deal.kind.email"),
        Channel::Linkedin => t.t("deal.kind.linkedin"),
        Channel::Call => t.t("deal.kind.call"),
        Channel::Other => t.t("deal.channel.other"),
    }
}

fn sentiment_label(t: T, s: Option<Sentiment>) -> &'static str {
    match s {
        Some(Sentiment::Positive) => t.t("deal.sentiment.positive"),
        Some(Sentiment::Neutral) => t.t("deal.sentiment.neutral"),
        Some(Sentiment::Negative) => t.t("deal.sentiment.negative"),
        None => t.t("deal.sentiment.unknown"),
    }
}

fn field_label(t: T, field: &str) -> String {
    match field {
        "value" => t.t("deal.f.value"),
        "currency" => t.t("deal.f.currency"),
        "probability" => t.t("deal.f.probability"),
        "expected_close_date" => t.t("deal.f.expected_close"),
        "owner_id" => t.t("deal.f.owner"),
        "person_id" => t.t("deal.f.person"),
        "organization_id" => t.t("deal.f.organization"),
        other => other,
    }
    .to_string()
}

impl Wording<'_> {
    /// The entries of `items`, in their order.
    pub fn entries(&self, items: &[DealTimelineItem]) -> Vec<Entry> {
        items.iter().map(|i| self.entry(i)).collect()
    }

    fn user(&self, id: Option<dealflow_core::UserId>) -> String {
        id.and_then(|x| self.users.get(&x.to_string()).cloned()).unwrap_or_default()
    }

    fn entry(&self, item: &DealTimelineItem) -> Entry {
        let t = self.t;
        let (kind, text, html, who) = match &item.kind {
            DealTimelineKind::Activity(a) => {
                let (kind, text) = self.activity(a);
                (kind, text, String::new(), self.user(a.owner_id))
            }
            DealTimelineKind::Note(n) => (
                "note",
                t.t("deal.tl.note").to_string(),
                super::markdown::render_markdown(&n.body),
                self.user(n.author_id),
            ),
            DealTimelineKind::Stage(e) => {
                let (kind, text) = self.stage(e);
                (kind, text, String::new(), self.user(e.user_id))
            }
            DealTimelineKind::Field(c) => ("field", self.field(c), String::new(), self.user(c.user_id)),
            DealTimelineKind::Sent(m) => {
                let pairs = [("channel", channel_label(t, m.channel)), ("person", self.person)];
                ("outreach", fill(t.t("deal.tl.sent"), &pairs), String::new(), String::new())
            }
            DealTimelineKind::Replied(m) => {
                let pairs = [("person", self.person), ("sentiment", sentiment_label(t, m.sentiment))];
                ("outreach", fill(t.t("deal.tl.replied"), &pairs), String::new(), String::new())
            }
            DealTimelineKind::Email(EmailEntry::Event { at, kind, count, url, .. }) => {
                let last = when(t, self.tz, at.0);
                ("email", event_text(t, *kind, *count, &last, url.as_deref()), String::new(), String::new())
            }
            DealTimelineKind::Email(EmailEntry::Reply(r)) => {
                let pairs =
                    [("person", self.person), ("sentiment", sentiment_label(t, r.sentiment)), ("preview", &r.preview)];
                ("reply", fill(t.t("connect.reply"), &pairs), String::new(), String::new())
            }
            DealTimelineKind::Score(f) => ("score", self.firing(f), String::new(), self.user(f.user_id)),
            DealTimelineKind::Review(r) => {
                let date = when(t, self.tz, r.audit_at.0);
                let decision = t.t(&format!("review.kind.{}", r.kind.as_str())).to_string();
                let mut text = fill(t.t("review.tl.reviewed"), &[("date", &date), ("decision", &decision)]);
                if let Some(n) = &r.note {
                    text = format!("{text} — {n}");
                }
                ("review", text, String::new(), self.user(r.by))
            }
        };
        let reply = match &item.kind {
            DealTimelineKind::Email(EmailEntry::Reply(r)) => {
                Some((r.id.to_string(), r.sentiment.map_or("", |s| s.as_str())))
            }
            _ => None,
        };
        let at = item.at.0;
        Entry { iso: iso(at), when: when(t, self.tz, at), kind, text, html, who, reply }
    }

    /// A firing in words: which level, the score that caused it, and for a
    /// cleared flag the reason given.
    fn firing(&self, f: &dealflow_store::scoring::Firing) -> String {
        let t = self.t;
        let score = format!("{}", f.total);
        let key = match f.kind.as_str() {
            "disqualify" => "scoring.tl.disqualify",
            "nurture" => "scoring.tl.nurture",
            _ => "scoring.tl.cleared",
        };
        let reason = f.detail.get("reason").and_then(|r| r.as_str()).unwrap_or("");
        fill(t.t(key), &[("score", &score), ("reason", reason)])
    }

    fn activity(&self, a: &Activity) -> (&'static str, String) {
        let t = self.t;
        let label = format!("{}: {}", kind_label(t, a.kind), a.subject);
        if a.done_at.is_some() {
            return ("done", fill(t.t("deal.tl.done"), &[("what", &label)]));
        }
        let due = a.due_at.map_or_else(|| t.t("deal.no_due").to_string(), |d| when(t, self.tz, d.0));
        ("activity", fill(t.t("deal.tl.planned"), &[("what", &label), ("due", &due)]))
    }

    fn stage_name(&self, id: dealflow_core::StageId) -> String {
        self.stages.get(&id.to_string()).cloned().unwrap_or_else(|| id.to_string())
    }

    fn stage(&self, e: &StageEvent) -> (&'static str, String) {
        let t = self.t;
        let stage = self.stage_name(e.stage_id);
        match e.kind {
            EventKind::Enter => match e.from_stage_id {
                Some(from) => {
                    ("stage", fill(t.t("deal.tl.moved"), &[("from", &self.stage_name(from)), ("stage", &stage)]))
                }
                None => ("stage", fill(t.t("deal.tl.entered"), &[("stage", &stage)])),
            },
            EventKind::Won => ("won", fill(t.t("deal.tl.won"), &[("stage", &stage)])),
            EventKind::Lost => {
                let reason = e.lost_reason.clone().unwrap_or_else(|| t.t("deal.no_reason").into());
                ("lost", fill(t.t("deal.tl.lost"), &[("stage", &stage), ("reason", &reason)]))
            }
            EventKind::Reopen => ("reopen", fill(t.t("deal.tl.reopened"), &[("stage", &stage)])),
        }
    }

    /// A field value as people read it: money formatted, ids as names.
    fn show(&self, field: &str, v: &Value) -> String {
        let s = match v {
            Value::Null => return "—".into(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match field {
            "value" => v.as_i64().map(|m| self.t.money(m, self.currency, self.digits)).unwrap_or(s),
            "probability" => format!("{s}%"),
            "expected_close_date" => {
                dealflow_core::time::Date::parse(&s).map(|d| crate::web::clock::long_date(self.t, d.0)).unwrap_or(s)
            }
            "owner_id" => self.users.get(&s).cloned().unwrap_or(s),
            "person_id" => self.people.get(&s).cloned().unwrap_or(s),
            "organization_id" => self.orgs.get(&s).cloned().unwrap_or(s),
            _ => s,
        }
    }

    fn field(&self, c: &FieldChange) -> String {
        if c.field == "title" {
            let (old, new) = (self.show(&c.field, &c.old_value), self.show(&c.field, &c.new_value));
            return fill(self.t.t("deal.tl.renamed"), &[("old", &old), ("new", &new)]);
        }
        let pairs = [
            ("field", field_label(self.t, &c.field)),
            ("old", self.show(&c.field, &c.old_value)),
            ("new", self.show(&c.field, &c.new_value)),
        ];
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fill(self.t.t("deal.tl.changed"), &pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders() {
        assert_eq!(fill("from {a} to {b}", &[("a", "1"), ("b", "2")]), "from 1 to 2");
    }
}
