//! The metrics a goal may target. Only totals that grow over a period make
//! sense as targets; rates and averages do not.

use crate::metrics::ActivityMetrics;
use serde::{Deserialize, Serialize};

/// A goal's metric; on the wire and in the database its docs/metrics.md key
/// (`won_value`, `deals_won`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalMetric {
    WonValue,
    DealsWon,
    MeetingsBooked,
    ProposalsSent,
    OutreachSent,
    Replies,
    ProspectsContacted,
}

impl GoalMetric {
    pub const ALL: [GoalMetric; 7] = [
        GoalMetric::WonValue,
        GoalMetric::DealsWon,
        GoalMetric::MeetingsBooked,
        GoalMetric::ProposalsSent,
        GoalMetric::OutreachSent,
        GoalMetric::Replies,
        GoalMetric::ProspectsContacted,
    ];

    /// The docs/metrics.md JSON key.
    pub fn key(self) -> &'static str {
        match self {
            GoalMetric::WonValue => "won_value",
            GoalMetric::DealsWon => "deals_won",
            GoalMetric::MeetingsBooked => "meetings_booked",
            GoalMetric::ProposalsSent => "proposals_sent",
            GoalMetric::OutreachSent => "outreach_sent",
            GoalMetric::Replies => "replies",
            GoalMetric::ProspectsContacted => "prospects_contacted",
        }
    }

    /// An English label (the pages translate by key).
    pub fn label(self) -> &'static str {
        match self {
            GoalMetric::WonValue => "Won value",
            GoalMetric::DealsWon => "Deals won",
            GoalMetric::MeetingsBooked => "Meetings booked",
            GoalMetric::ProposalsSent => "Proposals sent",
            GoalMetric::OutreachSent => "Outreach sent",
            GoalMetric::Replies => "Replies",
            GoalMetric::ProspectsContacted => "Prospects contacted",
        }
    }

    /// Money in minor units of the base currency (else a count).
    pub fn is_money(self) -> bool {
        self == GoalMetric::WonValue
    }

    /// An outreach figure: messages carry no owner or pipeline, so such a
    /// goal's progress is workspace-wide under those slices.
    pub fn is_outreach(self) -> bool {
        matches!(self, GoalMetric::OutreachSent | GoalMetric::Replies | GoalMetric::ProspectsContacted)
    }

    /// The key as a metric, with a message listing the keys when it is none.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        Self::ALL.into_iter().find(|m| m.key() == s).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|m| m.key()).collect();
            format!("`{s}` is not a goal metric; use one of {}", known.join(", "))
        })
    }

    /// This metric's figure in `m` (counts saturate at `i64::MAX`).
    pub fn value(self, m: &ActivityMetrics) -> i64 {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        match self {
            GoalMetric::WonValue => m.won_value,
            GoalMetric::DealsWon => count(m.deals_won),
            GoalMetric::MeetingsBooked => count(m.meetings_booked),
            GoalMetric::ProposalsSent => count(m.proposals_sent),
            GoalMetric::OutreachSent => count(m.outreach_sent),
            GoalMetric::Replies => count(m.replies),
            GoalMetric::ProspectsContacted => count(m.prospects_contacted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GoalMetric;

    #[test]
    fn keys_parse_and_serialize_alike() {
        for m in GoalMetric::ALL {
            assert_eq!(GoalMetric::parse(m.key()), Ok(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.key());
        }
        assert!(GoalMetric::parse("win_rate").unwrap_err().contains("won_value"));
    }
}
