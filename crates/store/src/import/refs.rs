//! Resolving reference columns (owner, organization, person, deal) to
//! record ids, creating missing owners, organizations and people when the
//! mapping says so. Answers are cached for the file; entries made by a row
//! that is then rolled back are forgotten with it.

use super::{RowFail, keys};
use crate::parties::domain;
use crate::users::create_user_in;
use crate::{Actor, StoreError, Tx};
use dealflow_core::import::{Lookup, Mapping, RefKind, RowValues, Target};
use dealflow_core::model::{NewOrganization, NewPerson, Role};
use std::collections::HashMap;

type Key = (RefKind, Lookup, String);

pub(crate) struct Refs<'m> {
    mapping: &'m Mapping,
    cache: HashMap<Key, i64>,
    /// Cache entries and users made by the current row.
    fresh: Vec<Key>,
    fresh_users: Vec<String>,
}

/// Password hash of users the importer creates: not a valid hash, so nobody
/// can sign in as them until an admin sets a password.
const NO_PASSWORD: &str = "!imported";

impl<'m> Refs<'m> {
    pub fn new(mapping: &'m Mapping) -> Self {
        Self { mapping, cache: HashMap::new(), fresh: Vec::new(), fresh_users: Vec::new() }
    }

    /// The mapping's source name.
    pub fn source(&self) -> &str {
        &self.mapping.source
    }

    /// The row succeeded: keep what it created; returns the users it created.
    pub fn keep_row(&mut self) -> Vec<String> {
        self.fresh.clear();
        std::mem::take(&mut self.fresh_users)
    }

    /// The row was rolled back: what it created no longer exists.
    pub fn forget_row(&mut self) {
        for k in self.fresh.drain(..) {
            self.cache.remove(&k);
        }
        self.fresh_users.clear();
    }

    /// The id `field` of `row` refers to; `None` when the cell is empty.
    /// A missing record is created when the mapping says so.
    pub async fn resolve(
        &mut self,
        tx: &mut Tx,
        actor: &Actor,
        row: &RowValues,
        field: &str,
        kind: RefKind,
    ) -> Result<Option<i64>, RowFail> {
        match self.known(tx, row, field, kind).await? {
            Known::Empty => Ok(None),
            Known::Id(id) => Ok(Some(id)),
            Known::ToCreate(key) => self.create(tx, actor, row, field, kind, key).await.map(Some),
        }
    }

    /// What `field` of `row` refers to, without creating anything: an
    /// existing record, an empty cell, or a record the mapping would create.
    pub async fn known(&mut self, tx: &mut Tx, row: &RowValues, field: &str, kind: RefKind) -> Result<Known, RowFail> {
        let Some(raw) = row.reference(field) else { return Ok(Known::Empty) };
        let lookup = self.mapping.lookup(field).unwrap_or(kind.default_lookup());
        let norm = match lookup {
            Lookup::ExternalId => raw.clone(),
            Lookup::Domain => domain(Some(&raw)).ok().flatten().unwrap_or_else(|| raw.to_lowercase()),
            _ => raw.to_lowercase(),
        };
        let key = (kind, lookup, norm);
        if let Some(id) = self.cache.get(&key) {
            return Ok(Known::Id(*id));
        }
        match find(tx, self.mapping, kind, lookup, &key.2).await? {
            Found::One(id) => {
                self.fresh.push(key.clone());
                self.cache.insert(key, id);
                Ok(Known::Id(id))
            }
            Found::Many(n) => {
                Err(row.error(field, format!("{n} records match \"{raw}\"; look them up by something unique")).into())
            }
            Found::None if self.mapping.fields.get(field).is_some_and(|s| s.create_missing.is_some()) => {
                Ok(Known::ToCreate(key))
            }
            Found::None => {
                let what = match kind {
                    RefKind::User => "user",
                    RefKind::Organization => "organization",
                    RefKind::Person => "person",
                    RefKind::Deal => "deal",
                };
                Err(row.error(field, format!("no {what} matches \"{raw}\"")).into())
            }
        }
    }

