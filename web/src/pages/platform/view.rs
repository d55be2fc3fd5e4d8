//! The platform page's view: the portal's credentials, the write form and its log.

use std::rc::Rc;

use yew::prelude::*;

use super::ops::Op;
use super::state::{Action, Field, PlatformState, PAGE};
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{CheckField, TextField};
use crate::components::message_log::MessageLog;
use crate::context::use_app;
use crate::model::page_state::Env;
use crate::model::Common;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<PlatformState>,
    pub env: Env,
    pub act: Callback<Action>,
    pub run: Callback<Op>,
}

#[component(View)]
pub fn view(props: &Props) -> Html {
    let app = match use_app() {
        Ok(app) => app,
        Err(error) => return error,
    };
    let p = &*props.state;
    let env = &props.env;
    let connected_here = env.runs(PAGE);
    let set = |field: Field| props.act.reform(move |v: String| Action::Set(field, v));
    let onsubmit = props.run.reform(|e: SubmitEvent| {
        e.prevent_default();
        Op::Write
    });
    html! {
        <>
            <ConnectionPanel settings={env.settings.clone()} onset={app.set_field()} device={false}>
                <TextField id="platform-username" label="Platform user name" value={p.username.clone()}
                    onset={set(Field::User)} autocomplete="username" />
                <TextField id="platform-password" label="Platform password" kind="password" value={p.password.clone()}
                    onset={set(Field::Password)} autocomplete="current-password" />
                <button id="platform-connect" data-testid="platform-connect" class="primary" type="button"
                    onclick={props.run.reform(|_| Op::Connect)}>{ if connected_here { "Reconnect" } else { "Connect" } }</button>
                <button id="platform-disconnect" type="button" disabled={!connected_here} onclick={app.stop()}>
                    { "Disconnect" }
                </button>
            </ConnectionPanel>
            <section class="panel" aria-labelledby="write-title">
                <h2 id="write-title">{ "Write a resource value" }</h2>
                <form class="grid" {onsubmit}>
                    <TextField id="platform-identity" label="Device identity" value={p.identity.clone()}
                        onset={set(Field::Identity)} placeholder="007" />
                    <TextField id="platform-resource" label="Resource" value={p.resource.clone()} onset={set(Field::Resource)} />
                    <TextField id="platform-value" label="Value" value={p.value.clone()} onset={set(Field::Value)} />
                    <CheckField id="platform-current-api" label="Murano's current API ($resource, demo)" checked={p.current_api}
                        onset={props.act.reform(Action::SetCurrentApi)} />
                    <div class="actions">
                        <button id="platform-write" data-testid="platform-write" class="primary" type="submit">
                            { format!("Write to {}", p.topic()) }
                        </button>
                    </div>
                </form>
            </section>
            <MessageLog id="platform" log={p.log.clone()} format={env.format} tz_offset_min={env.tz_offset_min}
                onformat={app.on(Common::Format)} onlog={props.act.reform(Action::Log)} />
        </>
    }
}
