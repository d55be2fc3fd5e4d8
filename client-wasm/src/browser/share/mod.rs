//! One connection per (bridge URL, client id) shared by the tabs of the origin: the browser
//! side of [`mqtt_tabs`], whose typed messages and leader/follower logic are tested natively
//! (see its crate docs for the protocol and its guarantees). Here: the Web Lock that elects the
//! leader and the `BroadcastChannel` that carries the messages ([`lock`]), and the one codec
//! between a [`TabMessage`] and the JS value a channel carries ([`codec`]).
//!
//! Only a tab that shares enters this module: a lone tab's client has no [`Sharing`].

mod codec;
mod lock;

use js_sys::Function;
use wasm_bindgen::JsValue;

use mqtt_tabs::msgs::{TabId, TabMessage};
use mqtt_tabs::Tab;

pub(crate) use lock::request_lock;

/// The lock and channel name of a shared connection.
pub(crate) fn share_name(url: &str, client_id: &str) -> String {
    format!("client-wasm:{url} {client_id}")
}

/// This tab's part in a shared connection.
pub(crate) struct Sharing {
    pub(crate) tab: Tab,
    channel: lock::Channel,
    /// Leader (and a tab granted the lock that is still reading the store): resolves the
    /// promise that holds the lock.
    release: Option<Function>,
}

impl Drop for Sharing {
    /// A client dropped without `end()` must not keep the lock from the other tabs.
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

impl Sharing {
    /// Opens the channel; `on_message` gets every message of the other tabs that decodes.
    pub(crate) fn open(
        name: &str,
        id: TabId,
        mut on_message: impl FnMut(TabMessage) + 'static,
    ) -> Option<Sharing> {
        let channel = lock::Channel::open(name, move |data| {
            // A peer's message is read like bytes from the network: what does not decode is
            // ignored.
            if let Ok(message) = codec::from_js(&data) {
                on_message(message);
            }
        })?;
        let mut sharing = Sharing {
            tab: Tab::new(id),
            channel,
            release: None,
        };
        sharing.flush();
        Some(sharing)
    }

    /// The lock is this tab's until `release` is called (or the tab ends).
    pub(crate) fn granted(&mut self, release: Function) {
        self.release = Some(release);
        self.tab.lock_acquired();
    }

    /// Posts what the tab has to say.
    pub(crate) fn flush(&mut self) {
        while let Some(message) = self.tab.poll_post() {
            self.channel.post(&codec::to_js(&message));
        }
    }
}
