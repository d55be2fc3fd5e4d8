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
//! - a publish it accepted is in the store (persistent sessions), which the next leader
//!   restores and finishes; the follower *adopts* it (`adopt`: matched by topic, payload and
//!   QoS to a restored row not yet claimed) to be told when it completes, or is told `ok` at once
//!   when no row is left (it completed before). So a QoS 2 message is never sent twice, a QoS 1
//!   message at least once. Without a store (clean sessions) accepted publishes are
//!   re-submitted too: at least once for both QoS;
//! - a leader answers a request id it has seen with the same answer (`acc` while in progress,
//!   `ok` once done), so a request that crossed a leader change is not run twice.
//!
//! The one gap: a leader killed between writing a publish to its store and posting `acc` (one
//! task; a closing tab finishes it, a crashing renderer may not) leaves a stored message the
//! follower re-submits, so that QoS 2 message may arrive twice.
//!
//! Subscriptions are each tab's: every follower re-subscribes its filters to a new leader.
//! Every tab sees every message of the shared connection.

mod glue;
mod wire;

use js_sys::{Array, Function};
use wasm_bindgen::JsValue;

use mqtt_core::flows::Command;
use mqtt_core::persist::Persistence;
use mqtt_core::{
    qos_to_u8, topic, CommandError, Event, Instant, Message, PublishFailure, PublishId, QoS,
    RequestId,
};

use super::storage::PendingStore;
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
    /// The leader accepted it into its store (`acc` with `p`): the next leader restores it.
    stored: bool,
}

/// How many settled remote request ids a leader remembers, to answer a repeat with `ok`.
const REMEMBERED: usize = 1024;

pub(super) struct Share {
    /// This tab's id on the channel.
    tab: String,
    channel: glue::Channel,
    /// Leader: resolves the promise that holds the lock.
    release: Option<Function>,
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

    /// Hands `command` to the leader; its id stands for it until `ok`/`err`.
    fn send(&self, mine: &Mine, adopt: bool) {
        let f = self.tab.as_str();
        let r = mine.id as f64;
        let out = match &mine.command {
            Command::Publish {
                topic,
                payload,
                qos,
                retain,
            } => Out::new(if adopt { "adopt" } else { "pub" })
                .set("tp", topic.as_str())
                .bytes("pl", payload)
                .set("q", qos_to_u8(*qos))
                .set("rt", *retain),
            Command::Subscribe(list) => Out::new("sub").set("l", wire::filters_with_qos(list)),
            Command::Unsubscribe(list) => Out::new("unsub").set("l", wire::strings(list)),
            Command::Disconnect => return,
        };
        self.post(out.set("f", f).set("r", r));
    }

    /// A follower's call: checked here as the session would (what only the leader can know,
    /// a full queue or store, comes back as `err`), then handed on.
    fn follow(&mut self, command: Command, max_queued: usize) -> Result<u64, CommandError> {
        match &command {
            Command::Publish { topic, .. } => {
                topic::validate_name(topic)?;
                if self.pending_count() >= max_queued {
                    return Err(CommandError::QueueFull(self.pending_count()));
                }
            }
            Command::Subscribe(list) => {
                if list.is_empty() {
                    return Err(CommandError::NoFilters);
                }
                for (filter, _) in list {
                    topic::validate_filter(filter)?;
                }
                for (filter, qos) in list {
                    match self.subs.iter_mut().find(|(f, _)| f == filter) {
                        Some(existing) => existing.1 = *qos,
                        None => self.subs.push((filter.clone(), *qos)),
                    }
                }
            }
            Command::Unsubscribe(list) => {
                if list.is_empty() {
                    return Err(CommandError::NoFilters);
                }
                for filter in list {
                    topic::validate_filter(filter)?;
                }
                self.subs.retain(|(f, _)| !list.contains(f));
            }
            Command::Disconnect => return Ok(0),
        }
        let mine = Mine {
            id: self.new_id(),
            command,
            stored: false,
        };
        self.send(&mine, false);
        let id = mine.id;
        self.mine.push(mine);
        Ok(id)
    }

