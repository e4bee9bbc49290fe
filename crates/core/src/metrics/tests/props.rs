//! Property tests: shares stay within 0–100, P10 ≤ P50 ≤ P90, the
//! simulation tracks exact enumeration, and a backtest never reads a fact
//! dated after its as-of moment.

use super::*;
use proptest::prelude::*;
use std::cell::Cell;

/// One step of a generated deal: hours after the previous event, an action
/// (0 enter, 1 won, 2 lost, 3 reopen) and a stage for "enter".
type Step = (u32, u8, u8);

/// A valid event log from raw steps: actions that do not fit the deal's
/// state (winning a closed deal, reopening an open one) are skipped.
fn events_from(created: Ms, steps: &[Step]) -> Vec<DealEvent> {
    let mut events = vec![DealEvent::enter(sid("s1"), created)];
    let (mut t, mut open) = (created, true);
    for &(hours, action, stage) in steps {
        t += hours as i64 * 3_600_000;
        let ev = match (action % 4, open) {
            (0, true) => DealEvent::enter(sid(&format!("s{}", stage % 4 + 1)), t),
            (1, true) => DealEvent::won(t),
            (2, true) => DealEvent::lost(t),
            (3, false) => DealEvent::reopen(t),
            _ => continue,
        };
        open = matches!(ev.kind, DealEventKind::Enter(_) | DealEventKind::Reopen);
        events.push(ev);
    }
    events
}

type RawDeal = (i64, Vec<Step>, i64, u8);
type RawMsg = (u8, i64, Option<u32>, bool);

fn raw_world() -> impl Strategy<Value = (Vec<RawDeal>, Vec<RawMsg>)> {
    let step = (0u32..24 * 40, 0u8..4, 0u8..4);
    let deal = (-100i64..200, prop::collection::vec(step, 0..6), 0i64..1_000_000, 0u8..3);
    let msg = (0u8..20, -50i64..150, prop::option::of(0u32..24 * 30), any::<bool>());
    (prop::collection::vec(deal, 0..30), prop::collection::vec(msg, 0..40))
}

fn build((deals, msgs): (Vec<RawDeal>, Vec<RawMsg>)) -> Facts {
    let mut f = world(
        deals
            .iter()
            .enumerate()
            .map(|(i, (created, steps, value, owner))| {
                let mut d = deal(&format!("d{i}"), *value, events_from(day(*created), steps));
                d.owner = Some(UserId(num(&format!("u{owner}"))));
                d.currency = if owner % 3 == 2 { "EUR".into() } else { "USD".into() };
                if i % 5 == 0 {
                    d.probability = Some(value.rem_euclid(101) as f64);
                }
                d
            })
            .collect(),
    );
    f.outreach = msgs
        .iter()
        .map(|&(person, sent, reply_hours, positive)| OutreachFact {
            replied_at: reply_hours.map(|h| day(sent) + h as i64 * 3_600_000),
            ..msg(&format!("pe{person}"), sent, None, positive)
        })
        .collect();
    f
}

