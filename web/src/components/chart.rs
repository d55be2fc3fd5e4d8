//! A live line chart of one numeric resource, as inline SVG (no chart library): a time axis
//! (local clock time of the first, middle and last value), the value range on the left, and
//! each of the latest values labelled at its point, so a reader can tell when a value arrived.

use std::collections::VecDeque;

use yew::prelude::*;

use crate::format;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub name: AttrValue,
    /// (Unix ms, value), oldest first.
    pub points: VecDeque<(u64, f64)>,
    /// Minutes to add to UTC for the local clock on the time axis.
    #[prop_or_default]
    pub tz_offset_min: i64,
}

const W: f64 = 320.0;
const H: f64 = 150.0;
/// Left margin (value labels), right and top padding, bottom margin (time axis).
const LEFT: f64 = 40.0;
const PAD: f64 = 12.0;
const BOTTOM: f64 = 26.0;
/// How many of the latest points carry their value as a label.
const LABELLED: usize = 6;

/// Maps (time, value) to the plot area.
struct Scale {
    t0: u64,
    t1: u64,
    lo: f64,
    hi: f64,
    count: usize,
}

impl Scale {
    fn of(points: &VecDeque<(u64, f64)>) -> Scale {
        let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
        Scale {
            t0: points.front().map_or(0, |p| p.0),
            t1: points.back().map_or(0, |p| p.0),
            lo,
            hi,
            count: points.len(),
        }
    }

    fn x(&self, index: usize, t: u64) -> f64 {
        let width = W - LEFT - PAD;
        if self.t1 == self.t0 {
            LEFT + width * (index as f64) / ((self.count.max(2) - 1) as f64)
        } else {
            LEFT + width * ((t - self.t0) as f64) / ((self.t1 - self.t0) as f64)
        }
    }

    fn y(&self, v: f64) -> f64 {
        if self.hi > self.lo {
            H - BOTTOM - (H - BOTTOM - PAD) * (v - self.lo) / (self.hi - self.lo)
        } else {
            (H - BOTTOM + PAD) / 2.0
        }
    }
}

/// The polyline's points in the chart's coordinates.
fn path(points: &VecDeque<(u64, f64)>, scale: &Scale) -> String {
    points
        .iter()
        .enumerate()
        .map(|(i, (t, v))| format!("{:.1},{:.1}", scale.x(i, *t), scale.y(*v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `HH:MM:SS` of a value's arrival.
fn time_label(unix_ms: u64, offset_min: i64) -> String {
    let mut clock = format::clock(unix_ms, offset_min);
    clock.truncate(8);
    clock
}

#[component(Chart)]
pub fn chart(p: &Props) -> Html {
    let last = p.points.back().map(|p| p.1);
    let scale = Scale::of(&p.points);
    let label = match last {
        Some(v) => format!(
            "{}: {v} (min {}, max {}, {} points)",
            p.name,
            scale.lo,
            scale.hi,
            p.points.len()
        ),
        None => format!("{}: no values yet", p.name),
    };
    let points = path(&p.points, &scale);
    let axis_y = H - BOTTOM;
    let mut ticks: Vec<(f64, String, &str)> = Vec::new();
    if let (Some(first), Some(newest)) = (p.points.front(), p.points.back()) {
        ticks.push((LEFT, time_label(first.0, p.tz_offset_min), "start"));
        if newest.0 > first.0 {
            let mid = first.0 + (newest.0 - first.0) / 2;
            ticks.push((scale.x(0, mid), time_label(mid, p.tz_offset_min), "middle"));
            ticks.push((W - PAD, time_label(newest.0, p.tz_offset_min), "end"));
        }
    }
    let skip = p.points.len().saturating_sub(LABELLED);
    html! {
        <figure class="chart" data-testid={format!("chart-{}", p.name)} data-resource={p.name.clone()}
            data-last={last.map(|v| v.to_string())}
            data-last-at={p.points.back().map(|pt| time_label(pt.0, p.tz_offset_min))}>
            <svg viewBox={format!("0 0 {W} {H}")} role="img" aria-label={label.clone()}>
                <rect x={LEFT.to_string()} y="0" width={(W - LEFT).to_string()} height={axis_y.to_string()} class="bg" />
                if last.is_some() {
                    <text x={(LEFT - 4.0).to_string()} y={(scale.y(scale.hi) + 4.0).to_string()} class="axis" text-anchor="end">{ scale.hi.to_string() }</text>
                    if scale.hi > scale.lo {
                        <text x={(LEFT - 4.0).to_string()} y={(scale.y(scale.lo)).to_string()} class="axis" text-anchor="end">{ scale.lo.to_string() }</text>
                    }
                }
                <line x1={LEFT.to_string()} y1={axis_y.to_string()} x2={(W - PAD).to_string()} y2={axis_y.to_string()} class="axis-line" />
                { for ticks.iter().map(|(x, text, anchor)| html! {
                    <g class="tick">
                        <line x1={x.to_string()} y1={axis_y.to_string()} x2={x.to_string()} y2={(axis_y + 4.0).to_string()} class="axis-line" />
                        <text x={x.to_string()} y={(H - 8.0).to_string()} class="axis time" text-anchor={*anchor}>{ text.clone() }</text>
                    </g>
                }) }
                if p.points.len() > 1 {
                    <polyline points={points} class="line" />
                }
                { for p.points.iter().enumerate().map(|(i, (t, v))| {
                    let (x, y) = (scale.x(i, *t), scale.y(*v));
                    let at = time_label(*t, p.tz_offset_min);
                    html! {
                        <g class="point" data-testid="chart-point" data-value={v.to_string()} data-at={at.clone()}>
                            <circle cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="2.5" class="dot">
                                <title>{ format!("{v} at {at}") }</title>
                            </circle>
                            if i >= skip {
                                <text x={format!("{x:.1}")} y={format!("{:.1}", (y - 5.0).max(9.0))}
                                    class="value" text-anchor="middle">{ v.to_string() }</text>
                            }
                        </g>
                    }
                }) }
            </svg>
            <figcaption>{ label }</figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_spread_over_the_time_axis_and_the_value_range() {
        let points: VecDeque<(u64, f64)> = [(1_000, 1.0), (2_000, 3.0), (3_000, 2.0)].into();
        let scale = Scale::of(&points);
        assert_eq!(scale.x(0, 1_000), LEFT);
        assert_eq!(scale.x(2, 3_000), W - PAD);
        assert_eq!(scale.y(3.0), PAD);
        assert_eq!(scale.y(1.0), H - BOTTOM);
        assert_eq!(time_label(3_723_004, 0), "01:02:03");
    }
}
