//! A learned win probability: naive Bayes with Laplace smoothing over a
//! deal's features as they stood at the moment predicted, and its backtest
//! against the stage-weighted probability.
//!
//! Why naive Bayes: it trains in one pass of counting (no iterations, no
//! learning rate to tune), works with the few hundred closed deals a small
//! team has, handles categorical features (stage, owner, source, industry)
//! natively, and explains itself: each feature's contribution is one
//! log-odds term, so the top factors for and against are exact, not
//! approximations. Its independence assumption overstates confidence when
//! features move together; the backtest's log loss shows how much.

use crate::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// A feature and its value, e.g. `("stage", "Engaging")`.
pub type Feature = (String, String);

/// One training example: a deal's features at a moment, and whether it
/// was won in the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub features: Vec<Feature>,
    pub won: bool,
}

/// Fewest won and lost examples a model needs.
pub const MIN_PER_CLASS: usize = 30;

/// A trained model.
#[derive(Debug, Clone, Default)]
pub struct NaiveBayes {
    won: f64,
    lost: f64,
    /// (feature, value) → (won count, lost count).
    counts: HashMap<Feature, (f64, f64)>,
    /// feature → how many values it takes.
    values: HashMap<String, f64>,
}

/// A feature's pull on a prediction: log-odds added.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Factor {
    pub feature: String,
    pub value: String,
    pub log_odds: f64,
}

/// A prediction with its top three factors each way.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Prediction {
    pub probability: f64,
    pub for_win: Vec<Factor>,
    pub against: Vec<Factor>,
}

impl NaiveBayes {
    /// Trains on `examples`; `None` below [`MIN_PER_CLASS`] of either class
    /// ("not enough history").
    pub fn train(examples: &[Example]) -> Option<Self> {
        let mut m = NaiveBayes::default();
        let mut seen: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
        for e in examples {
            if e.won {
                m.won += 1.0;
            } else {
                m.lost += 1.0;
            }
            for (f, v) in &e.features {
                let c = m.counts.entry((f.clone(), v.clone())).or_default();
                if e.won {
                    c.0 += 1.0;
                } else {
                    c.1 += 1.0;
                }
                seen.entry(f.clone()).or_default().insert(v.clone());
            }
        }
        if (m.won as usize) < MIN_PER_CLASS || (m.lost as usize) < MIN_PER_CLASS {
            return None;
        }
        m.values = seen.into_iter().map(|(f, vs)| (f, vs.len() as f64 + 1.0)).collect();
        Some(m)
    }

    /// The probability of a win for these features, with its factors. A
    /// value never seen in training adds (almost) nothing: smoothing.
    pub fn predict(&self, features: &[Feature]) -> Prediction {
        let mut log_odds = (self.won / self.lost).ln();
        let mut factors = Vec::new();
        for (f, v) in features {
            let k = self.values.get(f).copied().unwrap_or(2.0);
            let (w, l) = self.counts.get(&(f.clone(), v.clone())).copied().unwrap_or((0.0, 0.0));
            // Laplace smoothing: one imagined example of each value per class.
            let term = ((w + 1.0) / (self.won + k)).ln() - ((l + 1.0) / (self.lost + k)).ln();
            log_odds += term;
            factors.push(Factor { feature: f.clone(), value: v.clone(), log_odds: term });
        }
        factors.sort_by(|a, b| b.log_odds.total_cmp(&a.log_odds));
        let for_win = factors.iter().filter(|f| f.log_odds > 0.0).take(3).cloned().collect();
        let against = factors.iter().rev().filter(|f| f.log_odds < 0.0).take(3).cloned().collect();
        Prediction { probability: 1.0 / (1.0 + (-log_odds).exp()), for_win, against }
    }
}

/// One deal open at a backtest point: both methods' probabilities, its
/// value and whether it was won.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub model: f64,
    pub stage: f64,
    pub value: i64,
    pub won: bool,
}

/// One backtest point.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub at: Timestamp,
    /// Training examples (deals closed in the 365 days before, at each
    /// stage they entered); 0 when there was not enough history.
    pub trained_on: usize,
    /// Deals open at the point whose outcome is known.
    pub open: usize,
    /// Weighted pipeline by the model, by stage weights, and what was won.
    pub model_forecast: i64,
    pub stage_forecast: i64,
    pub won: i64,
}

/// The backtest's figures.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Evaluation {
    pub points: Vec<Point>,
    /// Over every (point, open deal) pair.
    pub brier_model: Option<f64>,
    pub brier_stage: Option<f64>,
    pub log_loss_model: Option<f64>,
    pub log_loss_stage: Option<f64>,
    /// Mean absolute error of the weighted forecast against what was won.
    pub forecast_error_model: Option<f64>,
    pub forecast_error_stage: Option<f64>,
    /// `1 − model / stage` of the forecast error (0.2 = 20% lower).
    pub improvement: Option<f64>,
}

