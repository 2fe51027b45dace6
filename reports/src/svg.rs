//! A small SVG writer: elements, escaping and scales. The charts are
//! inline `<svg>` elements inside `report.html`, so the page needs no
//! script, font or image from anywhere else.

use std::fmt::Write as _;

/// Escapes text for XML/HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 §2.2: control characters other than tab, newline and
            // carriage return are not allowed at all, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Formats a coordinate with at most one decimal, so the markup stays small
/// and identical across platforms.
pub(crate) fn n(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// One chart being built.
#[derive(Debug)]
pub(crate) struct Svg {
    id: String,
    width: f64,
    height: f64,
    title: String,
    body: String,
}

impl Svg {
    /// An empty chart; `title` becomes the accessible name.
    pub(crate) fn new(id: &str, width: f64, height: f64, title: &str) -> Self {
        Svg {
            id: id.to_owned(),
            width,
            height,
            title: title.to_owned(),
            body: String::new(),
        }
    }

    /// A rectangle; `tip` becomes a hover tooltip.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: Option<&str>) {
        let _ = write!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}""#,
            n(x),
            n(y),
            n(w.max(0.0)),
            n(h.max(0.0)),
            esc(fill)
        );
        self.close(tip);
    }

    /// A line.
    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, dash: bool) {
        let _ = write!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"{}/>"#,
            n(x1),
            n(y1),
            n(x2),
            n(y2),
            esc(stroke),
            if dash {
                r#" stroke-dasharray="4 3""#
            } else {
                ""
            }
        );
    }

    /// A circle.
    pub(crate) fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: &str, tip: Option<&str>) {
        let _ = write!(
            self.body,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{}""#,
            n(cx),
            n(cy),
            n(r),
            esc(fill)
        );
        self.close(tip);
    }

    /// A cross (a failed logon).
    pub(crate) fn cross(&mut self, cx: f64, cy: f64, r: f64, stroke: &str, tip: Option<&str>) {
        let _ = write!(
            self.body,
            r#"<path d="M{} {}L{} {}M{} {}L{} {}" stroke="{}" stroke-width="2""#,
            n(cx - r),
            n(cy - r),
            n(cx + r),
            n(cy + r),
            n(cx - r),
            n(cy + r),
            n(cx + r),
            n(cy - r),
            esc(stroke)
        );
        self.close(tip);
    }

    /// Text; `anchor` is `start`, `middle` or `end`.
    pub(crate) fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, content: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{}" y="{}" text-anchor="{}" class="{}">{}</text>"#,
            n(x),
            n(y),
            anchor,
            esc(class),
            esc(content)
        );
    }

    /// Raw markup already escaped (a link around elements).
    pub(crate) fn raw(&mut self, markup: &str) {
        self.body.push_str(markup);
    }

    fn close(&mut self, tip: Option<&str>) {
        match tip {
            Some(t) => {
                let _ = write!(
                    self.body,
                    "><title>{}</title></{}>",
                    esc(t),
                    self.last_tag()
                );
            }
            None => self.body.push_str("/>"),
        }
    }

    fn last_tag(&self) -> &'static str {
        let start = self.body.rfind('<').unwrap_or(0);
        let tag = &self.body[start + 1..];
        if tag.starts_with("rect") {
            "rect"
        } else if tag.starts_with("circle") {
            "circle"
        } else {
            "path"
        }
    }

    /// The finished element.
    pub(crate) fn finish(self) -> String {
        format!(
            r#"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="{id}-title"><title id="{id}-title">{title}</title>{body}</svg>"#,
            id = esc(&self.id),
            w = n(self.width),
            h = n(self.height),
            title = esc(&self.title),
            body = self.body
        )
    }
}

/// A logarithmic scale from a value range onto a pixel range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogScale {
    lo: f64,
    hi: f64,
    x0: f64,
    x1: f64,
}

impl LogScale {
    /// `lo..hi` (both > 0) onto `x0..x1`.
    pub(crate) fn new(lo: f64, hi: f64, x0: f64, x1: f64) -> Self {
        let lo = lo.max(1e-9);
        LogScale {
            lo,
            hi: hi.max(lo * 10.0),
            x0,
            x1,
        }
    }

    /// The pixel position of `v` (clamped into the range).
    pub(crate) fn at(&self, v: f64) -> f64 {
        let v = v.clamp(self.lo, self.hi);
        let t = (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln());
        self.x0 + t * (self.x1 - self.x0)
    }

    /// Decade ticks inside the range.
    pub(crate) fn ticks(&self) -> Vec<f64> {
        let mut t = 10f64.powf(self.lo.log10().floor());
        let mut out = Vec::new();
        while t <= self.hi * 1.0001 {
            if t >= self.lo * 0.9999 {
                out.push(t);
            }
            t *= 10.0;
        }
        out
    }
}

/// A linear scale.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LinScale {
    lo: f64,
    hi: f64,
    x0: f64,
    x1: f64,
}

impl LinScale {
    /// `lo..hi` onto `x0..x1`.
    pub(crate) fn new(lo: f64, hi: f64, x0: f64, x1: f64) -> Self {
        LinScale {
            lo,
            hi: if hi > lo { hi } else { lo + 1.0 },
            x0,
            x1,
        }
    }

    /// The pixel position of `v`.
    pub(crate) fn at(&self, v: f64) -> f64 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        self.x0 + t * (self.x1 - self.x0)
    }
}

/// Round steps for a time axis, in seconds: a reader expects ticks at
/// 10 s, 5 min or 1 h, not at the decimal 500 s a plain linear scale picks.
const TIME_STEPS: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0,
    120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0,
    172800.0, 604800.0,
];

