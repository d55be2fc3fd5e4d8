//! Several tabs on one store, one lock and one channel, driven by a seeded schedule of steps,
//! then settled without faults; the invariants are checked at the end.

use std::collections::{BTreeMap, BTreeSet};

use mqtt_core::{Event, Instant, PublishId, QoS};
use mqtt_tabs::msgs::{TabId, TabMessage};
use mqtt_tabs::{Request, Restored, Tab};

use crate::model::{Broker, Rng, Row, Session, Stage};

const NOW: Instant = Instant::from_millis(0);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Scenario {
    /// A persistent session: QoS 1/2 publishes are stored (IndexedDB).
    pub stores: bool,
    /// The tab hears of a commit in the same step as it happens (the gap's window is then only
    /// the `Accepted { stored: true }` on its way to the follower).
    pub atomic_notice: bool,
    pub steps: usize,
    /// Percent of steps that close, crash or reload a tab.
    pub fault_rate: u64,
}

/// A live tab.
struct Page {
    tab: Tab,
    session: Session,
    /// Holds the lock and reads the store: becomes the leader at a later step.
    reading: bool,
    /// This page's unsettled calls: its id -> payload.
    calls: BTreeMap<u64, Vec<u8>>,
    /// Messages posted to it, in order.
    inbox: Vec<Vec<u8>>,
}

/// A call a page made and was told `Ok`.
#[derive(Debug)]
struct Record {
    qos: QoS,
    slot: usize,
    published: Option<bool>,
    page_alive: bool,
}

pub(crate) struct World {
    rng: Rng,
    pub scenario: Scenario,
    pages: Vec<Option<Page>>,
    /// Tabs waiting for the lock, in order.
    queue: Vec<usize>,
    holder: Option<usize>,
    store: Vec<Row>,
    next_row: u64,
    broker: Broker,
    records: BTreeMap<Vec<u8>, Record>,
    /// Payloads whose row committed (the store holds or held them).
    durable: BTreeSet<Vec<u8>>,
    /// Payloads whose leader was gone between their row's commit and the follower that made
    /// the call hearing of it (`Accepted { stored: true }` received): the known gap.
    pub gap: BTreeSet<Vec<u8>>,
    /// Payloads whose follower heard that their row committed.
    heard_stored: BTreeSet<Vec<u8>>,
    /// Which leader committed each row's payload.
    committed_under: Vec<(Vec<u8>, usize)>,
    next_payload: u64,
    pub trace: Vec<String>,
    /// Bumped by every step that changes something (to know when the world is settled).
    progress: u64,
}

impl World {
    pub(crate) fn new(seed: u64) -> World {
        let mut rng = Rng::new(seed);
        let scenario = Scenario {
            stores: rng.chance(75),
            atomic_notice: rng.chance(30),
            steps: 50 + rng.below(250),
            fault_rate: 2 + rng.next() % 15,
        };
        World {
            rng,
            scenario,
            pages: Vec::new(),
            queue: Vec::new(),
            holder: None,
            store: Vec::new(),
            next_row: 0,
            broker: Broker::default(),
            records: BTreeMap::new(),
            durable: BTreeSet::new(),
            gap: BTreeSet::new(),
            heard_stored: BTreeSet::new(),
            committed_under: Vec::new(),
            next_payload: 0,
            trace: Vec::new(),
            progress: 0,
        }
    }

    pub(crate) fn run(&mut self) -> Result<(), String> {
        for _ in 0..1 + self.rng.below(4) {
            self.join();
        }
        for _ in 0..self.scenario.steps {
            self.step()?;
        }
        self.settle()?;
        self.check()
    }

    fn live(&self) -> Vec<usize> {
        (0..self.pages.len())
            .filter(|s| self.pages[*s].is_some())
            .collect()
    }

    fn pick(&mut self, slots: Vec<usize>) -> Option<usize> {
        let index = self.rng.below(slots.len());
        slots.get(index).copied()
    }

