//! Hand-made cases for the activity and stage formulas.

use super::*;

#[test]
fn empty_world_has_null_rates_not_zero() {
    let m = metrics(&world(vec![]), 0, 90);
    assert_eq!((m.outreach_sent, m.deals_won, m.pipeline_deals, m.open_deals, m.won_value), (0, 0, 0, 0, 0));
    for rate in [
        m.response_rate,
        m.positive_reply_rate,
        m.meeting_booking_rate,
        m.win_rate,
        m.close_rate,
        m.close_rate_vs_contacted,
        m.close_rate_vs_meetings,
        m.close_rate_vs_proposals,
        m.avg_deal_value,
        m.acv,
        m.sales_cycle_days,
        m.sales_velocity,
    ] {
        assert_eq!(rate, None);
    }
    let json = serde_json::to_value(&m).unwrap();
    assert!(json["response_rate"].is_null() && json["sales_velocity"].is_null());
    let s = stage(&world(vec![]), "s1", 0, 90);
    assert_eq!((s.stage_conversion, s.stage_reach, s.time_in_stage_days_median), (None, None, None));
}

#[test]
fn outreach_counts_replies_whenever_they_come() {
    let mut f = world(vec![]);
    f.outreach = vec![
        msg("a", 1, Some(2), true),
        msg("a", 3, None, false),
        msg("b", 4, Some(200), false), // reply after the period still counts
        msg("c", 95, Some(96), true),  // sent after the period: out
    ];
    let m = metrics(&f, 0, 90);
    assert_eq!((m.outreach_sent, m.replies, m.prospects_contacted), (3, 2, 2));
    assert!(approx(m.response_rate, 200.0 / 3.0));
    assert!(approx(m.positive_reply_rate, 50.0));
}

#[test]
fn skipped_stages_are_reached_by_a_win() {
    // Won straight from s1 on day 40: reaches meeting and proposal then.
    let f = world(vec![deal("d", 100, vec![enter("s1", 0), DealEvent::won(day(40))])]);
    assert_eq!((metrics(&f, 0, 30).meetings_booked, metrics(&f, 30, 60).meetings_booked), (0, 1));
    assert_eq!(metrics(&f, 30, 60).proposals_sent, 1);
    assert!(approx(stage(&f, "s4", 0, 60).stage_conversion, 100.0));
    assert!(approx(stage(&f, "s4", 0, 60).stage_reach, 100.0));
}

#[test]
fn skipping_into_a_later_stage_reaches_earlier_ones_then() {
    let f = world(vec![deal("d", 100, vec![enter("s1", 0), enter("s4", 10), DealEvent::lost(day(20))])]);
    let m = metrics(&f, 5, 15);
    assert_eq!((m.meetings_booked, m.proposals_sent), (1, 1));
    assert!(approx(stage(&f, "s2", 0, 30).stage_conversion, 0.0));
    // No stay in skipped stages.
    assert_eq!(stage(&f, "s2", 0, 30).time_in_stage_days_median, None);
}

#[test]
fn backwards_move_keeps_first_reach_and_counts_each_stay() {
    // s1 → s3 (day 5) → s2 (day 9) → s3 (day 12) → lost (day 20).
    let events = vec![enter("s1", 0), enter("s3", 5), enter("s2", 9), enter("s3", 12), DealEvent::lost(day(20))];
    let f = world(vec![deal("d", 100, events)]);
    // The meeting was first reached on day 5, not again on day 12.
    assert_eq!(metrics(&f, 0, 10).meetings_booked, 1);
    assert_eq!(metrics(&f, 10, 30).meetings_booked, 0);
    // Two stays in s3: 4 days and 8 days.
    let s3 = stage(&f, "s3", 0, 30);
    assert!(approx(s3.time_in_stage_days_median, 6.0));
    assert!(approx(s3.time_in_stage_days_p90, 4.0 + 0.9 * 4.0));
    assert!(approx(stage(&f, "s2", 0, 30).time_in_stage_days_median, 3.0));
}

