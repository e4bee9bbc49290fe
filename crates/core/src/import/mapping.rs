//! The mapping file (JSON) that tells the importer how a CSV file becomes
//! records: which column fills which field, constants, templates, value
//! maps, date formats, how references are looked up, the stage history of
//! deals, and the custom fields and pipeline the file needs. Parsing checks
//! everything that can be checked without the CSV or the database, so a bad
//! mapping fails before any row is read.

use super::format_ok;
use super::spec::{FieldSpec, FieldType, Lookup, RefKind, field_type};
use crate::custom_field::{Entity, FieldKind, NewCustomField, check_definition};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Deals,
    People,
    Organizations,
    Activities,
}

impl Target {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "deals" => Ok(Self::Deals),
            "people" => Ok(Self::People),
            "organizations" => Ok(Self::Organizations),
            "activities" => Ok(Self::Activities),
            _ => Err(format!("`{s}` is not one of: deals, people, organizations, activities")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deals => "deals",
            Self::People => "people",
            Self::Organizations => "organizations",
            Self::Activities => "activities",
        }
    }

    /// The entity custom fields of this target belong to.
    pub fn custom_entity(self) -> Option<Entity> {
        match self {
            Self::Deals => Some(Entity::Deal),
            Self::People => Some(Entity::Person),
            Self::Organizations => Some(Entity::Organization),
            Self::Activities => None,
        }
    }
}

/// A pipeline the deals go into, created with these stages when missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    pub name: String,
    /// Stage names in order; needed when `create` is set.
    #[serde(default)]
    pub stages: Vec<String>,
    /// Create the pipeline when no pipeline has this name.
    #[serde(default)]
    pub create: bool,
}

/// A custom field the import needs, created when its key is missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldSpec {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub options: Vec<String>,
}

/// A parsed, checked mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Must match the command (`dealflow import deals` needs `"deals"`).
    pub entity: Target,
    /// Names the system the file comes from; external ids are unique per
    /// (entity, source), so two systems' ids never collide.
    pub source: String,
    /// The column holding the source system's id of each row.
    pub external_id: Option<String>,
    /// Default chrono format of date and time columns.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// IANA zone that dates without a zone are in; the workspace's when absent.
    pub time_zone: Option<String>,
    pub pipeline: Option<PipelineSpec>,
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldSpec>,
    /// Target field → where its value comes from.
    pub fields: BTreeMap<String, FieldSpec>,
    /// Deals only: stage name → the time the deal entered that stage.
    #[serde(default)]
    pub stage_dates: BTreeMap<String, FieldSpec>,
}

fn default_date_format() -> String {
    "%Y-%m-%d".into()
}

impl Mapping {
    /// Parses and checks a mapping; every problem is listed, one per line.
    pub fn parse(json: &str) -> Result<Self, Vec<String>> {
        let m: Mapping = serde_json::from_str(json).map_err(|e| vec![format!("the mapping is not valid: {e}")])?;
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        let t = self.entity;
        if self.source.trim().is_empty() || self.source.len() > 100 {
            errs.push("source: must be 1–100 characters naming the system the file comes from".into());
        }
        if self.external_id.as_deref().is_some_and(|c| c.trim().is_empty()) {
            errs.push("external_id: must name a column".into());
        }
        if !format_ok(&self.date_format) {
            errs.push(format!("date_format: `{}` is not a chrono format like %Y-%m-%d", self.date_format));
        }
        if let Some(z) = &self.time_zone
            && z.parse::<chrono_tz::Tz>().is_err()
        {
            errs.push(format!("time_zone: `{z}` is not an IANA time zone such as UTC or Europe/Berlin"));
        }
        let required = match t {
            Target::Deals => "title",
            Target::People | Target::Organizations => "name",
            Target::Activities => "subject",
        };
        if !self.fields.contains_key(required) {
            errs.push(format!("fields: `{required}` is required for {}", t.as_str()));
        }
        for (name, spec) in &self.fields {
            match field_type(t, name) {
                None => errs.push(format!("fields.{name}: is not a field of {}", t.as_str())),
                Some(ty) => spec.check(&format!("fields.{name}"), ty, &mut errs),
            }
        }
        if t != Target::Deals && (!self.stage_dates.is_empty() || self.pipeline.is_some()) {
            errs.push("stage_dates and pipeline: only deals have stages".into());
        }
        for (stage, spec) in &self.stage_dates {
            if stage.trim().is_empty() {
                errs.push("stage_dates: a stage name is empty".into());
            }
            spec.check(&format!("stage_dates.{stage}"), FieldType::Time, &mut errs);
        }
        if let Some(p) = &self.pipeline {
            if p.name.trim().is_empty() {
                errs.push("pipeline.name: must not be empty".into());
            }
            if p.create && p.stages.is_empty() {
                errs.push("pipeline.stages: list the stages to create the pipeline with".into());
            }
            for s in self.stage_dates.keys() {
                if !p.stages.is_empty() && !p.stages.contains(s) {
                    errs.push(format!("stage_dates.{s}: is not one of pipeline.stages"));
                }
            }
        }
        match t.custom_entity() {
            None if !self.custom_fields.is_empty() => errs.push("custom_fields: activities have none".into()),
            None => {}
            Some(entity) => {
                for (i, c) in self.custom_fields.iter().enumerate() {
                    let n = NewCustomField {
                        entity,
                        key: c.key.clone(),
                        label: c.label.clone(),
                        kind: c.kind,
                        options: c.options.clone(),
                        required: false,
                        position: None,
                    };
                    if let Err(e) = check_definition(&n) {
                        errs.push(format!("custom_fields[{i}]: {e}"));
                    }
                }
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// Every column the mapping reads, with the field that reads it.
    pub fn columns(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(c) = &self.external_id {
            out.push((c.clone(), "external_id".to_string()));
        }
        for (name, spec) in &self.fields {
            spec.columns(&format!("fields.{name}"), &mut out);
        }
        for (stage, spec) in &self.stage_dates {
            spec.columns(&format!("stage_dates.{stage}"), &mut out);
        }
        out
    }

    /// Checks that the file has every column the mapping reads.
    pub fn check_header(&self, header: &[String]) -> Result<(), Vec<String>> {
        let errs: Vec<String> = self
            .columns()
            .into_iter()
            .filter(|(c, _)| !header.contains(c))
            .map(|(c, used)| format!("{used}: column `{c}` is not in the file; it has: {}", header.join(", ")))
            .collect();
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// The reference lookup of a field, with its default when not given.
    pub fn lookup(&self, field: &str) -> Option<Lookup> {
        let spec = self.fields.get(field)?;
        match field_type(self.entity, field)? {
            FieldType::Ref(k) => Some(spec.lookup.unwrap_or(k.default_lookup())),
            _ => None,
        }
    }

    /// Custom field keys the mapping fills, for the importer's checks.
    pub fn custom_keys(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().filter_map(|k| k.strip_prefix("custom."))
    }
}

impl RefKind {
    pub fn default_lookup(self) -> Lookup {
        match self {
            RefKind::User | RefKind::Organization => Lookup::Name,
            RefKind::Person => Lookup::Email,
            RefKind::Deal => Lookup::ExternalId,
        }
    }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
