//! One simulated run: the real `Session` (as a browser tab would hold it, with its persisted
//! store), a link that can be cut at any byte, the model broker, and the invariants.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use mqtt_core::persist::Persistence;
use mqtt_core::{
    qos_to_u8, ConnectionError, Event, Instant, Options, PendingPublish, PublishFailure, PublishId,
    QoS, Session, TransportAction, TransportFailure,
};

use crate::broker::{Broker, Held, Misbehaviour};
use crate::rng::Rng;
use crate::store::SimStore;

const CLIENT_ID: &str = "sim-device";
const UP: &str = "sim/up";
const DOWN: &str = "sim/down";

/// What a seed draws once for its whole run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub clean_session: bool,
    pub persistent_broker: bool,
    pub misbehaviour: Misbehaviour,
    pub reloads: bool,
    pub takeovers: bool,
    pub restarts: bool,
    pub steps: usize,
}

impl Scenario {
    pub fn draw(rng: &mut Rng) -> Scenario {
        Scenario {
            clean_session: rng.chance(1, 2),
            persistent_broker: rng.chance(1, 2),
            misbehaviour: Misbehaviour {
                duplicate_puback: rng.chance(1, 8),
                puback_unknown_id: rng.chance(1, 8),
                reversed_acks: rng.chance(1, 8),
            },
            reloads: rng.chance(1, 2),
            takeovers: rng.chance(1, 4),
            restarts: rng.chance(1, 4),
            steps: 50 + rng.below(250) as usize,
        }
    }