#[test]
fn reopened_deal_counts_once_with_its_current_outcome() {
    // Won day 10, reopened day 20, lost day 50: counts once, as lost on day 50.
    let events = vec![enter("s1", 0), enter("s4", 5), DealEvent::won(day(10)), DealEvent::reopen(day(20)), {
        DealEvent::lost(day(50))
    }];
    let f = world(vec![deal("d", 100, events)]);
    let early = metrics(&f, 0, 15);
    assert_eq!((early.deals_won, early.deals_lost), (0, 0));
    let late = metrics(&f, 40, 60);
    assert_eq!((late.deals_won, late.deals_lost, late.win_rate), (0, 1, Some(0.0)));
    // Open at day 15? No: replayed, it was won then. Open at day 30: yes.
    assert_eq!((metrics(&f, 0, 15).open_deals, metrics(&f, 0, 30).open_deals), (0, 1));
    // The reopen starts a new stay in s4: 5 days, then 30 days.
    let s4 = stage(&f, "s4", 0, 60);
    assert!(approx(s4.time_in_stage_days_median, 17.5));
    assert_eq!(stage(&f, "s4", 0, 15).time_in_stage_days_median, Some(5.0));
}

#[test]
fn pipeline_and_open_deals_follow_their_definitions() {
    let f = world(vec![
        deal("closed-before", 1, vec![enter("s1", 0), DealEvent::lost(day(5))]),
        deal("closed-inside", 1, vec![enter("s1", 0), DealEvent::won(day(15))]),
        deal("closed-at-to", 1, vec![enter("s1", 0), DealEvent::won(day(20))]),
        deal("open", 1, vec![enter("s1", 12)]),
        deal("created-at-to", 1, vec![enter("s1", 20)]),
    ]);
    let m = metrics(&f, 10, 20);
    assert_eq!(m.pipeline_deals, 3);
    // Closed exactly at `to`: the event is not before `to`, so still open.
    assert_eq!(m.open_deals, 2);
    assert!(approx(m.close_rate, 100.0 / 3.0));
}

#[test]
fn money_figures_follow_their_definitions() {
    let mut a = deal("a", 1_200_000, vec![enter("s1", 0), DealEvent::won(day(30))]);
    a.contract_months = Some(24);
    let mut b = deal("b", 600_000, vec![enter("s1", 10), DealEvent::won(day(20))]);
    b.contract_months = Some(6); // shorter than a year counts as a year
    let c = deal("c", 999, vec![enter("s1", 10), DealEvent::lost(day(25))]);
    let open = deal("o", 5, vec![enter("s1", 1)]);
    let m = metrics(&world(vec![a, b, c, open]), 0, 40);
    assert_eq!((m.won_value, m.deals_won, m.deals_lost, m.open_deals), (1_800_000, 2, 1, 1));
    assert!(approx(m.avg_deal_value, 900_000.0));
    assert!(approx(m.acv, (600_000.0 + 600_000.0) / 2.0));
    assert!(approx(m.sales_cycle_days, 20.0));
    assert!(approx(m.sales_velocity, 1.0 * 900_000.0 * (2.0 / 3.0) / 20.0));
}

#[test]
fn currency_without_rate_is_unconverted_not_summed() {
    let mut eur = deal("eur", 1_000, vec![enter("s1", 0), DealEvent::won(day(5))]);
    eur.currency = "EUR".into();
    let usd = deal("usd", 500, vec![enter("s1", 0), DealEvent::won(day(6))]);
    let mut f = world(vec![eur, usd]);
    let m = metrics(&f, 0, 10);
    assert_eq!((m.deals_won, m.won_value, m.unconverted), (2, 500, 1));
    assert!(approx(m.avg_deal_value, 500.0));
    f.rates.rates.insert("EUR".into(), 1.0815);
    let m = metrics(&f, 0, 10);
    assert_eq!((m.won_value, m.unconverted), (500 + 1_082, 0));
}

