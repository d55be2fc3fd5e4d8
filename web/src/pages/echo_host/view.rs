//! The echo host's view: the topics, the rotation, start and stop, the counters.

use std::rc::Rc;

use mqtt_flows::rotate::Direction;
use yew::prelude::*;

use super::ops::Op;
use super::state::{Action, EchoState, Field, PAGE};
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{SelectField, TextField};
use crate::components::loop_stats::LoopStatsView;
use crate::context::use_app;
use crate::model::page_state::Env;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<EchoState>,
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
    let e = &*p.state;
    let set = |field: Field| p.act.reform(move |v: String| Action::Set(field, v));
    let running = e.stats.running;
    let direction = match e.direction {
        Direction::Left => "left",
        Direction::Right => "right",
    };
    let set_direction = p.act.reform(|v: String| {
        Action::SetDirection(if v == "right" {
            Direction::Right
        } else {
            Direction::Left
        })
    });
    let settings = &p.env.settings;
    html! {
        <>
            <ConnectionPanel settings={settings.clone()} onset={app.set_field()}
                client_id_default={settings.default_client_id(PAGE)} />
            <section class="panel" aria-labelledby="echo-title">
                <h2 id="echo-title">{ "Echo host" }</h2>
                <div class="grid">
                    <TextField id="echo-in" label="Listen on" value={e.in_topic.clone()} onset={set(Field::In)} disabled={running} />
                    <TextField id="echo-out" label="Answer on" value={e.out_topic.clone()} onset={set(Field::Out)} disabled={running} />
                    <SelectField id="echo-direction" label="Rotate" value={direction} onset={set_direction} disabled={running}
                        options={vec![("left", "left: hello → elloh (the seed's text)"), ("right", "right: hello → ohell (the sample code)")]} />
                </div>
                <div class="actions">
                    <button id="echo-start" data-testid="echo-start" class="primary" type="button" disabled={running}
                        onclick={p.run.reform(|_| Op::Start)}>{ "Start" }</button>
                    <button id="echo-stop" type="button" disabled={!running} onclick={app.stop()}>{ "Stop" }</button>
                </div>
            </section>
            <LoopStatsView prefix="echo" stats={e.stats.clone()} />
        </>
    }
}