    fn step(&mut self) -> Result<(), String> {
        if self.rng.chance(self.scenario.fault_rate) {
            return self.fault();
        }
        match self.rng.below(9) {
            0 | 1 => self.publish(),
            2 | 3 => self.deliver(),
            4 => self.commit(),
            5 => self.notice(),
            6 => self.forward(),
            7 => self.complete(),
            _ => self.read_store(),
        }
    }

    fn fault(&mut self) -> Result<(), String> {
        match self.rng.below(6) {
            0 | 1 => {
                if let Some(slot) = self.holder {
                    self.trace(format!("leader {slot} crashes"));
                    self.kill(slot);
                }
            }
            2 => {
                if let Some(slot) = self.holder {
                    // `end()`: a leader's leave posts nothing; the lock goes to the next tab.
                    self.trace(format!("leader {slot} closes"));
                    if let Some(page) = self.pages[slot].as_mut() {
                        page.tab.leave();
                    }
                    self.drain(slot)?;
                    self.kill(slot);
                }
            }
            3 => {
                let live = self.live();
                if let Some(slot) = self.pick(live) {
                    self.trace(format!("tab {slot} reloads"));
                    self.kill(slot);
                    self.join();
                }
            }
            4 => self.join(),
            _ => {
                let followers: Vec<usize> = self
                    .live()
                    .into_iter()
                    .filter(|s| Some(*s) != self.holder)
                    .collect();
                if let Some(slot) = self.pick(followers) {
                    self.trace(format!("tab {slot} takes over"));
                    if let Some(page) = self.pages[slot].as_mut() {
                        page.tab.take_over();
                    }
                    self.drain(slot)?;
                }
            }
        }
        if self.holder.is_none() {
            self.grant();
        }
        Ok(())
    }

    fn trace(&mut self, line: String) {
        self.trace.push(line);
    }

    fn push_trace(&mut self, line: String) {
        self.progress += 1;
        self.trace.push(line);
    }

    fn join(&mut self) {
        let slot = self.pages.len();
        self.trace(format!("tab {slot} joins"));
        self.pages.push(Some(Page {
            tab: Tab::new(TabId(1_000 + slot as u64)),
            session: Session::new(self.scenario.stores),
            reading: false,
            calls: BTreeMap::new(),
            inbox: Vec::new(),
        }));
        self.queue.push(slot);
        let _ = self.drain(slot);
        if self.holder.is_none() {
            self.grant();
        }
    }

    /// The Web Lock goes to the first tab in line.
    fn grant(&mut self) {
        while !self.queue.is_empty() {
            let slot = self.queue.remove(0);
            if let Some(page) = self.pages[slot].as_mut() {
                page.tab.lock_acquired();
                page.reading = true;
                self.holder = Some(slot);
                self.push_trace(format!("tab {slot} gets the lock"));
                return;
            }
        }
    }

    /// A tab is gone (closed, crashed, reloaded): its session with it; what it posted is
    /// still delivered; its calls are no longer anyone's to settle.
    fn kill(&mut self, slot: usize) {
        let Some(page) = self.pages[slot].take() else {
            return;
        };
        // The known gap: rows this leader committed whose follower had not heard so (the
        // commit's notice, then `Accepted { stored: true }`, still to come or in flight).
        for (payload, leader) in &self.committed_under {
            let owner = self.records.get(payload).map(|r| r.slot);
            let remote = owner.is_some_and(|o| o != slot);
            if *leader == slot && remote && !self.heard_stored.contains(payload) {
                self.gap.insert(payload.clone());
            }
        }
        for payload in page.calls.values() {
            if let Some(record) = self.records.get_mut(payload) {
                record.page_alive = false;
            }
        }
        self.queue.retain(|s| *s != slot);
        if self.holder == Some(slot) {
            self.holder = None;
            self.grant();
        }
    }

