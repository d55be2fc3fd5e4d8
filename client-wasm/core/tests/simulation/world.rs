//! One simulated run: the real `Session` (as a browser tab would hold it, with its persisted
//! store), a link that can be cut at any byte, the model broker, and the books the invariants
//! (`invariants.rs`) are checked against.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use mqtt_core::persist::{Held, Persistence};
use mqtt_core::{qos_to_u8, Event, Instant, Options, PublishId, QoS, Session, TransportFailure};

use crate::broker::{Broker, Stored};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::schedule::{self, Commits, Step, Wire};
use crate::store::SimStore;

const CLIENT_ID: &str = "sim-device";
const UP: &str = "sim/up";
pub(crate) const DOWN: &str = "sim/down";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pending,
    Published,
    /// `PublishFailed`: the session says it will not complete (a typed, reported outcome).
    Failed,
}

#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) id: u64,
    /// The session read CONNACK on this link.
    pub(crate) connected: bool,
    pub to_broker: VecDeque<u8>,
    pub to_client: VecDeque<u8>,
}

pub(crate) struct World {
    pub rng: Rng,
    pub scenario: Scenario,
    pub(crate) commits: Commits,
    pub(crate) now: u64,
    pub session: Session,
    /// The handshake with the store, and the store (asynchronous, like IndexedDB).
    pub(crate) persistence: Persistence,
    pub store: SimStore,
    /// The session's bytes and events, each held until the store holds the change it was
    /// produced at (`mqtt_core::persist::Held`, as the browser adapter holds them).
    pub(crate) held_bytes: Held<Vec<u8>>,
    pub(crate) held_events: Held<Event>,
    pub broker: Broker,
    pub link: Option<Link>,
    pub(crate) next_link: u64,
    pub next_payload: u64,
    next_filter: u64,
    /// Accepted publishes: which payload each id stands for (ids change across reloads).
    pub(crate) ids: BTreeMap<PublishId, (Vec<u8>, QoS)>,
    pub outcomes: BTreeMap<Vec<u8>, (QoS, Outcome)>,
    /// Messages the broker sent on DOWN, and how often the client delivered each.
    pub sent_down: Vec<(Vec<u8>, QoS)>,
    pub received: BTreeMap<Vec<u8>, u32>,
    /// Messages the client delivered a second time, in the order it happened.
    pub received_again: Vec<Vec<u8>>,
    /// Publishes booked `Published` since the last `check` (checks are incremental: what the
    /// broker holds only grows, so a `Published` that was true stays true).
    pub published_unchecked: Vec<Vec<u8>>,
    pub received_order: Vec<Vec<u8>>,
    /// A `Published` event twice for one publish, or for an id never handed out.
    pub misreport: Option<String>,
    /// A snapshot write failed and was reported: from then on the stored copy may be stale, so
    /// after a reload a message may go or arrive twice, and a stale packet id may collect an ack
    /// meant for another message. The exactly-once and `Published`-means-held checks stand down;
    /// the no-loss check (every accepted publish ends with an outcome or stays pending) does not.
    pub storage_degraded: bool,
    /// Client payloads numbered below this were released (QoS 2) before the page lost track
    /// of a new broker session (see `note_unseen_fresh_session`).
    pub ambiguous_before: u64,
    /// The session stopped as "connected elsewhere": the user takes the id over next step.
    pub(crate) take_over: bool,
    pub trace: Vec<String>,
}

fn name(payload: &[u8]) -> String {
    String::from_utf8_lossy(payload).into_owned()
}

impl World {
    /// A seeded run: the scenario and every step drawn from `seed`.
    pub(crate) fn new(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let scenario = Scenario::draw(&mut rng);
        // Mostly roomy; sometimes a quota a few messages fill.
        let quota = if rng.chance(1, 4) {
            60 + rng.below(300) as usize
        } else {
            1 << 20
        };
        World::with(rng, scenario, quota, Commits::Random, seed)
    }

