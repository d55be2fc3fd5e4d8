//! The page's side of a run: the adapter loop around the session (drain in the documented
//! order, hold bytes and events until the store holds their change, as the browser adapter
//! does), the store's commits, reloads, and the books kept from the events the page hears.

use std::collections::VecDeque;

use mqtt_core::persist::Persistence;
use mqtt_core::{
    qos_to_u8, ConnectionError, Event, PendingPublish, PublishFailure, PublishId, QoS, Session,
    TransportAction,
};

use crate::schedule::Commits;
use crate::world::{Link, Outcome, World};

fn name(payload: &[u8]) -> String {
    String::from_utf8_lossy(payload).into_owned()
}

impl World {
    /// The tab reloads: the session is gone, a new one starts from the persisted store.
    pub(crate) fn reload(&mut self, forged: bool) {
        self.trace.push("page reload".into());
        if let Some(link) = self.link.take() {
            self.note_unseen_fresh_session(&link);
            if self.broker.connection_id() == Some(link.id()) {
                self.broker.drop_connection();
            }
        }
        self.forget_unheard();
        if self.store.writing.take().is_some() {
            self.trace.push("uncommitted write lost".into());
        }
        self.held_bytes.clear();
        self.held_events.clear();
        let seed = self.rng.next();
        self.session = Session::new(Self::options(&self.scenario, seed));
        let mut snapshot = self.store.kept.clone().unwrap_or_default();
        if forged {
            // A hand-edited row: it must be refused, never sent.
            snapshot.pending.push(PendingPublish {
                topic: "sim/#".into(),
                payload: b"forged".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: false,
                packet_id: Some(0),
                released: false,
            });
        }
        let rows: Vec<String> = snapshot
            .pending
            .iter()
            .map(|p| {
                format!(
                    "{}:q{}:{:?}:{}",
                    name(&p.payload),
                    qos_to_u8(p.qos),
                    p.packet_id,
                    p.released
                )
            })
            .collect();
        self.trace.push(format!("restoring {}", rows.join(" ")));
        let pending = snapshot.pending.clone();
        let forged_index = pending.len().wrapping_sub(1);
        let restored = self.session.restore(snapshot);
        self.persistence = Persistence::new(&self.session);
        if forged && !restored.rejected.iter().any(|r| r.index == forged_index) {
            self.misreport = Some("a forged row was restored".into());
        }
        if let Some(r) = restored
            .rejected
            .iter()
            .find(|r| !forged || r.index != forged_index)
        {
            self.misreport = Some(format!("a row the session wrote was refused: {r:?}"));
        }
        self.ids.clear();
        for (index, id) in restored.publishes {
            if let Some(row) = pending.get(index) {
                self.ids.insert(id, (row.payload.clone(), row.qos));
            }
        }
        self.start_page();
    }

    /// What the page never heard of is gone with it: publishes still waiting for their row
    /// were never accepted, nor were those refused in an event still held; a new broker
    /// session the session read but did not commit leaves QoS 2 releases ambiguous, as a lost
    /// CONNACK does.
    fn forget_unheard(&mut self) {
        for id in self.persistence.uncommitted().collect::<Vec<_>>() {
            self.never_accepted(id, "row not committed");
        }
        let mut refused = Vec::new();
        let mut fresh_unheard = false;
        for event in self.held_events.iter() {
            match event {
                Event::PublishFailed {
                    id,
                    reason: PublishFailure::NotStored(_) | PublishFailure::Refused(_),
                } => refused.push(*id),
                Event::Connected {
                    session_present: false,
                } => fresh_unheard = true,
                _ => {}
            }
        }
        for id in refused {
            self.never_accepted(id, "refusal not heard");
        }
        if fresh_unheard {
            self.mark_ambiguous("CONNACK (new session) read but not committed");
        }
    }

    fn never_accepted(&mut self, id: PublishId, why: &str) {
        if let Some((payload, _)) = self.ids.remove(&id) {
            self.trace
                .push(format!("{} never accepted ({why})", name(&payload)));
            self.outcomes.remove(&payload);
        }
    }

