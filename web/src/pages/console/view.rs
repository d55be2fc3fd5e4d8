//! The Murano resource console (seed 000): subscribe `<identity>/#`, publish values, watch the
//! log and a live chart per numeric resource. With Murano's current API: `$resource/<alias>`,
//! batches, and platform writes listed and charted at their platform time.

use std::rc::Rc;

use mqtt_core::flows::resource::format_utc;
use mqtt_core::flows::{ConsoleMode, LoginStyle};
use yew::prelude::*;

use super::state::{Action as Console, ConsoleState, Field};
use crate::app::use_app;
use crate::components::chart::Chart;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{CheckField, SelectField, TextField};
use crate::components::message_log::MessageLog;
use crate::format::PayloadFormat;
use crate::mqtt::Op;
use crate::state::{Action, Page, Settings};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<ConsoleState>,
    pub settings: Rc<Settings>,
    /// The tab's connection is this console's.
    pub connected: bool,
    pub format: PayloadFormat,
    pub tz_offset_min: i64,
}

#[component(ConsolePage)]
pub fn console_page(p: &Props) -> Html {
    let ctx = match use_app() {
        Ok(ctx) => ctx,
        Err(error) => return error,
    };
    let c = &*p.state;
    let connected_here = p.connected;
    let set = |field: Field| ctx.on(move |v: String| Action::Console(Console::Set(field, v)));
    let onsubmit = {
        let run = ctx.run.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            run.emit(Op::Publish);
        })
    };
    let charts = c.charts.borrow();
    let current = c.mode == ConsoleMode::Resource;
    let set_mode = ctx.on(|v: String| {
        Action::Console(Console::SetMode(match v.as_str() {
            "resource" => ConsoleMode::Resource,
            _ => ConsoleMode::Legacy,
        }))
    });
    let set_login = ctx.on(|v: String| {
        Action::Console(Console::SetLogin(
            LoginStyle::from_key(&v).unwrap_or_default(),
        ))
    });
    let mode = if current { "resource" } else { "legacy" };
    let hint = if current {
        "data_in → $resource/data_in (QoS 0 or 1, at most 1 MiB)"
    } else {
        "temperature → <identity>/temperature"
    };
    html! {
        <>
            <ConnectionPanel settings={p.settings.clone()} onset={ctx.set_field()}
                client_id_default={p.settings.default_client_id(Page::Console)}>
                <SelectField id="console-api" label="API" value={mode} onset={set_mode}
                    options={vec![("legacy", "Legacy: <identity>/<resource>"), ("resource", "Current: $resource/<alias>")]} />
                if current {
                    <SelectField id="console-login" label="Log-in style" value={c.login.key()} onset={set_login}
                        options={vec![("identity", "Identity + token"), ("token-only", "Empty client id and user name + token")]} />
                }
                <button id="connect" data-testid="connect" class="primary" type="button" onclick={ctx.op(Op::ConnectConsole)}>
                    { if connected_here { "Reconnect" } else { "Connect" } }
                </button>
                <button id="disconnect" type="button" disabled={!connected_here} onclick={ctx.op(Op::Stop)}>
                    { "Disconnect" }
                </button>
            </ConnectionPanel>
            <section class="panel" aria-labelledby="publish-title">
                <h2 id="publish-title">{ "Publish" }</h2>
                <form class="grid" {onsubmit}>
                    <TextField id="pub-topic" label="Resource or topic" value={c.topic.clone()} onset={set(Field::Topic)}
                        hint={hint} />
                    <TextField id="pub-message" label="Message" value={c.message.clone()} onset={set(Field::Message)} />
                    <SelectField id="pub-qos" label="QoS" value={c.qos.to_string()}
                        options={vec![("0", "0 at most once"), ("1", "1 at least once"), ("2", "2 exactly once")]}
                        onset={ctx.on(|v: String| Action::Console(Console::SetQos(v.parse().unwrap_or(0))))} />
                    <CheckField id="pub-retain" label="Retain" checked={c.retain} onset={ctx.on(|v| Action::Console(Console::SetRetain(v)))} />
                    <div class="actions">
                        <button id="publish" data-testid="publish" class="primary" type="submit">{ "Publish" }</button>
                    </div>
                </form>
            </section>
            if current {
                <section class="panel" aria-labelledby="batch-title">
                    <h2 id="batch-title">{ "Batch and platform writes" }</h2>
                    <div class="grid">
                        <TextField id="batch-values" label="Batch ($resource.batch)" value={c.batch.clone()} onset={set(Field::Batch)}
                            hint="[timestamp] alias=value …, entries separated by ';' (timestamp in s, ms or µs; none: now, in µs)" />
                        <div class="actions">
                            <button id="send-batch" data-testid="send-batch" type="button" onclick={ctx.op(Op::SendBatch)}>{ "Send batch" }</button>
                        </div>
                    </div>
                    <ul id="platform-writes" class="writes" aria-live="polite">
                        { for c.writes.iter().map(|w| html! {
                            <li data-resource={w.resource.clone()} data-at-ms={w.at_ms.to_string()}>
                                { format!("{} = {} at {}", w.resource, w.value, format_utc(w.at_ms)) }
                            </li>
                        }) }
                    </ul>
                </section>
            }
            <section class="panel" aria-labelledby="charts-title">
                <h2 id="charts-title">{ "Resources" }</h2>
                <div id="charts" class="charts">
                    if charts.series.is_empty() {
                        <p class="help">{ "Numeric values appear here as live charts." }</p>
                    }
                    { for charts.series.iter().map(|(name, points)| html! {
                        <Chart key={name.clone()} name={name.clone()} points={points.clone()} tz_offset_min={p.tz_offset_min} />
                    }) }
                </div>
            </section>
            <MessageLog id="console" log={c.log.clone()} format={p.format} tz_offset_min={p.tz_offset_min}
                onformat={ctx.on(Action::SetFormat)} onlog={ctx.on(|a| Action::Console(Console::Log(a)))} />
        </>
    }
}