    /// Whether the broker may legitimately lose messages addressed to the client (its session
    /// goes with a clean connection, a restart without persistence, or a takeover).
    fn broker_may_drop_session(&self) -> bool {
        self.clean_session || self.takeovers || (self.restarts && !self.persistent_broker)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pending,
    Published,
    /// `PublishFailed`: the session says it will not complete (a typed, reported outcome).
    Failed,
}

#[derive(Debug)]
struct Link {
    id: u64,
    /// The session saw CONNACK on this link.
    connected: bool,
    to_broker: VecDeque<u8>,
    to_client: VecDeque<u8>,
}

pub struct World {
    rng: Rng,
    scenario: Scenario,
    now: u64,
    session: Session,
    /// The handshake with the store, and the store (asynchronous, like IndexedDB).
    persistence: Persistence,
    store: SimStore,
    /// The session's bytes and events, held until the store holds the state they depend on.
    held_bytes: Vec<u8>,
    held_events: Vec<Event>,
    broker: Broker,
    link: Option<Link>,
    next_link: u64,
    next_payload: u64,
    /// Accepted publishes: which payload each id stands for (ids change across reloads).
    ids: HashMap<PublishId, (Vec<u8>, QoS)>,
    outcomes: HashMap<Vec<u8>, (QoS, Outcome)>,
    /// Messages the broker sent on DOWN, and how often the client delivered each.
    sent_down: Vec<(Vec<u8>, QoS)>,
    received: HashMap<Vec<u8>, u32>,
    received_order: Vec<Vec<u8>>,
    /// A `Published` event twice for one publish, or for an id never handed out.
    misreport: Option<String>,
    /// A snapshot write failed and was reported: from then on the stored copy may be stale, so
    /// after a reload a message may go or arrive twice, and a stale packet id may collect an ack
    /// meant for another message. The exactly-once and `Published`-means-held checks stand down;
    /// the no-loss check (every accepted publish ends with an outcome or stays pending) does not.
    storage_degraded: bool,
    /// Client payloads numbered below this were accepted before a lost fresh-session CONNACK
    /// (see `note_unseen_fresh_session`).
    ambiguous_before: u64,
    /// The session stopped as "connected elsewhere": the user takes the id over next step.
    take_over: bool,
    pub trace: Vec<String>,
}

/// The number in a payload such as `c17`.
fn payload_number(payload: &[u8]) -> u64 {
    String::from_utf8_lossy(payload.get(1..).unwrap_or_default())
        .parse()
        .unwrap_or(u64::MAX)
}

/// A broken invariant: the step it broke at and what it says.
#[derive(Debug)]
pub struct Violation {
    pub step: usize,
    pub what: String,
}

impl World {
    pub fn new(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let scenario = Scenario::draw(&mut rng);
        let broker = Broker::new(scenario.persistent_broker, scenario.misbehaviour);
        let session = Session::new(Self::options(&scenario, seed));
        let persistence = Persistence::new(&session);
        // Mostly roomy; sometimes a quota a few messages fill.
        let quota = if rng.chance(1, 4) {
            60 + rng.below(300) as usize
        } else {
            1 << 20
        };
        World {
            rng,
            scenario,
            now: 0,
            session,
            persistence,
            store: SimStore {
                quota,
                ..SimStore::default()
            },
            held_bytes: Vec::new(),
            held_events: Vec::new(),
            broker,
            link: None,
            next_link: 1,
            next_payload: 1,
            ids: HashMap::new(),
            outcomes: HashMap::new(),
            sent_down: Vec::new(),
            received: HashMap::new(),
            received_order: Vec::new(),
            misreport: None,
            storage_degraded: false,
            ambiguous_before: 0,
            take_over: false,
            trace: Vec::new(),
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    fn options(scenario: &Scenario, seed: u64) -> Options {
        let mut options = Options::new(CLIENT_ID);
        options.clean_session = scenario.clean_session;
        options.keep_alive_secs = 5;
        options.max_queued = 50;
        options.reconnect.seed = seed;
        options.reconnect.initial_delay = Duration::from_millis(100);
        options.reconnect.max_delay = Duration::from_secs(2);
        options
    }

    fn instant(&self) -> Instant {
        Instant::from_millis(self.now)
    }

    /// Runs the seed's steps with faults, then a quiet phase, checking invariants throughout.
    pub fn run(&mut self) -> Result<(), Violation> {
        self.start_page();
        for step in 0..self.scenario.steps {
            self.step(true);
            self.check(step)?;
        }
        // Quiet phase: no faults and no new work; everything accepted must settle.
        for step in self.scenario.steps..self.scenario.steps + 2_000 {
            if self.settled() {
                break;
            }
            self.step(false);
            self.check(step)?;
        }
        self.check_end(self.scenario.steps)
    }

    /// What a page does on load: connect and subscribe.
    fn start_page(&mut self) {
        let now = self.instant();
        self.session.connect(now);
        if let Err(e) = self.session.subscribe(now, &[(DOWN, QoS::ExactlyOnce)]) {
            self.trace.push(format!("subscribe refused: {e}"));
        }
        self.drain();
    }

    fn step(&mut self, faults: bool) {
        if std::mem::take(&mut self.take_over) {
            self.trace.push("take over".into());
            let now = self.instant();
            self.session.connect(now);
        }
        let roll = self.rng.below(100);
        match roll {
            0..=19 if faults => self.client_publish(),
            20..=29 if faults => self.broker_publish(),
            30..=54 => self.deliver_to_broker(),
            55..=79 => self.deliver_to_client(),
            80..=91 => self.advance_time(faults),
            92..=94 if faults => self.drop_link("link dropped"),
            95 if faults && self.scenario.reloads => self.reload(),
            96 if faults && self.scenario.restarts => {
                self.trace.push("broker restart".into());
                self.broker.restart();
                self.drop_link("broker restarted");
            }
            97 if faults && self.scenario.takeovers => {
                self.trace.push("takeover".into());
                self.broker.takeover(CLIENT_ID, self.scenario.clean_session);
                self.drop_link("taken over");
            }
            _ => self.advance_time(faults),
        }
        self.drain();
    }

    fn settled(&self) -> bool {
        let link_idle = self
            .link
            .as_ref()
            .is_none_or(|l| l.to_broker.is_empty() && l.to_client.is_empty());
        self.session.is_connected()
            && self.session.pending_count() == 0
            && link_idle
            && self.store.writing.is_none()
            && self.held_bytes.is_empty()
    }

    fn client_publish(&mut self) {
        let qos = match self.rng.below(3) {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        };
        let payload = format!("c{}", self.next_payload).into_bytes();
        self.next_payload += 1;
        let now = self.instant();
        if self.rng.chance(1, 30) {
            self.store.fail_next_write = true;
        }
        let result = self
            .persistence
            .publish(&mut self.session, now, UP, &payload, qos, false);
        if let Ok(id) = result {
            self.trace.push(format!(
                "publish {} q{}",
                String::from_utf8_lossy(&payload),
                qos_to_u8(qos)
            ));
            self.ids.insert(id, (payload.clone(), qos));
            self.outcomes.insert(payload, (qos, Outcome::Pending));
        }
    }

    fn broker_publish(&mut self) {
        let qos = match self.rng.below(3) {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        };
        let payload = format!("b{}", self.next_payload).into_bytes();
        self.next_payload += 1;
        let held = Held {
            topic: DOWN.into(),
            payload: payload.clone(),
            qos,
        };
        if self.broker.publish_from_elsewhere(CLIENT_ID, held) {
            self.sent_down.push((payload, qos));
        }
    }

    /// Some of the bytes in flight to the broker arrive: a cut at any byte offset.
    fn deliver_to_broker(&mut self) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        if self.broker.connection_id() != Some(link.id) || link.to_broker.is_empty() {
            return;
        }
        let n = 1 + self.rng.below(link.to_broker.len() as u64) as usize;
        let chunk: Vec<u8> = link.to_broker.drain(..n).collect();
        self.broker.receive(&chunk);
    }

    fn deliver_to_client(&mut self) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        if link.to_client.is_empty() {
            return;
        }
        let n = 1 + self.rng.below(link.to_client.len() as u64) as usize;
        let chunk: Vec<u8> = link.to_client.drain(..n).collect();
        let now = self.instant();
        self.session.handle_bytes(now, &chunk);
    }

