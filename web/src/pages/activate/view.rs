//! Murano activation (seed 000), legacy (`activate`) or current (`$provision`): prints the seed's
//! lines, copies the credentials into the console and offers to remember them.

use std::rc::Rc;

use mqtt_core::flows::{ActivationMode, LoginStyle};
use yew::prelude::*;

use super::state::{Action as Activate, ActivationState};
use crate::app::use_app;
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{CheckField, SelectField};
use crate::mqtt::Op;
use crate::state::{Action, Page, Settings};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<ActivationState>,
    pub settings: Rc<Settings>,
}

#[component(ActivatePage)]
pub fn activate_page(p: &Props) -> Html {
    let ctx = match use_app() {
        Ok(ctx) => ctx,
        Err(error) => return error,
    };
    let a = &*p.state;
    let mode = match a.mode {
        ActivationMode::Legacy => "legacy",
        ActivationMode::Provision => "provision",
    };
    let set_mode = ctx.on(|v: String| {
        Action::Activate(Activate::SetMode(if v == "provision" {
            ActivationMode::Provision
        } else {
            ActivationMode::Legacy
        }))
    });
    let set_login = ctx.on(|v: String| {
        Action::Activate(Activate::SetLogin(
            LoginStyle::from_key(&v).unwrap_or_default(),
        ))
    });
    html! {
        <>
            <ConnectionPanel settings={p.settings.clone()} onset={ctx.set_field()}
                client_id_default={p.settings.default_client_id(Page::Activate)} credentials={false}>
                <SelectField id="activation-mode" label="Activation API" value={mode} onset={set_mode}
                    options={vec![("legacy", "Legacy: activate, activate/<identity>"), ("provision", "Current: $provision/<identity>")]} />
                if a.mode == ActivationMode::Provision {
                    <SelectField id="activation-login" label="Log-in style" value={a.login.key()} onset={set_login}
                        options={vec![("identity", "Identity + token (documented)"), ("token-only", "Empty client id and user name + token")]} />
                    <CheckField id="activation-subscribe" label="Subscribe to the reply topic first"
                        checked={a.subscribe} onset={ctx.on(|v| Action::Activate(Activate::SetSubscribe(v)))} />
                }
                <button id="activate" data-testid="activate" class="primary" type="button"
                    disabled={a.running} onclick={ctx.op(Op::Activate)}>
                    { if a.running { "Activating…" } else { "Activate" } }
                </button>
            </ConnectionPanel>
            <section class="panel" aria-labelledby="activation-title">
                <h2 id="activation-title">{ "Activation" }</h2>
                <p class="help">{ "Connects anonymously with client id = identity (empty in the token-only style), \
                    subscribes to the reply topic (unless unticked: some Murano versions push the reply) and \
                    asks the platform for this identity's password, at QoS 1." }</p>
                <pre id="activation-output" data-testid="activation-output" class="output" aria-live="polite">
                    { a.lines.join("\n") }
                </pre>
                if let Some(c) = &a.credentials {
                    <div class="actions">
                        <button id="use-credentials" data-testid="use-credentials" class="primary" type="button"
                            onclick={ctx.on(|_: MouseEvent| Action::UseCredentials)}>
                            { format!("Open the console as {}", c.username) }
                        </button>
                    </div>
                }
                <div class="actions">
                    <CheckField id="remember" label="Remember the credentials in this browser"
                        checked={p.settings.remember} onset={ctx.on(Action::SetRemember)} />
                    <button id="forget" type="button" onclick={ctx.on(|_: MouseEvent| Action::Forget)}>
                        { "Forget remembered credentials" }
                    </button>
                </div>
            </section>
        </>
    }
}
