//! One MQTT connection per (bridge URL, client id) shared by every tab of the origin.
//!
//! ```text
//!  tab A (leader: holds the Web Lock)        tab B, C (followers)
//!  Session + WebSocket + store  ◀── pub/sub/unsub/adopt ── BroadcastChannel ── calls
//!                               ── m, st, acc/ok/err ──▶                     ──▶ events
//! ```
//!
//! Every tab queues for the lock `client-wasm:<url> <client id>`; the tab holding it is the
//! leader and runs the [`Session`](mqtt_core::Session) as a lone tab would. The others send
//! their commands to it and get its events back. A follower's request carries the follower's own
//! id (`f` tab, `r` number) and stays with the follower until settled (`ok`/`err`): a leader
//! that dies first leaves it to be handed again to the next leader, which is where
//! idempotency comes from:
//! - a publish the leader has not accepted (`acc`) is re-submitted: it was never stored;
//! - a publish it accepted is in the store (persistent sessions: `acc` with `p` is posted only
//!   once the IndexedDB transaction holding its row committed), which the next leader
//!   restores and finishes; the follower *adopts* it (`adopt`: matched by topic, payload and
//!   QoS to a restored row not yet claimed) to be told when it completes, or is told `ok` at once
//!   when no row is left (it completed before). So a QoS 2 message is never sent twice, a QoS 1
//!   message at least once. Without a store (clean sessions) accepted publishes are
//!   re-submitted too: at least once for both QoS;
//! - a leader answers a request id it has seen with the same answer (`acc` while in progress,
//!   `ok` once done), so a request that crossed a leader change is not run twice.
//!
//! The one gap: a leader killed between the commit of a follower's row and its transaction's
//! `complete` event (which posts `acc`) leaves a stored message the follower re-submits, so that
//! QoS 2 message may arrive twice.
//!
//! A tab granted the lock first opens and reads the store (IndexedDB answers asynchronously;
//! `Shared::restore_store`, the same path a lone tab takes at startup): until then its own calls
//! wait as a follower's do and the others' requests are ignored; its `hello` then has every
//! follower hand them again. "Connected elsewhere" (`mqtt_core::takeover`) reaches every tab
//! as the leader's state; a follower's `takeOver` is handed to the leader (`take`).
//!
//! Subscriptions are each tab's: every follower re-subscribes its filters to a new leader.
//! Every tab sees every message of the shared connection.

mod follower;
mod glue;
mod leader;
mod wire;

use js_sys::{Array, Function};
use wasm_bindgen::JsValue;

use mqtt_core::{
    qos_to_u8, topic, CommandError, Event, Instant, Message, PublishFailure, PublishId, QoS,
    RequestId,
};
use mqtt_flows::Command;

use super::{console, Inner};
use wire::{In, Out};

pub(crate) use glue::request_lock;

/// Which tab holds the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabRole {
    /// Not shared: this tab has its own connection.
    Solo,
    /// Shared, and this tab holds the WebSocket.
    Leader,
    /// Shared: another tab holds the WebSocket; calls and events go through it.
    Follower,
}

impl TabRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TabRole::Solo => "solo",
            TabRole::Leader => "leader",
            TabRole::Follower => "follower",
        }
    }
}

/// The lock and channel name of a shared connection.
pub(super) fn share_name(url: &str, client_id: &str) -> String {
    format!("client-wasm:{url} {client_id}")
}

/// A session object the leader answers for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Pub(PublishId),
    Req(RequestId),
}

/// Whose call it was: this tab's (by the id its caller got) or another tab's.
#[derive(Clone, PartialEq, Eq)]
enum Owner {
    Local(u64),
    Remote(String, u64),
}

/// A request of this tab not yet settled.
struct Mine {
    id: u64,
    command: Command,
    /// The leader's store committed its row (`acc` with `p`): the next leader restores it.
    stored: bool,
}

/// How many settled remote request ids a leader remembers, to answer a repeat with `ok`.
const REMEMBERED: usize = 1024;

pub(super) struct Share {
    /// This tab's id on the channel.
    tab: String,
    channel: glue::Channel,
    /// Leader (and a tab granted the lock that is still reading the store): resolves the
    /// promise that holds the lock.
    pub(super) release: Option<Function>,
    pub(super) leader: bool,
    next_id: u64,
    mine: Vec<Mine>,
    /// This tab's subscriptions, for re-subscribing them to a new leader.
    subs: Vec<(String, QoS)>,
    owners: Vec<(Key, Owner)>,
    settled: Vec<(String, u64)>,
    /// Restored publishes nobody adopted yet: (id, topic, payload, QoS).
    unclaimed: Vec<(PublishId, String, Vec<u8>, QoS)>,
    pub(super) connected: bool,
    /// Follower: the leader's connection stopped as "connected elsewhere" (until `takeOver`).
    pub(super) elsewhere: bool,
    /// Leader: other tabs' QoS 1/2 publishes whose rows are not committed yet: `acc` with `p`
    /// only once committed (a leader gone before leaves them to be submitted again).
    storing: Vec<PublishId>,
    /// Leader: the last state, for tabs that join later.
    last_state: Option<JsValue>,
    /// Leader: which tabs subscribed to each filter; an unsubscribe reaches the broker only
    /// for filters no other tab holds.
    holders: Vec<(String, String)>,
    /// Leader: outcomes of this tab's calls settled without the broker, for the next drain.
    pub(super) local_events: Vec<Event>,
}

