//! The Azure Sphere echo host (seed 003): every message on the host topic comes back on the
//! device topic, rotated by one character.

use mqtt_core::flows::rotate::Direction;
use yew::prelude::*;

use crate::app::AppContext;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{SelectField, TextField};
use crate::components::loop_stats::LoopStatsView;
use crate::mqtt::Op;
use crate::state::{Action, Field, Page};

#[component(EchoHostPage)]
pub fn echo_host_page() -> Html {
    let ctx = use_context::<AppContext>().expect("AppContext");
    let state = &*ctx.state;
    let e = &state.echo;
    let running = e.stats.running;
    let direction = match e.direction {
        Direction::Left => "left",
        Direction::Right => "right",
    };
    let set_direction = ctx.on(|v: String| {
        Action::SetDirection(if v == "right" {
            Direction::Right
        } else {
            Direction::Left
        })
    });
    html! {
        <>
            <ConnectionPanel settings={state.settings.clone()} onset={ctx.set_field()}
                client_id_default={state.settings.default_client_id(Page::Echo)} />
            <section class="panel" aria-labelledby="echo-title">
                <h2 id="echo-title">{ "Echo host" }</h2>
                <div class="grid">
                    <TextField id="echo-in" label="Listen on" value={e.in_topic.clone()} onset={ctx.set(Field::EchoIn)} disabled={running} />
                    <TextField id="echo-out" label="Answer on" value={e.out_topic.clone()} onset={ctx.set(Field::EchoOut)} disabled={running} />
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
