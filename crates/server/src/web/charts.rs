//! Charts drawn by the server as inline SVG: no script, no chart library.
//!
//! Every chart has a `viewBox` and is drawn at `width: 100%` by the
//! stylesheet, so it scales to a phone. Colours come from CSS classes
//! (`bar`, `bar alt`, `band`, `marker`, `track`) and text uses
//! `currentColor`, so light and dark themes apply. Labels are escaped; a
//! chart with nothing to draw (no rows, or every value missing or zero) is
//! an empty-state paragraph instead of an empty frame.

use std::fmt::Write;

/// Width of the drawing in SVG units; the page scales it to its box.
const W: f64 = 420.0;
/// Where bars start (labels to the left) and their longest length.
const BAR_X: f64 = 150.0;
const BAR_MAX: f64 = 190.0;
/// Labels longer than this many characters are shortened (the full text
/// stays in the row's `<title>` and in the table under the chart).
const LABEL_CHARS: usize = 20;

/// One bar: its label, its value (`None`: no figure) and the value as shown.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
}

/// One row of paired bars (e.g. median and 90th percentile).
#[derive(Debug, Clone)]
pub struct Pair {
    pub label: String,
    pub a: Option<f64>,
    pub a_text: String,
    pub b: Option<f64>,
    pub b_text: String,
}

/// Escapes text for HTML and SVG content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// The largest finite, positive value; `None` when there is none.
fn max_of(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.flatten().filter(|v| v.is_finite() && *v > 0.0).fold(None, |m, v| Some(m.map_or(v, |m: f64| m.max(v))))
}

/// The length of a bar for `v` on a scale whose longest bar is `max`.
fn length(v: Option<f64>, max: f64, full: f64) -> f64 {
    match v {
        Some(v) if v.is_finite() && v > 0.0 && max > 0.0 => (v / max * full).min(full),
        _ => 0.0,
    }
}

fn n(x: f64) -> String {
    // One decimal is plenty for a drawing and keeps the markup short.
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 { format!("{}", r as i64) } else { format!("{r:.1}") }
}

/// The empty state shown instead of a chart.
pub fn empty(message: &str) -> String {
    format!(r#"<p class="chart-empty">{}</p>"#, escape(message))
}

fn open_svg(out: &mut String, title: &str, height: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="{t}"><title>{t}</title>"#,
        w = n(W),
        h = n(height),
        t = escape(title)
    );
}

/// Horizontal bars scaled so the largest value fills the bar area.
pub fn hbars(title: &str, bars: &[Bar], empty_text: &str) -> String {
    let Some(max) = max_of(bars.iter().map(|b| b.value)) else { return empty(empty_text) };
    const ROW: f64 = 26.0;
    let mut out = String::new();
    open_svg(&mut out, title, ROW * bars.len() as f64 + 4.0);
    for (i, b) in bars.iter().enumerate() {
        let y = 2.0 + ROW * i as f64;
        let len = length(b.value, max, BAR_MAX);
        let _ = write!(
            out,
            r#"<g class="row"><title>{full}: {text}</title><text class="label" x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect class="bar" x="{bx}" y="{by}" width="{bw}" height="16" rx="2"/><text class="value" x="{vx}" y="{ty}">{text}</text></g>"#,
            full = escape(&b.label),
            label = escape(&short(&b.label)),
            text = escape(&b.text),
            lx = n(BAR_X - 6.0),
            ty = n(y + 13.0),
            bx = n(BAR_X),
            by = n(y + 1.0),
            bw = n(len),
            vx = n(BAR_X + len + 5.0),
        );
    }
    out.push_str("</svg>");
    out
}