impl Drop for Share {
    /// A client dropped without `end()` must not keep the lock from the other tabs.
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

impl Share {
    /// Opens the channel; `on_message` gets every message of the other tabs.
    pub(super) fn open(
        name: &str,
        tab: String,
        on_message: impl FnMut(JsValue) + 'static,
    ) -> Option<Share> {
        let channel = glue::Channel::open(name, on_message)?;
        let share = Share {
            tab,
            channel,
            release: None,
            leader: false,
            next_id: 1,
            mine: Vec::new(),
            subs: Vec::new(),
            owners: Vec::new(),
            settled: Vec::new(),
            unclaimed: Vec::new(),
            connected: false,
            elsewhere: false,
            storing: Vec::new(),
            last_state: None,
            holders: Vec::new(),
            local_events: Vec::new(),
        };
        share.post(Out::new("hi").set("f", share.tab.as_str()));
        Some(share)
    }

    pub(super) fn role(&self) -> TabRole {
        if self.leader {
            TabRole::Leader
        } else {
            TabRole::Follower
        }
    }

    pub(super) fn pending_count(&self) -> usize {
        self.mine
            .iter()
            .filter(|m| matches!(m.command, Command::Publish { .. }))
            .count()
    }

    fn post(&self, out: Out) {
        self.channel.post(&out.value());
    }

    fn reply(&self, kind: &str, to: &str, id: u64) -> Out {
        Out::new(kind).set("to", to).set("r", id as f64)
    }

    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}

impl Inner {
    /// A call of this tab's caller: run on the session (lone tab, leader) or handed to the
    /// leader (follower). Returns the id the caller's events will carry.
    pub(super) fn command(&mut self, now: Instant, command: Command) -> Result<u64, CommandError> {
        let max_queued = self.session.options().max_queued;
        let leader = self.share.as_ref().map(|s| s.leader);
        if command == Command::Disconnect {
            // A follower's flow cannot end the connection of every tab.
            if leader != Some(false) {
                self.session.disconnect(now);
            }
            return Ok(0);
        }
        if leader == Some(false) {
            if let Some(share) = self.share.as_mut() {
                return share.follow(command, max_queued);
            }
        }
        let Some(mut share) = self.share.take() else {
            return self.execute(now, &command).map(key_number);
        };
        let tab = share.tab.clone();
        let result = self.run_for(&mut share, now, &tab, &command);
        let result = result.map(|key| {
            let own = share.new_id();
            match key {
                Some(key) => share.owners.push((key, Owner::Local(own))),
                None => share.local_events.push(Event::Unsubscribed {
                    request: RequestId(own),
                }),
            }
            own
        });
        self.share = Some(share);
        result
    }

    /// Leader: what the session reports, routed (see [`Share::route`]).
    pub(super) fn route(&mut self, event: Event) -> Option<Event> {
        match self.share.as_mut() {
            Some(share) if share.leader => share.route(event),
            _ => Some(event),
        }
    }

    /// A message from another tab. Followers turn the leader's into events; the leader runs
    /// the followers' requests.
    pub(super) fn on_channel(&mut self, now: Instant, data: &JsValue, events: &mut Vec<Event>) {
        let Some(mut share) = self.share.take() else {
            return;
        };
        let message = In(data);
        if share.leader {
            self.lead(&mut share, now, &message);
        } else {
            share.follow_message(&message, events);
        }
        self.share = Some(share);
    }

    /// Follower: asks the leader to take the client id back after "connected elsewhere".
    pub(super) fn ask_take_over(&self) {
        if let Some(share) = &self.share {
            share.post(Out::new("take").set("f", share.tab.as_str()));
        }
    }

    /// Ends this tab's part: a leader lets the next tab take the lock (on drop).
    pub(super) fn leave(&mut self) {
        if let Some(share) = self.share.take() {
            if !share.leader {
                share.post(Out::new("bye").set("f", share.tab.as_str()));
            }
        }
    }
}

fn key_number(key: Key) -> u64 {
    match key {
        Key::Pub(id) => id.0,
        Key::Req(id) => id.0,
    }
}

use wasm_bindgen::JsCast as _;
