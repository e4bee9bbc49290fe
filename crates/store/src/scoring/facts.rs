//! What a deal is scored from, read in as few statements as its model
//! needs: the person and organization (for fit rules), the current answer
//! of each question, and every engagement fact of the deal and its person
//! in one `UNION ALL`. [`load`] reads them for one deal with bound
//! parameters (a write rescoring its deal); [`load_many`] for a few hundred
//! deals at once with the same statements over `IN (…)` lists (the
//! calibration and the editor's counts, which read thousands).

use crate::row::*;
use crate::{StoreError, Tx};
use dealflow_core::model::{ActivityKind, Deal, Organization, Person, Sentiment};
use dealflow_core::scoring::eval::Fact;
use dealflow_core::scoring::{EngagementEvent, Group, ModelBody};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, StageId};
use sqlx::any::AnyRow;
use std::collections::HashMap;

/// The loaded facts of one deal, owned.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub person: Option<Person>,
    pub organization: Option<Organization>,
    pub answers: Vec<(String, String)>,
    pub events: Vec<Fact>,
}

/// Which kinds of facts a model reads.
struct Needs {
    person: bool,
    organization: bool,
    answers: bool,
    events: bool,
}

impl Needs {
    fn of(model: &ModelBody) -> Needs {
        let has = |g: Group| model.rules.iter().any(|r| r.group == g);
        let fit_on = |prefix: &str| {
            model
                .rules
                .iter()
                .any(|r| r.group == Group::Fit && r.field.as_deref().is_some_and(|f| f.starts_with(prefix)))
        };
        Needs {
            person: fit_on("person."),
            organization: fit_on("organization."),
            answers: has(Group::Question),
            events: has(Group::Engagement),
        }
    }
}