fn share(x: Option<f64>) -> bool {
    x.is_none_or(|x| (0.0..=100.0).contains(&x))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shares_stay_within_0_and_100(raw in raw_world(), from in -100i64..200, len in 1i64..200) {
        let f = build(raw);
        let p = Period::new(day(from), day(from + len));
        let m = activity_metrics(&f, &Slice::default(), p);
        for r in [m.response_rate, m.positive_reply_rate, m.win_rate, m.close_rate] {
            prop_assert!(share(r), "{m:?}");
        }
        prop_assert!(m.deals_won <= m.pipeline_deals);
        for s in stage_metrics(&f, &Slice::default(), p).stages.values() {
            prop_assert!(share(s.stage_conversion) && share(s.stage_reach), "{s:?}");
            prop_assert!(s.time_in_stage_days_median.is_none_or(|d| d >= 0.0));
            prop_assert!(s.time_in_stage_days_median <= s.time_in_stage_days_p90);
        }
    }

    #[test]
    fn percentiles_are_ordered(deals in prop::collection::vec((0i64..1_000_000, 0.0f64..=1.0), 0..12), seed: u64) {
        for [p10, p50, p90] in [simulate_percentiles(&deals, 2_000, seed), exact_percentiles(&deals)] {
            prop_assert!(p10 <= p50 && p50 <= p90);
        }
        let r = won_value_range(&deals, 10_000, seed);
        prop_assert!(r.forecast_p10 <= r.forecast_p50 && r.forecast_p50 <= r.forecast_p90);
    }

    #[test]
    fn simulation_lands_where_the_exact_cdf_crosses(
        deals in prop::collection::vec((1i64..1_000, 0.05f64..0.95), 1..8),
        seed: u64,
    ) {
        let dist = exact_distribution(&deals);
        let sim = simulate_percentiles(&deals, 10_000, seed);
        for (q, s) in [0.1, 0.5, 0.9].into_iter().zip(sim) {
            let at_or_below: f64 = dist.range(..=s as i64).map(|(_, w)| w).sum();
            let below: f64 = dist.range(..s as i64).map(|(_, w)| w).sum();
            // Within sampling error (±0.025 is over 5 standard errors).
            prop_assert!(at_or_below >= q - 0.025 && below <= q + 0.025, "q={} s={} dist={:?}", q, s, dist);
        }
    }

    #[test]
    fn backtest_never_reads_a_fact_after_its_as_of_moment(
        raw in raw_world(),
        future in prop::collection::vec((0usize..30, 1u32..24 * 60, 0u8..4, 0u8..4), 0..10),
        as_of in -50i64..250,
    ) {
        let f = build(raw);
        let t = day(as_of);
        // Rewrite the future: more events after T, deals created after T,
        // later replies, other current values and statuses.
        let mut g = f.clone();
        for &(i, hours, action, stage) in &future {
            if let Some(d) = g.deals.get_mut(i) {
                let last = d.events.last().map_or(d.created_at, |e| e.at).max(t);
                let mut extra = events_from(last, &[(hours, action, stage)]);
                extra.remove(0);
                d.events.extend(extra);
                if d.created_at > t {
                    d.value += 1;
                    d.owner = Some(UserId(num("someone")));
                }
            }
        }
        g.deals.push(deal("new", 5, vec![DealEvent::enter(sid("s2"), t + 1)]));
        for o in g.outreach.iter_mut().filter(|o| o.replied_at.is_none()) {
            o.replied_at = Some(t.max(o.sent_at) + 1);
        }
        let asked = Cell::new(true);
        let fields = |d: &DealFact, at: Ms| {
            asked.set(asked.get() && at == t);
            current_fields(d, at)
        };
        let p = Period::new(t, t + 90 * DAY_MS);
        let o = ForecastOptions { period: Some(p), runs: 10_000, seed: 1, ..ForecastOptions::default() };
        let a = forecast_with_fields(&f, t, &fields, &o);
        let b = forecast_with_fields(&g, t, &fields, &o);
        prop_assert!(asked.get(), "fields_at was asked about another moment");
        prop_assert_eq!(a, b);
        prop_assert_eq!(facts_as_of(&f, t, &current_fields), facts_as_of(&g, t, &current_fields));
    }
}

proptest! {
    /// The few ranks the store reads give exactly the percentile of the
    /// whole list.
    #[test]
    fn stay_ranks_give_the_percentile_of_the_whole_list(mut v in prop::collection::vec(-1_000i64..10_000_000_000, 0..60)) {
        v.sort_unstable();
        let ranks = StayRanks::from_sorted(&v);
        let days: Vec<f64> = v.iter().map(|ms| *ms as f64 / DAY_MS as f64).collect();
        for q in STAY_QUANTILES {
            prop_assert_eq!(ranks.percentile_days(q), percentile_inc(&days, q));
        }
    }
}