    /// (filter, tab) pairs: one flat list is less code than a map of lists.
    fn hold(&mut self, tab: &str, filters: &[(String, QoS)]) {
        for (filter, _) in filters {
            if !self.holders.iter().any(|(f, t)| f == filter && t == tab) {
                self.holders.push((filter.clone(), tab.to_string()));
            }
        }
    }

    /// `tab` lets go of `filters` (all of its filters: `None`); returns those nobody holds
    /// any more.
    #[inline(never)]
    fn let_go(&mut self, tab: &str, filters: Option<&[String]>) -> Vec<String> {
        self.holders
            .retain(|(f, t)| t != tab || filters.is_some_and(|list| !list.contains(f)));
        let mut free = filters.unwrap_or_default().to_vec();
        free.retain(|f| !self.holders.iter().any(|(held, _)| held == f));
        free
    }

    fn remember(&mut self, tab: String, id: u64) {
        if self.settled.len() == REMEMBERED {
            self.settled.remove(0);
        }
        self.settled.push((tab, id));
    }

    fn take_owner(&mut self, key: Key) -> Option<Owner> {
        let index = self.owners.iter().position(|(k, _)| *k == key)?;
        Some(self.owners.remove(index).1)
    }

    /// Leader: a session event. Connection states and messages go to every tab; the outcome
    /// of a call goes to the tab that made it. Returns what this tab's own caller gets.
    fn route(&mut self, event: Event) -> Option<Event> {
        match event {
            Event::Connected { session_present } => {
                self.connected = true;
                self.broadcast_state(Out::new("st").set("s", "c").set("sp", session_present));
                Some(event)
            }
            Event::ConnectionLost {
                ref error,
                reconnect_in,
                attempt,
            } => {
                self.connected = false;
                let mut out = Out::new("st")
                    .set("a", attempt)
                    .set("e", wire::error_out(error));
                out = match reconnect_in {
                    Some(delay) => out.set("s", "r").set("ms", delay.as_millis() as f64),
                    None => out.set("s", "x"),
                };
                self.broadcast_state(out);
                Some(event)
            }
            Event::Reconnecting { attempt } => {
                self.broadcast_state(Out::new("st").set("s", "k").set("a", attempt));
                Some(event)
            }
            Event::Message(ref m) => {
                self.post(
                    Out::new("m")
                        .set("tp", m.topic.as_str())
                        .bytes("pl", &m.payload)
                        .set("q", qos_to_u8(m.qos))
                        .set("rt", m.retain)
                        .set("d", m.dup),
                );
                Some(event)
            }
            Event::Published { id } => match self.take_owner(Key::Pub(id)) {
                Some(Owner::Local(own)) => Some(Event::Published { id: PublishId(own) }),
                Some(Owner::Remote(tab, r)) => {
                    self.post(self.reply("ok", &tab, r));
                    self.remember(tab, r);
                    None
                }
                None => {
                    self.unclaimed.retain(|u| u.0 != id);
                    None
                }
            },
            Event::PublishFailed { id, reason } => match self.take_owner(Key::Pub(id)) {
                Some(Owner::Local(own)) => Some(Event::PublishFailed {
                    id: PublishId(own),
                    reason,
                }),
                Some(Owner::Remote(tab, r)) => {
                    self.post(self.reply("err", &tab, r).set("c", reason.code()));
                    self.remember(tab, r);
                    None
                }
                None => {
                    self.unclaimed.retain(|u| u.0 != id);
                    None
                }
            },
            Event::Subscribed { request, granted } => match self.take_owner(Key::Req(request)) {
                Some(Owner::Local(own)) => Some(Event::Subscribed {
                    request: RequestId(own),
                    granted,
                }),
                Some(Owner::Remote(tab, r)) => {
                    let list = Array::new();
                    for g in &granted {
                        list.push(&JsValue::from(g.map_or(0x80, qos_to_u8)));
                    }
                    self.post(self.reply("ok", &tab, r).set("g", list));
                    self.remember(tab, r);
                    None
                }
                None => None,
            },
            Event::Unsubscribed { request } => match self.take_owner(Key::Req(request)) {
                Some(Owner::Local(own)) => Some(Event::Unsubscribed {
                    request: RequestId(own),
                }),
                Some(Owner::Remote(tab, r)) => {
                    self.post(self.reply("ok", &tab, r));
                    self.remember(tab, r);
                    None
                }
                None => None,
            },
            other => Some(other),
        }
    }

