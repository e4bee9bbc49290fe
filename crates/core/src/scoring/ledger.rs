//! The score ledger: appended entries, never edited. [`diff`] says what to
//! append so the ledger holds what the facts earn; [`score`] derives the
//! total at a moment, with decay and caps applied then.

use super::eval::Desired;
use super::{Group, ModelBody, round2};
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// One ledger row.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub rule_id: String,
    pub group: Group,
    /// What the entry is about within its rule (`field:value`, `answer`,
    /// `email_event:123`): entries of the same rule and key net out.
    pub fact_key: String,
    /// The fact in words.
    pub fact: String,
    pub points: f64,
    /// When the fact happened; decay counts from here.
    pub at: Timestamp,
    /// When the entry was appended; `as_of` reads only earlier entries.
    pub recorded_at: Timestamp,
}

/// The entries to append so that `current` (the ledger of one deal under
/// one model version) nets to `desired`, recorded at `now`. A fit or
/// answer that no longer holds is taken back with an entry of the
/// opposite points; an engagement fact keeps the time it happened.
pub fn diff(current: &[Entry], desired: &[Desired], now: Timestamp) -> Vec<Entry> {
    let mut held: BTreeMap<(&str, &str), (f64, &Entry)> = BTreeMap::new();
    for e in current {
        let slot = held.entry((e.rule_id.as_str(), e.fact_key.as_str())).or_insert((0.0, e));
        slot.0 += e.points;
        slot.1 = e;
    }
    let mut out = Vec::new();
    let mut wanted = std::collections::HashSet::new();
    for d in desired {
        wanted.insert((d.rule_id.as_str(), d.fact_key.as_str()));
        let (have, last) = match held.get(&(d.rule_id.as_str(), d.fact_key.as_str())) {
            Some((p, e)) => (*p, Some(*e)),
            None => (0.0, None),
        };
        // A changed answer or field value is a new fact even when its
        // points are the same: it is recorded, netting the old one out.
        let same_fact = last.is_some_and(|e| e.fact == d.fact);
        if (d.points - have).abs() < 1e-9 && (same_fact || have == 0.0 && d.points == 0.0) {
            continue;
        }
        let at = d.at.or_else(|| last.filter(|e| e.group == Group::Engagement).map(|e| e.at)).unwrap_or(now);
        if !same_fact && have.abs() >= 1e-9 {
            if let Some(e) = last {
                out.push(Entry {
                    points: -have,
                    fact: format!("no longer: {}", e.fact),
                    recorded_at: now,
                    at,
                    ..e.clone()
                });
            }
            out.push(entry(d, d.points, at, now));
        } else {
            out.push(entry(d, d.points - have, at, now));
        }
    }
    for ((rule, key), (have, last)) in held {
        if !wanted.contains(&(rule, key)) && have.abs() >= 1e-9 {
            let at = if last.group == Group::Engagement { last.at } else { now };
            out.push(Entry {
                points: -have,
                fact: format!("no longer: {}", last.fact),
                at,
                recorded_at: now,
                ..last.clone()
            });
        }
    }
    out
}

fn entry(d: &Desired, points: f64, at: Timestamp, now: Timestamp) -> Entry {
    Entry {
        rule_id: d.rule_id.clone(),
        group: d.group,
        fact_key: d.fact_key.clone(),
        fact: d.fact.clone(),
        points,
        at,
        recorded_at: now,
    }
}

/// A contribution to the score at a moment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Contribution {
    pub rule_id: String,
    pub group: Group,
    pub fact: String,
    /// The points when it happened.
    pub points: f64,
    /// The points at the moment asked: decayed, and for a cap's line the
    /// amount the cap takes off.
    pub points_now: f64,
    pub at: crate::time::Timestamp,
    /// The half-life that decayed it, in days (for the arithmetic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub half_life_days: Option<f64>,
    /// True on the line that applies a rule's cap.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cap: bool,
}

/// The score at a moment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Score {
    /// The sum of `contributions[].points_now`.
    pub total: f64,
    pub groups: Groups,
    pub band: Option<String>,
    pub contributions: Vec<Contribution>,
}

/// The total per group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Groups {
    pub fit: f64,
    pub engagement: f64,
    pub questions: f64,
}

const DAY_MS: f64 = 86_400_000.0;

/// What `points` of a fact at `at` are worth at `as_of` with a half-life.
pub fn decayed(points: f64, at: Timestamp, as_of: Timestamp, half_life_days: Option<f64>) -> f64 {
    match half_life_days {
        Some(h) if h > 0.0 => {
            let days = ((as_of.0 - at.0) as f64 / DAY_MS).max(0.0);
            points * 0.5f64.powf(days / h)
        }
        _ => points,
    }
}

/// The score the entries give at `as_of`: entries recorded by then, each
/// decayed by its rule's half-life, a rule's cap applied to its decayed
/// sum (as a line of its own), the band from the model. Entries of rules
/// the model no longer has are ignored.
pub fn score(model: &ModelBody, entries: &[Entry], as_of: Timestamp) -> Score {
    let mut contributions = Vec::new();
    let mut per_rule: BTreeMap<&str, f64> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.recorded_at <= as_of && e.at <= as_of) {
        let Some(rule) = model.rule(&e.rule_id) else { continue };
        let half_life = rule.half_life_days.filter(|_| e.group == Group::Engagement);
        let now = round2(decayed(e.points, e.at, as_of, half_life));
        *per_rule.entry(rule.id()).or_default() += now;
        contributions.push(Contribution {
            rule_id: e.rule_id.clone(),
            group: e.group,
            fact: e.fact.clone(),
            points: e.points,
            points_now: now,
            at: e.at,
            half_life_days: half_life,
            cap: false,
        });
    }
    for (id, sum) in per_rule {
        let Some(rule) = model.rule(id) else { continue };
        if let Some(cap) = rule.cap
            && sum.abs() > cap
        {
            let cut = round2(sum.signum() * cap - sum);
            contributions.push(Contribution {
                rule_id: id.to_string(),
                group: rule.group,
                fact: format!("cap of {cap} reached"),
                points: 0.0,
                points_now: cut,
                at: as_of,
                half_life_days: None,
                cap: true,
            });
        }
    }
    let mut groups = Groups::default();
    for c in &contributions {
        match c.group {
            Group::Fit => groups.fit += c.points_now,
            Group::Engagement => groups.engagement += c.points_now,
            Group::Question => groups.questions += c.points_now,
        }
    }
    groups =
        Groups { fit: round2(groups.fit), engagement: round2(groups.engagement), questions: round2(groups.questions) };
    let total = round2(groups.fit + groups.engagement + groups.questions);
    Score { total, groups, band: model.band(total).map(str::to_string), contributions }
}
