//! The Azure Sphere echo host (seed 003): every message on the host topic comes back on the
//! device topic, rotated by one character.

use mqtt_core::flows::rotate::Direction;
use std::rc::Rc;

use yew::prelude::*;

use super::state::{Action as Echo, EchoState, Field};
use crate::app::use_app;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{SelectField, TextField};
use crate::components::loop_stats::LoopStatsView;
use crate::mqtt::Op;
use crate::state::{Action, Page, Settings};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<EchoState>,
    pub settings: Rc<Settings>,
}

#[component(EchoHostPage)]
pub fn echo_host_page(p: &Props) -> Html {
    let ctx = match use_app() {
        Ok(ctx) => ctx,
        Err(error) => return error,
    };
    let e = &*p.state;
    let set = |field: Field| ctx.on(move |v: String| Action::Echo(Echo::Set(field, v)));
    let running = e.stats.running;
    let direction = match e.direction {
        Direction::Left => "left",
        Direction::Right => "right",
    };
    let set_direction = ctx.on(|v: String| {
        Action::Echo(Echo::SetDirection(if v == "right" {
            Direction::Right
        } else {
            Direction::Left
        }))
    });
    html! {
        <>
            <ConnectionPanel settings={p.settings.clone()} onset={ctx.set_field()}
                client_id_default={p.settings.default_client_id(Page::Echo)} />
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
                        onclick={ctx.op(Op::StartEcho)}>{ "Start" }</button>
                    <button id="echo-stop" type="button" disabled={!running} onclick={ctx.op(Op::Stop)}>{ "Stop" }</button>
                </div>
            </section>
            <LoopStatsView prefix="echo" stats={e.stats.clone()} />
        </>
    }
}
