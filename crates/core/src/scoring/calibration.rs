//! Calibration: how the bands of a model did on deals already closed. Each
//! deal is scored as of the moment it entered its second stage (the store
//! reads no fact from after it), put in its band, and the bands compared by
//! win rate, cycle and won value; "what if" counts what a proposed
//! `disqualify_below` would have dropped.

use super::ModelBody;
use serde::Serialize;

/// One closed deal, as the calibration sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The score when it entered its second stage; `None` when it never
    /// did (closed from its first stage).
    pub score: Option<f64>,
    pub won: bool,
    /// From creation to close, in days.
    pub cycle_days: f64,
    /// The deal's value in the base currency's minor units.
    pub value: i64,
}

/// The figures of one band.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BandFigures {
    /// The band's name; `null` for scores below every band.
    pub band: Option<String>,
    /// The band's lower bound.
    pub min: Option<f64>,
    pub deals: i64,
    pub won: i64,
    /// `won / deals`; `null` without deals.
    pub win_rate: Option<f64>,
    /// Median days from creation to close; `null` without deals.
    pub median_cycle_days: Option<f64>,
    /// Value of the won deals, base currency minor units.
    pub won_value: i64,
}

/// What disqualifying below a level would have done to these deals.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WhatIf {
    pub disqualify_below: f64,
    /// Deals whose score was below the level.
    pub dropped: i64,
    /// Of those, how many were won later.
    pub dropped_won: i64,
    /// Their won value, base currency minor units.
    pub dropped_won_value: i64,
}

/// The calibration of one model body.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Bands from the highest down.
    pub bands: Vec<BandFigures>,
    /// Closed deals that never reached a second stage: no score to judge.
    pub unscored: i64,
    pub what_if: Option<WhatIf>,
}

/// The report of `samples` under `model`'s bands; `what_if` a proposed
/// `disqualify_below` (else the model's own, if it has one).
pub fn report(model: &ModelBody, samples: &[Sample], what_if: Option<f64>) -> Report {
    let mut bands: Vec<(Option<String>, Option<f64>)> =
        model.bands.iter().map(|b| (Some(b.name.clone()), Some(b.min))).collect();
    bands.sort_by(|a, b| b.1.unwrap_or(f64::MIN).total_cmp(&a.1.unwrap_or(f64::MIN)));
    bands.push((None, None));
    let mut out: Vec<BandFigures> = Vec::new();
    for (name, min) in bands {
        let inside: Vec<&Sample> =
            samples.iter().filter(|s| s.score.is_some_and(|x| model.band(x).map(str::to_string) == name)).collect();
        if name.is_none() && inside.is_empty() {
            continue;
        }
        let won: Vec<&&Sample> = inside.iter().filter(|s| s.won).collect();
        let mut cycles: Vec<f64> = inside.iter().map(|s| s.cycle_days).collect();
        cycles.sort_by(f64::total_cmp);
        out.push(BandFigures {
            band: name,
            min,
            deals: inside.len() as i64,
            won: won.len() as i64,
            win_rate: (!inside.is_empty()).then(|| won.len() as f64 / inside.len() as f64),
            median_cycle_days: median(&cycles),
            won_value: won.iter().map(|s| s.value).sum(),
        });
    }
    let level = what_if.or(model.thresholds.disqualify_below);
    let what_if = level.map(|l| {
        let dropped: Vec<&Sample> = samples.iter().filter(|s| s.score.is_some_and(|x| x < l)).collect();
        let won: Vec<&&Sample> = dropped.iter().filter(|s| s.won).collect();
        WhatIf {
            disqualify_below: l,
            dropped: dropped.len() as i64,
            dropped_won: won.len() as i64,
            dropped_won_value: won.iter().map(|s| s.value).sum(),
        }
    });
    Report { bands: out, unscored: samples.iter().filter(|s| s.score.is_none()).count() as i64, what_if }
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}
