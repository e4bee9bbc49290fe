//! What an import needs before its first row: the time zone and currency
//! to read values in, the custom fields and the pipeline the mapping asks
//! for (created when missing, inside the import's transaction, so a dry run
//! or a failed import leaves no trace of them either).

use crate::custom_fields::{create_custom_field_in, defs};
use crate::pipelines::{insert_pipeline, stages_of};
use crate::row::*;
use crate::{Actor, StoreError, Tx};
use dealflow_core::PipelineId;
use dealflow_core::currency::Currency;
use dealflow_core::custom_field::{FieldKind, NewCustomField};
use dealflow_core::import::Mapping;
use dealflow_core::model::{NewPipeline, NewStage, Stage};
use std::collections::BTreeMap;

/// A pipeline and its active stages, in order.
pub(crate) struct PipelineInfo {
    pub id: PipelineId,
    pub name: String,
    pub stages: Vec<Stage>,
}

/// The workspace facts every row needs.
pub(crate) struct Context {
    pub tz: chrono_tz::Tz,
    pub base_currency: Currency,
    pub custom_kinds: BTreeMap<String, FieldKind>,
    /// Every pipeline; the first is the one rows go to unless they name another.
    pub pipelines: Vec<PipelineInfo>,
}

impl Context {
    pub fn pipeline(&self, name: Option<&str>) -> Option<&PipelineInfo> {
        match name {
            Some(n) => self.pipelines.iter().find(|p| p.name.eq_ignore_ascii_case(n.trim())),
            None => self.pipelines.first(),
        }
    }
}

pub(crate) async fn prepare(
    tx: &mut Tx,
    actor: &Actor,
    m: &Mapping,
    created: &mut Vec<String>,
) -> Result<Context, StoreError> {
    let settings = crate::settings::load(tx).await?;
    let tz = match &m.time_zone {
        Some(zone) => dealflow_core::time::TimeZone::parse(zone).map_err(StoreError::Config)?.tz(),
        None => settings.time_zone.tz(),
    };
    let mut custom_kinds = BTreeMap::new();
    if let Some(entity) = m.entity.custom_entity() {
        let existing = defs(tx, entity).await?;
        for spec in &m.custom_fields {
            match existing.iter().find(|d| d.key == spec.key) {
                Some(d) if d.kind != spec.kind => {
                    return Err(StoreError::Config(format!(
                        "custom_fields: the {entity} field `{}` exists as {}, not {}",
                        d.key, d.kind, spec.kind
                    )));
                }
                Some(d) => {
                    let missing: Vec<&str> =
                        spec.options.iter().filter(|o| !d.options.contains(o)).map(String::as_str).collect();
                    if !missing.is_empty() {
                        return Err(StoreError::Config(format!(
                            "custom_fields: the {entity} field `{}` lacks the options {}; add them in settings",
                            d.key,
                            missing.join(", ")
                        )));
                    }
                }
                None => {
                    let n = NewCustomField {
                        entity,
                        key: spec.key.clone(),
                        label: spec.label.clone(),
                        kind: spec.kind,
                        options: spec.options.clone(),
                        required: false,
                        position: None,
                    };
                    create_custom_field_in(tx, actor, n).await?;
                    created.push(format!("{entity} custom field `{}`", spec.key));
                }
            }
        }
        for d in defs(tx, entity).await? {
            custom_kinds.insert(d.key, d.kind);
        }
    }
    let mut pipelines = Vec::new();
    if m.entity == dealflow_core::import::Target::Deals {
        let rows = sqlx::query("SELECT id, name FROM pipelines WHERE archived = 0 ORDER BY position, id")
            .fetch_all(&mut **tx)
            .await?;
        for r in &rows {
            let id = PipelineId(i64_(r, "id")?);
            let stages = stages_of(tx, id).await?.into_iter().filter(|s| !s.archived).collect();
            pipelines.push(PipelineInfo { id, name: text(r, "name")?, stages });
        }
        if let Some(spec) = &m.pipeline {
            let at = pipelines.iter().position(|p| p.name.eq_ignore_ascii_case(spec.name.trim()));
            let chosen = match at {
                Some(i) => pipelines.remove(i),
                None if spec.create => {
                    let stages = spec
                        .stages
                        .iter()
                        .map(|s| NewStage {
                            name: s.clone(),
                            position: None,
                            probability: None,
                            rotting_days: None,
                            milestone: None,
                        })
                        .collect();
                    let np = NewPipeline { name: spec.name.clone(), stages };
                    let id = insert_pipeline(tx, &np, actor.now.0).await?;
                    created.push(format!("pipeline `{}`", spec.name));
                    PipelineInfo { id, name: spec.name.clone(), stages: stages_of(tx, id).await? }
                }
                None => {
                    return Err(StoreError::Config(format!(
                        "pipeline: there is no active pipeline named `{}`; set \"create\": true to create it",
                        spec.name
                    )));
                }
            };
            pipelines.insert(0, chosen);
        }
    }
    Ok(Context { tz, base_currency: settings.base_currency, custom_kinds, pipelines })
}