    /// Time moves on: a few milliseconds while bytes are on the wire (the network is fast next
    /// to keepalive), or up to the next timer when the wire is idle, or, rarely, a long stall
    /// (the fault that keepalive exists for).
    fn advance_time(&mut self, faults: bool) {
        let wire_busy = self
            .link
            .as_ref()
            .is_some_and(|l| !l.to_broker.is_empty() || !l.to_client.is_empty());
        let jump = if faults && self.rng.chance(1, 50) {
            1 + self.rng.below(20_000)
        } else if wire_busy {
            1 + self.rng.below(20)
        } else {
            let until_timer = self
                .session
                .poll_timeout()
                .map_or(1_000, |t| t.as_millis().saturating_sub(self.now));
            until_timer.clamp(1, 60_000)
        };
        self.now += jump;
        let now = self.instant();
        self.session.handle_timeout(now);
    }

    fn drop_link(&mut self, why: &str) {
        if let Some(link) = self.link.take() {
            self.trace.push(format!("{why} (link {})", link.id));
            self.note_unseen_fresh_session(&link);
            if self.broker.connection_id() == Some(link.id) {
                self.broker.drop_connection();
            }
            let now = self.instant();
            self.session
                .handle_transport_closed(now, TransportFailure::Dropped(why.into()));
        }
    }

    /// MQTT 3.1.1 cannot tell a client that the broker started a new session on a connection
    /// whose CONNACK (session present 0) never arrived: the next CONNACK says session present 1
    /// for a session that does not hold the client's QoS 2 state, and a PUBREL resent into it
    /// gets a PUBCOMP (mosquitto) for a message it never had. From then on, `Published` for QoS 2
    /// messages released before can be wrong whatever the client does; the run records it.
    fn note_unseen_fresh_session(&mut self, link: &Link) {
        if !link.connected && self.broker.fresh_session_on == Some(link.id) {
            self.trace.push(
                "CONNACK (new session) lost: QoS 2 releases before this are ambiguous".into(),
            );
            self.ambiguous_before = self.next_payload;
        }
    }

