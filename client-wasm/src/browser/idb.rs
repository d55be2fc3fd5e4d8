//! IndexedDB with callbacks: one database (`client-wasm`) with one object store (`sessions`),
//! one record per client id. A read is one request; a write is one readwrite transaction that
//! settles on the transaction's `complete` (committed) or `abort` (with its error, e.g.
//! `QuotaExceededError`), never on the request's `success`, which comes before the commit.
//! Callbacks instead of futures: no async runtime in the package.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DomException, IdbDatabase, IdbRequest, IdbTransactionMode};

use mqtt_core::persist::StoreError;

const DATABASE: &str = "client-wasm";
const SESSIONS: &str = "sessions";

/// A handler for both outcomes of a request or transaction (exactly one of them fires):
/// `done(true)` on the event named `success`. Boxed: one closure shim for every caller.
fn settled(success: &'static str, done: Box<dyn FnOnce(bool)>) -> js_sys::Function {
    Closure::once_into_js(move |event: web_sys::Event| done(event.type_() == success))
        .unchecked_into()
}

/// Opens (and on first use creates) the database; `None`: no IndexedDB here (some privacy
/// modes, sandboxed frames) or it failed.
pub(crate) fn open(done: Box<dyn FnOnce(Option<IdbDatabase>)>) {
    let request = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .and_then(|factory| factory.open_with_u32(DATABASE, 1).ok());
    let Some(request) = request else {
        return done(None);
    };
    let upgrade = Closure::once_into_js(|event: web_sys::Event| {
        let database = event
            .target()
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|d| d.dyn_into::<IdbDatabase>().ok());
        if let Some(database) = database {
            let _ = database.create_object_store(SESSIONS);
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let opened = request.clone();
    let handler = settled(
        "success",
        Box::new(move |ok| {
            let database = opened.result().ok().and_then(|d| d.dyn_into().ok());
            done(database.filter(|_| ok));
        }),
    );
    request.set_onsuccess(Some(&handler));
    request.set_onerror(Some(&handler));
}

/// The record under `key`, if it is a string.
pub(crate) fn get(database: &IdbDatabase, key: &str, done: Box<dyn FnOnce(Option<String>)>) {
    let request = database
        .transaction_with_str_and_mode(SESSIONS, IdbTransactionMode::Readonly)
        .and_then(|t| t.object_store(SESSIONS))
        .and_then(|s| s.get(&key.into()));
    let Ok(request) = request else {
        return done(None);
    };
    let read = request.clone();
    let handler = settled(
        "success",
        Box::new(move |ok| {
            done(
                read.result()
                    .ok()
                    .and_then(|v| v.as_string())
                    .filter(|_| ok),
            );
        }),
    );
    request.set_onsuccess(Some(&handler));
    request.set_onerror(Some(&handler));
}

/// Puts `value` under `key`, or deletes the record (`None`), in one transaction: `done` gets
/// `Ok` once it is committed. `Err` here, and no call of `done`, when it cannot even start.
pub(crate) fn put(
    database: &IdbDatabase,
    key: &str,
    value: Option<&JsValue>,
    done: Box<dyn FnOnce(Result<(), StoreError>)>,
) -> Result<(), StoreError> {
    let transaction = database
        .transaction_with_str_and_mode(SESSIONS, IdbTransactionMode::Readwrite)
        .map_err(|_| StoreError::Unavailable)?;
    transaction
        .object_store(SESSIONS)
        .and_then(|store| match value {
            Some(value) => store.put_with_key(value, &key.into()),
            None => store.delete(&key.into()),
        })
        .map_err(|e| store_error(e.dyn_into().ok()))?;
    let aborted = transaction.clone();
    let handler = settled(
        "complete",
        Box::new(move |ok| {
            done(if ok {
                Ok(())
            } else {
                Err(store_error(aborted.error()))
            });
        }),
    );
    transaction.set_oncomplete(Some(&handler));
    transaction.set_onabort(Some(&handler));
    Ok(())
}

/// `QuotaExceededError` (on the request or the aborted transaction) is a full store; anything
/// else (closed database, disk error) is an unavailable one.
pub(crate) fn store_error(error: Option<DomException>) -> StoreError {
    match error.map(|e| e.name()).as_deref() {
        Some("QuotaExceededError") => StoreError::Full,
        _ => StoreError::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The error an aborted transaction carries when the origin's quota is used up is a full
    /// store (`storage_full`); any other is an unavailable one.
    #[test]
    fn quota_exceeded_is_a_full_store() {
        let named = |name| DomException::new_with_message_and_name("test", name).ok();
        assert_eq!(store_error(named("QuotaExceededError")), StoreError::Full);
        assert_eq!(store_error(named("UnknownError")), StoreError::Unavailable);
        assert_eq!(store_error(None), StoreError::Unavailable);
    }
}