    fn publish(&mut self) -> Result<(), String> {
        let live = self.live();
        let Some(slot) = self.pick(live) else {
            return Ok(());
        };
        self.next_payload += 1;
        let payload = format!("m{}", self.next_payload).into_bytes();
        let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][self.rng.below(3)];
        let request = Request::Publish {
            topic: "t".into(),
            payload: payload.clone(),
            qos,
            retain: false,
        };
        let Some(page) = self.pages[slot].as_mut() else {
            return Ok(());
        };
        if let Ok(id) = page.tab.request(&mut page.session, NOW, request, 100_000) {
            page.calls.insert(id, payload.clone());
            let record = Record {
                qos,
                slot,
                published: None,
                page_alive: true,
            };
            let name = String::from_utf8_lossy(&payload);
            self.trace
                .push(format!("tab {slot} publishes {name} {qos:?} as {id}"));
            self.records.insert(payload, record);
        }
        self.drain(slot)
    }

    fn deliver(&mut self) -> Result<(), String> {
        let waiting: Vec<usize> = self
            .live()
            .into_iter()
            .filter(|s| self.pages[*s].as_ref().is_some_and(|p| !p.inbox.is_empty()))
            .collect();
        let Some(slot) = self.pick(waiting) else {
            return Ok(());
        };
        let Some(page) = self.pages[slot].as_mut() else {
            return Ok(());
        };
        let bytes = page.inbox.remove(0);
        let message = TabMessage::decode(&bytes).map_err(|e| format!("undecodable: {e}"))?;
        self.trace.push(format!("tab {slot} gets {message:?}"));
        if let TabMessage::Accepted {
            request,
            stored: true,
        } = &message
        {
            if request.tab == page.tab.id() {
                if let Some(payload) = page.calls.get(&request.number) {
                    self.heard_stored.insert(payload.clone());
                }
            }
        }
        page.tab.handle(&mut page.session, NOW, message);
        self.drain(slot)
    }

    /// The leader's publishes in `stage` (by a test on it).
    fn leader_pubs(&self, test: impl Fn(Stage) -> bool) -> Vec<u64> {
        let Some(page) = self.holder.and_then(|s| self.pages[s].as_ref()) else {
            return Vec::new();
        };
        if !page.tab.is_leader() {
            return Vec::new();
        }
        let mut ids = Vec::new();
        for (id, p) in &page.session.publishes {
            if test(p.stage) {
                ids.push(*id);
            }
        }
        ids
    }

    fn commit(&mut self) -> Result<(), String> {
        let writing = self.leader_pubs(|s| s == Stage::Writing);
        let Some(id) = self.pick(writing.into_iter().map(|i| i as usize).collect()) else {
            return Ok(());
        };
        let slot = self.holder.unwrap_or_default();
        let Some(page) = self.pages[slot].as_mut() else {
            return Ok(());
        };
        let Some(publish) = page.session.publishes.get_mut(&(id as u64)) else {
            return Ok(());
        };
        self.next_row += 1;
        publish.stage = Stage::Committed(self.next_row);
        self.store.push(Row {
            row: self.next_row,
            topic: "t".into(),
            payload: publish.payload.clone(),
            qos: publish.qos,
        });
        self.durable.insert(publish.payload.clone());
        self.committed_under.push((publish.payload.clone(), slot));
        let name = String::from_utf8_lossy(&publish.payload).into_owned();
        self.push_trace(format!(
            "row {} of publish {id} ({name}) commits",
            self.next_row
        ));
        if self.scenario.atomic_notice {
            self.notice_of(slot, id as u64)?;
        }
        Ok(())
    }

    fn notice(&mut self) -> Result<(), String> {
        let committed = self.leader_pubs(|s| matches!(s, Stage::Committed(_)));
        let Some(id) = self.pick(committed.into_iter().map(|i| i as usize).collect()) else {
            return Ok(());
        };
        self.notice_of(self.holder.unwrap_or_default(), id as u64)
    }

    /// The transaction's `complete` event: the tab hears its row committed.
    fn notice_of(&mut self, slot: usize, id: u64) -> Result<(), String> {
        let Some(page) = self.pages[slot].as_mut() else {
            return Ok(());
        };
        let Some(publish) = page.session.publishes.get_mut(&id) else {
            return Ok(());
        };
        if let Stage::Committed(row) = publish.stage {
            publish.stage = Stage::Ready(Some(row));
            self.trace
                .push(format!("tab {slot} hears row {row} committed"));
            page.tab.committed(PublishId(id));
        }
        self.drain(slot)
    }

    /// The broker takes a publish whose state is stored: nothing goes on the wire before the
    /// tab heard of the commit (`Persistence::stored_through` moves on the `complete` event).
    fn forward(&mut self) -> Result<(), String> {
        let ready = self.leader_pubs(|s| matches!(s, Stage::Ready(_)));
        let Some(id) = self.pick(ready.into_iter().map(|i| i as usize).collect()) else {
            return Ok(());
        };
        let slot = self.holder.unwrap_or_default();
        let Some(page) = self.pages[slot].as_mut() else {
            return Ok(());
        };
        let Some(publish) = page.session.publishes.get_mut(&(id as u64)) else {
            return Ok(());
        };
        let Stage::Ready(row) = publish.stage else {
            return Ok(());
        };
        let fresh = self.broker.forward(&publish.payload, row);
        let name = String::from_utf8_lossy(&publish.payload);
        let line = format!("broker forwards publish {id} {name} (row {row:?}, fresh {fresh})");
        self.trace.push(line);
        publish.stage = Stage::Forwarded(row);
        Ok(())
    }

    /// PUBACK/PUBCOMP: the row leaves the store, the session reports `Published`.
    fn complete(&mut self) -> Result<(), String> {
        let forwarded = self.leader_pubs(|s| matches!(s, Stage::Forwarded(_)));
        let Some(id) = self.pick(forwarded.into_iter().map(|i| i as usize).collect()) else {
            return Ok(());
        };
        let slot = self.holder.unwrap_or_default();
        let Some(page) = self.pages[slot].as_mut() else {
            return Ok(());
        };
        let Some(publish) = page.session.publishes.remove(&(id as u64)) else {
            return Ok(());
        };
        if let Stage::Forwarded(Some(row)) = publish.stage {
            self.store.retain(|r| r.row != row);
        }
        page.session.events.push(Event::Published {
            id: PublishId(id as u64),
        });
        self.push_trace(format!("publish {id} completes"));
        self.drain(slot)
    }

    /// The tab holding the lock has read the store: it becomes the leader.
    fn read_store(&mut self) -> Result<(), String> {
        let Some(slot) = self.holder else {
            return Ok(());
        };
        let store = self.store.clone();
        let held = self.broker.rows.clone();
        let Some(page) = self.pages[slot].as_mut().filter(|p| p.reading) else {
            return Ok(());
        };
        page.reading = false;
        let mut restored = Vec::new();
        for row in &store {
            let id = page.session.restore(row, held.contains(&row.row));
            restored.push(Restored {
                id,
                topic: row.topic.clone(),
                payload: row.payload.clone(),
                qos: row.qos,
            });
        }
        self.trace
            .push(format!("tab {slot} leads with {} rows", restored.len()));
        if !page.tab.promote(&mut page.session, NOW, restored) {
            return Err(format!("tab {slot} holds the lock but was not promoted"));
        }
        self.drain(slot)
    }

    /// Posts what a tab has to say to every other live tab; its page's events settle calls.
    fn drain(&mut self, slot: usize) -> Result<(), String> {
        loop {
            let Some(page) = self.pages[slot].as_mut() else {
                return Ok(());
            };
            let mut events = Vec::new();
            if page.tab.is_leader() {
                for event in std::mem::take(&mut page.session.events) {
                    if let Some(event) = page.tab.route(event) {
                        events.push(event);
                    }
                }
            }
            let mut posts = Vec::new();
            while let Some(message) = page.tab.poll_post() {
                posts.push(message.encode());
            }
            while let Some(event) = page.tab.poll_event() {
                events.push(event);
            }
            if events.is_empty() && posts.is_empty() {
                return Ok(());
            }
            for bytes in posts {
                for (to, other) in self.pages.iter_mut().enumerate() {
                    if let (true, Some(other)) = (to != slot, other.as_mut()) {
                        other.inbox.push(bytes.clone());
                    }
                }
            }
            for event in events {
                self.page_event(slot, event)?;
            }
        }
    }

    fn page_event(&mut self, slot: usize, event: Event) -> Result<(), String> {
        let (id, published) = match event {
            Event::Published { id } => (id, true),
            Event::PublishFailed { id, .. } => (id, false),
            _ => return Ok(()),
        };
        let Some(page) = self.pages[slot].as_mut() else {
            return Ok(());
        };
        let Some(payload) = page.calls.remove(&id.0) else {
            return Err(format!(
                "tab {slot}: an outcome for {} it is not waiting for",
                id.0
            ));
        };
        let Some(record) = self.records.get_mut(&payload) else {
            return Ok(());
        };
        if record.published.is_some() {
            return Err(format!("tab {slot}: publish {} settled twice", id.0));
        }
        record.published = Some(published);
        self.trace
            .push(format!("tab {slot}: {} published {published}", id.0));
        Ok(())
    }

    /// No more faults: every tab's messages arrive, every row commits, every publish completes.
    fn settle(&mut self) -> Result<(), String> {
        self.trace.push("settle".into());
        if self.live().is_empty() {
            self.join();
        }
        if self.holder.is_none() {
            self.grant();
        }
        for _ in 0..10_000 {
            let before = self.fingerprint();
            self.read_store()?;
            for slot in self.live() {
                while self.pages[slot]
                    .as_ref()
                    .is_some_and(|p| !p.inbox.is_empty())
                {
                    let Some(page) = self.pages[slot].as_mut() else {
                        break;
                    };
                    let bytes = page.inbox.remove(0);
                    let message = TabMessage::decode(&bytes).map_err(|e| e.to_string())?;
                    page.tab.handle(&mut page.session, NOW, message);
                    self.progress += 1;
                    self.drain(slot)?;
                }
            }
            self.commit()?;
            self.notice()?;
            self.forward()?;
            self.complete()?;
            if self.fingerprint() == before {
                return Ok(());
            }
        }
        Err("does not settle".into())
    }

    fn fingerprint(&self) -> (usize, u64, usize) {
        let inboxes = self.pages.iter().flatten().map(|p| p.inbox.len()).sum();
        (self.trace.len(), self.progress, inboxes)
    }

    /// The invariants, as for one tab: nothing accepted silently lost, `Published` only once
    /// the broker has it, QoS 2 exactly once (persistent sessions; but for the known gap).
    fn check(&self) -> Result<(), String> {
        if !self.store.is_empty() {
            return Err(format!("{} rows never delivered", self.store.len()));
        }
        for (payload, record) in &self.records {
            let name = String::from_utf8_lossy(payload);
            let forwarded = self.broker.forwarded.get(payload).copied().unwrap_or(0);
            if record.page_alive && record.published.is_none() {
                return Err(format!("{name} of live tab {} never settled", record.slot));
            }
            let stored = record.qos != QoS::AtMostOnce;
            if record.published == Some(true) && stored && forwarded == 0 {
                return Err(format!("{name} reported published, never forwarded"));
            }
            if self.durable.contains(payload) && forwarded == 0 {
                return Err(format!("{name} was stored and is lost"));
            }
            let exactly_once = self.scenario.stores && record.qos == QoS::ExactlyOnce;
            if exactly_once && forwarded > 1 && !self.gap.contains(payload) {
                return Err(format!("QoS 2 {name} forwarded {forwarded} times"));
            }
        }
        for page in self.pages.iter().flatten() {
            if page.tab.pending_count() != 0 || !page.calls.is_empty() {
                return Err("a live tab still waits".into());
            }
        }
        Ok(())
    }

    /// QoS 2 messages forwarded twice, all inside the known gap.
    pub(crate) fn gap_duplicates(&self) -> usize {
        let twice = |p: &Vec<u8>| self.broker.forwarded.get(p).copied().unwrap_or(0) > 1;
        self.records
            .iter()
            .filter(|(p, r)| r.qos == QoS::ExactlyOnce && self.scenario.stores && twice(p))
            .count()
    }
}