    fn broadcast_state(&mut self, out: Out) {
        let value = out.value();
        self.channel.post(&value);
        self.last_state = Some(value);
    }

    /// Follower: a message from the leader, as the events this tab's caller gets.
    fn follow_message(&mut self, message: &In, events: &mut Vec<Event>) {
        let kind = message.str("t").unwrap_or_default();
        if let Some(to) = message.str("to") {
            if to != self.tab {
                return;
            }
        }
        match kind.as_str() {
            "hello" => {
                self.connected = false;
                if !self.subs.is_empty() {
                    let f = self.tab.as_str();
                    self.post(
                        Out::new("sub")
                            .set("f", f)
                            .set("r", 0)
                            .set("l", wire::filters_with_qos(&self.subs)),
                    );
                }
                for mine in &self.mine {
                    let adopt = mine.stored;
                    self.send(mine, adopt);
                }
            }
            "st" => {
                if let Some(event) = state_event(message) {
                    self.connected = matches!(event, Event::Connected { .. });
                    events.push(event);
                }
            }
            "m" => {
                let (Some(topic), Some(payload), Some(qos)) =
                    (message.str("tp"), message.bytes("pl"), message.qos("q"))
                else {
                    return;
                };
                events.push(Event::Message(Message {
                    topic,
                    payload,
                    qos,
                    retain: message.flag("rt"),
                    dup: message.flag("d"),
                }));
            }
            "acc" | "ok" | "err" => {
                let Some(id) = message.num("r") else { return };
                let Some(index) = self.mine.iter().position(|m| m.id == id) else {
                    return;
                };
                if kind == "acc" {
                    self.mine[index].stored = message.flag("p");
                    return;
                }
                let mine = self.mine.remove(index);
                let code = message.str("c");
                events.push(settled_event(&mine, code.as_deref(), message));
            }
            _ => {}
        }
    }
}

/// The event a follower's caller gets when the leader settles its request.
fn settled_event(mine: &Mine, refused: Option<&str>, message: &In) -> Event {
    match (&mine.command, refused) {
        (Command::Publish { .. }, None) => Event::Published {
            id: PublishId(mine.id),
        },
        (Command::Publish { .. }, Some(code)) => Event::PublishFailed {
            id: PublishId(mine.id),
            reason: match code {
                "session_lost" => PublishFailure::SessionLostBeforePubcomp,
                other => PublishFailure::RefusedBySharedConnection(wire::refusal_code(other)),
            },
        },
        (Command::Subscribe(list), refused) => {
            let granted: Vec<Option<QoS>> = match (refused, message.list("g")) {
                (None, Some(g)) => {
                    let mut granted = Vec::new();
                    for q in g.iter() {
                        granted.push(q.as_f64().and_then(|n| mqtt_core::qos_from_u8(n as u8)));
                    }
                    granted
                }
                _ => vec![None; list.len()],
            };
            Event::Subscribed {
                request: RequestId(mine.id),
                granted,
            }
        }
        _ => Event::Unsubscribed {
            request: RequestId(mine.id),
        },
    }
}