/// Two bars per row on one scale, with a legend naming the two series.
pub fn paired_hbars(title: &str, rows: &[Pair], names: (&str, &str), empty_text: &str) -> String {
    let Some(max) = max_of(rows.iter().flat_map(|r| [r.a, r.b])) else { return empty(empty_text) };
    const ROW: f64 = 34.0;
    const TOP: f64 = 20.0;
    let mut out = String::new();
    open_svg(&mut out, title, TOP + ROW * rows.len() as f64 + 2.0);
    let _ = write!(
        out,
        r#"<g class="legend"><rect class="bar" x="{x0}" y="4" width="10" height="10"/><text x="{t0}" y="13">{a}</text><rect class="bar alt" x="{x1}" y="4" width="10" height="10"/><text x="{t1}" y="13">{b}</text></g>"#,
        x0 = n(0.0),
        t0 = n(14.0),
        x1 = n(W / 2.0),
        t1 = n(W / 2.0 + 14.0),
        a = escape(names.0),
        b = escape(names.1),
    );
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let la = length(r.a, max, BAR_MAX);
        let lb = length(r.b, max, BAR_MAX);
        let _ = write!(
            out,
            r#"<g class="row"><title>{full}: {an} {at}, {bn} {bt}</title><text class="label" x="{lx}" y="{ly}" text-anchor="end">{label}</text><rect class="bar" x="{bx}" y="{ya}" width="{wa}" height="12" rx="2"/><text class="value" x="{xa}" y="{ta}">{at}</text><rect class="bar alt" x="{bx}" y="{yb}" width="{wb}" height="12" rx="2"/><text class="value" x="{xb}" y="{tb}">{bt}</text></g>"#,
            full = escape(&r.label),
            label = escape(&short(&r.label)),
            an = escape(names.0),
            bn = escape(names.1),
            at = escape(&r.a_text),
            bt = escape(&r.b_text),
            lx = n(BAR_X - 6.0),
            ly = n(y + 17.0),
            bx = n(BAR_X),
            ya = n(y + 2.0),
            ta = n(y + 12.0),
            yb = n(y + 16.0),
            tb = n(y + 26.0),
            wa = n(la),
            wb = n(lb),
            xa = n(BAR_X + la + 5.0),
            xb = n(BAR_X + lb + 5.0),
        );
    }
    out.push_str("</svg>");
    out
}

/// A P10–P90 band with the P50 marker, on a scale from 0 to a little above
/// P90; the three figures are written under it.
pub fn range(title: &str, p: Option<[f64; 3]>, texts: [&str; 3], empty_text: &str) -> String {
    let Some([p10, p50, p90]) = p else { return empty(empty_text) };
    let Some(max) = max_of([p10, p50, p90].into_iter().map(Some)) else { return empty(empty_text) };
    let full = W - 20.0;
    let x = |v: f64| 10.0 + length(Some(v), max * 1.05, full);
    let mut out = String::new();
    open_svg(&mut out, title, 64.0);
    let _ = write!(
        out,
        r#"<rect class="track" x="10" y="10" width="{full}" height="20" rx="3"/><rect class="band" x="{x10}" y="10" width="{bw}" height="20" rx="3"/><line class="marker" x1="{x50}" x2="{x50}" y1="4" y2="36"/><text class="value" x="10" y="54">{t10}</text><text class="value" x="{mid}" y="54" text-anchor="middle">{t50}</text><text class="value" x="{end}" y="54" text-anchor="end">{t90}</text>"#,
        full = n(full),
        x10 = n(x(p10)),
        bw = n((x(p90) - x(p10)).max(1.0)),
        x50 = n(x(p50)),
        mid = n(W / 2.0),
        end = n(W - 10.0),
        t10 = escape(texts[0]),
        t50 = escape(texts[1]),
        t90 = escape(texts[2]),
    );
    out.push_str("</svg>");
    out
}

