//! The session's [`Snapshot`] kept in IndexedDB (see [`super::idb`]), one record per client id,
//! so that a page reload loses no accepted QoS 1/2 publish and delivers no inbound QoS 2 message
//! twice when the session is not clean. Only topic, payload, QoS, retain, packet id and the QoS 2
//! stage of each pending publish, and the inbound QoS 2 ids, are written: never credentials.
//! Each write is one transaction, committed before the session's bytes go out
//! (`mqtt_core::persist`).
//!
//! Record: [`crate::record`]'s text, the format earlier versions kept in `localStorage` under
//! [`storage_key`]: such an entry is moved to IndexedDB once (read, written, committed, then
//! removed).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsValue;
use web_sys::IdbDatabase;

use super::idb;
use crate::console;
use crate::record::{decode, LastRecord};
use crate::runtime::Store;
use mqtt_core::persist::{Snapshot, StoreError};

/// The `localStorage` key earlier versions kept a client id's session under (migrated once).
pub fn storage_key(client_id: &str) -> String {
    format!("client-wasm:pending:{client_id}")
}

/// One client id's stored session: `open` reads it, `write` replaces it.
pub(crate) struct SessionStore {
    /// `None`: IndexedDB is unavailable here; the session is kept in memory only.
    database: Option<IdbDatabase>,
    key: String,
    last: LastRecord,
}

impl SessionStore {
    /// Opens the store of `client_id` and reads its snapshot, moving a `localStorage` entry of
    /// an earlier version into it first; then calls `done`.
    pub(crate) fn open(
        client_id: &str,
        quota: Option<usize>,
        done: impl FnOnce(SessionStore, Snapshot) + 'static,
    ) {
        let key = client_id.to_string();
        idb::open(Box::new(move |database| {
            if database.is_none() {
                console::warn(
                    "client-wasm: IndexedDB is unavailable; the session is not kept across a \
                     reload",
                );
            }
            let store = SessionStore {
                database,
                key,
                last: LastRecord::new(quota),
            };
            store.read(move |store, text| {
                let snapshot = text.as_deref().map(decode).unwrap_or_default();
                store.last.holds(text);
                done(store, snapshot);
            });
        }));
    }

    /// The record's text, after moving a `localStorage` entry into an empty record.
    fn read(self, done: impl FnOnce(SessionStore, Option<String>) + 'static) {
        let Some(database) = self.database.clone() else {
            return done(self, None);
        };
        let key = self.key.clone();
        idb::get(
            &database.clone(),
            &key.clone(),
            Box::new(move |stored| {
                let local = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
                let old_key = storage_key(&self.key);
                let old = local
                    .as_ref()
                    .and_then(|l| l.get_item(&old_key).ok().flatten());
                let (Some(local), Some(old)) = (local, old) else {
                    return done(self, stored);
                };
                if stored.is_some() {
                    // Already moved (another tab, or an interrupted migration): IndexedDB is newer.
                    let _ = local.remove_item(&old_key);
                    return done(self, stored);
                }
                let value = JsValue::from_str(&old);
                let moved = move |result: Result<(), StoreError>| {
                    match result {
                        Ok(()) => {
                            let _ = local.remove_item(&old_key);
                        }
                        Err(e) => console::warn(&format!(
                            "client-wasm: the session stored by an earlier version stays in \
                         localStorage ({e}); it is used this time and moved next time"
                        )),
                    }
                    done(self, Some(old));
                };
                let pending = Rc::new(RefCell::new(Some(moved)));
                let later = pending.clone();
                let started = idb::put(
                    &database,
                    &key,
                    Some(&value),
                    Box::new(move |result| {
                        if let Some(moved) = later.borrow_mut().take() {
                            moved(result);
                        }
                    }),
                );
                if let Err(e) = started {
                    if let Some(moved) = pending.borrow_mut().take() {
                        moved(Err(e));
                    }
                }
            }),
        );
    }
}

impl Store for SessionStore {
    /// Replaces the record with `snapshot` (an empty one deletes it): one transaction, whose
    /// outcome is reported once it is committed or aborted.
    fn write(
        self: &Rc<Self>,
        snapshot: &Snapshot,
        done: Box<dyn FnOnce(Result<(), StoreError>)>,
    ) -> Option<Result<(), StoreError>> {
        let text = match self.last.next(snapshot) {
            Ok(text) => text,
            Err(decided) => return Some(decided),
        };
        let Some(database) = &self.database else {
            self.last.holds(text);
            return Some(Ok(()));
        };
        let value = text.as_deref().map(JsValue::from_str);
        let store = self.clone();
        let started = idb::put(
            database,
            &self.key,
            value.as_ref(),
            Box::new(move |result| {
                if result.is_ok() {
                    store.last.holds(text);
                }
                done(result);
            }),
        );
        started.err().map(Err)
    }
}
