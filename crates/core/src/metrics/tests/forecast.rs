//! Hand-made cases for the forecast, its range and the backtest.

use super::*;
use std::cell::RefCell;

fn opts() -> ForecastOptions {
    ForecastOptions::default()
}

/// One won and one lost deal through s2 inside the year before day 100.
fn history() -> Vec<DealFact> {
    vec![
        deal("hw", 1_000, vec![enter("s1", 0), enter("s2", 10), DealEvent::won(day(30))]),
        deal("hl", 1_000, vec![enter("s1", 0), enter("s2", 10), DealEvent::lost(day(40))]),
    ]
}

#[test]
fn probability_comes_from_deal_then_stage_then_history() {
    let mut deals = history();
    let mut own = deal("own", 1_000, vec![enter("s2", 50)]);
    own.probability = Some(35.0);
    deals.push(own);
    deals.push(deal("configured", 1_000, vec![enter("s3", 50)]));
    deals.push(deal("learned", 1_000, vec![enter("s2", 50)]));
    let mut unknown = deal("unknown", 1_000, vec![DealEvent::enter(sid("t1"), day(50))]);
    unknown.pipeline = plid("p2");
    deals.push(unknown);
    let mut f = world(deals);
    f.pipelines[0].stages[2].probability = Some(60.0);
    f.pipelines
        .push(PipelineInfo { id: plid("p2"), stages: vec![StageInfo { order: 0, ..pipeline().stages[0].clone() }] });
    f.pipelines[1].stages[0].id = sid("t1");
    let fc = forecast(&f, day(100), &opts());
    let p = |id: &str| (fc.deal_probability[&did(id)].p, fc.deal_probability[&did(id)].source);
    assert_eq!(p("own"), (35.0, ProbabilitySource::Deal));
    assert_eq!(p("configured"), (60.0, ProbabilitySource::Stage));
    assert_eq!(p("learned"), (50.0, ProbabilitySource::History));
    // No closed deal ever reached t1: reported, not guessed.
    assert_eq!((fc.unforecastable, fc.unforecastable_deals.clone()), (1, vec![did("unknown")]));
    assert!((fc.weighted_pipeline - (350.0 + 600.0 + 500.0)).abs() < 1e-9);
    let json = serde_json::to_value(&fc).unwrap();
    assert_eq!(json["deal_probability"][did("learned").to_string()]["source"], "history");
}

/// A learned probability stands before the stage's and after the deal's
/// own; a deal without one keeps the stage's.
#[test]
fn a_learned_probability_comes_after_the_deals_own() {
    let mut deals = history();
    let mut own = deal("own", 1_000, vec![enter("s2", 50)]);
    own.probability = Some(35.0);
    deals.push(own);
    deals.push(deal("learned", 1_000, vec![enter("s2", 50)]));
    deals.push(deal("staged", 1_000, vec![enter("s2", 50)]));
    let f = world(deals);
    let model = [(did("own"), 90.0), (did("learned"), 20.0)].into_iter().collect();
    let fc = forecast(&f, day(100), &ForecastOptions { model, ..opts() });
    let p = |id: &str| (fc.deal_probability[&did(id)].p, fc.deal_probability[&did(id)].source);
    assert_eq!(p("own"), (35.0, ProbabilitySource::Deal));
    assert_eq!(p("learned"), (20.0, ProbabilitySource::Model));
    assert_eq!(p("staged"), (50.0, ProbabilitySource::History));
    assert!((fc.weighted_pipeline - (350.0 + 200.0 + 500.0)).abs() < 1e-9);
    let json = serde_json::to_value(&fc).unwrap();
    assert_eq!(json["deal_probability"][did("learned").to_string()]["source"], "model");
}

#[test]
fn history_is_the_365_days_before_t() {
    let mut deals = history();
    deals.push(deal("open", 1_000, vec![enter("s2", 50)]));
    let f = world(deals);
    assert_eq!(forecast(&f, day(100), &opts()).deal_probability[&did("open")].p, 50.0);
    // 400 days later both closes fell out of the window.
    assert_eq!(forecast(&f, day(440), &opts()).unforecastable, 1);
}

