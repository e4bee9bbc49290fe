//! Validation of a model: every rule checked against its group, fields
//! against the workspace's definitions, thresholds in order, and ids given
//! to rules that have none. Every error at once, named by its path
//! (`rules[2].half_life_days`).

use super::{
    Band, EngagementEvent, FitOp, Group, MAX_HALF_LIFE_DAYS, MAX_POINTS, MAX_RULES, ModelBody, Rule, Thresholds,
};
use crate::custom_field::CustomField;
use crate::{Invalid, StageId};
use serde_json::Value;
use std::collections::HashSet;

/// What a model may refer to, read by the store before [`check_model`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Refs<'a> {
    pub deal_fields: &'a [CustomField],
    pub person_fields: &'a [CustomField],
    pub organization_fields: &'a [CustomField],
    /// The stages a rule or threshold may name (the model's pipeline's, or
    /// every pipeline's for a model of all pipelines).
    pub stages: &'a [StageId],
    /// Whether `thresholds.nurture_campaign_id` names a campaign.
    pub campaign_exists: bool,
}

/// Validates a model and gives every rule without an id a fresh one
/// (`rule-N`, unused in the model). Text is trimmed.
pub fn check_model(body: &ModelBody, refs: &Refs) -> Result<ModelBody, Invalid> {
    let mut errs = Invalid::new();
    let mut out = body.clone();
    if out.rules.len() > MAX_RULES {
        errs.add("rules", format!("a model holds at most {MAX_RULES} rules; this one has {}", out.rules.len()));
    }
    let mut seen = HashSet::new();
    for (i, r) in out.rules.iter_mut().enumerate() {
        check_rule(r, &format!("rules[{i}]"), refs, &mut errs);
        if let Some(id) = &r.id
            && !seen.insert(id.clone())
        {
            errs.add(format!("rules[{i}].id"), format!("`{id}` is the id of an earlier rule; ids are unique"));
        }
    }
    let mut n = 1;
    for r in out.rules.iter_mut().filter(|r| r.id.is_none()) {
        while seen.contains(&format!("rule-{n}")) {
            n += 1;
        }
        let id = format!("rule-{n}");
        seen.insert(id.clone());
        r.id = Some(id);
    }
    check_thresholds(&out.thresholds, refs, &mut errs);
    check_bands(&mut out.bands, &mut errs);
    errs.into_result()?;
    Ok(out)
}

fn check_rule(r: &mut Rule, at: &str, refs: &Refs, errs: &mut Invalid) {
    // Ids are kept as given (no trimming): they appear in URLs.
    if let Some(id) = &r.id
        && (id.is_empty() || id.len() > 40 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        errs.add(format!("{at}.id"), "an id is 1 to 40 letters, digits, `-` or `_`; leave it out to get one");
    }
    let only = |errs: &mut Invalid, present: bool, name: &str, group: Group| {
        if present && r.group != group {
            errs.add(format!("{at}.{name}"), format!("only {group} rules carry `{name}`; remove it or change `group`"));
        }
    };
    only(errs, r.field.is_some(), "field", Group::Fit);
    only(errs, r.op.is_some(), "op", Group::Fit);
    only(errs, r.value.is_some(), "value", Group::Fit);
    only(errs, r.event.is_some(), "event", Group::Engagement);
    only(errs, r.cap.is_some(), "cap", Group::Engagement);
    only(errs, r.half_life_days.is_some(), "half_life_days", Group::Engagement);
    only(errs, r.sentiment.is_some(), "sentiment", Group::Engagement);
    only(errs, r.activity_kind.is_some(), "activity_kind", Group::Engagement);
    only(errs, r.stage_id.is_some(), "stage_id", Group::Engagement);
    only(errs, r.question.is_some(), "question", Group::Question);
    only(errs, r.answers.is_some(), "answers", Group::Question);
    only(errs, r.from_stage_id.is_some(), "from_stage_id", Group::Question);
    if r.group == Group::Question {
        if r.points.is_some() {
            errs.add(format!("{at}.points"), "a question's points are in `answers`; remove `points`");
        }
    } else {
        match r.points {
            None => errs.add(format!("{at}.points"), "give the points the rule adds (negative to subtract)"),
            Some(p) => check_points(&format!("{at}.points"), p, errs),
        }
    }
    match r.group {
        Group::Fit => check_fit(r, at, refs, errs),
        Group::Engagement => check_engagement(r, at, refs, errs),
        Group::Question => check_question(r, at, refs, errs),
    }
}

