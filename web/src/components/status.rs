//! The connection status line, always visible: connecting, connected, reconnecting in N s
//! (attempt k), or the bridge's or broker's reason in words.

use yew::prelude::*;

use crate::state::{Page, Status};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub status: Status,
    pub purpose: Option<Page>,
    pub notice: Option<String>,
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
            </p>
            if let Some(notice) = &p.notice {
                <p id="notice" data-testid="notice" class="notice" role="alert">{ notice.clone() }</p>
            }
        </div>
    }
}
