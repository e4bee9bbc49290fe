//! The thresholds as a small state machine with hysteresis: a level fires
//! when the score crosses it while armed, and re-arms only once the score
//! has moved back by the re-arm gap, so a score hovering at the line fires
//! once, not on every wobble.

use super::Thresholds;
use serde::Serialize;

/// Which levels may fire. A deal starts with both armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Armed {
    pub disqualify: bool,
    pub nurture: bool,
}

impl Default for Armed {
    fn default() -> Self {
        Self { disqualify: true, nurture: true }
    }
}

/// A level that fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Firing {
    /// The score fell below `disqualify_below`.
    Disqualify,
    /// The score rose to `nurture_at`.
    Nurture,
}

impl Firing {
    pub fn as_str(self) -> &'static str {
        match self {
            Firing::Disqualify => "disqualify",
            Firing::Nurture => "nurture",
        }
    }
}

/// The next state and the levels that fire when the score is `total`.
pub fn step(t: &Thresholds, armed: Armed, total: f64) -> (Armed, Vec<Firing>) {
    let gap = t.gap();
    let mut next = armed;
    let mut fired = Vec::new();
    if let Some(below) = t.disqualify_below {
        if armed.disqualify && total < below {
            next.disqualify = false;
            fired.push(Firing::Disqualify);
        } else if !armed.disqualify && total >= below + gap {
            next.disqualify = true;
        }
    }
    if let Some(at) = t.nurture_at {
        if armed.nurture && total >= at {
            next.nurture = false;
            fired.push(Firing::Nurture);
        } else if !armed.nurture && total < at - gap {
            next.nurture = true;
        }
    }
    (next, fired)
}
