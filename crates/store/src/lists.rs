//! Read model of the web app's list and detail pages: deals, people and
//! organizations joined with the names they show (owner, stage,
//! organization), sortable by name, value, creation and change time, with
//! keyset pagination on (sort value, id) in both directions; and the
//! timeline of a person or organization.

use crate::row::*;
use crate::sql::{Sql, like_pattern};
use crate::{DealFilter, EmailEntry, OrganizationFilter, PersonFilter, Store, StoreError};
use dealflow_core::time::Timestamp;
use dealflow_core::{OrganizationId, PersonId, ReplyId};
use sqlx::any::AnyRow;

/// The column a list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Title of a deal, name of a person or organization (case-insensitive).
    Name,
    /// A deal's value (minor units, regardless of currency).
    Value,
    #[default]
    Created,
    Updated,
    /// A deal's lead score (deals without one last).
    Score,
}

impl SortKey {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "name" => Some(Self::Name),
            "value" => Some(Self::Value),
            "created" => Some(Self::Created),
            "updated" => Some(Self::Updated),
            "score" => Some(Self::Score),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Value => "value",
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Score => "score",
        }
    }

    /// The SQL expression for this key on `alias`; `name_col` is `title` or `name`.
    fn expr(self, alias: &str, name_col: &str) -> String {
        match self {
            Self::Name => format!("LOWER({alias}.{name_col})"),
            Self::Value => format!("{alias}.value"),
            Self::Created => format!("{alias}.created_at"),
            Self::Updated => format!("{alias}.updated_at"),
            // Unscored deals sort as the lowest score, so a keyset cursor
            // compares plain numbers.
            Self::Score => {
                format!("COALESCE((SELECT sc.total FROM deal_scores sc WHERE sc.deal_id = {alias}.id), -1000000000)")
            }
        }
    }
}

/// Order and position of one page of a list.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery {
    pub sort: SortKey,
    pub desc: bool,
    /// Rows after this one in the list order (the "next" link).
    pub after: Option<i64>,
    /// Rows before this one in the list order (the "previous" link).
    pub before: Option<i64>,
    pub limit: i64,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self { sort: SortKey::Created, desc: true, after: None, before: None, limit: 50 }
    }
}

/// One page of rows in list order, and whether pages exist on either side.
#[derive(Debug, Clone)]
pub struct Slice<T> {
    pub items: Vec<T>,
    pub has_prev: bool,
    pub has_next: bool,
}

/// A deal as its list shows it.
#[derive(Debug, Clone)]
pub struct DealRow {
    pub id: i64,
    pub title: String,
    pub value: i64,
    pub currency: String,
    pub status: String,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub stage: String,
    pub owner_id: Option<i64>,
    pub owner: Option<String>,
    pub person_id: Option<i64>,
    pub person: Option<String>,
    pub organization_id: Option<i64>,
    pub organization: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    /// The lead score in hundredths and its band, when a model scores it.
    pub score: Option<i64>,
    pub band: Option<String>,
}

/// A person as their list shows them.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub job_title: Option<String>,
    pub organization_id: Option<i64>,
    pub organization: Option<String>,
    pub owner_id: Option<i64>,
    pub owner: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// An organization as its list shows it.
#[derive(Debug, Clone)]
pub struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub domain: Option<String>,
    pub country: Option<String>,
    pub owner_id: Option<i64>,
    pub owner: Option<String>,
    pub people: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// One entry of a person's or organization's timeline.
#[derive(Debug, Clone)]
pub struct TimelineItem {
    /// `note`, `activity`, `outreach`, `campaign_joined`, `campaign_left`,
    /// `email_event` (text: its type), `reply` (text: its preview) or `deal`
    /// (a stage event of one of their deals).
    pub kind: &'static str,
    pub at: Timestamp,
    /// Note body, activity subject, outreach channel, or campaign name.
    pub text: String,
    /// Activity kind and state, the outreach campaign and reply, or the
    /// title of the playbook step that enrolled the person.
    pub detail: Option<String>,
    pub done: bool,
    /// How many events the entry stands for (repeated opens), else 1.
    pub count: i64,
    /// The reply's id, for a `reply` entry (its sentiment can be set).
    pub reply_id: Option<ReplyId>,
    /// For a `deal` entry (text: the deal's title): the stage event.
    pub deal: Option<crate::PartyDealEvent>,
}