#[test]
fn each_currency_total_is_converted_and_rounded_once() {
    let cents = |id: &str, d: i64| {
        let mut x = deal(id, 1, vec![enter("s1", 0), DealEvent::won(day(d))]);
        x.currency = "EUR".into();
        x
    };
    let mut f = world(vec![cents("a", 1), cents("b", 2), cents("c", 3)]);
    f.rates.rates.insert("EUR".into(), 1.5);
    let m = metrics(&f, 0, 10);
    // 3 cents × 1.5 = 4.5 → 5 (rounding each deal first would give 2 + 2 + 2).
    assert_eq!((m.deals_won, m.won_value), (3, 5));
    assert!(approx(m.avg_deal_value, 1.5), "averages stay unrounded: {:?}", m.avg_deal_value);
}

#[test]
fn slices_filter_what_carries_the_dimension() {
    let mut mine = deal("mine", 100, vec![enter("s1", 0), DealEvent::won(day(5))]);
    mine.owner = Some(UserId(num("u2")));
    let theirs = deal("theirs", 100, vec![enter("s1", 0), DealEvent::lost(day(5))]);
    let mut f = world(vec![mine, theirs]);
    f.outreach = vec![msg("a", 1, None, false), OutreachFact { channel: Channel::Call, ..msg("b", 1, None, false) }];
    let p = Period::new(day(0), day(10));
    let by_owner = activity_metrics(&f, &Slice { owner: Some(UserId(num("u2"))), ..Slice::default() }, p);
    assert_eq!((by_owner.deals_won, by_owner.deals_lost, by_owner.outreach_sent), (1, 0, 2));
    assert!(by_owner.outreach_workspace_wide && !by_owner.deals_workspace_wide);
    let by_channel = activity_metrics(&f, &Slice { channel: Some(Channel::Call), ..Slice::default() }, p);
    assert_eq!((by_channel.outreach_sent, by_channel.deals_won + by_channel.deals_lost), (1, 2));
    assert!(by_channel.deals_workspace_wide && !by_channel.outreach_workspace_wide);
}

#[test]
fn stage_conversion_and_reach_follow_their_definitions() {
    let f = world(vec![
        deal("w", 1, vec![enter("s1", 0), enter("s3", 2), DealEvent::won(day(10))]),
        deal("l", 1, vec![enter("s1", 1), enter("s2", 3), DealEvent::lost(day(11))]),
        deal("o", 1, vec![enter("s1", 2), enter("s4", 40)]), // reaches s4 after P: still counts
        deal("old", 1, vec![enter("s1", -50), DealEvent::lost(day(-40))]),
    ]);
    let s2 = stage(&f, "s2", 0, 30);
    assert!(approx(s2.stage_conversion, 50.0));
    assert_eq!((s2.closed_reached, s2.won_reached), (2, 1));
    assert!(approx(stage(&f, "s3", 0, 30).stage_conversion, 100.0));
    assert!(approx(s2.stage_reach, 100.0));
    assert!(approx(stage(&f, "s4", 0, 30).stage_reach, 200.0 / 3.0));
}

#[test]
fn a_stage_of_another_pipeline_is_not_reached() {
    let mut d = deal("moved", 1, vec![DealEvent::enter(sid("x9"), day(0)), enter("s2", 5), DealEvent::lost(day(8))]);
    d.created_at = day(0);
    let f = world(vec![d]);
    assert!(approx(stage(&f, "s2", 0, 10).stage_conversion, 0.0));
    assert_eq!(stage(&f, "s3", 0, 10).stage_conversion, None);
    assert_eq!(stage(&f, "s2", 0, 10).time_in_stage_days_median, Some(3.0));
}

#[test]
fn percentile_inc_interpolates_like_the_spreadsheet() {
    assert_eq!(percentile_inc(&[], 0.5), None);
    assert_eq!(percentile_inc(&[7.0], 0.9), Some(7.0));
    assert!(approx(percentile_inc(&[4.0, 1.0, 3.0, 2.0], 0.9), 3.7));
    assert!(approx(percentile_inc(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5));
    assert!(approx(percentile_inc(&[4.0, 5.0, 48.0], 0.9), 39.4));
}
