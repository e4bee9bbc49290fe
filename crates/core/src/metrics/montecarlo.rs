//! The range of won value when each open deal is won independently with its
//! own probability: P10/P50/P90 by exact enumeration for up to
//! [`EXACT_MAX_DEALS`] deals (tests also use it to check the simulation), by
//! Monte-Carlo simulation with a small seeded PRNG above that, or by a
//! skew-corrected normal approximation when the simulation would be too
//! slow (very many deals).
//!
//! A percentile q of a distribution is the smallest value v with
//! `P(X ≤ v) ≥ q` (the inverse CDF), both for the exact distribution and
//! for the sorted simulated runs, so the two converge to the same figure.

use serde::Serialize;
use std::collections::BTreeMap;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for
/// Bernoulli draws; written here so the forecast needs no new dependency
/// and is reproducible from its seed.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)` from the top 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How a range was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RangeMethod {
    Exact,
    Simulation,
    /// Normal approximation with a Cornish–Fisher skew correction.
    Approximation,
}

/// P10/P50/P90 of the won value, in base minor units.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutcomeRange {
    pub forecast_p10: f64,
    pub forecast_p50: f64,
    pub forecast_p90: f64,
    pub method: RangeMethod,
    /// Simulation runs (0 for the other methods).
    pub runs: u64,
    pub seed: u64,
}

const QS: [f64; 3] = [0.1, 0.5, 0.9];

/// Above this many deal draws (deals × runs) the simulation gives way to
/// the approximation, keeping 100,000 open deals well under 2 seconds; at
/// that size the sum is close to normal and the correction covers its skew.
const MAX_DRAWS: u64 = 50_000_000;

/// Up to this many deals the range is exact: at most 2^20 outcome sums,
/// enumerated in well under a second.
pub const EXACT_MAX_DEALS: usize = 20;

/// The range for `deals` (value, probability in 0–1): exact for up to
/// [`EXACT_MAX_DEALS`] deals (`runs` 0), else a simulation with at least
/// 10,000 runs, or the approximation when that would be too slow.
pub fn won_value_range(deals: &[(i64, f64)], runs: u64, seed: u64) -> OutcomeRange {
    if deals.len() <= EXACT_MAX_DEALS {
        let [p10, p50, p90] = exact_percentiles(deals);
        return OutcomeRange {
            forecast_p10: p10,
            forecast_p50: p50,
            forecast_p90: p90,
            method: RangeMethod::Exact,
            runs: 0,
            seed,
        };
    }
    let runs = runs.max(10_000);
    if deals.len() as u64 * runs <= MAX_DRAWS {
        let [p10, p50, p90] = simulate_percentiles(deals, runs, seed);
        OutcomeRange {
            forecast_p10: p10,
            forecast_p50: p50,
            forecast_p90: p90,
            method: RangeMethod::Simulation,
            runs,
            seed,
        }
    } else {
        let [p10, p50, p90] = approximate_percentiles(deals);
        OutcomeRange {
            forecast_p10: p10,
            forecast_p50: p50,
            forecast_p90: p90,
            method: RangeMethod::Approximation,
            runs: 0,
            seed,
        }
    }
}

/// P10/P50/P90 of `runs` simulated outcomes.
pub fn simulate_percentiles(deals: &[(i64, f64)], runs: u64, seed: u64) -> [f64; 3] {
    let mut rng = SplitMix64::new(seed);
    let mut sums: Vec<i64> =
        (0..runs).map(|_| deals.iter().filter(|(_, p)| rng.next_f64() < *p).map(|(v, _)| *v).sum()).collect();
    sums.sort_unstable();
    QS.map(|q| {
        if sums.is_empty() {
            return 0.0;
        }
        // Smallest run with at least q of the runs at or below it.
        let k = ((q * sums.len() as f64).ceil() as usize).clamp(1, sums.len());
        sums[k - 1] as f64
    })
}

/// The exact distribution of the won value: every outcome sum with its
/// probability. Sums that coincide merge, so the map stays small when
/// values repeat; with n distinct values it holds at most 2^n entries.
pub fn exact_distribution(deals: &[(i64, f64)]) -> BTreeMap<i64, f64> {
    exact_outcomes(deals).into_iter().collect()
}

/// The distribution as a list sorted by sum. Each deal splits every
/// outcome into "lost" (same sum) and "won" (sum + value); both halves stay
/// sorted, so one merge per deal keeps the list sorted without a tree.
fn exact_outcomes(deals: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut dist = vec![(0i64, 1.0f64)];
    for &(v, p) in deals {
        let lost = dist.iter().map(|&(s, w)| (s, w * (1.0 - p)));
        let won = dist.iter().map(|&(s, w)| (s + v, w * p));
        let mut next: Vec<(i64, f64)> = Vec::with_capacity(dist.len() * 2);
        let (mut lost, mut won) = (lost.peekable(), won.peekable());
        loop {
            let item = match (lost.peek(), won.peek()) {
                (Some(a), Some(b)) if a.0 <= b.0 => lost.next(),
                (Some(_), Some(_)) | (None, Some(_)) => won.next(),
                (Some(_), None) => lost.next(),
                (None, None) => break,
            };
            let Some((s, w)) = item else { break };
            match next.last_mut() {
                Some(last) if last.0 == s => last.1 += w,
                _ => next.push((s, w)),
            }
        }
        next.retain(|(_, w)| *w > 0.0);
        dist = next;
    }
    dist
}

/// P10/P50/P90 by enumerating all outcomes (meant for up to ~20 deals).
pub fn exact_percentiles(deals: &[(i64, f64)]) -> [f64; 3] {
    let dist = exact_outcomes(deals);
    QS.map(|q| {
        let mut cdf = 0.0;
        let mut last = 0;
        for &(s, w) in &dist {
            cdf += w;
            last = s;
            // The tolerance absorbs rounding in the summed probabilities.
            if cdf >= q - 1e-12 {
                return s as f64;
            }
        }
        last as f64
    })
}

/// Normal approximation with the first Cornish–Fisher term for skewness:
/// quantile ≈ mean + σ·(z + (z² − 1)·γ/6).
fn approximate_percentiles(deals: &[(i64, f64)]) -> [f64; 3] {
    let (mut mean, mut var, mut m3) = (0.0, 0.0, 0.0);
    for &(v, p) in deals {
        let v = v as f64;
        mean += v * p;
        var += v * v * p * (1.0 - p);
        m3 += v * v * v * p * (1.0 - p) * (1.0 - 2.0 * p);
    }
    let sd = var.sqrt();
    let skew = if sd > 0.0 { m3 / (sd * sd * sd) } else { 0.0 };
    // Standard normal quantiles of 0.1, 0.5 and 0.9.
    [-1.281_551_565_544_600_4, 0.0, 1.281_551_565_544_600_4].map(|z: f64| mean + sd * (z + (z * z - 1.0) * skew / 6.0))
}
