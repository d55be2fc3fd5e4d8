//! Where to connect (bridge URL, route, Murano product) and as whom (identity, credentials).

use std::rc::Rc;

use yew::prelude::*;

use super::field::TextField;
use crate::model::settings::Field;
use crate::model::Settings;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub settings: Rc<Settings>,
    pub onset: Callback<(Field, String)>,
    /// Show identity, user name, password and client id (not on the platform page).
    #[prop_or(true)]
    pub device: bool,
    /// Show user name and password (not on the activation page: activation is anonymous).
    #[prop_or(true)]
    pub credentials: bool,
    /// What an empty client id field stands for.
    #[prop_or_default]
    pub client_id_default: AttrValue,
    /// The page's buttons.
    #[prop_or_default]
    pub children: Html,
}

#[component(ConnectionPanel)]
pub fn connection_panel(p: &Props) -> Html {
    let set = |field: Field| p.onset.reform(move |v: String| (field, v));
    let s = &p.settings;
    let endpoint = match s.endpoint() {
        Ok(url) => {
            html! { <small id="endpoint" class="endpoint">{ "Dials " }<code>{ url }</code></small> }
        }
        Err(e) => html! { <small id="endpoint" class="endpoint bad" role="alert">{ e }</small> },
    };
    html! {
        <section class="panel connection" aria-labelledby="connection-title">
            <h2 id="connection-title">{ "Connection" }</h2>
            <div class="grid">
                <TextField id="bridge-url" label="Bridge URL" value={s.url.clone()} onset={set(Field::Url)}
                    placeholder="wss://host/mqtt" />
                <TextField id="route" label="Route (optional)" value={s.route.clone()} onset={set(Field::Route)}
                    placeholder="murano" />
                <TextField id="product" label="Murano product id (optional)" value={s.product.clone()}
                    onset={set(Field::Product)} placeholder="x2lmj5npsktbuik9" />
                if p.device {
                    <TextField id="identity" label="Device identity" value={s.identity.clone()}
                        onset={set(Field::Identity)} placeholder="007" />
                    if p.credentials {
                        <TextField id="username" label="User name" value={s.username.clone()}
                            onset={set(Field::Username)} autocomplete="username" />
                        <TextField id="password" label="Password" kind="password" value={s.password.clone()}
                            onset={set(Field::Password)} autocomplete="current-password" />
                    }
                    <TextField id="client-id" label="Client id (optional)" value={s.client_id.clone()}
                        onset={set(Field::ClientId)} placeholder={p.client_id_default.clone()} />
                }
            </div>
            { endpoint }
            <div class="actions">{ p.children.clone() }</div>
        </section>
    }
}
