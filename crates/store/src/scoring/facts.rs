//! What a deal is scored from, read in as few statements as its model
//! needs: the person and organization (for fit rules), the current answer
//! of each question, and every engagement fact of the deal and its person
//! in one `UNION ALL`.

use crate::row::*;
use crate::{StoreError, Tx};
use dealflow_core::model::{ActivityKind, Deal, Organization, Person, Sentiment};
use dealflow_core::scoring::eval::Fact;
use dealflow_core::scoring::{EngagementEvent, Group, ModelBody};
use dealflow_core::time::Timestamp;
use dealflow_core::{DealId, StageId};

/// The loaded facts of one deal, owned.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub person: Option<Person>,
    pub organization: Option<Organization>,
    pub answers: Vec<(String, String)>,
    pub events: Vec<Fact>,
}

/// Reads what `model` looks at for `deal`, as things stand (facts up to
/// `until` when given: the calibration's "no fact from after").
pub(crate) async fn load(
    tx: &mut Tx,
    deal: &Deal,
    model: &ModelBody,
    until: Option<Timestamp>,
) -> Result<Loaded, StoreError> {
    let mut out = Loaded::default();
    let has = |g: Group| model.rules.iter().any(|r| r.group == g);
    let fit_on = |prefix: &str| {
        model.rules.iter().any(|r| r.group == Group::Fit && r.field.as_deref().is_some_and(|f| f.starts_with(prefix)))
    };
    if let Some(p) = deal.person_id.filter(|_| fit_on("person.")) {
        let row = sqlx::query("SELECT * FROM people WHERE id = $1 AND deleted_at IS NULL")
            .bind(p.0)
            .fetch_optional(&mut **tx)
            .await?;
        out.person = row.as_ref().map(crate::parties::person_from_row).transpose()?;
    }
    if let Some(o) = deal.organization_id.filter(|_| fit_on("organization.")) {
        let row = sqlx::query("SELECT * FROM organizations WHERE id = $1 AND deleted_at IS NULL")
            .bind(o.0)
            .fetch_optional(&mut **tx)
            .await?;
        out.organization = row.as_ref().map(crate::parties::org_from_row).transpose()?;
    }
    if has(Group::Question) {
        out.answers = current_answers(tx, deal.id, until).await?;
    }
    if has(Group::Engagement) {
        out.events = engagement(tx, deal, until).await?;
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
    let mut out: Vec<(String, String)> = Vec::new();
    for r in &rows {
        let (q, a) = (text(r, "question_id")?, text(r, "answer")?);
        match out.iter_mut().find(|(x, _)| *x == q) {
            Some(slot) => slot.1 = a,
            None => out.push((q, a)),
        }
    }
    Ok(out)
}

/// Every engagement fact of the deal and its person, oldest first.
async fn engagement(tx: &mut Tx, deal: &Deal, until: Option<Timestamp>) -> Result<Vec<Fact>, StoreError> {
    let person = deal.person_id.map_or(0, |p| p.0);
    let rows = sqlx::query(
        "SELECT 'outreach.sent' AS ev, 'outreach:' || CAST(id AS TEXT) AS k, sent_at AS at,
                CAST(NULL AS TEXT) AS sentiment, CAST(NULL AS TEXT) AS kind, CAST(NULL AS BIGINT) AS stage_id,
                CAST(0 AS BIGINT) AS machine, channel AS label
           FROM outreach_messages WHERE person_id = $1 AND deleted_at IS NULL
         UNION ALL
         SELECT 'outreach.replied', 'reply:' || CAST(id AS TEXT), replied_at, sentiment, CAST(NULL AS TEXT),
                CAST(NULL AS BIGINT), 0, channel
           FROM outreach_messages WHERE person_id = $1 AND deleted_at IS NULL AND replied_at IS NOT NULL
         UNION ALL
         SELECT 'outreach.replied', 'email_reply:' || CAST(id AS TEXT), received_at, sentiment, CAST(NULL AS TEXT),
                CAST(NULL AS BIGINT), 0, subject
           FROM email_replies WHERE person_id = $1 AND outreach_id IS NULL
         UNION ALL
         SELECT CASE type WHEN 'opened' THEN 'email.opened' WHEN 'clicked' THEN 'email.clicked'
                  WHEN 'unsubscribed' THEN 'email.unsubscribed' ELSE 'email.bounced' END,
                'email_event:' || CAST(id AS TEXT), at, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT),
                machine_open, COALESCE(url, campaign, '')
           FROM email_events WHERE person_id = $1
             AND type IN ('opened', 'clicked', 'unsubscribed', 'bounced_hard', 'bounced_soft')
         UNION ALL
         SELECT 'activity.done', 'activity:' || CAST(id AS TEXT), done_at, CAST(NULL AS TEXT), kind,
                CAST(NULL AS BIGINT), 0, subject
           FROM activities WHERE done_at IS NOT NULL
             AND (deal_id = $2 OR (deal_id IS NULL AND person_id = $1))
         UNION ALL
         SELECT 'stage.reached', 'stage_event:' || CAST(id AS TEXT), at, CAST(NULL AS TEXT), CAST(NULL AS TEXT),
                stage_id, 0, ''
           FROM stage_events WHERE deal_id = $2 AND kind = 'enter'",
    )
    .bind(person)
    .bind(deal.id.0)
    .fetch_all(&mut **tx)
    .await?;
    let until = until.map_or(i64::MAX, |t| t.0);
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let at = i64_(r, "at")?;
        if at > until {
            continue;
        }
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
        out.push(Fact {
            event,
            key: text(r, "k")?,
            at: Timestamp(at),
            sentiment: opt_enum(r, "sentiment", Sentiment::parse)?,
            activity_kind: opt_enum(r, "kind", ActivityKind::parse)?,
            stage_id: opt_i64(r, "stage_id")?.map(StageId),
            machine: i64_(r, "machine")? != 0,
            label: opt_text(r, "label")?.unwrap_or_default(),
        });
    }
    out.sort_by_key(|f| f.at);
    Ok(out)
}
