//! The driver's side of the store: opening and reading it before the session connects,
//! restoring what it held, and the write handshake (`mqtt_core::persist`): nothing goes on the
//! wire before the state it implies is committed.

use std::rc::Rc;

use mqtt_core::persist::{Persistence, Snapshot, StoreError};
use mqtt_core::PublishId;
use mqtt_tabs::{Restored, TabRole};

use super::stored::Stored;
use super::{Driver, State};
use crate::clock::now;
use crate::console;
use crate::platform::ActiveStore;
use crate::runner::Runner;
use crate::runtime::{Runtime, Store as _};

impl Driver {
    /// Opens the store (persistent sessions) and reads it; then restores what it held and
    /// connects ([`Driver::store_opened`]). A lone tab does this at once, a shared tab when it
    /// is granted the lock (it takes over the connection's stored session).
    pub(super) fn restore_store(self: &Rc<Self>) {
        let opening = {
            let mut state = self.state.borrow_mut();
            let opening = state.persist.then(|| {
                let quota = state.store_quota;
                (state.session.options().client_id.clone(), quota)
            });
            if opening.is_some() {
                state.stored = Some(Stored {
                    persistence: Persistence::new(&state.session),
                    store: None,
                    failing: false,
                });
            }
            opening
        };
        let Some((client_id, quota)) = opening else {
            return self.store_opened(None, Snapshot::default());
        };
        // No borrow held: without IndexedDB, `done` runs at once.
        let weak = Rc::downgrade(self);
        let done = Box::new(move |store, snapshot| {
            if let Some(driver) = weak.upgrade() {
                driver.store_opened(Some(store), snapshot);
            }
        });
        self.runtime.open_store(&client_id, quota, done);
    }

    /// The store is open and read: restore what it held, then connect (a tab granted the lock
    /// first becomes the leader, taking its own requests back from the follower role).
    fn store_opened(self: &Rc<Self>, store: Option<ActiveStore>, snapshot: Snapshot) {
        let promoted = {
            let mut state = self.state.borrow_mut();
            let restored = state.restore(snapshot);
            if let (Some(stored), Some(store)) = (state.stored.as_mut(), store) {
                stored.store = Some(Rc::new(store));
            }
            !state.ended && state.restored(restored)
        };
        if promoted {
            let callback = self.on_role.borrow_mut().take();
            if let Some(mut callback) = callback {
                callback(TabRole::Leader);
                let mut slot = self.on_role.borrow_mut();
                if slot.is_none() {
                    *slot = Some(callback);
                }
            }
        }
        self.drive();
    }

    /// Starts the next snapshot write, if one is due and none is in progress. Returns whether
    /// it was decided at once (and its outcome applied).
    pub(super) fn start_write(self: &Rc<Self>, state: &mut State) -> bool {
        let State {
            session, stored, ..
        } = state;
        let Some(Stored {
            persistence,
            store: Some(store),
            ..
        }) = stored
        else {
            return false;
        };
        let Some(snapshot) = persistence.poll_write(session) else {
            return false;
        };
        let weak = Rc::downgrade(self);
        let decided = store.write(
            &snapshot,
            Box::new(move |result| {
                if let Some(driver) = weak.upgrade() {
                    driver.write_done(result);
                }
            }),
        );
        match decided {
            Some(result) => {
                state.settle_write(result);
                true
            }
            None => false,
        }
    }

    fn write_done(self: &Rc<Self>, result: Result<(), StoreError>) {
        self.state.borrow_mut().settle_write(result);
        self.drive();
    }
}

impl State {
    /// Applies the outcome of a snapshot write; a failed one is reported once per run.
    fn settle_write(&mut self, result: Result<(), StoreError>) {
        let State {
            session,
            stored,
            share,
            ..
        } = self;
        let Some(stored) = stored else { return };
        let uncommitted: Vec<PublishId> = stored.persistence.uncommitted().collect();
        let outcome = stored.persistence.write_done(session, now(), result);
        if let (Some(share), Ok(())) = (share.as_mut(), result) {
            // A follower's publish is stored (`Accepted`) once the transaction holding its row
            // committed, not when the leader took it.
            for id in uncommitted {
                if !stored.persistence.uncommitted().any(|u| u == id) {
                    share.tab.committed(id);
                }
            }
            share.flush();
        }
        match outcome {
            Ok(()) => stored.failing = false,
            Err(e) if !stored.failing => {
                stored.failing = true;
                console::warn(&format!(
                    "client-wasm: the session could not be stored ({e}); after a reload a \
                     message may be sent or delivered twice"
                ));
            }
            Err(_) => {}
        }
    }

    /// Whether the stored session is still being read.
    pub(super) fn loading(&self) -> bool {
        self.stored.as_ref().is_some_and(|s| s.store.is_none())
    }

    /// The last session change the store holds: bytes and events produced at or before it
    /// may go (all of them without a store, none while it is being read).
    pub(super) fn stored_through(&self) -> Option<u64> {
        match &self.stored {
            None => Some(u64::MAX),
            Some(Stored { store: None, .. }) => None,
            Some(stored) => Some(stored.persistence.stored_through()),
        }
    }

    /// The store was read: a tab granted the lock becomes the leader (true), any other
    /// connects.
    fn restored(&mut self, restored: Vec<Restored>) -> bool {
        let now = now();
        let State {
            session,
            stored,
            share,
            ..
        } = self;
        match share.as_mut().filter(|s| s.tab.is_granted()) {
            None => {
                session.connect(now);
                false
            }
            Some(share) => {
                let mut runner = Runner {
                    session,
                    persistence: stored.as_mut().map(|s| &mut s.persistence),
                };
                let promoted = share.tab.promote(&mut runner, now, restored);
                share.flush();
                promoted
            }
        }
    }

    /// Restores a stored snapshot into the session (rows refused are reported); returns the
    /// restored publishes, for followers to adopt.
    fn restore(&mut self, snapshot: Snapshot) -> Vec<Restored> {
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
                restored_rows.push(Restored {
                    id,
                    topic: row.topic.clone(),
                    payload: row.payload.clone(),
                    qos: row.qos,
                });
            }
        }
        restored_rows
    }
}