    /// Creates the record `field` of `row` names, as the mapping says.
    async fn create(
        &mut self,
        tx: &mut Tx,
        actor: &Actor,
        row: &RowValues,
        field: &str,
        kind: RefKind,
        key: Key,
    ) -> Result<i64, RowFail> {
        let (_, lookup, norm) = key.clone();
        let raw = row.reference(field).unwrap_or_default();
        let Some(how) = self.mapping.fields.get(field).and_then(|s| s.create_missing.clone()) else {
            // `known` hands back records to create only when the mapping says so.
            return Err(row.error(field, format!("no record matches \"{raw}\"")).into());
        };
        let id = match kind {
            RefKind::User => {
                let (email, name) = match lookup {
                    Lookup::Email => (norm.clone(), raw.split('@').next().unwrap_or(&raw).to_string()),
                    _ => (email_for(&raw, how.email_domain.as_deref().unwrap_or("example.com")), raw.clone()),
                };
                let role = how.role.unwrap_or(Role::Rep);
                let id = create_user_in(tx, actor, &email, &name, role, NO_PASSWORD, None).await?;
                self.fresh_users.push(email);
                id.0
            }
            RefKind::Organization => {
                let mut n = NewOrganization { name: raw.clone(), ..Default::default() };
                if lookup == Lookup::Domain {
                    n.domain = Some(raw.clone());
                }
                crate::parties::create_organization_in(tx, actor, n).await?.id.0
            }
            RefKind::Person => {
                let mut n = NewPerson { name: raw.clone(), ..Default::default() };
                if lookup == Lookup::Email {
                    n.emails = vec![raw.clone()];
                    n.name = raw.split('@').next().unwrap_or(&raw).to_string();
                }
                crate::parties::create_person_in(tx, actor, n).await?.id.0
            }
            RefKind::Deal => return Err(row.error(field, "deals are not created from references").into()),
        };
        self.fresh.push(key.clone());
        self.cache.insert(key, id);
        Ok(id)
    }
}

/// What a reference cell names.
pub(crate) enum Known {
    /// The cell is empty.
    Empty,
    /// This existing record.
    Id(i64),
    /// Nothing yet: the mapping creates it (under this cache key).
    ToCreate(Key),
}

enum Found {
    None,
    One(i64),
    Many(usize),
}

async fn find(tx: &mut Tx, m: &Mapping, kind: RefKind, lookup: Lookup, key: &str) -> Result<Found, StoreError> {
    let sql = match (kind, lookup) {
        (_, Lookup::ExternalId) => {
            let target = match kind {
                RefKind::Organization => Target::Organizations,
                RefKind::Person => Target::People,
                _ => Target::Deals,
            };
            return Ok(keys::get(tx, target, &m.source, key).await?.map_or(Found::None, Found::One));
        }
        (RefKind::User, Lookup::Email) => "SELECT id FROM users WHERE email = $1 ORDER BY id LIMIT 2",
        (RefKind::User, _) => "SELECT id FROM users WHERE LOWER(name) = $1 ORDER BY id LIMIT 2",
        (RefKind::Organization, Lookup::Domain) => {
            "SELECT id FROM organizations WHERE domain = $1 AND deleted_at IS NULL ORDER BY id LIMIT 2"
        }
        (RefKind::Organization, _) => {
            "SELECT id FROM organizations WHERE LOWER(name) = $1 AND deleted_at IS NULL ORDER BY id LIMIT 2"
        }
        (RefKind::Person, Lookup::Email) => {
            "SELECT id FROM people WHERE primary_email = $1 AND deleted_at IS NULL ORDER BY id LIMIT 2"
        }
        (RefKind::Person, _) => {
            "SELECT id FROM people WHERE LOWER(name) = $1 AND deleted_at IS NULL ORDER BY id LIMIT 2"
        }
        (RefKind::Deal, _) => return Ok(Found::None),
    };
    let ids: Vec<i64> = sqlx::query_scalar(sql).bind(key.to_string()).fetch_all(&mut **tx).await?;
    Ok(match ids.as_slice() {
        [] => Found::None,
        [one] => Found::One(*one),
        many => Found::Many(many.len()),
    })
}

/// `Moses Frase` → `moses.frase@domain`: letters and digits kept, words
/// joined by dots.
fn email_for(name: &str, domain: &str) -> String {
    let local: Vec<String> = name
        .split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    format!("{}@{}", if local.is_empty() { "user".into() } else { local.join(".") }, domain.to_lowercase())
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails_from_names() {
        assert_eq!(super::email_for("Moses  Frase", "Maven.example"), "moses.frase@maven.example");
        assert_eq!(super::email_for("Anna O'Neil-Smith", "x.io"), "anna.oneilsmith@x.io");
    }
}
