//! The Murano resource console (seed 000): subscribe `<identity>/#`, publish values, watch the
//! log and a live chart per numeric resource.

use yew::prelude::*;

use crate::app::AppContext;
use crate::components::chart::Chart;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{CheckField, SelectField, TextField};
use crate::components::message_log::MessageLog;
use crate::mqtt::Op;
use crate::state::{Action, Field, Page};

#[component(ConsolePage)]
pub fn console_page() -> Html {
    let ctx = use_context::<AppContext>().expect("AppContext");
    let state = &*ctx.state;
    let c = &state.console;
    let connected_here = state.conn.purpose == Some(Page::Console);
    let onsubmit = {
        let run = ctx.run.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            run.emit(Op::Publish);
        })
    };
    html! {
        <>
            <ConnectionPanel settings={state.settings.clone()} onset={ctx.set_field()}
                client_id_default={state.settings.default_client_id(Page::Console)}>
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
                    <TextField id="pub-topic" label="Resource or topic" value={c.topic.clone()} onset={ctx.set(Field::PubTopic)}
                        hint="temperature → <identity>/temperature" />
                    <TextField id="pub-message" label="Message" value={c.message.clone()} onset={ctx.set(Field::PubMessage)} />
                    <SelectField id="pub-qos" label="QoS" value={c.qos.to_string()}
                        options={vec![("0", "0 at most once"), ("1", "1 at least once"), ("2", "2 exactly once")]}
                        onset={ctx.on(|v: String| Action::SetQos(v.parse().unwrap_or(0)))} />
                    <CheckField id="pub-retain" label="Retain" checked={c.retain} onset={ctx.on(Action::SetRetain)} />
                    <div class="actions">
                        <button id="publish" data-testid="publish" class="primary" type="submit">{ "Publish" }</button>
                    </div>
                </form>
            </section>
            <section class="panel" aria-labelledby="charts-title">
                <h2 id="charts-title">{ "Resources" }</h2>
                <div id="charts" class="charts">
                    if c.charts.series.is_empty() {
                        <p class="help">{ "Numeric values appear here as live charts." }</p>
                    }
                    { for c.charts.series.iter().map(|(name, points)| html! {
                        <Chart key={name.clone()} name={name.clone()} points={points.clone()} />
                    }) }
                </div>
            </section>
            <MessageLog id="console" log={c.log.clone()} format={c.format} tz_offset_min={state.tz_offset_min}
                onformat={ctx.on(Action::SetFormat)} onpause={ctx.on(|_| Action::TogglePause)}
                onclear={ctx.on(|_| Action::ClearLog)} />
        </>
    }
}