/// The figures of the scored deals of each point (`None`: not enough
/// history at that point).
pub fn evaluate(points: Vec<(Timestamp, usize, Vec<Scored>)>) -> Evaluation {
    let mut all = Vec::new();
    let mut out = Vec::new();
    let (mut err_m, mut err_s, mut n) = (0.0, 0.0, 0usize);
    for (at, trained_on, scored) in points {
        let model_forecast = scored.iter().map(|s| s.model * s.value as f64).sum::<f64>().round() as i64;
        let stage_forecast = scored.iter().map(|s| s.stage * s.value as f64).sum::<f64>().round() as i64;
        let won: i64 = scored.iter().filter(|s| s.won).map(|s| s.value).sum();
        if trained_on > 0 && !scored.is_empty() {
            err_m += (model_forecast - won).abs() as f64;
            err_s += (stage_forecast - won).abs() as f64;
            n += 1;
            all.extend(scored.iter().cloned());
        }
        out.push(Point { at, trained_on, open: scored.len(), model_forecast, stage_forecast, won });
    }
    let mean =
        |f: &dyn Fn(&Scored) -> f64| (!all.is_empty()).then(|| all.iter().map(f).sum::<f64>() / all.len() as f64);
    let y = |s: &Scored| if s.won { 1.0 } else { 0.0 };
    let ll = |p: f64, s: &Scored| {
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        -(y(s) * p.ln() + (1.0 - y(s)) * (1.0 - p).ln())
    };
    let (fm, fs) = ((n > 0).then(|| err_m / n as f64), (n > 0).then(|| err_s / n as f64));
    Evaluation {
        points: out,
        brier_model: mean(&|s| (s.model - y(s)).powi(2)),
        brier_stage: mean(&|s| (s.stage - y(s)).powi(2)),
        log_loss_model: mean(&|s| ll(s.model, s)),
        log_loss_stage: mean(&|s| ll(s.stage, s)),
        forecast_error_model: fm,
        forecast_error_stage: fs,
        improvement: match (fm, fs) {
            (Some(m), Some(s)) if s > 0.0 => Some(1.0 - m / s),
            _ => None,
        },
    }
}

/// What the backtest knows of a deal: its stage entries, the changes of
/// its owner, and the fields that have no history (read as they are).
#[derive(Debug, Clone, PartialEq)]
pub struct DealHistory {
    pub created_at: Timestamp,
    /// When it was won or lost; `None` while open.
    pub closed_at: Option<Timestamp>,
    pub won: bool,
    pub value: i64,
    /// (when, stage name), oldest first.
    pub entries: Vec<(Timestamp, String)>,
    /// The owner now, and its changes: (when, owner before the change).
    pub owner: Option<String>,
    pub owner_changes: Vec<(Timestamp, Option<String>)>,
    /// Features without history: source, the organization's industry and
    /// size, the deal's custom fields.
    pub fixed: Vec<Feature>,
    /// The deal's lead-score ledger: (when the fact happened, group, points
    /// in hundredths), oldest first; empty without a scoring model.
    pub score: Vec<(Timestamp, String, i64)>,
}

impl DealHistory {
    /// Whether the deal was open at `t`.
    pub fn open_at(&self, t: Timestamp) -> bool {
        self.created_at <= t && self.closed_at.is_none_or(|c| c > t)
    }

    /// Its features as they stood at `t`: the stage it was in, its owner
    /// then, how old it was, and the fixed ones.
    pub fn features_at(&self, t: Timestamp) -> Vec<Feature> {
        let mut out = Vec::with_capacity(4 + self.fixed.len());
        if let Some((_, stage)) = self.entries.iter().rev().find(|(at, _)| *at <= t) {
            out.push(("stage".into(), stage.clone()));
        }
        let owner =
            self.owner_changes.iter().find(|(at, _)| *at > t).map_or(self.owner.clone(), |(_, before)| before.clone());
        out.push(("owner".into(), owner.unwrap_or_else(|| "none".into())));
        let days = (t.0 - self.created_at.0) / 86_400_000;
        let age = match days {
            ..=7 => "0-7",
            8..=30 => "8-30",
            31..=90 => "31-90",
            _ => "91+",
        };
        out.push(("age_days".into(), age.into()));
        out.extend(self.fixed.iter().cloned());
        // Each score group as it stood (its ledger up to `t`, without
        // decay), in coarse bands so the counts have support.
        let mut groups: Vec<(&str, i64)> = Vec::new();
        for (_, group, points) in self.score.iter().take_while(|(at, _, _)| *at <= t) {
            match groups.iter_mut().find(|(g, _)| g == group) {
                Some(g) => g.1 += points,
                None => groups.push((group, *points)),
            }
        }
        for (group, hundredths) in groups {
            let band = match hundredths / 100 {
                ..0 => "<0",
                0..20 => "0-19",
                20..50 => "20-49",
                _ => "50+",
            };
            out.push((format!("score.{group}"), band.into()));
        }
        out
    }
}

