//! The device loop's view: the topics, the first message, the interval, start and stop, the
//! counters.

use std::rc::Rc;

use yew::prelude::*;

use super::ops::Op;
use super::state::{Action, DeviceState, Field, PAGE};
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::TextField;
use crate::components::loop_stats::LoopStatsView;
use crate::context::use_app;
use crate::model::page_state::Env;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<DeviceState>,
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
    let v = &*p.state;
    let set = |field: Field| p.act.reform(move |value: String| Action::Set(field, value));
    let running = v.stats.running;
    let settings = &p.env.settings;
    html! {
        <>
            <ConnectionPanel settings={settings.clone()} onset={app.set_field()}
                client_id_default={settings.default_client_id(PAGE)} />
            <section class="panel" aria-labelledby="device-title">
                <h2 id="device-title">{ "Device" }</h2>
                <div class="grid">
                    <TextField id="device-in" label="Listen on" value={v.in_topic.clone()} onset={set(Field::In)} disabled={running} />
                    <TextField id="device-out" label="Publish on" value={v.out_topic.clone()} onset={set(Field::Out)} disabled={running} />
                    <TextField id="device-message" label="First message" value={v.message.clone()} onset={set(Field::Message)} disabled={running} />
                    <TextField id="device-interval" label="Interval (ms)" kind="number" value={v.interval_ms.clone()}
                        onset={set(Field::Interval)} disabled={running} />
                </div>
                <div class="actions">
                    <button id="device-start" data-testid="device-start" class="primary" type="button" disabled={running}
                        onclick={p.run.reform(|_| Op::Start)}>{ "Start" }</button>
                    <button id="device-stop" type="button" disabled={!running} onclick={app.stop()}>{ "Stop" }</button>
                </div>
            </section>
            <LoopStatsView prefix="device" stats={v.stats.clone()} />
        </>
    }
}
