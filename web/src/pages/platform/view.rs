//! Plays the Murano portal: connect with platform credentials and write a value to
//! `<identity>/<resource>`, which the device's console receives ("if you directly enter values
//! in the browser, the device will also receive those changes").

use std::rc::Rc;

use yew::prelude::*;

use super::state::{Action as Platform, Field, PlatformState};
use crate::app::use_app;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{CheckField, TextField};
use crate::components::message_log::MessageLog;
use crate::format::PayloadFormat;
use crate::mqtt::Op;
use crate::state::{Action, Settings};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<PlatformState>,
    pub settings: Rc<Settings>,
    /// The tab's connection is this platform's.
    pub connected: bool,
    pub format: PayloadFormat,
    pub tz_offset_min: i64,
}

#[component(PlatformPage)]
pub fn platform_page(props: &Props) -> Html {
    let ctx = match use_app() {
        Ok(ctx) => ctx,
        Err(error) => return error,
    };
    let p = &*props.state;
    let connected_here = props.connected;
    let set = |field: Field| ctx.on(move |v: String| Action::Platform(Platform::Set(field, v)));
    let onsubmit = {
        let run = ctx.run.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            run.emit(Op::WritePlatform);
        })
    };
    html! {
        <>
            <ConnectionPanel settings={props.settings.clone()} onset={ctx.set_field()} device={false}>
                <TextField id="platform-username" label="Platform user name" value={p.username.clone()}
                    onset={set(Field::User)} autocomplete="username" />
                <TextField id="platform-password" label="Platform password" kind="password" value={p.password.clone()}
                    onset={set(Field::Password)} autocomplete="current-password" />
                <button id="platform-connect" data-testid="platform-connect" class="primary" type="button"
                    onclick={ctx.op(Op::ConnectPlatform)}>{ if connected_here { "Reconnect" } else { "Connect" } }</button>
                <button id="platform-disconnect" type="button" disabled={!connected_here} onclick={ctx.op(Op::Stop)}>
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
                        onset={ctx.on(|v| Action::Platform(Platform::SetCurrentApi(v)))} />
                    <div class="actions">
                        <button id="platform-write" data-testid="platform-write" class="primary" type="submit">
                            { format!("Write to {}", p.topic()) }
                        </button>
                    </div>
                </form>
            </section>
            <MessageLog id="platform" log={p.log.clone()} format={props.format} tz_offset_min={props.tz_offset_min}
                onformat={ctx.on(Action::SetFormat)} onlog={ctx.on(|a| Action::Platform(Platform::Log(a)))} />
        </>
    }
}
