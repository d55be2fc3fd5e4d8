//! The message log: a fixed-height scroll box (streaming messages never move the page), newest
//! first, payload as text, hex or JSON, with pause and clear.

use yew::prelude::*;

use super::field::SelectField;
use crate::format::{self, PayloadFormat};
use crate::model::log::{Dir, Log, LogAction, LOG_CAP};

#[derive(Properties, PartialEq)]
pub struct Props {
    /// Prefix of the element ids.
    pub id: AttrValue,
    /// Shared with the page's state; compared by identity and version, never row by row.
    pub log: Log,
    pub format: PayloadFormat,
    pub tz_offset_min: i64,
    pub onformat: Callback<PayloadFormat>,
    pub onlog: Callback<LogAction>,
}

#[component(MessageLog)]
pub fn message_log(p: &Props) -> Html {
    let id = |name: &str| format!("{}-{name}", p.id);
    let log = p.log.borrow();
    let formats: Vec<(&'static str, &'static str)> = PayloadFormat::ALL
        .iter()
        .map(|f| (f.key(), f.key()))
        .collect();
    let pause_text = if log.paused {
        format!("Resume ({} waiting)", log.held.len())
    } else {
        "Pause".into()
    };
    html! {
        <section class="panel log-panel" aria-labelledby={id("title")}>
            <div class="log-head">
                <h2 id={id("title")}>{ "Messages" }</h2>
                <SelectField id={id("format")} label="Payload as" options={formats} value={p.format.key()}
                    onset={p.onformat.reform(|v: String| PayloadFormat::from_key(&v))} />
                <button id={id("pause")} data-testid={id("pause")} type="button" aria-pressed={log.paused.to_string()}
                    onclick={p.onlog.reform(|_| LogAction::TogglePause)}>{ pause_text }</button>
                <button id={id("clear")} type="button" onclick={p.onlog.reform(|_| LogAction::Clear)}>{ "Clear" }</button>
            </div>
            <div class="log" id={id("log")} data-testid={id("log")} tabindex="0" role="region" aria-label="Message log">
                <table>
                    <thead><tr><th scope="col">{ "Time" }</th><th scope="col">{ "Dir" }</th>
                        <th scope="col">{ "Topic" }</th><th scope="col">{ "QoS" }</th><th scope="col">{ "Payload" }</th></tr></thead>
                    <tbody>
                        { for log.entries.iter().rev().map(|e| html! {
                            <tr key={e.id} data-testid="log-row" data-dir={e.dir.arrow()} data-topic={e.topic.clone()}
                                class={e.dir.arrow()}>
                                <td class="time">{ format::clock(e.at_ms, p.tz_offset_min) }</td>
                                <td class="dir">{ if e.dir == Dir::In { "← in" } else { "→ out" } }</td>
                                <td class="topic">{ e.topic.clone() }{ if e.retain { " (retained)" } else { "" } }</td>
                                <td class="qos">{ e.qos }</td>
                                <td class="payload"><pre>{ format::payload(&e.payload, p.format) }</pre></td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            <small class="log-foot">{ format!("{} shown, newest first; at most {}.", log.entries.len(), LOG_CAP) }</small>
        </section>
    }
}
