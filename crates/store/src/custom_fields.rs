//! Custom field definitions, and the lookup every record write uses to
//! validate its `custom` map.

use crate::row::*;
use crate::{Actor, Store, StoreError, Tx};
use dealflow_core::custom_field::{
    CustomField, CustomFieldPatch, Entity, FieldKind, NewCustomField, check_definition, check_options,
};
use dealflow_core::limits;
use dealflow_core::validate::required_text;
use dealflow_core::{CustomFieldId, Invalid};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;

fn from_row(r: &AnyRow) -> R<CustomField> {
    Ok(CustomField {
        id: CustomFieldId(i64_(r, "id")?),
        entity: enum_(r, "entity", Entity::parse)?,
        key: text(r, "field_key")?,
        label: text(r, "label")?,
        kind: enum_(r, "kind", FieldKind::parse)?,
        options: json(r, "options")?,
        required: bool_(r, "required")?,
        position: i64_(r, "position")?,
        archived: bool_(r, "archived")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        version: i64_(r, "version")?,
    })
}

/// The deal, person and organization definitions, in that order: what a
/// rule that names `person.…` or `organization.…` fields is checked with.
pub(crate) async fn defs_of_all(tx: &mut Tx) -> Result<[Vec<CustomField>; 3], StoreError> {
    Ok([defs(tx, Entity::Deal).await?, defs(tx, Entity::Person).await?, defs(tx, Entity::Organization).await?])
}

/// Definitions of one entity, read inside a write transaction.
pub(crate) async fn defs(tx: &mut Tx, entity: Entity) -> Result<Vec<CustomField>, StoreError> {
    let rows = sqlx::query("SELECT * FROM custom_fields WHERE entity = $1 ORDER BY position, id")
        .bind(entity.as_str().to_string())
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows.iter().map(from_row).collect::<R<_>>()?)
}

/// Validates `changes` against the entity's fields and merges them into
/// `current`; returns the JSON text to store.
pub(crate) async fn apply(
    tx: &mut Tx,
    entity: Entity,
    current: &Map<String, Value>,
    changes: Option<&Map<String, Value>>,
    creating: bool,
) -> Result<Map<String, Value>, StoreError> {
    let defs = defs(tx, entity).await?;
    let empty = Map::new();
    Ok(dealflow_core::custom_field::apply(&defs, current, changes.unwrap_or(&empty), creating)?)
}

/// JSON text of a custom map; a map of JSON values always serializes.
pub(crate) fn to_text(m: &Map<String, Value>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

/// The body of [`Store::create_custom_field`], inside the caller's transaction.
pub(crate) async fn create_custom_field_in(
    tx: &mut Tx,
    actor: &Actor,
    n: NewCustomField,
) -> Result<CustomFieldId, StoreError> {
    check_definition(&n)?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM custom_fields").fetch_one(&mut **tx).await?;
    if count >= limits::MAX_CUSTOM_FIELDS {
        return Err(limits::full("custom_fields", "custom fields", limits::MAX_CUSTOM_FIELDS).into());
    }
    let position = match n.position {
        Some(p) => p,
        None => {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(MAX(position), -1) + 1 AS BIGINT) FROM custom_fields WHERE entity = $1",
            )
            .bind(n.entity.as_str().to_string())
            .fetch_one(&mut **tx)
            .await?
        }
    };
    let id = CustomFieldId::new();
    sqlx::query(
        "INSERT INTO custom_fields (id, entity, field_key, label, kind, options, required, position, archived, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9, 1)",
    )
    .bind(id.0)
    .bind(n.entity.as_str().to_string())
    .bind(n.key.clone())
    .bind(n.label.trim().to_string())
    .bind(n.kind.as_str().to_string())
    .bind(serde_json::to_string(&n.options).unwrap_or_else(|_| "[]".into()))
    .bind(b(n.required))
    .bind(position)
    .bind(actor.now.0)
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Duplicate { .. } => StoreError::Duplicate {
            field: "key".into(),
            message: format!("a {} field with key `{}` already exists", n.entity, n.key),
        },
        other => other,
    })?;
    Ok(id)
}

impl Store {
    pub async fn custom_fields(&self, entity: Option<Entity>) -> Result<Vec<CustomField>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM custom_fields WHERE ($1 IS NULL OR entity = $1) ORDER BY entity, position, id")
                .bind(entity.map(|e| e.as_str().to_string()))
                .fetch_all(self.pool())
                .await?;
        Ok(rows.iter().map(from_row).collect::<R<_>>()?)
    }

    pub async fn custom_field(&self, id: CustomFieldId) -> Result<CustomField, StoreError> {
        crate::records::load(self.pool(), "custom_fields", "custom field", id.0, from_row).await
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_custom_field(&self, actor: &Actor, n: NewCustomField) -> Result<CustomField, StoreError> {
        let mut tx = self.write().await?;
        let id = create_custom_field_in(&mut tx, actor, n).await?;
        let after = crate::records::load(&mut *tx, "custom_fields", "custom field", id.0, from_row).await?;
        crate::audit::created(&mut tx, actor, "custom_field", id.0, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update_custom_field(
        &self,
        actor: &Actor,
        id: CustomFieldId,
        p: CustomFieldPatch,
    ) -> Result<CustomField, StoreError> {
        let cur = self.custom_field(id).await?;
        let before = cur.clone();
        let mut errs = Invalid::new();
        let label = p.label.as_deref().and_then(|l| errs.take(required_text("label", l, 100)));
        if let Some(o) = &p.options {
            errs.take(check_options(cur.kind, o));
        }
        errs.into_result()?;
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE custom_fields SET label = $1, options = $2, required = $3, position = $4, archived = $5,
             updated_at = $6, version = version + 1 WHERE id = $7 AND version = $8",
        )
        .bind(label.unwrap_or(cur.label))
        .bind(serde_json::to_string(&p.options.unwrap_or(cur.options)).unwrap_or_else(|_| "[]".into()))
        .bind(b(p.required.unwrap_or(cur.required)))
        .bind(p.position.unwrap_or(cur.position))
        .bind(b(p.archived.unwrap_or(cur.archived)))
        .bind(actor.now.0)
        .bind(id.0)
        .bind(p.version)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(crate::records::stale(&mut tx, "custom_fields", id.0).await);
        }
        let after = crate::records::load(&mut *tx, "custom_fields", "custom field", id.0, from_row).await?;
        crate::audit::updated(&mut tx, actor, "custom_field", id.0, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a definition. Values already stored under its key stay in the
    /// records; re-creating the key makes them visible to validation again.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete_custom_field(&self, actor: &Actor, id: CustomFieldId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        crate::records::remove(&mut tx, "custom_fields", "custom field", id.0).await?;
        crate::audit::deleted(&mut tx, actor, "custom_field", "delete", id.0).await?;
        tx.commit().await?;
        Ok(())
    }
}
