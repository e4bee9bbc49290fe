//! Lost reasons: the admin-managed list a lost deal picks from.

use crate::row::*;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::limits;
use dealflow_core::model::{DEFAULT_LOST_REASONS, LostReason, LostReasonPatch, NewLostReason};
use dealflow_core::validate::required_text;
use dealflow_core::{Invalid, LostReasonId};
use sqlx::any::AnyRow;

pub(crate) async fn insert_default(tx: &mut Tx) -> Result<(), StoreError> {
    let now = dealflow_core::time::Timestamp::now().0;
    for (i, label) in DEFAULT_LOST_REASONS.iter().enumerate() {
        sqlx::query(
            "INSERT INTO lost_reasons (id, label, position, archived, created_at, updated_at, version)
             VALUES ($1, $2, $3, 0, $4, $4, 1)",
        )
        .bind(LostReasonId::new().0)
        .bind(label.to_string())
        .bind(i as i64)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn from_row(r: &AnyRow) -> R<LostReason> {
    Ok(LostReason {
        id: LostReasonId(i64_(r, "id")?),
        label: text(r, "label")?,
        position: i64_(r, "position")?,
        archived: bool_(r, "archived")?,
        version: i64_(r, "version")?,
    })
}

/// Labels of the active lost reasons, for canonical spelling in stage moves.
pub(crate) async fn labels(tx: &mut Tx) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT label FROM lost_reasons WHERE archived = 0 ORDER BY position")
        .fetch_all(&mut **tx)
        .await?)
}

impl Store {
    pub async fn lost_reasons(&self) -> Result<Vec<LostReason>, StoreError> {
        let rows = sqlx::query("SELECT * FROM lost_reasons ORDER BY position, id").fetch_all(self.pool()).await?;
        Ok(rows.iter().map(from_row).collect::<R<_>>()?)
    }

    pub async fn lost_reason(&self, id: LostReasonId) -> Result<LostReason, StoreError> {
        crate::records::load(self.pool(), "lost_reasons", "lost reason", id.0, from_row).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_lost_reason(&self, actor: &Actor, n: NewLostReason) -> Result<LostReason, StoreError> {
        let label = required_text("label", &n.label, 200)?;
        let mut tx = self.write().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lost_reasons").fetch_one(&mut *tx).await?;
        if count >= limits::MAX_LOST_REASONS {
            return Err(limits::full("lost_reasons", "lost reasons", limits::MAX_LOST_REASONS).into());
        }
        let position = match n.position {
            Some(p) => p,
            None => {
                sqlx::query_scalar::<_, i64>("SELECT CAST(COALESCE(MAX(position), -1) + 1 AS BIGINT) FROM lost_reasons")
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        let id = LostReasonId::new();
        sqlx::query(
            "INSERT INTO lost_reasons (id, label, position, archived, created_at, updated_at, version)
             VALUES ($1, $2, $3, 0, $4, $4, 1)",
        )
        .bind(id.0)
        .bind(label)
        .bind(position)
        .bind(actor.now.0)
        .execute(&mut *tx)
        .await?;
        let after = crate::records::load(&mut *tx, "lost_reasons", "lost reason", id.0, from_row).await?;
        crate::audit::created(&mut tx, actor, "lost_reason", id.0, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_lost_reason(
        &self,
        actor: &Actor,
        id: LostReasonId,
        p: LostReasonPatch,
    ) -> Result<LostReason, StoreError> {
        let mut errs = Invalid::new();
        let label = p.label.as_deref().and_then(|l| errs.take(required_text("label", l, 200)));
        errs.into_result()?;
        let mut tx = self.write().await?;
        let cur = sqlx::query("SELECT * FROM lost_reasons WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("lost reason", id))?;
        let cur = from_row(&cur)?;
        let before = cur.clone();
        crate::records::check_version(cur.version, p.version)?;
        sqlx::query(
            "UPDATE lost_reasons SET label = $1, position = $2, archived = $3, updated_at = $4, version = version + 1 WHERE id = $5",
        )
        .bind(label.unwrap_or(cur.label))
        .bind(p.position.unwrap_or(cur.position))
        .bind(b(p.archived.unwrap_or(cur.archived)))
        .bind(actor.now.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let after = crate::records::load(&mut *tx, "lost_reasons", "lost reason", id.0, from_row).await?;
        crate::audit::updated(&mut tx, actor, "lost_reason", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a lost reason from the list; deals keep the text they carry.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_lost_reason(&self, actor: &Actor, id: LostReasonId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        crate::records::remove(&mut tx, "lost_reasons", "lost reason", id.0).await?;
        crate::audit::deleted(&mut tx, actor, "lost_reason", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }
}