    /// A scripted run: the steps come from the caller, the store commits only at
    /// [`Step::Commit`].
    pub(crate) fn scripted(scenario: Scenario) -> World {
        World::with(Rng::new(0), scenario, 1 << 20, Commits::OnStep, 0)
    }

    fn with(rng: Rng, scenario: Scenario, quota: usize, commits: Commits, seed: u64) -> World {
        let broker = Broker::new(scenario.persistent_broker, scenario.misbehaviour);
        let session = Session::new(Self::options(&scenario, seed));
        let persistence = Persistence::new(&session);
        let mut world = World {
            rng,
            scenario,
            commits,
            now: 0,
            session,
            persistence,
            store: SimStore {
                quota,
                ..SimStore::default()
            },
            held_bytes: Held::default(),
            held_events: Held::default(),
            broker,
            link: None,
            next_link: 1,
            next_payload: 1,
            next_filter: 1,
            ids: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            sent_down: Vec::new(),
            received: BTreeMap::new(),
            received_again: Vec::new(),
            published_unchecked: Vec::new(),
            received_order: Vec::new(),
            misreport: None,
            storage_degraded: false,
            ambiguous_before: 0,
            take_over: false,
            trace: Vec::new(),
        };
        world.start_page();
        world
    }

    pub(crate) fn options(scenario: &Scenario, seed: u64) -> Options {
        let mut options = Options::new(CLIENT_ID);
        options.clean_session = scenario.clean_session;
        options.keep_alive_secs = 5;
        options.max_queued = 50;
        options.max_inflight = scenario.max_inflight;
        options.reconnect.seed = seed;
        options.reconnect.initial_delay = Duration::from_millis(100);
        options.reconnect.max_delay = Duration::from_secs(2);
        options
    }

    pub(crate) fn instant(&self) -> Instant {
        Instant::from_millis(self.now)
    }

    /// What the schedule needs to know to draw sizes.
    pub(crate) fn wire(&self) -> Wire {
        let (to_broker, to_client) = self.link.as_ref().map_or((0, 0), |l| {
            let broker_listens = self.broker.connection_id() == Some(l.id);
            let to_broker = if broker_listens { l.to_broker.len() } else { 0 };
            (to_broker, l.to_client.len())
        });
        let busy = self
            .link
            .as_ref()
            .is_some_and(|l| !l.to_broker.is_empty() || !l.to_client.is_empty());
        let until_timer = self
            .session
            .poll_timeout()
            .map(|t| t.as_millis().saturating_sub(self.now));
        Wire {
            to_broker,
            to_client,
            busy,
            until_timer,
        }
    }

    /// The next step of a seeded run.
    pub(crate) fn draw(&mut self, faults: bool) -> Step {
        let wire = self.wire();
        schedule::draw(&mut self.rng, self.scenario.faults, &wire, faults)
    }

    /// What a page does on load: connect and subscribe.
    pub(crate) fn start_page(&mut self) {
        let now = self.instant();
        self.session.connect(now);
        if let Err(e) = self.session.subscribe(now, &[(DOWN, QoS::ExactlyOnce)]) {
            self.trace.push(format!("subscribe refused: {e}"));
        }
        self.drain();
    }

