//! The summary an audit keeps when it is signed off.

use super::{DecisionKind, Flag, Item};
use crate::ids::DealId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What an audit came to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    /// Deals in the audit.
    pub items: u32,
    pub decided: u32,
    /// Items left undecided at sign-off (they stay undecided).
    pub undecided: u32,
    /// Decisions per kind.
    pub decisions: BTreeMap<String, u32>,
    /// Value of the deals disqualified, in base-currency minor units.
    pub value_disqualified: i64,
    /// Value of the deals moved to another stage, in base-currency minor units.
    pub value_moved: i64,
    /// Flags in this audit that the deal did not have in the previous one.
    pub flags_raised: u32,
    /// Flags of the previous audit's items that this audit no longer shows
    /// (the deal lost the flag, or left the pipeline's open deals).
    pub flags_resolved: u32,
    /// Deals carried over unchanged three audits running or more.
    pub carried_over_3: Vec<DealId>,
}

/// Summarizes `items` with their decisions against the `previous` audit's
/// items; `to_base` converts a value to base-currency minor units (`None`
/// without a rate: left out of the sums).
pub fn summarize(
    items: &[(Item, Option<DecisionKind>)],
    previous: &[Item],
    to_base: &dyn Fn(i64, &str) -> Option<i64>,
) -> Summary {
    let before: HashMap<DealId, HashSet<Flag>> =
        previous.iter().map(|i| (i.deal_id, i.flags.iter().copied().collect())).collect();
    let now: HashMap<DealId, HashSet<Flag>> =
        items.iter().map(|(i, _)| (i.deal_id, i.flags.iter().copied().collect())).collect();
    let mut s = Summary { items: items.len() as u32, ..Summary::default() };
    for (i, d) in items {
        let had = before.get(&i.deal_id);
        s.flags_raised += i.flags.iter().filter(|f| !had.is_some_and(|h| h.contains(f))).count() as u32;
        if i.carried_over >= 3 {
            s.carried_over_3.push(i.deal_id);
        }
        let Some(kind) = d else {
            s.undecided += 1;
            continue;
        };
        s.decided += 1;
        *s.decisions.entry(kind.as_str().to_string()).or_default() += 1;
        let value = to_base(i.value, &i.currency).unwrap_or(0);
        match kind {
            DecisionKind::Disqualify => s.value_disqualified += value,
            DecisionKind::Move => s.value_moved += value,
            _ => {}
        }
    }
    for (deal, flags) in &before {
        let has = now.get(deal);
        s.flags_resolved += flags.iter().filter(|f| !has.is_some_and(|h| h.contains(f))).count() as u32;
    }
    s
}

/// The pipeline's hygiene when an audit is taken, counted over its items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hygiene {
    /// Open deals in the audit.
    pub open: u32,
    /// With an open activity planned.
    pub with_next_action: u32,
    /// Contacted less than 14 days before (`days_since_contact` < 14).
    pub contacted_14d: u32,
    /// Flagged `rotting`.
    pub rotting: u32,
}

/// The hygiene counts of an audit's items.
pub fn hygiene(items: &[Item]) -> Hygiene {
    let count = |f: &dyn Fn(&Item) -> bool| items.iter().filter(|i| f(i)).count() as u32;
    Hygiene {
        open: items.len() as u32,
        with_next_action: count(&|i| i.next_action.is_some()),
        contacted_14d: count(&|i| i.days_since_contact < 14),
        rotting: count(&|i| i.flags.contains(&Flag::Rotting)),
    }
}