    /// The tab reloads: the session is gone, a new one starts from the persisted store.
    fn reload(&mut self) {
        self.trace.push("page reload".into());
        if let Some(link) = self.link.take() {
            self.note_unseen_fresh_session(&link);
            if self.broker.connection_id() == Some(link.id) {
                self.broker.drop_connection();
            }
        }
        // What the store had not committed is gone with the page: publishes still waiting for
        // their row were never accepted; held bytes and events never left.
        for id in self.persistence.uncommitted().collect::<Vec<_>>() {
            if let Some((payload, _)) = self.ids.remove(&id) {
                self.trace.push(format!(
                    "{} never accepted (row not committed)",
                    String::from_utf8_lossy(&payload)
                ));
                self.outcomes.remove(&payload);
            }
        }
        // A refusal the page never heard of: the publish was never accepted either.
        for event in &self.held_events {
            if let Event::PublishFailed {
                id,
                reason: PublishFailure::NotStored(_) | PublishFailure::Refused(_),
            } = event
            {
                if let Some((payload, _)) = self.ids.remove(id) {
                    self.outcomes.remove(&payload);
                }
            }
        }
        if self.store.writing.take().is_some() {
            self.trace.push("uncommitted write lost".into());
        }
        self.held_bytes.clear();
        self.held_events.clear();
        let seed = self.rng.next();
        self.session = Session::new(Self::options(&self.scenario, seed));
        let mut snapshot = self.store.kept.clone().unwrap_or_default();
        let forged = self.rng.chance(1, 4);
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
                    String::from_utf8_lossy(&p.payload),
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

    /// Drains the session in its documented order, carries out its transport actions, moves
    /// the broker's output onto the link, and books events.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(bytes) = self.session.poll_transmit() {
                progressed = true;
                self.held_bytes.extend(bytes);
            }
            while let Some(action) = self.session.poll_transport() {
                progressed = true;
                // Bytes for the old link go before it changes, if the store allows; else never.
                self.release_held();
                self.held_bytes.clear();
                match action {
                    TransportAction::Open => {
                        let id = self.next_link;
                        self.next_link += 1;
                        self.link = Some(Link {
                            id,
                            connected: false,
                            to_broker: VecDeque::new(),
                            to_client: VecDeque::new(),
                        });
                        self.broker.accept(id);
                        let now = self.instant();
                        self.session.handle_transport_open(now);
                    }
                    TransportAction::Close => {
                        // What was written before the close still reaches the broker.
                        if let Some(mut link) = self.link.take() {
                            if self.broker.connection_id() == Some(link.id) {
                                let rest: Vec<u8> = link.to_broker.drain(..).collect();
                                self.broker.receive(&rest);
                                self.broker.drop_connection();
                            }
                            self.note_unseen_fresh_session(&link);
                        }
                    }
                }
            }
            while let Some(event) = self.session.poll_event() {
                progressed = true;
                if let (Event::Connected { .. }, Some(link)) = (&event, self.link.as_mut()) {
                    // What the session saw on this link, whenever the page hears of it.
                    link.connected = true;
                }
                self.held_events.push(event);
            }
            // The store: one write at a time; it commits now or in a later turn.
            if self.store.writing.is_none() {
                if let Some(snapshot) = self.persistence.poll_write(&self.session) {
                    self.store.writing = Some(snapshot);
                }
            }
            if self.store.writing.is_some() && self.rng.chance(2, 3) {
                progressed = true;
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

    /// Once the store holds the session's state: its bytes go to the link, its events to the
    /// page. Returns whether anything moved.
    fn release_held(&mut self) -> bool {
        if !self.persistence.may_transmit(&self.session) {
            return false;
        }
        let mut moved = false;
        if !self.held_bytes.is_empty() {
            moved = true;
            let bytes = std::mem::take(&mut self.held_bytes);
            if let Some(link) = self.link.as_mut() {
                link.to_broker.extend(bytes);
            }
        }
        for event in std::mem::take(&mut self.held_events) {
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
                self.trace.push(format!(
                    "Message {} q{} dup={}",
                    String::from_utf8_lossy(&message.payload),
                    qos_to_u8(message.qos),
                    message.dup
                ));
                *self.received.entry(message.payload.clone()).or_default() += 1;
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
        let name = String::from_utf8_lossy(&payload).into_owned();
        self.trace.push(format!("{label} {name}"));
        let entry = self
            .outcomes
            .entry(payload)
            .or_insert((qos, Outcome::Pending));
        if entry.1 != Outcome::Pending {
            self.misreport = Some(format!("{label} after another outcome for {name}"));
        }
        entry.1 = outcome;
    }

    /// Invariants after every step.
    fn check(&self, step: usize) -> Result<(), Violation> {
        let fail = |what: String| Err(Violation { step, what });
        let duplicates_allowed = self.storage_degraded;
        if let Some(v) = self.broker.violations.iter().find(|v| {
            !(duplicates_allowed && (v.contains("[MQTT-2.3.1-2]") || v.contains("[MQTT-3.3.1-1]")))
        }) {
            return fail(format!("the broker saw the client break a rule: {v}"));
        }
        for (payload, (qos, outcome)) in &self.outcomes {
            if *outcome != Outcome::Published || duplicates_allowed {
                continue;
            }
            let name = String::from_utf8_lossy(payload);
            let held = match qos {
                QoS::AtMostOnce => true,
                QoS::AtLeastOnce => self.broker.acknowledged_qos1.contains_key(payload),
                QoS::ExactlyOnce => {
                    self.broker.forwarded.contains_key(payload)
                        || payload_number(payload) < self.ambiguous_before
                }
            };
            if !held {
                return fail(format!(
                    "`Published` for {name} (QoS {}) but the broker never accepted it",
                    qos_to_u8(*qos)
                ));
            }
        }
        for (payload, (qos, _)) in &self.outcomes {
            let count = self.broker.forwarded.get(payload).copied().unwrap_or(0);
            if *qos == QoS::ExactlyOnce && count > 1 && !duplicates_allowed {
                return fail(format!(
                    "QoS 2 message {} forwarded {count} times",
                    String::from_utf8_lossy(payload)
                ));
            }
        }
        for (payload, qos) in &self.sent_down {
            let count = self.received.get(payload).copied().unwrap_or(0);
            if *qos != QoS::AtLeastOnce && count > 1 && !duplicates_allowed {
                return fail(format!(
                    "QoS {} message {} delivered {count} times",
                    qos_to_u8(*qos),
                    String::from_utf8_lossy(payload)
                ));
            }
        }
        if let Some(what) = self.misreport.as_ref().filter(|_| !duplicates_allowed) {
            return fail(what.clone());
        }
        let bound = self.session.options().max_inflight + self.session.options().max_queued;
        if self.session.pending_count() > bound {
            return fail(format!(
                "{} pending publishes, above the bound {bound}",
                self.session.pending_count()
            ));
        }
        Ok(())
    }

    /// At the end, after the quiet phase: nothing accepted is silently gone.
    fn check_end(&self, step: usize) -> Result<(), Violation> {
        let fail = |what: String| Err(Violation { step, what });
        for (payload, (qos, outcome)) in &self.outcomes {
            if *qos != QoS::AtMostOnce && *outcome == Outcome::Pending {
                let still_pending = self
                    .session
                    .pending_publishes()
                    .iter()
                    .any(|p| &p.payload == payload);
                if !still_pending {
                    return fail(format!(
                        "{} (QoS {}) was accepted and is neither published nor pending",
                        String::from_utf8_lossy(payload),
                        qos_to_u8(*qos)
                    ));
                }
            }
        }
        if !self.settled() {
            return fail(format!(
                "did not settle: connected={} pending={}",
                self.session.is_connected(),
                self.session.pending_count()
            ));
        }
        if !self.scenario.broker_may_drop_session() {
            for (payload, qos) in &self.sent_down {
                let count = self.received.get(payload).copied().unwrap_or(0);
                if *qos != QoS::AtMostOnce && count == 0 {
                    return fail(format!(
                        "QoS {} message {} to the client never arrived",
                        qos_to_u8(*qos),
                        String::from_utf8_lossy(payload)
                    ));
                }
            }
            // QoS 1: first deliveries in the order the broker sent them (§4.6).
            let sent: Vec<&Vec<u8>> = self
                .sent_down
                .iter()
                .filter(|(_, q)| *q == QoS::AtLeastOnce)
                .map(|(p, _)| p)
                .collect();
            let mut first_seen: Vec<&Vec<u8>> = Vec::new();
            for p in &self.received_order {
                if sent.contains(&p) && !first_seen.contains(&p) {
                    first_seen.push(p);
                }
            }
            if first_seen != sent {
                return fail("QoS 1 messages to the client arrived out of order".into());
            }
        }
        Ok(())
    }
}