/// Reads what `model` looks at for `deal`, as things stand (facts up to
/// `until` when given: the calibration's "no fact from after").
pub(crate) async fn load(
    tx: &mut Tx,
    deal: &Deal,
    model: &ModelBody,
    until: Option<Timestamp>,
) -> Result<Loaded, StoreError> {
    let needs = Needs::of(model);
    let mut out = Loaded::default();
    if let Some(p) = deal.person_id.filter(|_| needs.person) {
        let row = sqlx::query("SELECT * FROM people WHERE id = $1 AND deleted_at IS NULL")
            .bind(p.0)
            .fetch_optional(&mut **tx)
            .await?;
        out.person = row.as_ref().map(crate::parties::person_from_row).transpose()?;
    }
    if let Some(o) = deal.organization_id.filter(|_| needs.organization) {
        let row = sqlx::query("SELECT * FROM organizations WHERE id = $1 AND deleted_at IS NULL")
            .bind(o.0)
            .fetch_optional(&mut **tx)
            .await?;
        out.organization = row.as_ref().map(crate::parties::org_from_row).transpose()?;
    }
    if needs.answers {
        out.answers = current_answers(tx, deal.id, until).await?;
    }
    if needs.events {
        let sql = engagement_sql("= $1", "= $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(deal.person_id.map_or(0, |p| p.0))
            .bind(deal.id.0)
            .fetch_all(&mut **tx)
            .await?;
        let facts = rows.iter().map(fact).collect::<R<Vec<_>>>()?;
        out.events = in_order(facts.into_iter().map(|(_, _, f)| f), until);
    }
    Ok(out)
}

/// [`load`] for many deals at once, each with its own `until`, in the
/// order given. A few hundred deals a call keeps the `IN (…)` lists short.
pub(crate) async fn load_many(
    tx: &mut Tx,
    deals: &[(&Deal, Option<Timestamp>)],
    model: &ModelBody,
) -> Result<Vec<Loaded>, StoreError> {
    let needs = Needs::of(model);
    let mut out: Vec<Loaded> = deals.iter().map(|_| Loaded::default()).collect();
    let dids = id_list(deals.iter().map(|(d, _)| d.id.0));
    let pids = id_list(deals.iter().filter_map(|(d, _)| d.person_id.map(|p| p.0)));
    if needs.person && deals.iter().any(|(d, _)| d.person_id.is_some()) {
        let sql = format!("SELECT * FROM people WHERE id IN ({pids}) AND deleted_at IS NULL");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
        let people: HashMap<_, _> =
            rows.iter().map(|r| crate::parties::person_from_row(r).map(|p| (p.id, p))).collect::<R<_>>()?;
        for ((d, _), o) in deals.iter().zip(out.iter_mut()) {
            o.person = d.person_id.and_then(|p| people.get(&p).cloned());
        }
    }
    if needs.organization && deals.iter().any(|(d, _)| d.organization_id.is_some()) {
        let oids = id_list(deals.iter().filter_map(|(d, _)| d.organization_id.map(|o| o.0)));
        let sql = format!("SELECT * FROM organizations WHERE id IN ({oids}) AND deleted_at IS NULL");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
        let orgs: HashMap<_, _> =
            rows.iter().map(|r| crate::parties::org_from_row(r).map(|o| (o.id, o))).collect::<R<_>>()?;
        for ((d, _), o) in deals.iter().zip(out.iter_mut()) {
            o.organization = d.organization_id.and_then(|id| orgs.get(&id).cloned());
        }
    }
    if needs.answers {
        let sql = format!(
            "SELECT deal_id, question_id, answer, at FROM deal_answers WHERE deal_id IN ({dids}) ORDER BY at, id"
        );
        let mut given: HashMap<i64, Vec<(i64, String, String)>> = HashMap::new();
        for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await? {
            given.entry(i64_(&r, "deal_id")?).or_default().push((
                i64_(&r, "at")?,
                text(&r, "question_id")?,
                text(&r, "answer")?,
            ));
        }
        for ((d, until), o) in deals.iter().zip(out.iter_mut()) {
            let until = until.map_or(i64::MAX, |t| t.0);
            let rows = given.get(&d.id.0).into_iter().flatten().filter(|(at, _, _)| *at <= until);
            o.answers = latest_answers(rows.map(|(_, q, a)| (q.clone(), a.clone())));
        }
    }
    if needs.events {
        let sql = engagement_sql(&format!("IN ({pids})"), &format!("IN ({dids})"));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
        // A fact names its deal (activities on the deal, stage events) or
        // only its person (everything else): it belongs to every deal of
        // that person in the batch.
        let mut by_deal: HashMap<i64, Vec<Fact>> = HashMap::new();
        let mut by_person: HashMap<i64, Vec<Fact>> = HashMap::new();
        for r in &rows {
            match fact(r)? {
                (_, Some(d), f) => by_deal.entry(d).or_default().push(f),
                (Some(p), None, f) => by_person.entry(p).or_default().push(f),
                (None, None, _) => {}
            }
        }
        for ((d, until), o) in deals.iter().zip(out.iter_mut()) {
            let own = by_deal.get(&d.id.0).into_iter().flatten();
            let person = d.person_id.and_then(|p| by_person.get(&p.0)).into_iter().flatten();
            o.events = in_order(own.chain(person).cloned(), *until);
        }
    }
    Ok(out)
}

/// The latest answer to each question of a deal (by `until`).
pub(crate) async fn current_answers(
    tx: &mut Tx,
    deal: DealId,
    until: Option<Timestamp>,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows =
        sqlx::query("SELECT question_id, answer FROM deal_answers WHERE deal_id = $1 AND at <= $2 ORDER BY at, id")
            .bind(deal.0)
            .bind(until.map_or(i64::MAX, |t| t.0))
            .fetch_all(&mut **tx)
            .await?;
    let given = rows.iter().map(|r| Ok((text(r, "question_id")?, text(r, "answer")?))).collect::<R<Vec<_>>>()?;
    Ok(latest_answers(given.into_iter()))
}

/// The last answer per question, from answers oldest first, in the order
/// the questions were first answered.
fn latest_answers(given: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (q, a) in given {
        match out.iter_mut().find(|(x, _)| *x == q) {
            Some(slot) => slot.1 = a,
            None => out.push((q, a)),
        }
    }
    out
}

/// Every engagement fact of the people `person` and the deals `deal`
/// select (`= $1` or `IN (…)`), each with the person (`pid`) or deal
/// (`did`) it belongs to.
fn engagement_sql(person: &str, deal: &str) -> String {
    format!(
        "SELECT 'outreach.sent' AS ev, 'outreach:' || CAST(id AS TEXT) AS k, sent_at AS at,
                CAST(NULL AS TEXT) AS sentiment, CAST(NULL AS TEXT) AS kind, CAST(NULL AS BIGINT) AS stage_id,
                CAST(0 AS BIGINT) AS machine, channel AS label, person_id AS pid, CAST(NULL AS BIGINT) AS did
           FROM outreach_messages WHERE person_id {person} AND deleted_at IS NULL
         UNION ALL
         SELECT 'outreach.replied', 'reply:' || CAST(id AS TEXT), replied_at, sentiment, CAST(NULL AS TEXT),
                CAST(NULL AS BIGINT), 0, channel, person_id, CAST(NULL AS BIGINT)
           FROM outreach_messages WHERE person_id {person} AND deleted_at IS NULL AND replied_at IS NOT NULL
         UNION ALL
         SELECT 'outreach.replied', 'email_reply:' || CAST(id AS TEXT), received_at, sentiment, CAST(NULL AS TEXT),
                CAST(NULL AS BIGINT), 0, subject, person_id, CAST(NULL AS BIGINT)
           FROM email_replies WHERE person_id {person} AND outreach_id IS NULL
         UNION ALL
         SELECT CASE type WHEN 'opened' THEN 'email.opened' WHEN 'clicked' THEN 'email.clicked'
                  WHEN 'unsubscribed' THEN 'email.unsubscribed' ELSE 'email.bounced' END,
                'email_event:' || CAST(id AS TEXT), at, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT),
                machine_open, COALESCE(url, campaign, ''), person_id, CAST(NULL AS BIGINT)
           FROM email_events WHERE person_id {person}
             AND type IN ('opened', 'clicked', 'unsubscribed', 'bounced_hard', 'bounced_soft')
         UNION ALL
         SELECT 'activity.done', 'activity:' || CAST(id AS TEXT), done_at, CAST(NULL AS TEXT), kind,
                CAST(NULL AS BIGINT), 0, subject, person_id, deal_id
           FROM activities WHERE done_at IS NOT NULL
             AND (deal_id {deal} OR (deal_id IS NULL AND person_id {person}))
         UNION ALL
         SELECT 'stage.reached', 'stage_event:' || CAST(id AS TEXT), at, CAST(NULL AS TEXT), CAST(NULL AS TEXT),
                stage_id, 0, '', CAST(NULL AS BIGINT), deal_id
           FROM stage_events WHERE deal_id {deal} AND kind = 'enter'"
    )
}

