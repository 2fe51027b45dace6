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

    /// About `count` round ticks.
    pub(crate) fn ticks(&self, count: usize) -> Vec<f64> {
        let span = self.hi - self.lo;
        let raw = span / count.max(1) as f64;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(mag * 10.0);
        let mut t = (self.lo / step).ceil() * step;
        let mut out = Vec::new();
        while t <= self.hi + step * 1e-9 {
            out.push(t);
            t += step;
        }
        out
    }
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
    fn linear_ticks_are_round() {
        let s = LinScale::new(0.0, 3600.0, 0.0, 100.0);
        let t = s.ticks(5);
        assert_eq!(t.first(), Some(&0.0));
        assert!(t.len() >= 4 && t.len() <= 8, "{t:?}");
        assert!(
            t.windows(2)
                .all(|w| (w[1] - w[0] - (t[1] - t[0])).abs() < 1e-6)
        );
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
