//! A live line chart of one numeric resource, as inline SVG (no chart library).

use std::collections::VecDeque;

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub name: AttrValue,
    /// (Unix ms, value), oldest first.
    pub points: VecDeque<(u64, f64)>,
}

const W: f64 = 320.0;
const H: f64 = 120.0;
const PAD: f64 = 8.0;

/// The polyline's points in the chart's coordinates.
fn path(points: &VecDeque<(u64, f64)>) -> String {
    let (t0, t1) = (
        points.front().map_or(0, |p| p.0),
        points.back().map_or(0, |p| p.0),
    );
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let span_t = (t1.saturating_sub(t0)).max(1) as f64;
    let span_v = if hi > lo { hi - lo } else { 1.0 };
    points
        .iter()
        .enumerate()
        .map(|(i, (t, v))| {
            let x = if t1 == t0 {
                PAD + (W - 2.0 * PAD) * (i as f64) / ((points.len().max(2) - 1) as f64)
            } else {
                PAD + (W - 2.0 * PAD) * ((t - t0) as f64) / span_t
            };
            let y = if hi > lo {
                H - PAD - (H - 2.0 * PAD) * (v - lo) / span_v
            } else {
                H / 2.0
            };
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component(Chart)]
pub fn chart(p: &Props) -> Html {
    let last = p.points.back().map(|p| p.1);
    let (lo, hi) = p.points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let label = match last {
        Some(v) => format!(
            "{}: {v} (min {lo}, max {hi}, {} points)",
            p.name,
            p.points.len()
        ),
        None => format!("{}: no values yet", p.name),
    };
    let points = path(&p.points);
    let single = p.points.len() == 1;
    html! {
        <figure class="chart" data-testid={format!("chart-{}", p.name)} data-resource={p.name.clone()}
            data-last={last.map(|v| v.to_string())}>
            <svg viewBox={format!("0 0 {W} {H}")} role="img" aria-label={label.clone()} preserveAspectRatio="none">
                <rect x="0" y="0" width={W.to_string()} height={H.to_string()} class="bg" />
                if single {
                    <circle cx={(W / 2.0).to_string()} cy={(H / 2.0).to_string()} r="3" class="dot" />
                } else {
                    <polyline points={points} class="line" />
                }
            </svg>
            <figcaption>{ label }</figcaption>
        </figure>
    }
}
