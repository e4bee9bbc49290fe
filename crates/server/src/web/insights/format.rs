//! How the insights page writes figures: money in the base currency,
//! rates, days, the KPI tiles with their change against the previous
//! period, and period and month labels.

use crate::web::T;
use chrono::{Datelike, NaiveDate};
use dealflow_core::metrics::ActivityMetrics;

/// One KPI tile.
pub struct Tile {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub previous: String,
    /// `▲ 2.1 pp`, `▼ $1,200` or `—`.
    pub delta: String,
    /// `up`, `down`, `flat` or `none`, and whether that is good news.
    pub trend: &'static str,
    pub tone: &'static str,
}

/// A chart with its numbers: the SVG and the table shown under it.
pub struct Chart {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub head: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// Formatting of figures in the page's language and base currency. The
/// engine's figures are averages and sums in minor units (`f64`); they are
/// rounded to whole minor units here, on the way out only.
pub struct Fmt<'a> {
    pub t: T,
    pub currency: &'a str,
    pub digits: u8,
}

impl Fmt<'_> {
    pub fn money(&self, minor: f64) -> String {
        self.t.money(minor.round() as i64, self.currency, self.digits)
    }
    pub fn money_opt(&self, minor: Option<f64>) -> String {
        minor.filter(|v| v.is_finite()).map_or_else(dash, |v| self.money(v))
    }
    pub fn pct(&self, v: Option<f64>) -> String {
        v.filter(|v| v.is_finite()).map_or_else(dash, |v| format!("{v:.1}%"))
    }
    pub fn days(&self, v: Option<f64>) -> String {
        v.filter(|v| v.is_finite()).map_or_else(dash, |v| format!("{v:.1} {}", self.t.t("ins.unit_days")))
    }
    pub fn per_day(&self, v: Option<f64>) -> String {
        v.filter(|v| v.is_finite()).map_or_else(dash, |v| format!("{} {}", self.money(v), self.t.t("ins.per_day")))
    }
}

pub fn dash() -> String {
    "—".to_string()
}

/// How a tile's figure is shown and compared.
#[derive(Clone, Copy)]
pub enum Kind {
    Rate,
    Money,
    PerDay,
    Days,
}

pub fn tile(
    f: &Fmt<'_>,
    key: &'static str,
    label: &'static str,
    kind: Kind,
    cur: Option<f64>,
    prev: Option<f64>,
) -> Tile {
    let show = |v: Option<f64>| match kind {
        Kind::Rate => f.pct(v),
        Kind::Money => f.money_opt(v),
        Kind::PerDay => f.per_day(v),
        Kind::Days => f.days(v),
    };
    let (delta, trend, tone) = match (cur.filter(|v| v.is_finite()), prev.filter(|v| v.is_finite())) {
        (Some(c), Some(p)) => {
            let d = c - p;
            let magnitude = match kind {
                Kind::Rate => format!("{:.1} {}", d.abs(), f.t.t("ins.pp")),
                Kind::Money => f.money(d.abs()),
                Kind::PerDay => f.per_day(Some(d.abs())),
                Kind::Days => f.days(Some(d.abs())),
            };
            // Shorter sales cycles are good news; for everything else more is.
            let lower_is_better = matches!(kind, Kind::Days);
            if d.abs() < 1e-9 {
                (format!("= {magnitude}"), "flat", "")
            } else if d > 0.0 {
                (format!("▲ {magnitude}"), "up", if lower_is_better { "bad" } else { "good" })
            } else {
                (format!("▼ {magnitude}"), "down", if lower_is_better { "good" } else { "bad" })
            }
        }
        _ => (dash(), "none", ""),
    };
    Tile { key, label, value: show(cur), previous: show(prev), delta, trend, tone }
}

pub fn tiles(f: &Fmt<'_>, m: &ActivityMetrics, p: &ActivityMetrics) -> Vec<Tile> {
    let t = f.t;
    vec![
        tile(f, "response_rate", t.t("ins.kpi.response_rate"), Kind::Rate, m.response_rate, p.response_rate),
        tile(
            f,
            "meeting_booking_rate",
            t.t("ins.kpi.meeting_booking_rate"),
            Kind::Rate,
            m.meeting_booking_rate,
            p.meeting_booking_rate,
        ),
        tile(f, "win_rate", t.t("ins.kpi.win_rate"), Kind::Rate, m.win_rate, p.win_rate),
        tile(f, "close_rate", t.t("ins.kpi.close_rate"), Kind::Rate, m.close_rate, p.close_rate),
        tile(f, "won_value", t.t("ins.kpi.won_value"), Kind::Money, Some(m.won_value as f64), Some(p.won_value as f64)),
        tile(f, "acv", t.t("ins.kpi.acv"), Kind::Money, m.acv, p.acv),
        tile(f, "sales_velocity", t.t("ins.kpi.sales_velocity"), Kind::PerDay, m.sales_velocity, p.sales_velocity),
        tile(
            f,
            "sales_cycle_days",
            t.t("ins.kpi.sales_cycle_days"),
            Kind::Days,
            m.sales_cycle_days,
            p.sales_cycle_days,
        ),
    ]
}

/// `[from, to)` as the inclusive days people read: `2026-01-01 – 2026-03-31`.
pub fn days_text(from: NaiveDate, to: NaiveDate) -> String {
    let last = to.pred_opt().unwrap_or(to);
    format!("{from} – {last}")
}

/// `2026-03` as `Mar 2026` / `2026年3月`; anything else as it is.
pub fn month_label(t: T, key: &str) -> String {
    match NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d") {
        Ok(d) => match t.lang {
            crate::web::i18n::Lang::En => d.format("%b %Y").to_string(),
            crate::web::i18n::Lang::ZhCn => format!("{}年{}月", d.year(), d.month()),
        },
        Err(_) if key == "unknown" => t.t("ins.no_date").to_string(),
        Err(_) => key.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_inclusive_days() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(days_text(d("2026-01-01"), d("2026-04-01")), "2026-01-01 – 2026-03-31");
        let en = T { lang: crate::web::i18n::Lang::En };
        let zh = T { lang: crate::web::i18n::Lang::ZhCn };
        assert_eq!(month_label(en, "2026-03"), "Mar 2026");
        assert_eq!(month_label(zh, "2026-03"), "2026年3月");
    }

    #[test]
    fn tiles_show_the_change_or_a_dash() {
        let t = T { lang: crate::web::i18n::Lang::En };
        let f = Fmt { t, currency: "USD", digits: 2 };
        let up = tile(&f, "win_rate", "Win rate", Kind::Rate, Some(30.0), Some(25.0));
        assert_eq!((up.value.as_str(), up.delta.as_str(), up.trend, up.tone), ("30.0%", "▲ 5.0 pp", "up", "good"));
        let none = tile(&f, "win_rate", "Win rate", Kind::Rate, None, Some(25.0));
        assert_eq!((none.value.as_str(), none.delta.as_str(), none.trend), ("—", "—", "none"));
        let slower = tile(&f, "sales_cycle_days", "Cycle", Kind::Days, Some(40.0), Some(30.0));
        assert_eq!((slower.trend, slower.tone), ("up", "bad"));
        let money = tile(&f, "won_value", "Won", Kind::Money, Some(100_000.0), Some(250_000.0));
        assert_eq!(money.delta, "▼ $1,500");
    }
}