#[test]
fn facts_after_t_are_ignored() {
    let mut deals = history();
    // At day 60 this deal is open in s2; it moves and wins only later.
    deals.push(deal("later", 1_000, vec![enter("s2", 50), enter("s4", 70), DealEvent::won(day(80))]));
    deals.push(deal("future", 1_000, vec![enter("s1", 65)]));
    let f = world(deals);
    let fc = forecast(&f, day(60), &opts());
    assert_eq!(fc.deal_probability.keys().collect::<Vec<_>>(), vec![&did("later")]);
    assert_eq!(fc.deal_probability[&did("later")].p, 50.0);
}

#[test]
fn expected_close_date_rules() {
    let mut deals = history(); // "hw" entered s2 on day 10 and won on day 30
    let mut set = deal("set", 1_000, vec![enter("s2", 50)]);
    set.expected_close_at = Some(day(120));
    let mut past = deal("past", 1_000, vec![enter("s2", 50)]);
    past.expected_close_at = Some(day(70));
    deals.extend([set, past, deal("by-stage", 1_000, vec![enter("s1", 60), enter("s2", 90)])]);
    let mut by_cycle = deal("by-cycle", 1_000, vec![enter("s3", 95)]);
    by_cycle.probability = Some(10.0);
    deals.push(by_cycle);
    let fc = forecast(&world(deals), day(100), &opts());
    let at = |id: &str| fc.deal_probability[&did(id)].expected_close_at;
    assert_eq!(at("set"), Some(day(120)));
    assert_eq!(at("past"), Some(day(100)), "a date already past moves to T");
    assert_eq!(at("by-stage"), Some(day(110)), "entered s2 on day 90 + median 20 days to a win");
    assert_eq!(at("by-cycle"), Some(day(125)), "no win from s3: created + sales cycle of 30 days");
    assert_eq!(fc.weighted_by_month.get("2026-04").copied(), Some(500.0 + 500.0));
    assert_eq!(fc.weighted_by_month.get("2026-05").copied(), Some(500.0 + 100.0));
}

#[test]
fn unconverted_open_deal_is_left_out_of_money() {
    let mut deals = history();
    let mut eur = deal("eur", 1_000, vec![enter("s2", 50)]);
    eur.currency = "EUR".into();
    deals.push(eur);
    let fc = forecast(&world(deals), day(100), &opts());
    assert_eq!((fc.unconverted, fc.weighted_pipeline), (1, 0.0));
    assert_eq!(fc.deal_probability[&did("eur")].value, None);
}

#[test]
fn range_counts_only_deals_closing_in_the_period() {
    let mut deals = history();
    for (i, (close, p)) in [(110, 30.0), (120, 60.0), (200, 90.0)].into_iter().enumerate() {
        let mut d = deal(&format!("d{i}"), 1_000 * (i as i64 + 1), vec![enter("s2", 50)]);
        d.expected_close_at = Some(day(close));
        d.probability = Some(p);
        deals.push(d);
    }
    let o = ForecastOptions { period: Some(Period::new(day(100), day(150))), ..opts() };
    let r = forecast(&world(deals), day(100), &o).range.unwrap();
    // d0 (1,000 at 30%) and d1 (2,000 at 60%): 0 with chance .28, 1,000
    // with .12, 2,000 with .42, 3,000 with .18; no CDF step sits near a q.
    assert_eq!((r.forecast_p10, r.forecast_p50, r.forecast_p90), (0.0, 2_000.0, 3_000.0));
    assert_eq!(exact_percentiles(&[(1_000, 0.3), (2_000, 0.6)]), [0.0, 2_000.0, 3_000.0]);
    assert_eq!((r.method, r.runs), (RangeMethod::Exact, 0));
}

#[test]
fn range_is_exact_up_to_twenty_deals_and_simulated_above() {
    let deals: Vec<(i64, f64)> = (1..=21).map(|i| (i * 1_000, 0.05 * i as f64 % 1.0)).collect();
    let twenty = won_value_range(&deals[..20], 20_000, 9);
    assert_eq!((twenty.method, twenty.runs), (RangeMethod::Exact, 0));
    let exact = exact_percentiles(&deals[..20]);
    assert_eq!([twenty.forecast_p10, twenty.forecast_p50, twenty.forecast_p90], exact);
    let three = won_value_range(&deals[..3], 20_000, 9);
    assert_eq!((three.method, three.runs), (RangeMethod::Exact, 0));
    let more = won_value_range(&deals, 20_000, 9);
    assert_eq!((more.method, more.runs), (RangeMethod::Simulation, 20_000));
    let none = won_value_range(&[], 20_000, 9);
    assert_eq!((none.method, none.forecast_p90), (RangeMethod::Exact, 0.0));
}