/// The training examples at `t`: every deal closed in the 365 days before
/// it, as it stood at each stage it entered and every 30 days of its life
/// before it closed. Predictions are made for deals open at some moment of
/// their life, so the examples are taken the same way (an old open deal is
/// learned from old open deals, not only from fresh ones).
pub fn examples_at(deals: &[DealHistory], t: Timestamp) -> Vec<Example> {
    const MONTH: i64 = 30 * 86_400_000;
    let from = Timestamp(t.0 - 365 * 86_400_000);
    let mut out = Vec::new();
    for d in deals.iter().filter(|d| d.closed_at.is_some_and(|c| c >= from && c < t)) {
        let closed = d.closed_at.unwrap_or(t);
        let mut moments: Vec<Timestamp> = d.entries.iter().map(|(at, _)| *at).filter(|at| *at < closed).collect();
        let mut m = d.created_at.0 + MONTH;
        while m < closed.0 {
            moments.push(Timestamp(m));
            m += MONTH;
        }
        for at in moments {
            out.push(Example { features: d.features_at(at), won: d.won });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(stage: &str, won: bool) -> Example {
        Example { features: vec![("stage".into(), stage.into())], won }
    }

    #[test]
    fn learns_a_feature_and_explains_it() {
        let mut examples = Vec::new();
        for i in 0..100 {
            examples.push(ex("late", i % 4 != 0)); // 75% won
            examples.push(ex("early", i % 4 == 0)); // 25% won
        }
        let m = NaiveBayes::train(&examples).expect("enough history");
        let late = m.predict(&[("stage".into(), "late".into())]);
        let early = m.predict(&[("stage".into(), "early".into())]);
        assert!((late.probability - 0.75).abs() < 0.02, "{late:?}");
        assert!((early.probability - 0.25).abs() < 0.02, "{early:?}");
        assert_eq!(late.for_win[0].value, "late");
        assert_eq!(early.against[0].value, "early");
        let unseen = m.predict(&[("stage".into(), "never".into())]);
        assert!((unseen.probability - 0.5).abs() < 0.02, "smoothing keeps an unseen value neutral");
    }

    #[test]
    fn training_reads_only_deals_closed_before_the_point() {
        let day = 86_400_000;
        let deal = |closed: i64, won| DealHistory {
            created_at: Timestamp(0),
            closed_at: Some(Timestamp(closed * day)),
            won,
            value: 1,
            entries: vec![(Timestamp(0), "New".into())],
            owner: Some("7".into()),
            owner_changes: vec![(Timestamp(5 * day), Some("3".into()))],
            fixed: Vec::new(),
            score: Vec::new(),
        };
        let deals = [deal(10, true), deal(40, false)];
        let ex = examples_at(&deals, Timestamp(20 * day));
        assert_eq!(ex.len(), 1, "the deal closed after the point is not learned from: {ex:?}");
        assert!(ex[0].won);
        assert!(ex[0].features.contains(&("owner".into(), "3".into())), "the owner then, not now: {ex:?}");
        assert!(deals[1].open_at(Timestamp(20 * day)) && !deals[0].open_at(Timestamp(20 * day)));
    }

    #[test]
    fn score_groups_are_features_as_they_stood() {
        let day = 86_400_000;
        let d = DealHistory {
            created_at: Timestamp(0),
            closed_at: None,
            won: false,
            value: 1,
            entries: vec![(Timestamp(0), "New".into())],
            owner: None,
            owner_changes: Vec::new(),
            fixed: Vec::new(),
            score: vec![(Timestamp(day), "fit".into(), 2_000), (Timestamp(3 * day), "fit".into(), 4_000)],
        };
        let at = |t: i64| d.features_at(Timestamp(t)).into_iter().find(|(f, _)| f == "score.fit").map(|(_, v)| v);
        assert_eq!(at(0), None, "no score yet");
        assert_eq!(at(2 * day).as_deref(), Some("20-49"));
        assert_eq!(at(4 * day).as_deref(), Some("50+"), "a later entry counts only from its time");
    }

    #[test]
    fn too_little_history_is_said() {
        let examples: Vec<Example> = (0..40).map(|i| ex("x", i < 10)).collect();
        assert!(NaiveBayes::train(&examples).is_none());
    }

    #[test]
    fn the_evaluation_compares_both_methods() {
        let s = |model, stage, won| Scored { model, stage, value: 100, won };
        let e = evaluate(vec![(Timestamp(0), 60, vec![s(0.9, 0.5, true), s(0.1, 0.5, false)])]);
        assert!(e.brier_model.unwrap() < e.brier_stage.unwrap());
        assert_eq!(e.points[0].won, 100);
        assert_eq!(e.points[0].model_forecast, 100);
        assert_eq!(e.points[0].stage_forecast, 100);
        assert_eq!(e.improvement, None, "both forecasts are exact: no error to improve on");
    }
}