    /// Carries out one step, then drains the session.
    pub(crate) fn apply(&mut self, step: Step) {
        if std::mem::take(&mut self.take_over) {
            self.trace.push("take over".into());
            let now = self.instant();
            self.session.connect(now);
        }
        match step {
            Step::ClientPublish { qos, fail_write } => {
                if fail_write {
                    self.store.fail_next_write = true;
                }
                self.client_publish(qos);
            }
            Step::Burst { qos, count } => {
                self.trace
                    .push(format!("burst of {count} q{}", qos_to_u8(qos)));
                for _ in 0..count {
                    self.client_publish(qos);
                }
            }
            Step::Subscribe => self.subscribe_more(),
            Step::BrokerPublish(qos) => self.broker_publish(qos),
            Step::ToBroker(n) => self.deliver_to_broker(n),
            Step::ToClient(n) => self.deliver_to_client(n),
            Step::Wait(ms) => self.advance_time(ms),
            Step::WaitForTimer => {
                let ms = self.wire().until_timer.unwrap_or(1_000).max(1);
                self.advance_time(ms);
            }
            Step::DropLink => self.drop_link("link dropped"),
            Step::Reload { forged } => self.reload(forged),
            Step::BrokerRestart => {
                self.trace.push("broker restart".into());
                self.broker.restart();
                self.drop_link("broker restarted");
            }
            Step::Takeover => {
                self.trace.push("takeover".into());
                self.broker.takeover(CLIENT_ID, self.scenario.clean_session);
                self.drop_link("taken over");
            }
            Step::HoldAcks(hold) => {
                self.trace.push(format!("broker holds acks: {hold}"));
                self.broker.hold_acks(hold);
            }
            Step::Commit => self.commit(),
        }
        self.drain();
    }

    /// The quiet phase begins: the broker answers again and the store commits by itself.
    pub(crate) fn end_faults(&mut self) {
        self.broker.hold_acks(false);
        self.commits = Commits::Random;
        self.drain();
    }

    /// Everything accepted has settled and nothing is in flight.
    pub(crate) fn settled(&self) -> bool {
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

    fn client_publish(&mut self, qos: QoS) {
        let payload = format!("c{}", self.next_payload).into_bytes();
        self.next_payload += 1;
        let now = self.instant();
        let result = if self.scenario.store {
            self.persistence
                .publish(&mut self.session, now, UP, &payload, qos, false)
        } else {
            self.session.publish(now, UP, &payload, qos, false)
        };
        if let Ok(id) = result {
            if self.trace.len() < 100_000 {
                self.trace
                    .push(format!("publish {} q{}", name(&payload), qos_to_u8(qos)));
            }
            self.ids.insert(id, (payload.clone(), qos));
            self.outcomes.insert(payload, (qos, Outcome::Pending));
        }
    }

    /// One more filter; the broker grants it, the session resubscribes it.
    fn subscribe_more(&mut self) {
        let filter = format!("sim/extra/{}", self.next_filter);
        self.next_filter += 1;
        let now = self.instant();
        if let Err(e) = self.session.subscribe(now, &[(&filter, QoS::AtLeastOnce)]) {
            self.trace.push(format!("subscribe refused: {e}"));
        }
    }

    fn broker_publish(&mut self, qos: QoS) {
        let payload = format!("b{}", self.next_payload).into_bytes();
        self.next_payload += 1;
        let stored = Stored {
            topic: DOWN.into(),
            payload: payload.clone(),
            qos,
        };
        if self.broker.publish_from_elsewhere(CLIENT_ID, stored) {
            self.sent_down.push((payload, qos));
        }
    }

    fn deliver_to_broker(&mut self, n: usize) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        if self.broker.connection_id() != Some(link.id) {
            return;
        }
        let n = n.min(link.to_broker.len());
        let chunk: Vec<u8> = link.to_broker.drain(..n).collect();
        self.broker.receive(&chunk);
    }

    fn deliver_to_client(&mut self, n: usize) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        let n = n.min(link.to_client.len());
        let chunk: Vec<u8> = link.to_client.drain(..n).collect();
        let now = self.instant();
        self.session.handle_bytes(now, &chunk);
    }

    fn advance_time(&mut self, ms: u64) {
        self.now += ms;
        let now = self.instant();
        self.session.handle_timeout(now);
    }

    pub(crate) fn drop_link(&mut self, why: &str) {
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
    pub(crate) fn note_unseen_fresh_session(&mut self, link: &Link) {
        if !link.connected && self.broker.fresh_session_on == Some(link.id) {
            self.mark_ambiguous("CONNACK (new session) lost");
        }
    }

    pub(crate) fn mark_ambiguous(&mut self, why: &str) {
        self.trace
            .push(format!("{why}: QoS 2 releases before this are ambiguous"));
        self.ambiguous_before = self.next_payload;
    }
}