fn deal_row(r: &AnyRow) -> R<DealRow> {
    Ok(DealRow {
        id: i64_(r, "id")?,
        title: text(r, "title")?,
        value: i64_(r, "value")?,
        currency: text(r, "currency")?,
        status: text(r, "status")?,
        pipeline_id: i64_(r, "pipeline_id")?,
        stage_id: i64_(r, "stage_id")?,
        stage: text(r, "stage_name")?,
        owner_id: opt_i64(r, "owner_id")?,
        owner: opt_text(r, "owner_name")?,
        person_id: opt_i64(r, "person_id")?,
        person: opt_text(r, "person_name")?,
        organization_id: opt_i64(r, "organization_id")?,
        organization: opt_text(r, "organization_name")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
        score: opt_i64(r, "score_total")?,
        band: opt_text(r, "score_band")?,
    })
}

fn person_row(r: &AnyRow) -> R<PersonRow> {
    Ok(PersonRow {
        id: i64_(r, "id")?,
        name: text(r, "name")?,
        email: opt_text(r, "primary_email")?,
        job_title: opt_text(r, "job_title")?,
        organization_id: opt_i64(r, "organization_id")?,
        organization: opt_text(r, "organization_name")?,
        owner_id: opt_i64(r, "owner_id")?,
        owner: opt_text(r, "owner_name")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

fn organization_row(r: &AnyRow) -> R<OrganizationRow> {
    Ok(OrganizationRow {
        id: i64_(r, "id")?,
        name: text(r, "name")?,
        domain: opt_text(r, "domain")?,
        country: opt_text(r, "country")?,
        owner_id: opt_i64(r, "owner_id")?,
        owner: opt_text(r, "owner_name")?,
        people: i64_(r, "people_count")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// Adds the keyset condition and ORDER BY / LIMIT for `q` to `sql`, whose
/// main table is aliased `x`. Returns whether rows come in reverse list
/// order (a "previous" page) and must be flipped.
fn keyset(sql: &mut Sql, q: &ListQuery, table: &str, name_col: &str) -> bool {
    let key = q.sort.expr("x", name_col);
    let ckey = q.sort.expr("c", name_col);
    let backwards = q.after.is_none() && q.before.is_some();
    // Walking forward in a descending list means smaller keys.
    let smaller = q.desc != backwards;
    if let Some(cursor) = q.after.or(q.before) {
        let op = if smaller { "<" } else { ">" };
        sql.push(&format!(" AND ({key} {op} (SELECT {ckey} FROM {table} c WHERE c.id = "))
            .bind(cursor)
            .push(&format!(") OR ({key} = (SELECT {ckey} FROM {table} c WHERE c.id = "))
            .bind(cursor)
            .push(&format!(") AND x.id {op} "))
            .bind(cursor)
            .push("))");
    }
    let dir = if smaller { "DESC" } else { "ASC" };
    sql.push(&format!(" ORDER BY {key} {dir}, x.id {dir} LIMIT ")).bind(q.limit.clamp(1, 500) + 1);
    backwards
}

async fn fetch<T>(
    store: &Store,
    sql: &Sql,
    q: &ListQuery,
    backwards: bool,
    map: fn(&AnyRow) -> R<T>,
) -> Result<Slice<T>, StoreError> {
    let rows = sql.query().fetch_all(store.pool()).await?;
    let limit = q.limit.clamp(1, 500) as usize;
    let more = rows.len() > limit;
    let mut items = rows.iter().take(limit).map(map).collect::<R<Vec<T>>>()?;
    if backwards {
        items.reverse();
        Ok(Slice { items, has_prev: more, has_next: true })
    } else {
        Ok(Slice { items, has_prev: q.after.is_some(), has_next: more })
    }
}

fn search(sql: &mut Sql, q: Option<&str>, cols: &[&str]) {
    if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
        sql.push(" AND (");
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(&format!("LOWER({c}) LIKE ")).bind(like_pattern(q)).push(" ESCAPE '\\'");
        }
        sql.push(")");
    }
}

impl Store {
    /// Deals for the list page: filters of [`DealFilter`] (not `deleted` or
    /// `updated_since`), in the order and page of `q`.
    pub async fn deal_rows(&self, f: &DealFilter, q: &ListQuery) -> Result<Slice<DealRow>, StoreError> {
        let mut sql = Sql::new(
            "SELECT x.id, x.title, x.value, x.currency, x.status, x.pipeline_id, x.stage_id, s.name AS stage_name,
              x.owner_id, u.name AS owner_name, x.person_id, p.name AS person_name, x.organization_id,
              o.name AS organization_name, x.created_at, x.updated_at, x.version,
              ds.total AS score_total, ds.band AS score_band
             FROM deals x
             JOIN stages s ON s.id = x.stage_id
             LEFT JOIN deal_scores ds ON ds.deal_id = x.id
             LEFT JOIN users u ON u.id = x.owner_id
             LEFT JOIN people p ON p.id = x.person_id
             LEFT JOIN organizations o ON o.id = x.organization_id
             WHERE x.deleted_at IS NULL",
        );
        if let Some(v) = f.pipeline_id {
            sql.push(" AND x.pipeline_id = ").bind(v.0);
        }
        if let Some(v) = f.stage_id {
            sql.push(" AND x.stage_id = ").bind(v.0);
        }
        if let Some(v) = f.status {
            sql.push(" AND x.status = ").bind(v.as_str());
        }
        if let Some(v) = f.owner_id {
            sql.push(" AND x.owner_id = ").bind(v.0);
        }
        if let Some(v) = f.person_id {
            sql.push(" AND x.person_id = ").bind(v.0);
        }
        if let Some(v) = f.organization_id {
            sql.push(" AND x.organization_id = ").bind(v.0);
        }
        search(&mut sql, f.q.as_deref(), &["x.title"]);
        if let Some(b) = &f.band {
            sql.push(" AND ds.band = ").bind(b.clone());
        }
        let back = keyset(&mut sql, q, "deals", "title");
        fetch(self, &sql, q, back, deal_row).await
    }

    /// People for the list page.
    pub async fn person_rows(&self, f: &PersonFilter, q: &ListQuery) -> Result<Slice<PersonRow>, StoreError> {
        let mut q = *q;
        if q.sort == SortKey::Value {
            q.sort = SortKey::Created;
        }
        let mut sql = Sql::new(
            "SELECT x.id, x.name, x.primary_email, x.job_title, x.organization_id, o.name AS organization_name,
              x.owner_id, u.name AS owner_name, x.created_at, x.updated_at, x.version
             FROM people x
             LEFT JOIN users u ON u.id = x.owner_id
             LEFT JOIN organizations o ON o.id = x.organization_id
             WHERE x.deleted_at IS NULL",
        );
        if let Some(v) = f.owner_id {
            sql.push(" AND x.owner_id = ").bind(v.0);
        }
        if let Some(v) = f.organization_id {
            sql.push(" AND x.organization_id = ").bind(v.0);
        }
        search(&mut sql, f.q.as_deref(), &["x.name", "x.primary_email"]);
        let back = keyset(&mut sql, &q, "people", "name");
        fetch(self, &sql, &q, back, person_row).await
    }

    /// Organizations for the list page, with their number of live people.
    pub async fn organization_rows(
        &self,
        f: &OrganizationFilter,
        q: &ListQuery,
    ) -> Result<Slice<OrganizationRow>, StoreError> {
        let mut q = *q;
        if q.sort == SortKey::Value {
            q.sort = SortKey::Created;
        }
        let mut sql = Sql::new(
            "SELECT x.id, x.name, x.domain, x.country, x.owner_id, u.name AS owner_name,
              (SELECT COUNT(*) FROM people p WHERE p.organization_id = x.id AND p.deleted_at IS NULL) AS people_count,
              x.created_at, x.updated_at, x.version
             FROM organizations x
             LEFT JOIN users u ON u.id = x.owner_id
             WHERE x.deleted_at IS NULL",
        );
        if let Some(v) = f.owner_id {
            sql.push(" AND x.owner_id = ").bind(v.0);
        }
        search(&mut sql, f.q.as_deref(), &["x.name", "x.domain"]);
        let back = keyset(&mut sql, &q, "organizations", "name");
        fetch(self, &sql, &q, back, organization_row).await
    }

    /// Notes, activities, their deals' stage events and (for people)
    /// outreach and campaign joins and leaves of a person or an
    /// organization, newest first, at most `limit` of each kind.
    pub async fn timeline(
        &self,
        person: Option<PersonId>,
        organization: Option<OrganizationId>,
        limit: i64,
    ) -> Result<Vec<TimelineItem>, StoreError> {
        let (col, id) = match (person, organization) {
            (Some(p), _) => ("person_id", p.0),
            (None, Some(o)) => ("organization_id", o.0),
            (None, None) => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        let notes = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT body, created_at FROM notes WHERE {col} = $1 AND deleted_at IS NULL
             ORDER BY created_at DESC, id DESC LIMIT $2"
        )))
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        for r in &notes {
            out.push(TimelineItem {
                kind: "note",
                at: ts(r, "created_at")?,
                text: text(r, "body")?,
                detail: None,
                done: false,
                count: 1,
                reply_id: None,
                deal: None,
            });
        }
        let acts = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT kind, subject, due_at, done_at, created_at FROM activities WHERE {col} = $1
             ORDER BY COALESCE(done_at, due_at, created_at) DESC, id DESC LIMIT $2"
        )))
        .bind(id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        for r in &acts {
            let done = opt_ts(r, "done_at")?;
            let at = done.or(opt_ts(r, "due_at")?).unwrap_or(ts(r, "created_at")?);
            out.push(TimelineItem {
                kind: "activity",
                at,
                text: text(r, "subject")?,
                detail: Some(text(r, "kind")?),
                done: done.is_some(),
                count: 1,
                reply_id: None,
                deal: None,
            });
        }
        self.party_deal_events(col, id, limit, &mut out).await?;
        if let Some(p) = person {
            let rows = sqlx::query(
                "SELECT m.channel, m.sent_at, m.replied_at, c.name AS campaign FROM outreach_messages m
                 LEFT JOIN campaigns c ON c.id = m.campaign_id
                 WHERE m.person_id = $1 AND m.deleted_at IS NULL ORDER BY m.sent_at DESC, m.id DESC LIMIT $2",
            )
            .bind(p.0)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
            for r in &rows {
                out.push(TimelineItem {
                    kind: "outreach",
                    at: ts(r, "sent_at")?,
                    text: text(r, "channel")?,
                    detail: opt_text(r, "campaign")?,
                    done: opt_i64(r, "replied_at")?.is_some(),
                    count: 1,
                    reply_id: None,
                    deal: None,
                });
            }
        }
        if let Some(p) = person {
            self.membership_timeline(p, limit, &mut out).await?;
            for e in self.email_timeline(p, limit).await? {
                out.push(match e {
                    EmailEntry::Event { at, kind, count, url, campaign } => {
                        let text = kind.as_str().to_string();
                        let detail = url.or(campaign);
                        TimelineItem {
                            kind: "email_event",
                            at,
                            text,
                            detail,
                            done: false,
                            count,
                            reply_id: None,
                            deal: None,
                        }
                    }
                    EmailEntry::Reply(r) => {
                        let detail = r.sentiment.map(|s| s.as_str().to_string());
                        let at = r.received_at;
                        let reply_id = Some(r.id);
                        TimelineItem {
                            kind: "reply",
                            at,
                            text: r.preview,
                            detail,
                            done: true,
                            count: 1,
                            reply_id,
                            deal: None,
                        }
                    }
                });
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.at.0));
        Ok(out)
    }

    /// A person's campaign memberships as timeline entries: one when they
    /// joined (with the step that enrolled them, if one did) and one when
    /// they left.
    async fn membership_timeline(
        &self,
        person: PersonId,
        limit: i64,
        out: &mut Vec<TimelineItem>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "SELECT c.name AS campaign, m.joined_at, m.left_at, s.title AS step FROM campaign_members m
             JOIN campaigns c ON c.id = m.campaign_id LEFT JOIN playbook_steps s ON s.id = m.step_id
             WHERE m.person_id = $1 ORDER BY m.joined_at DESC, m.id DESC LIMIT $2",
        )
        .bind(person.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            let campaign = text(r, "campaign")?;
            if let Some(left) = opt_ts(r, "left_at")? {
                let text = campaign.clone();
                out.push(TimelineItem {
                    kind: "campaign_left",
                    at: left,
                    text,
                    detail: None,
                    done: false,
                    count: 1,
                    reply_id: None,
                    deal: None,
                });
            }
            let (at, detail) = (ts(r, "joined_at")?, opt_text(r, "step")?);
            out.push(TimelineItem {
                kind: "campaign_joined",
                at,
                text: campaign,
                detail,
                done: false,
                count: 1,
                reply_id: None,
                deal: None,
            });
        }
        Ok(())
    }
}
