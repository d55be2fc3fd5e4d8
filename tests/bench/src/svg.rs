//! Minimal SVG charts (no plotting dependency): a line chart and a grouped bar chart.

const W: f64 = 640.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;
const COLORS: [&str; 5] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart's frame, title and y grid, scaled to the largest value of `series` (plus 10%);
/// returns the SVG so far and that scale's top.
fn frame(title: &str, y_label: &str, series: &[(&str, Vec<f64>)]) -> (String, f64) {
    let y_max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(1.0, f64::max)
        * 1.1;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n\
         <text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
        W / 2.0,
        escape(title),
        H / 2.0,
        escape(y_label)
    );
    for i in 0..=4 {
        let value = y_max * f64::from(i) / 4.0;
        let y = H - BOTTOM - (H - TOP - BOTTOM) * f64::from(i) / 4.0;
        svg += &format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            human(value)
        );
    }
    (svg, y_max)
}

fn human(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// The legend, one entry per series, and the end of the document.
fn finish(mut svg: String, series: &[(&str, Vec<f64>)]) -> String {
    for (i, (name, _)) in series.iter().enumerate() {
        let y = TOP + 20.0 * i as f64;
        let x = W - RIGHT + 12.0;
        svg += &format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
            y - 10.0,
            COLORS[i % COLORS.len()],
            x + 18.0,
            y,
            escape(name)
        );
    }
    svg + "</svg>\n"
}

/// One line per series over categorical x values.
pub(crate) fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    xs: &[String],
    series: &[(&str, Vec<f64>)],
) -> String {
    let (mut svg, y_max) = frame(title, y_label, series);
    let plot_w = W - LEFT - RIGHT;
    let x_at = |i: usize| LEFT + plot_w * (i as f64 + 0.5) / xs.len() as f64;
    let y_at = |v: f64| H - BOTTOM - (H - TOP - BOTTOM) * v / y_max;
    for (i, x) in xs.iter().enumerate() {
        svg += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            x_at(i),
            H - BOTTOM + 18.0,
            escape(x)
        );
    }
    svg += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
        LEFT + plot_w / 2.0,
        H - 10.0,
        escape(x_label)
    );
    for (s, (_, values)) in series.iter().enumerate() {
        let points: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (x_at(i), y_at(*v)))
            .collect();
        let color = COLORS[s % COLORS.len()];
        let polyline: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        svg += &format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n",
            polyline.join(" ")
        );
        for (x, y) in &points {
            svg += &format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{color}\"/>\n");
        }
    }
    finish(svg, series)
}

/// Groups of bars: one group per category, one bar per series.
pub(crate) fn bars(
    title: &str,
    y_label: &str,
    groups: &[String],
    series: &[(&str, Vec<f64>)],
) -> String {
    let (mut svg, y_max) = frame(title, y_label, series);
    let plot_w = W - LEFT - RIGHT;
    let group_w = plot_w / groups.len().max(1) as f64;
    let bar_w = group_w * 0.8 / series.len().max(1) as f64;
    for (g, group) in groups.iter().enumerate() {
        let gx = LEFT + group_w * g as f64 + group_w * 0.1;
        svg += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            gx + group_w * 0.4,
            H - BOTTOM + 18.0,
            escape(group)
        );
        for (s, (_, values)) in series.iter().enumerate() {
            let v = values.get(g).copied().unwrap_or(0.0);
            let h = (H - TOP - BOTTOM) * v / y_max;
            svg += &format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>\n",
                gx + bar_w * s as f64,
                H - BOTTOM - h,
                bar_w * 0.95,
                h,
                COLORS[s % COLORS.len()]
            );
        }
    }
    finish(svg, series)
}
