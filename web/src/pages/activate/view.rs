//! The activation's view: the API and log-in style, the seed's printed lines, the hand-over to
//! the console and "remember".

use std::rc::Rc;

use mqtt_flows::{ActivationMode, LoginStyle};
use yew::prelude::*;

use super::ops::Op;
use super::state::{Action, ActivationState, PAGE};
use crate::components::connection_panel::ConnectionPanel;
use crate::components::field::{CheckField, SelectField};
use crate::context::use_app;
use crate::model::settings::Action as SettingsAction;
use crate::model::page_state::Env;
use crate::model::Common;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Rc<ActivationState>,
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
    let settings = &p.env.settings;
    let a = &*p.state;
    let mode = match a.mode {
        ActivationMode::Legacy => "legacy",
        ActivationMode::Provision => "provision",
    };
    let set_mode = p.act.reform(|v: String| {
        Action::SetMode(if v == "provision" {
            ActivationMode::Provision
        } else {
            ActivationMode::Legacy
        })
    });
    let set_login =
        p.act.reform(|v: String| Action::SetLogin(LoginStyle::from_key(&v).unwrap_or_default()));
    html! {
        <>
            <ConnectionPanel settings={settings.clone()} onset={app.set_field()}
                client_id_default={settings.default_client_id(PAGE)} credentials={false}>
                <SelectField id="activation-mode" label="Activation API" value={mode} onset={set_mode}
                    options={vec![("legacy", "Legacy: activate, activate/<identity>"), ("provision", "Current: $provision/<identity>")]} />
                if a.mode == ActivationMode::Provision {
                    <SelectField id="activation-login" label="Log-in style" value={a.login.key()} onset={set_login}
                        options={vec![("identity", "Identity + token (documented)"), ("token-only", "Empty client id and user name + token")]} />
                    <CheckField id="activation-subscribe" label="Subscribe to the reply topic first"
                        checked={a.subscribe} onset={p.act.reform(Action::SetSubscribe)} />
                }
                <button id="activate" data-testid="activate" class="primary" type="button"
                    disabled={a.running} onclick={p.run.reform(|_| Op::Activate)}>
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
                            onclick={p.act.reform(|_| Action::UseCredentials)}>
                            { format!("Open the console as {}", c.username) }
                        </button>
                    </div>
                }
                <div class="actions">
                    <CheckField id="remember" label="Remember the credentials in this browser"
                        checked={settings.remember} onset={app.on(|v| Common::Settings(SettingsAction::Remember(v)))} />
                    <button id="forget" type="button"
                        onclick={app.on(|_: MouseEvent| Common::Settings(SettingsAction::Forget))}>
                        { "Forget remembered credentials" }
                    </button>
                </div>
            </section>
        </>
    }
}
