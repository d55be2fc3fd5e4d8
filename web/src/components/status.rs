//! The connection status line, always visible: connecting, connected, reconnecting in N s
//! (attempt k), the bridge's or broker's reason in words, or "connected elsewhere" with a
//! "Take over" button.

use yew::prelude::*;

use crate::model::conn::TabRole;
use crate::model::{Page, Status};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub status: Status,
    pub purpose: Option<Page>,
    pub notice: Option<String>,
    /// `None` when the connection is not shared with other tabs.
    #[prop_or_default]
    pub role: Option<TabRole>,
    /// "Take over" after "connected elsewhere".
    pub on_take_over: Callback<()>,
}

#[component(StatusLine)]
pub fn status_line(p: &Props) -> Html {
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
                if let Status::Elsewhere { .. } = &p.status {
                    <button id="take-over" data-testid="take-over" type="button"
                        onclick={p.on_take_over.reform(|_| ())}>{ "Take over" }</button>
                }
            </p>
            if let Some(role) = p.role {
                <p id="tab-role" data-testid="tab-role" data-role={role.key()} class="tab-role">
                    { match role {
                        TabRole::Leader => "This tab holds the connection; other tabs of this identity share it.",
                        TabRole::Follower => "Shared: another tab of this identity holds the connection.",
                    } }
                </p>
            }
            if let Some(notice) = &p.notice {
                <p id="notice" data-testid="notice" class="notice" role="alert">{ notice.clone() }</p>
            }
        </div>
    }
}
