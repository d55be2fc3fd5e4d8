//! IndexedDB as futures: one database (`client-wasm`) with one object store (`sessions`), one
//! record per client id. A read is one request; a write is one readwrite transaction that
//! settles on the transaction's `complete` (committed) or `abort` (with its error, e.g.
//! `QuotaExceededError`), never on the request's `success`, which comes before the commit.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

use mqtt_core::persist::StoreError;

const DATABASE: &str = "client-wasm";
const SESSIONS: &str = "sessions";

/// Opens (and on first use creates) the database. `Err`: no IndexedDB here (some privacy
/// modes, sandboxed frames) or it failed.
pub(crate) async fn open() -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or_else(|| JsValue::from_str("no window"))?
        .indexed_db()?
        .ok_or_else(|| JsValue::from_str("no IndexedDB"))?;
    let request = factory.open_with_u32(DATABASE, 1)?;
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
    settled(&request).await?;
    request.result()?.dyn_into::<IdbDatabase>()
}

/// The record under `key` (`undefined` when there is none).
pub(crate) async fn get(database: &IdbDatabase, key: &str) -> Result<JsValue, JsValue> {
    let request = database
        .transaction_with_str_and_mode(SESSIONS, IdbTransactionMode::Readonly)?
        .object_store(SESSIONS)?
        .get(&key.into())?;
    settled(&request).await?;
    request.result()
}

/// Puts `value` under `key`, or deletes the record (`None`), in one transaction; `Ok` once it
/// is committed.
pub(crate) async fn put(
    database: &IdbDatabase,
    key: &str,
    value: Option<&JsValue>,
) -> Result<(), StoreError> {
    let transaction = database
        .transaction_with_str_and_mode(SESSIONS, IdbTransactionMode::Readwrite)
        .map_err(|_| StoreError::Unavailable)?;
    let store = transaction
        .object_store(SESSIONS)
        .map_err(|_| StoreError::Unavailable)?;
    let request = match value {
        Some(value) => store.put_with_key(value, &key.into()),
        None => store.delete(&key.into()),
    };
    request.map_err(|e| store_error(e.dyn_into().ok()))?;
    committed(&transaction)
        .await
        .map_err(|_| store_error(transaction.error()))
}

/// A request's `success` or `error`.
async fn settled(request: &IdbRequest) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await.map(drop)
}

/// A transaction's `complete` or `abort`.
async fn committed(transaction: &IdbTransaction) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onabort(Some(&reject));
    });
    JsFuture::from(promise).await.map(drop)
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
