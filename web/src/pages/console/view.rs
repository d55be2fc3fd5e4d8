//! The console's view: API and log-in style, the publish form, batches and platform writes, the
//! charts and the message log.

use std::rc::Rc;

use mqtt_flows::resource::format_utc;
use mqtt_flows::{ConsoleMode, LoginStyle};
use yew::prelude::*;

use super::ops::Op;
use super::state::{Action, ConsoleState, Field, PAGE};
use crate::components::chart::Chart;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{CheckField, SelectField, TextField};
use crate::components::message_log::MessageLog;
use crate::context::use_app;
use crate::model::settings::Action as SettingsAction;
use crate::model::page_state::Env;
use crate::model::Common;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<ConsoleState>,
    pub env: Env,
    pub act: Callback<Action>,
    pub run: Callback<Op>,
}

#[component(View)]
pub fn view(p: &Props) -> Html {
    let app = match use_app() {
        Ok(app) => app,
        Err(error) => return error,
    };
    let c = &*p.state;
    let env = &p.env;
    let settings = &env.settings;
    let connected_here = env.runs(PAGE);
    let set = |field: Field| p.act.reform(move |v: String| Action::Set(field, v));
    let onsubmit = p.run.reform(|e: SubmitEvent| {
        e.prevent_default();
        Op::Publish
    });
    let charts = c.charts.borrow();
    let current = settings.api == ConsoleMode::Resource;
    let set_mode = app.on(|v: String| {
        Common::Settings(SettingsAction::Api(match v.as_str() {
            "resource" => ConsoleMode::Resource,
            _ => ConsoleMode::Legacy,
        }))
    });
    let set_login = app.on(|v: String| {
        Common::Settings(SettingsAction::Login(
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
            <ConnectionPanel settings={settings.clone()} onset={app.set_field()}
                client_id_default={settings.default_client_id(PAGE)}>
                <SelectField id="console-api" label="API" value={mode} onset={set_mode}
                    options={vec![("legacy", "Legacy: <identity>/<resource>"), ("resource", "Current: $resource/<alias>")]} />
                if current {
                    <SelectField id="console-login" label="Log-in style" value={settings.login.key()} onset={set_login}
                        options={vec![("identity", "Identity + token"), ("token-only", "Empty client id and user name + token")]} />
                }
                <button id="connect" data-testid="connect" class="primary" type="button" onclick={p.run.reform(|_| Op::Connect)}>
                    { if connected_here { "Reconnect" } else { "Connect" } }
                </button>
                <button id="disconnect" type="button" disabled={!connected_here} onclick={app.stop()}>
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
                        onset={p.act.reform(|v: String| Action::SetQos(v.parse().unwrap_or(0)))} />
                    <CheckField id="pub-retain" label="Retain" checked={c.retain} onset={p.act.reform(Action::SetRetain)} />
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
                            <button id="send-batch" data-testid="send-batch" type="button" onclick={p.run.reform(|_| Op::SendBatch)}>{ "Send batch" }</button>
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
                        <Chart key={name.clone()} name={name.clone()} points={points.clone()} tz_offset_min={env.tz_offset_min} />
                    }) }
                </div>
            </section>
            <MessageLog id="console" log={c.log.clone()} format={env.format} tz_offset_min={env.tz_offset_min}
                onformat={app.on(Common::Format)} onlog={p.act.reform(Action::Log)} />
        </>
    }
}