/// One row of [`engagement_sql`]: its person, its deal and the fact.
fn fact(r: &AnyRow) -> R<(Option<i64>, Option<i64>, Fact)> {
    let event = match text(r, "ev")?.as_str() {
        "outreach.sent" => EngagementEvent::OutreachSent,
        "outreach.replied" => EngagementEvent::OutreachReplied,
        "email.opened" => EngagementEvent::EmailOpened,
        "email.clicked" => EngagementEvent::EmailClicked,
        "email.unsubscribed" => EngagementEvent::EmailUnsubscribed,
        "email.bounced" => EngagementEvent::EmailBounced,
        "activity.done" => EngagementEvent::ActivityDone,
        _ => EngagementEvent::StageReached,
    };
    let f = Fact {
        event,
        key: text(r, "k")?,
        at: Timestamp(i64_(r, "at")?),
        sentiment: opt_enum(r, "sentiment", Sentiment::parse)?,
        activity_kind: opt_enum(r, "kind", ActivityKind::parse)?,
        stage_id: opt_i64(r, "stage_id")?.map(StageId),
        machine: i64_(r, "machine")? != 0,
        label: opt_text(r, "label")?.unwrap_or_default(),
    };
    Ok((opt_i64(r, "pid")?, opt_i64(r, "did")?, f))
}

/// The facts up to `until`, oldest first (ties by key, so one deal's facts
/// come in the same order however they were read).
fn in_order(facts: impl Iterator<Item = Fact>, until: Option<Timestamp>) -> Vec<Fact> {
    let until = until.map_or(i64::MAX, |t| t.0);
    let mut out: Vec<Fact> = facts.filter(|f| f.at.0 <= until).collect();
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
    out
}