/// A progress bar: `percent` of the track filled (capped at the track;
/// over 100 % the fill gets the class `over`).
pub fn progress(title: &str, percent: Option<f64>) -> String {
    let pct = percent.filter(|p| p.is_finite()).unwrap_or(0.0).max(0.0);
    let full = W;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart progress" viewBox="0 0 {w} 12" width="100%" preserveAspectRatio="none" role="img" aria-label="{t}"><title>{t}</title><rect class="track" x="0" y="0" width="{w}" height="12" rx="6"/><rect class="bar{over}" x="0" y="0" width="{fill}" height="12" rx="6"/></svg>"#,
        w = n(full),
        t = escape(title),
        over = if pct > 100.0 { " over" } else { "" },
        fill = n((pct / 100.0 * full).min(full)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, v: Option<f64>) -> Bar {
        Bar { label: label.into(), value: v, text: v.map(|v| v.to_string()).unwrap_or_else(|| "—".into()) }
    }

    /// The `width` of each `<rect class="bar"…>`, in order.
    fn widths(svg: &str) -> Vec<f64> {
        svg.split(r#"<rect class="bar"#)
            .skip(1)
            .filter_map(|s| s.split("width=\"").nth(1).and_then(|s| s.split('"').next()).and_then(|w| w.parse().ok()))
            .collect()
    }

    #[test]
    fn bars_scale_to_the_largest_value() {
        let svg = hbars("t", &[bar("a", Some(50.0)), bar("b", Some(100.0)), bar("c", Some(25.0))], "none");
        assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 420 "), "{svg}");
        assert_eq!(widths(&svg), vec![BAR_MAX / 2.0, BAR_MAX, BAR_MAX / 4.0]);
        // A missing value draws no bar but keeps its row and its "—".
        let svg = hbars("t", &[bar("a", None), bar("b", Some(3.0))], "none");
        assert_eq!(widths(&svg), vec![0.0, BAR_MAX]);
        assert!(svg.contains(">—<"));
    }

    #[test]
    fn paired_bars_share_one_scale() {
        let rows = [Pair { label: "s".into(), a: Some(2.0), a_text: "2".into(), b: Some(8.0), b_text: "8".into() }];
        let svg = paired_hbars("t", &rows, ("median", "p90"), "none");
        // The legend's two swatches, then the two bars.
        assert_eq!(widths(&svg)[2..], [BAR_MAX / 4.0, BAR_MAX]);
        assert!(svg.contains("median") && svg.contains("p90"));
    }

    #[test]
    fn zero_or_empty_data_is_an_empty_state() {
        assert_eq!(hbars("t", &[], "Nothing yet"), r#"<p class="chart-empty">Nothing yet</p>"#);
        assert!(hbars("t", &[bar("a", Some(0.0)), bar("b", None)], "none").contains("chart-empty"));
        assert!(hbars("t", &[bar("a", Some(f64::NAN))], "none").contains("chart-empty"));
        let none = Pair { label: "s".into(), a: None, a_text: "—".into(), b: Some(0.0), b_text: "0".into() };
        assert!(paired_hbars("t", &[none], ("a", "b"), "none").contains("chart-empty"));
        assert!(range("t", None, ["", "", ""], "none").contains("chart-empty"));
        assert!(range("t", Some([0.0, 0.0, 0.0]), ["", "", ""], "none").contains("chart-empty"));
        assert!(!svg_has_nan(&progress("t", None)));
    }

    fn svg_has_nan(s: &str) -> bool {
        s.contains("NaN") || s.contains("inf")
    }

    #[test]
    fn labels_and_texts_are_escaped() {
        let b = Bar { label: "<script>\"&'".into(), value: Some(1.0), text: "<b>".into() };
        let svg = hbars("<t>", &[b], "<none>");
        assert!(!svg.contains("<script>") && !svg.contains("<b>") && !svg.contains("<t>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;&quot;&amp;&#39;"));
        assert_eq!(empty("<x>"), r#"<p class="chart-empty">&lt;x&gt;</p>"#);
        let svg = range("t", Some([1.0, 2.0, 3.0]), ["<a>", "b", "c"], "none");
        assert!(svg.contains("&lt;a&gt;") && !svg.contains("<a>"));
    }

    #[test]
    fn long_labels_are_shortened_but_kept_in_the_title() {
        let long = "A very long stage name that goes on and on";
        let svg = hbars("t", &[bar(long, Some(1.0))], "none");
        assert!(svg.contains(&format!("<title>{long}: 1</title>")));
        assert!(svg.contains("A very long stage n…"));
    }

    #[test]
    fn range_places_the_band_and_marker_in_order() {
        let svg = range("t", Some([100.0, 200.0, 400.0]), ["a", "b", "c"], "none");
        let x = |attr: &str| -> f64 {
            svg.split(attr).nth(1).and_then(|s| s.split('"').next()).and_then(|v| v.parse().ok()).expect(attr)
        };
        let band_x = svg.split(r#"class="band" x=""#).nth(1).and_then(|s| s.split('"').next()).unwrap();
        let band_x: f64 = band_x.parse().unwrap();
        let marker = x(r#"class="marker" x1=""#);
        assert!(band_x < marker, "{svg}");
        assert!(!svg_has_nan(&svg));
    }

    #[test]
    fn progress_caps_at_the_track() {
        assert_eq!(widths(&progress("t", Some(50.0))), vec![W / 2.0]);
        let over = progress("t", Some(250.0));
        assert!(over.contains("bar over"));
        assert_eq!(widths(&over), vec![W]);
    }
}
