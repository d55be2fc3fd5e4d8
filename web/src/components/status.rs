//! The connection status line, always visible: connecting, connected, reconnecting in N s
//! (attempt k), the bridge's or broker's reason in words, or "connected elsewhere" with a
//! "Take over" button.

use yew::prelude::*;

use crate::app::use_app;
use crate::mqtt::Op;
use crate::state::{Page, Status};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub status: Status,
    pub purpose: Option<Page>,
    pub notice: Option<String>,
    /// "leader" / "follower" when the connection is shared with other tabs, else "".
    #[prop_or_default]
    pub role: &'static str,
}

#[component(StatusLine)]
pub fn status_line(p: &Props) -> Html {
    let app = use_app().ok();
    let key = p.status.key();
    let what = p
        .purpose
        .map(|page| format!("{}: ", page.title()))
        .unwrap_or_default();
    html! {
        <div class="statusbar">
            <p id="status" data-testid="status" data-state={key} class={classes!("status", key)}
                role="status" aria-live="polite">
                <span class="dot" aria-hidden="true"></span>
                <span>{ what }{ p.status.text() }</span>
                if let (Status::Elsewhere { .. }, Some(app)) = (&p.status, &app) {
                    <button id="take-over" data-testid="take-over" type="button"
                        onclick={app.op(Op::TakeOver)}>{ "Take over" }</button>
                }
            </p>
            if !p.role.is_empty() {
                <p id="tab-role" data-testid="tab-role" data-role={p.role} class="tab-role">
                    { if p.role == "leader" {
                        "This tab holds the connection; other tabs of this identity share it."
                    } else {
                        "Shared: another tab of this identity holds the connection."
                    } }
                </p>
            }
            if let Some(notice) = &p.notice {
                <p id="notice" data-testid="notice" class="notice" role="alert">{ notice.clone() }</p>
            }
        </div>
    }
}