/// At most `count` ticks over `0..=end_s` seconds at a round time step.
pub(crate) fn time_ticks(end_s: f64, count: usize) -> Vec<f64> {
    let raw = end_s / count.max(1) as f64;
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|s| *s >= raw)
        .unwrap_or_else(|| (raw / 86400.0).ceil() * 86400.0);
    let mut out = Vec::new();
    let mut i = 0u32;
    loop {
        let t = f64::from(i) * step;
        if t > end_s + step * 1e-9 {
            break;
        }
        out.push(t);
        i += 1;
    }
    out
}

/// A moment of scenario time for people: `1h05m`, `45m00.001s`, `12.5s`,
/// `250ms`: hours and minutes when there are any, seconds with the
/// milliseconds only when they are not zero.
pub(crate) fn fmt_offset(secs: f64) -> String {
    if !secs.is_finite() || secs <= 0.0 {
        return "0s".to_owned();
    }
    let ms_total = (secs * 1000.0).round() as u64;
    if ms_total < 1000 {
        return format!("{ms_total}ms");
    }
    let (d, rem) = (ms_total / 86_400_000, ms_total % 86_400_000);
    let (h, rem) = (rem / 3_600_000, rem % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    let (s, ms) = (rem / 1000, rem % 1000);
    let mut out = String::new();
    if d > 0 {
        let _ = write!(out, "{d}d");
    }
    if d > 0 || h > 0 {
        let _ = write!(out, "{h}h");
    }
    let big = d > 0 || h > 0;
    // "1h", not "1h00m": minutes are written when they or seconds follow.
    if m > 0 || (big && (s > 0 || ms > 0)) {
        if big {
            let _ = write!(out, "{m:02}m");
        } else {
            let _ = write!(out, "{m}m");
        }
    }
    let secs_part = if ms > 0 {
        format!("{s}.{ms:03}s")
    } else if s > 0 || out.is_empty() {
        format!("{s}s")
    } else {
        String::new()
    };
    if !out.is_empty() && !secs_part.is_empty() && s < 10 {
        out.push('0');
    }
    out.push_str(&secs_part);
    out
}

/// Colour of a path (or outcome) in every chart, so a reader learns it once.
pub(crate) fn path_colour(path: &str) -> &'static str {
    match path {
        "native-tcp" => "#1f6fb4",
        "native-udp" => "#6baed6",
        "kkdcp" => "#2ca02c",
        "iakerb" => "#9467bd",
        "localkdc" => "#a0522d",
        "ntlm" => "#d62728",
        "cache" => "#8c8c8c",
        "hung" => "#ff7f0e",
        "aborted" | "host-down" => "#bdbdbd",
        _ => "#222222",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            esc(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("a\u{1}b\tc"), "a\u{fffd}b\tc");
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(n(3.0), "3");
        assert_eq!(n(3.04), "3");
        assert_eq!(n(3.06), "3.1");
        assert_eq!(n(-0.0), "0");
        assert_eq!(n(f64::NAN), "0");
    }

    #[test]
    fn log_scale_maps_decades_evenly() {
        let s = LogScale::new(1.0, 1000.0, 0.0, 300.0);
        assert!((s.at(1.0) - 0.0).abs() < 1e-9);
        assert!((s.at(10.0) - 100.0).abs() < 1e-9);
        assert!((s.at(1000.0) - 300.0).abs() < 1e-9);
        assert_eq!(s.at(1e6), 300.0, "clamped");
        assert_eq!(s.ticks(), vec![1.0, 10.0, 100.0, 1000.0]);
    }

    #[test]
    fn time_ticks_fall_on_round_times() {
        assert_eq!(
            time_ticks(3600.0, 8),
            (0..=6).map(|i| f64::from(i) * 600.0).collect::<Vec<_>>()
        );
        let t = time_ticks(10.0, 8);
        assert_eq!(t[1], 2.0);
        assert!(
            time_ticks(2.5 * 86400.0, 8)
                .iter()
                .all(|t| t % 21600.0 == 0.0)
        );
    }

    #[test]
    fn offsets_read_like_clock_times() {
        assert_eq!(fmt_offset(0.25), "250ms");
        assert_eq!(fmt_offset(12.5), "12.500s");
        assert_eq!(fmt_offset(2700.001), "45m00.001s");
        assert_eq!(fmt_offset(3600.0), "1h");
        assert_eq!(fmt_offset(7260.0), "2h01m");
        assert_eq!(fmt_offset(3905.0), "1h05m05s");
        assert_eq!(fmt_offset(600.0), "10m");
        assert_eq!(fmt_offset(90061.0), "1d1h01m01s");
    }

    #[test]
    fn elements_close_with_their_own_tag() {
        let mut s = Svg::new("c", 10.0, 10.0, "t<");
        s.rect(0.0, 0.0, 1.0, 1.0, "red", Some("tip & more"));
        s.circle(1.0, 1.0, 1.0, "blue", Some("c"));
        s.cross(1.0, 1.0, 1.0, "black", Some("x"));
        s.line(0.0, 0.0, 1.0, 1.0, "grey", true);
        let out = s.finish();
        assert!(
            out.contains("<title>tip &amp; more</title></rect>"),
            "{out}"
        );
        assert!(out.contains("<title>c</title></circle>"));
        assert!(out.contains("<title>x</title></path>"));
        assert!(out.contains("title\">t&lt;</title>") || out.contains(">t&lt;</title>"));
        assert!(out.ends_with("</svg>"));
    }
}
