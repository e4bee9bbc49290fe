//! Names of people and organizations by id, many at once: what an export
//! or a list shows beside a foreign key. One query per page of records
//! instead of one per record.

use crate::sql::Sql;
use crate::{Store, StoreError};
use dealflow_core::{OrganizationId, PersonId};
use sqlx::Row;
use std::collections::HashMap;

impl Store {
    /// The names of the live people among `ids` (deleted and unknown ids
    /// are left out, so the caller decides what to show for them).
    pub async fn person_names(&self, ids: &[PersonId]) -> Result<HashMap<PersonId, String>, StoreError> {
        let raw: Vec<i64> = ids.iter().map(|i| i.0).collect();
        Ok(self.names("people", &raw).await?.into_iter().map(|(k, v)| (PersonId(k), v)).collect())
    }

    /// The names of the live organizations among `ids`.
    pub async fn organization_names(
        &self,
        ids: &[OrganizationId],
    ) -> Result<HashMap<OrganizationId, String>, StoreError> {
        let raw: Vec<i64> = ids.iter().map(|i| i.0).collect();
        Ok(self.names("organizations", &raw).await?.into_iter().map(|(k, v)| (OrganizationId(k), v)).collect())
    }

    /// `table` is one of two literals above, never user input.
    async fn names(&self, table: &str, ids: &[i64]) -> Result<HashMap<i64, String>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut out = HashMap::with_capacity(ids.len());
        // Bounded IN lists keep the statement well under both engines'
        // placeholder limits (SQLite's is 32,766).
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(&format!("SELECT id, name FROM {table} WHERE deleted_at IS NULL AND id IN ("));
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push(")");
            for r in sql.query().fetch_all(self.pool()).await? {
                out.insert(r.try_get::<i64, _>("id")?, r.try_get::<String, _>("name")?);
            }
        }
        Ok(out)
    }
}
