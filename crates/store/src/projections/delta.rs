//! The rollup change of one deal write, computed in memory: the sums of
//! the deal's old projection rows subtracted, the new ones added, exactly
//! as `rollups::roll_deals` would compute them from the rows in SQL, and
//! written in one statement. The property test of the projections proves
//! the two ways agree.

use super::{DAY, dur_bucket, kind};
use crate::StoreError;
use crate::sql::Sql;
use dealflow_core::metrics::{DealFact, DealProjection};
use dealflow_core::model::DealStatus;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// A rollup row's key: kind, day, pipeline, k1, k2, k3.
type Key = (i64, i64, i64, i64, i64, String);

/// A rollup row's sums: n, s1, s2.
type Sums = [i64; 3];

/// Rollup changes under construction.
#[derive(Default)]
pub(super) struct Delta(BTreeMap<Key, Sums>);

fn day(t: i64) -> i64 {
    t.div_euclid(DAY)
}

impl Delta {
    fn add(&mut self, key: Key, sums: Sums, sign: i64) {
        let e = self.0.entry(key).or_default();
        for (a, b) in e.iter_mut().zip(sums) {
            *a += sign * b;
        }
    }

    /// Adds the changes of `other`.
    pub(super) fn merge(&mut self, other: Delta) {
        for (key, sums) in other.0 {
            self.add(key, sums, 1);
        }
    }

    /// Distinct rollup rows changed.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Adds `sign` × the rollup contributions of one deal's rows.
    pub(super) fn deal(&mut self, pipeline: i64, d: &DealFact, p: &DealProjection, sign: i64) {
        let won = i64::from(d.status == DealStatus::Won);
        let closed = d.closed_at.filter(|_| d.status != DealStatus::Open);
        if let Some(c) = closed {
            let months = d.contract_months.unwrap_or(0);
            let key = (kind::CLOSED, day(c), pipeline, won, months, d.currency.clone());
            self.add(key, [1, d.value, c - d.created_at], sign);
            self.add((kind::CLOSED_REACH, day(c), pipeline, p.reach_count, won, String::new()), [1, 0, 0], sign);
        }
        self.add((kind::CREATED, day(d.created_at), pipeline, p.reach_count, 0, String::new()), [1, 0, 0], sign);
        let milestones = [kind::CONVERSATION, kind::MEETING, kind::PROPOSAL];
        for (k, at) in milestones.into_iter().zip(p.milestone_at) {
            if let Some(at) = at {
                self.add((k, day(at), pipeline, 0, 0, String::new()), [1, 0, 0], sign);
            }
        }
        for (stage, start, end) in &p.stays {
            let stage = stage.0;
            self.add((kind::STAY, day(*end), pipeline, stage, dur_bucket(end - start), String::new()), [1, 0, 0], sign);
        }
    }

    /// Writes the non-zero changes; then deletes sums that fell to zero
    /// when anything was subtracted.
    pub(super) async fn apply(self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        self.apply_with(conn, Sql::new).await
    }

    /// [`Delta::apply`], each statement started by `make`.
    pub(super) async fn apply_with(
        self,
        conn: &mut AnyConnection,
        make: impl Fn(&str) -> Sql,
    ) -> Result<(), StoreError> {
        let rows: Vec<(Key, Sums)> = self.0.into_iter().filter(|(_, s)| s.iter().any(|v| *v != 0)).collect();
        let shrinks = rows.iter().any(|(_, s)| s[0] < 0);
        for chunk in rows.chunks(500) {
            let mut sql = make("INSERT INTO metric_rollup (kind, day, pipeline_id, k1, k2, k3, n, s1, s2) VALUES ");
            for (i, ((kind, day, pipeline, k1, k2, k3), [n, s1, s2])) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                for v in [kind, day, pipeline, k1, k2] {
                    sql.bind(*v).push(", ");
                }
                sql.bind(k3.as_str()).push(", ").bind(*n).push(", ").bind(*s1).push(", ").bind(*s2).push(")");
            }
            sql.push(
                " ON CONFLICT (kind, day, pipeline_id, k1, k2, k3) DO UPDATE SET n = metric_rollup.n + excluded.n,
                  s1 = metric_rollup.s1 + excluded.s1, s2 = metric_rollup.s2 + excluded.s2",
            );
            sql.query().execute(&mut *conn).await?;
        }
        if shrinks {
            super::rollups::drop_zero_sums(conn).await?;
        }
        Ok(())
    }
}
