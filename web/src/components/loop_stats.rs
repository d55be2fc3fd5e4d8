//! Counters and the last messages of the echo host or the device.

use yew::prelude::*;

use crate::model::loop_stats::LoopStats;
use crate::model::Dir;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// Prefix of the element ids (`echo`, `device`).
    pub prefix: AttrValue,
    pub stats: LoopStats,
}

#[component(LoopStatsView)]
pub fn loop_stats_view(p: &Props) -> Html {
    let id = |name: &str| format!("{}-{name}", p.prefix);
    let s = &p.stats;
    html! {
        <section class="panel" aria-label="Counters and last messages">
            <dl class="counters">
                <div><dt>{ "Received" }</dt><dd id={id("received")}>{ s.received }</dd></div>
                <div><dt>{ "Sent" }</dt><dd id={id("sent")}>{ s.sent }</dd></div>
                <div><dt>{ "Errors" }</dt><dd id={id("errors")}>{ s.errors }</dd></div>
            </dl>
            if let Some(e) = &s.last_error {
                <p class="notice" id={id("last-error")}>{ e.clone() }</p>
            }
            <h3>{ "Last messages" }</h3>
            <ol id={id("last")} data-testid={id("last")} class="last" aria-live="off">
                { for s.last.iter().map(|(dir, text)| html! {
                    <li class={dir.arrow()} data-dir={dir.arrow()}>
                        <span class="dir">{ if *dir == Dir::In { "← in" } else { "→ out" } }</span>
                        <code>{ text.clone() }</code>
                    </li>
                }) }
            </ol>
        </section>
    }
}