fn check_points(at: &str, p: f64, errs: &mut Invalid) {
    if !p.is_finite() || p.abs() > MAX_POINTS {
        errs.add(at, format!("points lie between -{MAX_POINTS} and {MAX_POINTS}; {p} does not"));
    }
}

fn check_fit(r: &mut Rule, at: &str, refs: &Refs, errs: &mut Invalid) {
    match &r.field {
        None => errs.add(format!("{at}.field"), "a fit rule names a field, e.g. `organization.industry`"),
        Some(f) => {
            let prefs = crate::playbook::Refs {
                deal_fields: refs.deal_fields,
                person_fields: refs.person_fields,
                organization_fields: refs.organization_fields,
                campaign_exists: false,
            };
            if let Err(m) = crate::playbook::check_field_name(f.trim(), &prefs) {
                errs.add(format!("{at}.field"), m);
            }
            r.field = Some(f.trim().to_string());
        }
    }
    let Some(op) = r.op else {
        errs.add(format!("{at}.op"), format!("a fit rule has an `op`: one of {}", ops()));
        return;
    };
    let v = r.value.as_ref();
    let bad = |errs: &mut Invalid, what: &str| errs.add(format!("{at}.value"), format!("`{op}` compares with {what}"));
    match op {
        FitOp::IsSet | FitOp::IsEmpty => {
            if v.is_some() {
                errs.add(format!("{at}.value"), format!("`{op}` takes no value; remove it"));
            }
        }
        FitOp::Eq => {
            if !v.is_some_and(|v| v.is_string() || v.is_number() || v.is_boolean()) {
                bad(errs, "a text, number or true/false `value`");
            }
        }
        FitOp::Contains => {
            if v.and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
                bad(errs, "a non-empty text `value`");
            }
        }
        FitOp::OneOf => {
            if !v.and_then(Value::as_array).is_some_and(|a| !a.is_empty() && a.len() <= 100) {
                bad(errs, "a list of 1 to 100 values");
            }
        }
        FitOp::Between => {
            let ok = v.and_then(Value::as_array).is_some_and(|a| {
                a.len() == 2
                    && crate::playbook::gate::compare(&a[0], &a[1]).is_some_and(|o| o.is_le())
                    && (a[0].is_number() || a[0].is_string())
            });
            if !ok {
                bad(errs, "`[low, high]`: two numbers (or two ISO dates), low first");
            }
        }
    }
}

fn ops() -> String {
    FitOp::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
}

fn check_engagement(r: &Rule, at: &str, refs: &Refs, errs: &mut Invalid) {
    let Some(ev) = r.event else {
        let all: Vec<_> = EngagementEvent::ALL.iter().map(|e| e.as_str()).collect();
        errs.add(format!("{at}.event"), format!("an engagement rule counts an `event`: one of {}", all.join(", ")));
        return;
    };
    let wrong = |errs: &mut Invalid, present: bool, name: &str, on: EngagementEvent| {
        if present && ev != on {
            errs.add(format!("{at}.{name}"), format!("`{name}` applies only to `{on}` rules; remove it"));
        }
    };
    wrong(errs, r.sentiment.is_some(), "sentiment", EngagementEvent::OutreachReplied);
    wrong(errs, r.activity_kind.is_some(), "activity_kind", EngagementEvent::ActivityDone);
    wrong(errs, r.stage_id.is_some(), "stage_id", EngagementEvent::StageReached);
    if ev == EngagementEvent::StageReached {
        match r.stage_id {
            None => errs.add(format!("{at}.stage_id"), "a `stage.reached` rule names the stage"),
            Some(s) if !refs.stages.contains(&s) => {
                errs.add(format!("{at}.stage_id"), format!("stage {s} is not a stage of the model's pipeline"))
            }
            Some(_) => {}
        }
    }
    if let Some(c) = r.cap
        && (!c.is_finite() || !(0.0..=MAX_POINTS * 10.0).contains(&c))
    {
        errs.add(
            format!("{at}.cap"),
            format!("a cap is a number from 0 up to {}; leave it out for none", MAX_POINTS * 10.0),
        );
    }
    if let Some(h) = r.half_life_days
        && (!h.is_finite() || h <= 0.0 || h > MAX_HALF_LIFE_DAYS)
    {
        errs.add(
            format!("{at}.half_life_days"),
            format!("a half-life is more than 0 and at most {MAX_HALF_LIFE_DAYS} days; leave it out for no decay"),
        );
    }
}