    /// Drains the session in its documented order, carries out its transport actions, moves
    /// the broker's output onto the link, and books events.
    pub(crate) fn drain(&mut self) {
        loop {
            let mut progressed = false;
            let change = self.session.pending_changes();
            while let Some(bytes) = self.session.poll_transmit() {
                progressed = true;
                self.held_bytes.push(change, bytes);
            }
            while let Some(action) = self.session.poll_transport() {
                progressed = true;
                // Bytes for the old link go before it changes, if the store allows; else never.
                self.release_held();
                self.held_bytes.clear();
                match action {
                    TransportAction::Open => self.open_link(),
                    TransportAction::Close => self.close_link(),
                }
            }
            while let Some(event) = self.session.poll_event() {
                progressed = true;
                if let (Event::Connected { .. }, Some(link)) = (&event, self.link.as_mut()) {
                    link.connected = true;
                }
                self.held_events.push(change, event);
            }
            // The store: one write at a time; it commits now or in a later turn.
            if self.scenario.store && self.store.writing.is_none() {
                if let Some(snapshot) = self.persistence.poll_write(&self.session) {
                    self.store.writing = Some(snapshot);
                }
            }
            if self.commits == Commits::Random
                && self.store.writing.is_some()
                && self.rng.chance(2, 3)
            {
                progressed = true;
                self.commit();
            }
            progressed |= self.release_held();
            let out = self.broker.take_output();
            if !out.is_empty() {
                progressed = true;
                if let Some(link) = self.link.as_mut() {
                    link.to_client.extend(out);
                }
            }
            if self.broker.take_closed() {
                progressed = true;
                self.drop_link("broker closed the connection");
            }
            if !progressed {
                return;
            }
        }
    }

    fn open_link(&mut self) {
        let id = self.next_link;
        self.next_link += 1;
        self.link = Some(Link::new(id));
        self.broker.accept(id);
        let now = self.instant();
        self.session.handle_transport_open(now);
    }

    fn close_link(&mut self) {
        // What was written before the close still reaches the broker.
        if let Some(mut link) = self.link.take() {
            if self.broker.connection_id() == Some(link.id()) {
                let rest: Vec<u8> = link.to_broker.drain(..).collect();
                self.broker.receive(&rest);
                self.broker.drop_connection();
            }
            self.note_unseen_fresh_session(&link);
        }
    }

    /// The write in progress commits (or fails as a whole).
    pub(crate) fn commit(&mut self) {
        if self.store.writing.is_none() {
            return;
        }
        let result = self.store.commit();
        let now = self.instant();
        if let Err(e) = self.persistence.write_done(&mut self.session, now, result) {
            if !self.storage_degraded {
                self.trace
                    .push(format!("storage write failed, reported: {e}"));
            }
            self.storage_degraded = true;
        }
    }

    /// Bytes and events whose change the store holds: bytes to the link, events to the page.
    /// Returns whether anything moved.
    fn release_held(&mut self) -> bool {
        let through = if self.scenario.store {
            Some(self.persistence.stored_through())
        } else {
            Some(u64::MAX)
        };
        let mut moved = false;
        while let Some(bytes) = self.held_bytes.pop_ready(through) {
            moved = true;
            if let Some(link) = self.link.as_mut() {
                link.to_broker.extend(bytes);
            }
        }
        while let Some(event) = self.held_events.pop_ready(through) {
            moved = true;
            self.book(event);
        }
        moved
    }

    fn book(&mut self, event: Event) {
        match event {
            Event::Published { id } => self.settle(id, Outcome::Published, "Published"),
            Event::PublishFailed { id, reason } => self.settle(
                id,
                Outcome::Failed,
                &format!("PublishFailed ({})", reason.code()),
            ),
            Event::Message(message) => {
                if self.trace.len() < 100_000 {
                    self.trace.push(format!(
                        "Message {} q{} dup={}",
                        name(&message.payload),
                        qos_to_u8(message.qos),
                        message.dup
                    ));
                }
                let count = self.received.entry(message.payload.clone()).or_default();
                *count += 1;
                if *count == 2 {
                    self.received_again.push(message.payload.clone());
                }
                self.received_order.push(message.payload);
            }
            Event::ConnectionLost { error, .. } => {
                self.trace.push(format!("ConnectionLost: {error}"));
                if let ConnectionError::ConnectedElsewhere { .. } = error {
                    // The user presses "take over".
                    self.take_over = true;
                }
            }
            Event::Connected { session_present } => {
                self.trace
                    .push(format!("Connected session_present={session_present}"));
            }
            _ => {}
        }
    }

    /// Records the one outcome of the publish behind `id`.
    fn settle(&mut self, id: PublishId, outcome: Outcome, label: &str) {
        let Some((payload, qos)) = self.ids.get(&id).cloned() else {
            self.misreport = Some(format!("{label} for an id never accepted: {id:?}"));
            return;
        };
        let what = name(&payload);
        if self.trace.len() < 100_000 {
            self.trace.push(format!("{label} {what}"));
        }
        let entry = self
            .outcomes
            .entry(payload.clone())
            .or_insert((qos, Outcome::Pending));
        if entry.1 != Outcome::Pending {
            self.misreport = Some(format!("{label} after another outcome for {what}"));
        }
        entry.1 = outcome;
        if outcome == Outcome::Published {
            self.published_unchecked.push(payload);
        }
    }
}

impl Link {
    pub(crate) fn new(id: u64) -> Link {
        Link {
            id,
            connected: false,
            to_broker: VecDeque::new(),
            to_client: VecDeque::new(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}