/// A follower's view of the leader's connection state.
fn state_event(message: &In) -> Option<Event> {
    let attempt = message.num("a").unwrap_or(0) as u32;
    Some(match message.str("s")?.as_str() {
        "c" => Event::Connected {
            session_present: message.flag("sp"),
        },
        "k" => Event::Reconnecting { attempt },
        "r" => Event::ConnectionLost {
            error: wire::error_in(&message.object("e")),
            reconnect_in: Some(core::time::Duration::from_millis(
                message.num("ms").unwrap_or(0),
            )),
            attempt,
        },
        "x" => Event::ConnectionLost {
            error: wire::error_in(&message.object("e")),
            reconnect_in: None,
            attempt,
        },
        _ => return None,
    })
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

    /// Leader: runs `tab`'s command, keeping count of who holds which filter. `None`: done
    /// without the broker (an unsubscribe from filters other tabs still hold).
    #[inline(never)]
    fn run_for(
        &mut self,
        share: &mut Share,
        now: Instant,
        tab: &str,
        command: &Command,
    ) -> Result<Option<Key>, CommandError> {
        match command {
            Command::Subscribe(list) => {
                let key = self.execute(now, command)?;
                share.hold(tab, list);
                Ok(Some(key))
            }
            Command::Unsubscribe(list) => {
                for filter in list {
                    topic::validate_filter(filter)?;
                }
                let free = share.let_go(tab, Some(list));
                if free.is_empty() && !list.is_empty() {
                    return Ok(None);
                }
                self.execute(now, &Command::Unsubscribe(free)).map(Some)
            }
            _ => self.execute(now, command).map(Some),
        }
    }

    /// Runs a command on this tab's session, a QoS 1/2 publish written ahead to the store.
    fn execute(&mut self, now: Instant, command: &Command) -> Result<Key, CommandError> {
        match command {
            Command::Publish {
                topic,
                payload,
                qos,
                retain,
            } => match self.store.as_mut() {
                Some(store) => store.publish(&mut self.session, now, topic, payload, *qos, *retain),
                None => self.session.publish(now, topic, payload, *qos, *retain),
            }
            .map(Key::Pub),
            Command::Subscribe(list) => self.session.subscribe(now, &borrowed(list)).map(Key::Req),
            Command::Unsubscribe(list) => {
                let filters: Vec<&str> = list.iter().map(String::as_str).collect();
                self.session.unsubscribe(now, &filters).map(Key::Req)
            }
            Command::Disconnect => {
                self.session.disconnect(now);
                Ok(Key::Req(RequestId(0)))
            }
        }
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

    fn lead(&mut self, share: &mut Share, now: Instant, message: &In) {
        let (Some(kind), Some(tab)) = (message.str("t"), message.str("f")) else {
            return;
        };
        if kind == "bye" {
            share.let_go(&tab, None);
            return;
        }
        if kind == "hi" {
            if let Some(state) = &share.last_state {
                let copy = js_sys::Object::assign(&js_sys::Object::new(), state.unchecked_ref());
                let _ = js_sys::Reflect::set(&copy, &"to".into(), &tab.as_str().into());
                share.channel.post(&copy);
            }
            return;
        }
        let Some(r) = message.num("r") else { return };
        let owner = Owner::Remote(tab.clone(), r);
        if r != 0 {
            if share.owners.iter().any(|(_, o)| *o == owner) {
                let stored = self.store.is_some();
                share.post(share.reply("acc", &tab, r).set("p", stored));
                return;
            }
            if share.settled.iter().any(|(t, i)| *t == tab && *i == r) {
                share.post(share.reply("ok", &tab, r));
                return;
            }
        }
        let publish = || {
            Some(Command::Publish {
                topic: message.str("tp")?,
                payload: message.bytes("pl")?,
                qos: message.qos("q")?,
                retain: message.flag("rt"),
            })
        };
        let command = match kind.as_str() {
            "pub" => publish(),
            "sub" => message
                .list("l")
                .and_then(|l| wire::read_filters_with_qos(&l))
                .map(Command::Subscribe),
            "unsub" => message
                .list("l")
                .and_then(|l| wire::read_strings(&l))
                .map(Command::Unsubscribe),
            "adopt" => {
                let Some(Command::Publish {
                    topic,
                    payload,
                    qos,
                    ..
                }) = publish()
                else {
                    return;
                };
                match claim(share, &topic, &payload, qos) {
                    Some(id) => {
                        share.owners.push((Key::Pub(id), owner));
                        share.post(share.reply("acc", &tab, r).set("p", true));
                    }
                    None => share.post(share.reply("ok", &tab, r)),
                }
                return;
            }
            _ => None,
        };
        let Some(command) = command else { return };
        // Written ahead to the store: the next leader restores it (`adopt`, not `pub`).
        let stored = self.store.is_some()
            && matches!(&command, Command::Publish { qos, .. } if *qos != QoS::AtMostOnce);
        match self.run_for(share, now, &tab, &command) {
            // A re-subscription: no reply.
            Ok(_) if r == 0 => {}
            Ok(Some(key)) => {
                share.owners.push((key, owner));
                share.post(share.reply("acc", &tab, r).set("p", stored));
            }
            Ok(None) => {
                share.post(share.reply("ok", &tab, r));
                share.remember(tab, r);
            }
            Err(e) => {
                if r != 0 {
                    share.post(share.reply("err", &tab, r).set("c", e.code()));
                }
            }
        }
    }

    /// This tab got the lock: it rebuilds the session from the store, takes its own requests
    /// back from the follower role, connects and says hello. Returns the events of requests
    /// settled on the way.
    pub(super) fn promote(&mut self, now: Instant, release: Function) -> Vec<Event> {
        let mut events = Vec::new();
        let Some(mut share) = self.share.take() else {
            return events;
        };
        share.leader = true;
        share.release = Some(release);
        share.unclaimed = self.restore_store();
        if !share.subs.is_empty() {
            let _ = self.session.subscribe(now, &borrowed(&share.subs));
            let (tab, subs) = (share.tab.clone(), share.subs.clone());
            share.hold(&tab, &subs);
        }
        for mine in std::mem::take(&mut share.mine) {
            let adopt = mine.stored;
            if let (
                true,
                Command::Publish {
                    topic,
                    payload,
                    qos,
                    ..
                },
            ) = (adopt, &mine.command)
            {
                match claim(&mut share, topic, payload, *qos) {
                    Some(id) => share.owners.push((Key::Pub(id), Owner::Local(mine.id))),
                    None => events.push(settled_event(&mine, None, &In(&JsValue::UNDEFINED))),
                }
                continue;
            }
            let tab = share.tab.clone();
            match self.run_for(&mut share, now, &tab, &mine.command) {
                Ok(Some(key)) => share.owners.push((key, Owner::Local(mine.id))),
                Ok(None) => events.push(settled_event(&mine, None, &In(&JsValue::UNDEFINED))),
                Err(e) => {
                    console::warn(&format!(
                        "client-wasm: a request of this tab was refused ({e})"
                    ));
                    let code = e.code();
                    events.push(settled_event(&mine, Some(code), &In(&JsValue::UNDEFINED)));
                }
            }
        }
        share.post(Out::new("hello"));
        self.share = Some(share);
        self.session.connect(now);
        events
    }

    /// Opens the store (persistent sessions) and restores its snapshot into the session;
    /// returns the restored publishes.
    pub(super) fn restore_store(&mut self) -> Vec<(PublishId, String, Vec<u8>, QoS)> {
        let mut restored_rows = Vec::new();
        if !self.persist {
            return restored_rows;
        }
        let Some(mut store) = PendingStore::open(&self.session.options().client_id) else {
            return restored_rows;
        };
        let snapshot = store.load();
        if !snapshot.is_empty() {
            let rows = snapshot.pending.clone();
            let restored = self.session.restore(snapshot);
            for row in &restored.rejected {
                console::warn(&format!(
                    "client-wasm: a stored row was refused ({}): {}",
                    row.index, row.reason
                ));
            }
            for (index, id) in restored.publishes {
                if let Some(row) = rows.get(index) {
                    restored_rows.push((id, row.topic.clone(), row.payload.clone(), row.qos));
                }
            }
        }
        self.store = Some(Persistence::new(store));
        restored_rows
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

/// The first restored publish with this content nobody adopted yet.
fn claim(share: &mut Share, topic: &str, payload: &[u8], qos: QoS) -> Option<PublishId> {
    let index = share
        .unclaimed
        .iter()
        .position(|u| u.1 == topic && u.2 == payload && u.3 == qos)?;
    Some(share.unclaimed.remove(index).0)
}

fn borrowed(list: &[(String, QoS)]) -> Vec<(&str, QoS)> {
    let mut filters = Vec::new();
    for (f, q) in list {
        filters.push((f.as_str(), *q));
    }
    filters
}

fn key_number(key: Key) -> u64 {
    match key {
        Key::Pub(id) => id.0,
        Key::Req(id) => id.0,
    }
}

use wasm_bindgen::JsCast as _;
