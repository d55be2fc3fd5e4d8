//! Plays the Murano portal: connect with platform credentials and write a value to
//! `<identity>/<resource>`, which the device's console receives ("if you directly enter values
//! in the browser, the device will also receive those changes").

use yew::prelude::*;

use crate::app::AppContext;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::TextField;
use crate::components::message_log::MessageLog;
use crate::mqtt::Op;
use crate::state::{Action, Field, Page};

#[component(PlatformPage)]
pub fn platform_page() -> Html {
    let ctx = use_context::<AppContext>().expect("AppContext");
    let state = &*ctx.state;
    let p = &state.platform;
    let connected_here = state.conn.purpose == Some(Page::Platform);
    let onsubmit = {
        let run = ctx.run.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            run.emit(Op::WritePlatform);
        })
    };
    html! {
        <>
            <ConnectionPanel settings={state.settings.clone()} onset={ctx.set_field()} device={false}>
                <TextField id="platform-username" label="Platform user name" value={p.username.clone()}
                    onset={ctx.set(Field::PlatformUser)} autocomplete="username" />
                <TextField id="platform-password" label="Platform password" kind="password" value={p.password.clone()}
                    onset={ctx.set(Field::PlatformPassword)} autocomplete="current-password" />
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
                        onset={ctx.set(Field::PlatformIdentity)} placeholder="007" />
                    <TextField id="platform-resource" label="Resource" value={p.resource.clone()} onset={ctx.set(Field::PlatformResource)} />
                    <TextField id="platform-value" label="Value" value={p.value.clone()} onset={ctx.set(Field::PlatformValue)} />
                    <div class="actions">
                        <button id="platform-write" data-testid="platform-write" class="primary" type="submit">
                            { format!("Write to {}", p.topic()) }
                        </button>
                    </div>
                </form>
            </section>
            <MessageLog id="platform" log={p.log.clone()} format={state.console.format} tz_offset_min={state.tz_offset_min}
                onformat={ctx.on(Action::SetFormat)} onpause={ctx.on(|_| Action::TogglePause)}
                onclear={ctx.on(|_| Action::ClearLog)} />
        </>
    }
}