#[test]
fn splitmix64_matches_the_reference_sequence() {
    let mut r = SplitMix64::new(0);
    assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
}

#[test]
fn simulation_agrees_with_exact_enumeration_of_twenty_deals() {
    let mut rng = SplitMix64::new(7);
    let deals: Vec<(i64, f64)> =
        (0..20).map(|_| ((rng.next_u64() % 10_000) as i64 * 100, 0.05 + 0.9 * rng.next_f64())).collect();
    let dist = exact_distribution(&deals);
    let cdf = |v: f64| dist.range(..=v as i64).map(|(_, w)| w).sum::<f64>();
    let below = |v: f64| dist.range(..v as i64).map(|(_, w)| w).sum::<f64>();
    let sim = simulate_percentiles(&deals, 20_000, 1);
    for (q, s) in [0.1, 0.5, 0.9].into_iter().zip(sim) {
        // The simulated quantile is where the exact CDF crosses q, up to
        // the sampling error of 20,000 runs.
        assert!(cdf(s) >= q - 0.01 && below(s) <= q + 0.01, "q={q}: {s}");
    }
    let exact = exact_percentiles(&deals);
    for (e, s) in exact.iter().zip(sim) {
        assert!((e - s).abs() <= 0.02 * exact[1], "exact {exact:?} vs simulated {sim:?}");
    }
}

#[test]
fn approximation_stays_close_to_the_simulation() {
    let mut rng = SplitMix64::new(3);
    let deals: Vec<(i64, f64)> =
        (0..3_000).map(|_| (1_000 + (rng.next_u64() % 1_000_000) as i64, rng.next_f64())).collect();
    let sim = simulate_percentiles(&deals, 10_000, 5);
    let many: Vec<(i64, f64)> = deals.iter().cycle().take(100_000).copied().collect();
    let r = won_value_range(&many, 10_000, 5);
    assert_eq!(r.method, RangeMethod::Approximation);
    let approx = won_value_range(&deals, 10_000, 5);
    assert_eq!(approx.method, RangeMethod::Simulation);
    // Compare the approximation of the 3,000 deals with their simulation.
    let (mean, var) = deals.iter().fold((0.0, 0.0), |(m, v), (x, p)| {
        let x = *x as f64;
        (m + x * p, v + x * x * p * (1.0 - p))
    });
    let sd: f64 = var.sqrt();
    for (z, s) in [-1.281_551_565_544_600_4, 0.0, 1.281_551_565_544_600_4].into_iter().zip(sim) {
        assert!((mean + z * sd - s).abs() <= 0.005 * sim[1], "normal {} vs simulated {s}", mean + z * sd);
    }
}

#[test]
fn a_hundred_thousand_open_deals_are_forecast() {
    // Speed is measured by the benchmark, not here; this checks the large path.
    let mut deals = history();
    deals.extend((0..100_000).map(|i| deal(&format!("o{i}"), 1_000 + i, vec![enter("s2", 50 + i % 40)])));
    let f = world(deals);
    let o = ForecastOptions { period: Some(Period::new(day(100), day(300))), ..opts() };
    let fc = forecast(&f, day(100), &o);
    assert_eq!(fc.deal_probability.len(), 100_000);
    let r = fc.range.unwrap();
    assert!(r.forecast_p10 <= r.forecast_p50 && r.forecast_p50 <= r.forecast_p90);
}

#[test]
fn backtest_reads_fields_only_as_of_t_and_compares_with_real_wins() {
    let mut deals = history();
    deals.push(deal("won-later", 4_000, vec![enter("s2", 50), DealEvent::won(day(120))]));
    deals.push(deal("lost-later", 2_000, vec![enter("s2", 50), DealEvent::lost(day(130))]));
    let f = world(deals);
    let asked = RefCell::new(Vec::new());
    let fields = |d: &DealFact, t: Ms| {
        asked.borrow_mut().push(t);
        // The field history says the value was half of today's at T.
        DealFields { value: d.value / 2, ..current_fields(d, t) }
    };
    let b = backtest(&f, day(100), Period::new(day(100), day(200)), &fields, &opts());
    assert!(asked.borrow().iter().all(|t| *t == day(100)));
    assert_eq!(b.forecast.weighted_pipeline, 2_000.0 * 0.5 + 1_000.0 * 0.5);
    assert_eq!((b.actual_won_deals, b.actual_won_value), (1, 4_000));
}
