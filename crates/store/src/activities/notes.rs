//! Notes: Markdown text on a deal, person or organization, by the user who
//! wrote it. An edit records who made it and when (`edited_at`,
//! `edited_by`); the author stays. Deletion is soft (`deleted_at`,
//! `deleted_by`): a deleted note is gone from every read here and from the
//! timelines, but its row remains as a record. Who may edit or delete is
//! the server's decision (the author or an admin); the store records it.

use super::check_links;
use crate::records;
use crate::row::*;
use crate::sql::{ListPage, Page, Sql, fetch_page};
use crate::{Actor, Store, StoreError};
use dealflow_core::model::{NewNote, Note, NotePatch};
use dealflow_core::validate::{limits, required_multiline};
use dealflow_core::{DealId, Invalid, NoteId, OrganizationId, PersonId, UserId};
use sqlx::any::AnyRow;

/// Filters of `GET /api/v1/notes`.
/// (The one definition for the list API and the store.)
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoteFilter {
    pub deal_id: Option<DealId>,
    pub person_id: Option<PersonId>,
    pub organization_id: Option<OrganizationId>,
}

fn note_from_row(r: &AnyRow) -> R<Note> {
    Ok(Note {
        id: NoteId(i64_(r, "id")?),
        body: text(r, "body")?,
        deal_id: opt_i64(r, "deal_id")?.map(DealId),
        person_id: opt_i64(r, "person_id")?.map(PersonId),
        organization_id: opt_i64(r, "organization_id")?.map(OrganizationId),
        author_id: opt_i64(r, "author_id")?.map(UserId),
        pinned: bool_(r, "pinned")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        edited_at: opt_i64(r, "edited_at")?.map(dealflow_core::time::Timestamp),
        edited_by: opt_i64(r, "edited_by")?.map(UserId),
        version: i64_(r, "version")?,
    })
}

impl Store {
    /// Creates a note by the actor; it must be linked to a deal, a person or
    /// an organization, or nobody would ever find it again.
    pub async fn create_note(&self, actor: &Actor, n: NewNote) -> Result<Note, StoreError> {
        let mut errs = Invalid::new();
        let body = errs.take(required_multiline("body", &n.body, limits::NOTE));
        if n.deal_id.is_none() && n.person_id.is_none() && n.organization_id.is_none() {
            errs.add(
                "deal_id",
                "link the note to a deal, a person or an organization (deal_id, person_id or organization_id)",
            );
        }
        let created_at = match n.created_at {
            Some(t) => errs.take(t.check_not_future("created_at", actor.now)).unwrap_or(t),
            None => actor.now,
        };
        errs.into_result()?;

        let mut tx = self.write().await?;
        check_links(&mut tx, n.deal_id, n.person_id, n.organization_id).await?;
        let id = NoteId::new();
        sqlx::query(
            "INSERT INTO notes (id, body, deal_id, person_id, organization_id, author_id, pinned, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)",
        )
        .bind(id.0)
        .bind(body.unwrap_or_default())
        .bind(n.deal_id.map(|x| x.0))
        .bind(n.person_id.map(|x| x.0))
        .bind(n.organization_id.map(|x| x.0))
        .bind(actor.user_id.map(|u| u.0))
        .bind(b(n.pinned))
        .bind(created_at.0)
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        let note = records::load(&mut *tx, "notes", "note", id.0, note_from_row).await?;
        crate::audit::created(&mut tx, actor, "note", id.0, &note).await?;
        tx.commit().await?;
        Ok(note)
    }

    pub async fn note(&self, id: NoteId) -> Result<Note, StoreError> {
        records::live(self.pool(), "notes", "note", id.0, note_from_row).await
    }

    /// Changes a note's body or pin, recording the actor as its editor;
    /// `version` must be current.
    pub async fn update_note(&self, actor: &Actor, id: NoteId, p: NotePatch) -> Result<Note, StoreError> {
        let mut errs = Invalid::new();
        let body = p.body.as_deref().and_then(|s| errs.take(required_multiline("body", s, limits::NOTE)));
        errs.into_result()?;

        let mut tx = self.write().await?;
        let cur = records::live(&mut *tx, "notes", "note", id.0, note_from_row).await?;
        records::check_version(cur.version, p.version)?;
        let n = sqlx::query(
            "UPDATE notes SET body = $1, pinned = $2, updated_at = $3, edited_at = $3, edited_by = $4,
             version = version + 1 WHERE id = $5 AND version = $6 AND deleted_at IS NULL",
        )
        .bind(body.unwrap_or_else(|| cur.body.clone()))
        .bind(b(p.pinned.unwrap_or(cur.pinned)))
        .bind(actor.now.0)
        .bind(actor.user_id.map(|u| u.0))
        .bind(id.0)
        .bind(p.version)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(records::stale(&mut tx, "notes", id.0).await);
        }
        let note = records::load(&mut *tx, "notes", "note", id.0, note_from_row).await?;
        crate::audit::updated(&mut tx, actor, "note", id.0, &cur, &note).await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Deletes a note softly: it disappears from reads, and the row keeps
    /// when and by whom. Deleting a deleted note is 404, like a missing one.
    pub async fn delete_note(&self, actor: &Actor, id: NoteId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE notes SET deleted_at = $1, deleted_by = $2, updated_at = $1, version = version + 1
             WHERE id = $3 AND deleted_at IS NULL",
        )
        .bind(actor.now.0)
        .bind(actor.user_id.map(|u| u.0))
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(StoreError::not_found("note", id));
        }
        crate::audit::deleted(&mut tx, actor, "note", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Notes, newest first.
    pub async fn list_notes(&self, f: &NoteFilter, page: Page) -> Result<ListPage<Note>, StoreError> {
        let mut sql = Sql::new("SELECT * FROM notes WHERE deleted_at IS NULL");
        if let Some(v) = f.deal_id {
            sql.push(" AND deal_id = ").bind(v.0);
        }
        if let Some(v) = f.person_id {
            sql.push(" AND person_id = ").bind(v.0);
        }
        if let Some(v) = f.organization_id {
            sql.push(" AND organization_id = ").bind(v.0);
        }
        page.apply(&mut sql, "id");
        fetch_page(self.pool(), &sql, page, note_from_row).await
    }
}
