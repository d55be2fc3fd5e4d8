//! The leader's side: the session's events routed to the tabs, the followers' requests run
//! (idempotently, by request id), filters counted per tab, and the takeover from the store.

use super::follower::settled_event;
use super::*;
use mqtt_core::persist::Snapshot;

impl Share {
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
    pub(super) fn let_go(&mut self, tab: &str, filters: Option<&[String]>) -> Vec<String> {
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

    /// Leader: the row of publish `id` is committed to the store; the tab that handed it over
    /// learns that the next leader will restore it.
    pub(in crate::browser) fn committed(&mut self, id: PublishId) {
        let Some(index) = self.storing.iter().position(|s| *s == id) else {
            return;
        };
        self.storing.remove(index);
        let owner = self.owners.iter().find(|(k, _)| *k == Key::Pub(id));
        if let Some((_, Owner::Remote(tab, r))) = owner {
            self.post(self.reply("acc", tab, *r).set("p", true));
        }
    }

    /// The owner of a settled call (a refused publish is no longer waiting for its commit).
    fn take_owner(&mut self, key: Key) -> Option<Owner> {
        self.storing.retain(|s| Key::Pub(*s) != key);
        let index = self.owners.iter().position(|(k, _)| *k == key)?;
        Some(self.owners.remove(index).1)
    }

    /// Leader: a session event. Connection states and messages go to every tab; the outcome
    /// of a call goes to the tab that made it. Returns what this tab's own caller gets.
    pub(super) fn route(&mut self, event: Event) -> Option<Event> {
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
}

impl Inner {
    /// Leader: runs `tab`'s command, keeping count of who holds which filter. `None`: done
    /// without the broker (an unsubscribe from filters other tabs still hold).
    #[inline(never)]
    pub(super) fn run_for(
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

    /// Runs a command on this tab's session, a QoS 1/2 publish accepted once its row is
    /// committed to the store (`mqtt_core::persist`).
    pub(super) fn execute(&mut self, now: Instant, command: &Command) -> Result<Key, CommandError> {
        match command {
            Command::Publish {
                topic,
                payload,
                qos,
                retain,
            } => match self.stored.as_mut() {
                Some(stored) => {
                    let session = &mut self.session;
                    stored
                        .persistence
                        .publish(session, now, topic, payload, *qos, *retain)
                }
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

    pub(super) fn lead(&mut self, share: &mut Share, now: Instant, message: &In) {
        let (Some(kind), Some(tab)) = (message.str("t"), message.str("f")) else {
            return;
        };
        if kind == "bye" {
            share.let_go(&tab, None);
            return;
        }
        if kind == "take" {
            // A follower's "Take over": the connection is the leader's to take back.
            self.session.connect(now);
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
            if let Some((key, _)) = share.owners.iter().find(|(_, o)| *o == owner) {
                // Stored once its row is committed (`committed` says so then).
                let stored = match key {
                    Key::Pub(id) => self.stored.is_some() && !share.storing.contains(id),
                    Key::Req(_) => false,
                };
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
        // Accepted once its row is committed: then the next leader restores it (`adopt`, not
        // `pub`), and `committed` tells the follower so.
        let stored = self.stored.is_some()
            && matches!(&command, Command::Publish { qos, .. } if *qos != QoS::AtMostOnce);
        match self.run_for(share, now, &tab, &command) {
            // A re-subscription: no reply.
            Ok(_) if r == 0 => {}
            Ok(Some(key)) => {
                share.owners.push((key, owner));
                match key {
                    Key::Pub(id) if stored => share.storing.push(id),
                    _ => share.post(share.reply("acc", &tab, r).set("p", false)),
                }
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

    /// The stored session was read (`Shared::store_opened`). A tab granted the lock becomes
    /// the leader: it takes its own requests back from the follower role, connects and says
    /// hello; returns the events of requests settled on the way. A lone tab connects (`None`).
    pub(in crate::browser) fn restored(
        &mut self,
        now: Instant,
        restored: Vec<(PublishId, String, Vec<u8>, QoS)>,
    ) -> Option<Vec<Event>> {
        if !self
            .share
            .as_ref()
            .is_some_and(|s| s.release.is_some() && !s.leader)
        {
            self.session.connect(now);
            return None;
        }
        let mut share = self.share.take()?;
        let mut events = Vec::new();
        share.leader = true;
        share.unclaimed = restored;
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
        Some(events)
    }

    /// Restores a stored snapshot into the session (rows refused are reported); returns the
    /// restored publishes, for followers to adopt.
    pub(in crate::browser) fn restore(
        &mut self,
        snapshot: Snapshot,
    ) -> Vec<(PublishId, String, Vec<u8>, QoS)> {
        let mut restored_rows = Vec::new();
        if snapshot.is_empty() {
            return restored_rows;
        }
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
        restored_rows
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