fn check_question(r: &mut Rule, at: &str, refs: &Refs, errs: &mut Invalid) {
    match r.question.as_deref().map(str::trim) {
        Some(q) if !q.is_empty() && q.chars().count() <= 200 => r.question = Some(q.to_string()),
        _ => errs.add(format!("{at}.question"), "a question rule has its text (1 to 200 characters)"),
    }
    match &r.answers {
        Some(a) if !a.is_empty() && a.len() <= 20 => {
            let mut trimmed = std::collections::BTreeMap::new();
            for (k, p) in a {
                let key = k.trim();
                if key.is_empty() || key.chars().count() > 100 {
                    errs.add(format!("{at}.answers"), "an answer is 1 to 100 characters");
                }
                if !p.is_finite() || p.abs() > MAX_POINTS {
                    errs.add(
                        format!("{at}.answers"),
                        format!("an answer's points lie between -{MAX_POINTS} and {MAX_POINTS}"),
                    );
                }
                if trimmed.insert(key.to_string(), *p).is_some() {
                    errs.add(format!("{at}.answers"), format!("the answer `{key}` is given twice"));
                }
            }
            r.answers = Some(trimmed);
        }
        _ => errs.add(
            format!("{at}.answers"),
            "a question has 1 to 20 answers with their points, e.g. {\"yes\": 30, \"no\": -40}",
        ),
    }
    if let Some(s) = r.from_stage_id
        && !refs.stages.contains(&s)
    {
        errs.add(format!("{at}.from_stage_id"), format!("stage {s} is not a stage of the model's pipeline"));
    }
}

fn check_thresholds(t: &Thresholds, refs: &Refs, errs: &mut Invalid) {
    for (name, v) in [("disqualify_below", t.disqualify_below), ("nurture_at", t.nurture_at)] {
        if let Some(v) = v
            && (!v.is_finite() || v.abs() > MAX_POINTS * 10.0)
        {
            errs.add(format!("thresholds.{name}"), "a level is a number between -10000 and 10000");
        }
    }
    if let (Some(d), Some(n)) = (t.disqualify_below, t.nurture_at)
        && d >= n
    {
        errs.add(
            "thresholds",
            format!("`disqualify_below` ({d}) must lie below `nurture_at` ({n}): the levels are in the wrong order"),
        );
    }
    if let Some(g) = t.rearm_gap
        && (!g.is_finite() || !(0.0..=1000.0).contains(&g))
    {
        errs.add("thresholds.rearm_gap", "the re-arm gap is a number from 0 to 1000");
    }
    if t.nurture_campaign_id.is_some() && t.nurture_at.is_none() {
        errs.add("thresholds.nurture_campaign_id", "set `nurture_at`, the score that enrols, with the campaign");
    }
    if t.nurture_campaign_id.is_some() && !refs.campaign_exists {
        errs.add("thresholds.nurture_campaign_id", "no such campaign; create it first or leave this out");
    }
    if t.disqualify_action.is_some() && t.disqualify_below.is_none() {
        errs.add("thresholds.disqualify_action", "set `disqualify_below` with the action");
    }
    for (s, v) in &t.min_score {
        if !refs.stages.contains(s) {
            errs.add(format!("thresholds.min_score.{s}"), format!("stage {s} is not a stage of the model's pipeline"));
        }
        if !v.is_finite() || v.abs() > MAX_POINTS * 10.0 {
            errs.add(format!("thresholds.min_score.{s}"), "a minimum score is a number between -10000 and 10000");
        }
    }
}

fn check_bands(bands: &mut [Band], errs: &mut Invalid) {
    let mut names = HashSet::new();
    let mut mins = Vec::new();
    for (i, b) in bands.iter_mut().enumerate() {
        b.name = b.name.trim().to_string();
        if b.name.is_empty() || b.name.chars().count() > 40 {
            errs.add(format!("bands[{i}].name"), "a band's name is 1 to 40 characters");
        }
        if !names.insert(b.name.to_lowercase()) {
            errs.add(format!("bands[{i}].name"), format!("the band `{}` is named twice", b.name));
        }
        if !b.min.is_finite() || mins.contains(&b.min) {
            errs.add(format!("bands[{i}].min"), "each band starts at its own finite score");
        }
        mins.push(b.min);
    }
    if bands.len() > 20 {
        errs.add("bands", "at most 20 bands");
    }
}
