//! The stored session in a real browser (headless Chromium's IndexedDB): options that would
//! break it are refused at `connect`, a full store refuses a publish with `storage_full` while
//! every message accepted before it still goes out after a reload, pending messages survive a
//! reload, and a session an earlier version kept in `localStorage` is moved once.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod web_common;

use client_wasm::browser::storage_key;
use client_wasm::js::connect;
use client_wasm::ClientConfig;
use js_sys::{Object, Reflect};
use mqtt_core::{Event, QoS};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_common::*;
use web_sys::Storage;

wasm_bindgen_test_configure!(run_in_browser);

fn js_options(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &(*k).into(), v).expect("set");
    }
    o.into()
}

/// [MQTT-3.1.2-22] and a persistent session under a per-load random id: both refused with
/// `invalid_options` before anything is opened.
#[wasm_bindgen_test]
fn options_a_session_cannot_keep_are_refused_by_connect() {
    let url = "ws://127.0.0.1:1/mqtt";
    for (what, options) in [
        (
            "clean: false without a clientId",
            js_options(&[("clean", false.into())]),
        ),
        (
            "a password without a user name",
            js_options(&[("clientId", "x".into()), ("password", "secret".into())]),
        ),
    ] {
        let error = connect(url, Some(options.unchecked_into()))
            .err()
            .expect(what);
        assert_eq!(code(&error), "invalid_options", "{what}");
    }
}

fn local_storage() -> Storage {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("localStorage")
}

fn is_storage_full(e: &Event) -> bool {
    matches!(e, Event::PublishFailed { reason, .. } if reason.code() == "storage_full")
}

/// With the store's quota exhausted, a QoS 2 publish ends in `PublishFailed` with code
/// `storage_full` (the JS `publish` promise rejects with it) and is never sent; the message
/// accepted before it is committed and goes out after a reload. The quota is the client's test
/// hook (`ClientConfig::store_quota`): headless Chromium's IndexedDB quota is a share of the
/// disk, too large to fill in a test; the hook refuses the write where a `QuotaExceededError`
/// on the transaction would, and both become `StoreError::Full`.
#[wasm_bindgen_test]
async fn a_full_store_refuses_the_publish_and_loses_nothing_accepted() {
    let (Some(url), Some(down)) = (stack_url(WS_URL), stack_url(DOWN_URL)) else {
        return;
    };
    let id = unique();
    let client_id = format!("quota-{id}");
    let topic = format!("{USER}/quota-{id}");
    let watcher = Recorded::subscribed(
        url,
        options(&format!("watch-{id}")),
        &[(&topic, QoS::AtLeastOnce)],
    )
    .await;

    // Offline (the route's upstream is down): one message accepted, then the quota runs out.
    let o = persistent_options(&client_id);
    let tight = ClientConfig {
        store_quota: Some(300),
        ..ClientConfig::default()
    };
    let page1 = Recorded::connect_with(down, o.clone(), tight);
    page1
        .client
        .publish(&topic, b"accepted", QoS::AtLeastOnce, false)
        .expect("checked and waiting for the store");
    assert!(
        eventually(5_000, || page1.client.pending_count() == 1).await,
        "accepted once committed"
    );
    page1
        .client
        .publish(&topic, &[b'r'; 4096], QoS::ExactlyOnce, false)
        .expect("checked and waiting for the store");
    page1.wait(5_000, is_storage_full).await;
    assert_eq!(
        page1.client.pending_count(),
        1,
        "the refused one was not accepted"
    );
    let record = stored_record(&client_id).await.expect("a record");
    assert!(
        record.contains("YWNjZXB0ZWQ="),
        "the accepted row: {record}"
    );
    assert!(!record.contains("cnJy"), "no refused row: {record}");
    // The page goes away without end() (a reload): drop every handle.
    drop(page1);
    sleep(100).await;

    // "Page 2": same client id, reachable broker: the accepted message goes out, only it.
    let page2 = Recorded::connect(url, o);
    page2
        .wait(10_000, |e| matches!(e, Event::Published { .. }))
        .await;
    watcher
        .wait(10_000, |e| matches!(e, Event::Message(_)))
        .await;
    sleep(300).await;
    assert_eq!(watcher.payloads(), vec![b"accepted".to_vec()]);
    assert!(
        eventually(5_000, || page2.client.pending_count() == 0).await,
        "acknowledged"
    );
    page2.client.end();
    watcher.client.end();
}

/// Pending messages are kept in IndexedDB, not localStorage: after the page accepted them
/// offline, the record is there, and a reload sends them.
#[wasm_bindgen_test]
async fn a_reload_keeps_pending_messages_in_indexeddb() {
    let (Some(url), Some(down)) = (stack_url(WS_URL), stack_url(DOWN_URL)) else {
        return;
    };
    let id = unique();
    let client_id = format!("idb-{id}");
    let topic = format!("{USER}/idb-{id}");
    let watcher = Recorded::subscribed(
        url,
        options(&format!("watch-{id}")),
        &[(&topic, QoS::ExactlyOnce)],
    )
    .await;
    let o = persistent_options(&client_id);
    let offline = Recorded::connect(down, o.clone());
    for (i, qos) in [QoS::AtLeastOnce, QoS::ExactlyOnce, QoS::AtLeastOnce]
        .into_iter()
        .enumerate()
    {
        offline
            .client
            .publish(&topic, format!("kept{i}").as_bytes(), qos, false)
            .expect("checked");
    }
    assert!(eventually(5_000, || offline.client.pending_count() == 3).await);
    let record = stored_record(&client_id).await;
    assert!(
        record.as_deref().is_some_and(|r| r.contains("a2VwdDI=")),
        "the record in IndexedDB holds the third message: {record:?}"
    );
    assert_eq!(
        local_storage()
            .get_item(&storage_key(&client_id))
            .ok()
            .flatten(),
        None,
        "nothing in localStorage"
    );
    drop(offline);
    sleep(100).await;

    let page2 = Recorded::connect(url, o);
    page2
        .wait_n(3, 10_000, |e| matches!(e, Event::Published { .. }))
        .await;
    watcher
        .wait_n(3, 10_000, |e| matches!(e, Event::Message(_)))
        .await;
    sleep(300).await;
    // QoS 1 and QoS 2 flows are not ordered against each other (MQTT 3.1.1 section 4.6).
    let mut received = watcher.payloads();
    received.sort();
    assert_eq!(
        received,
        vec![b"kept0".to_vec(), b"kept1".to_vec(), b"kept2".to_vec()]
    );
    assert!(
        eventually(5_000, || page2.client.pending_count() == 0).await,
        "acknowledged"
    );
    page2.client.end();
    watcher.client.end();
}

/// A session an earlier version kept in localStorage is moved to IndexedDB once (read,
/// written and committed, then removed) and its message goes out once.
#[wasm_bindgen_test]
async fn a_localstorage_session_is_moved_to_indexeddb_once() {
    let (Some(url), Some(down)) = (stack_url(WS_URL), stack_url(DOWN_URL)) else {
        return;
    };
    let id = unique();
    let client_id = format!("move-{id}");
    let topic = format!("{USER}/move-{id}");
    let watcher = Recorded::subscribed(
        url,
        options(&format!("watch-{id}")),
        &[(&topic, QoS::AtLeastOnce)],
    )
    .await;
    let storage = local_storage();
    // Version 2 of the stored format: one QoS 1 row ("migrated"), no packet id yet.
    let old = format!(r#"{{"v":2,"p":[["{topic}","bWlncmF0ZWQ=",1,0,0,0]],"i":[]}}"#);
    storage
        .set_item(&storage_key(&client_id), &old)
        .expect("setItem");

    let o = persistent_options(&client_id);
    let offline = Recorded::connect(down, o.clone());
    assert!(
        eventually(5_000, || storage
            .get_item(&storage_key(&client_id))
            .ok()
            .flatten()
            .is_none())
        .await,
        "the localStorage entry is removed"
    );
    assert_eq!(offline.client.pending_count(), 1, "its row was restored");
    assert_eq!(
        stored_record(&client_id).await.as_deref(),
        Some(old.as_str())
    );
    drop(offline);
    sleep(100).await;

    let page2 = Recorded::connect(url, o.clone());
    page2
        .wait(10_000, |e| matches!(e, Event::Published { .. }))
        .await;
    watcher
        .wait(10_000, |e| matches!(e, Event::Message(_)))
        .await;
    page2.client.end();
    drop(page2);
    // Another page with the id: nothing left to move or send.
    let page3 = Recorded::connect(url, o);
    page3.wait(10_000, is_connected).await;
    sleep(500).await;
    assert_eq!(watcher.payloads(), vec![b"migrated".to_vec()], "once");
    assert_eq!(stored_record(&client_id).await, None);
    page3.client.end();
    watcher.client.end();
}

/// A reload with QoS 1 and 2 in flight both ways (persistent session): messages published to
/// the page while it was gone, and messages the page accepted while offline, all arrive after
/// the reload, the QoS 2 ones exactly once.
#[wasm_bindgen_test]
async fn a_reload_with_qos1_and_qos2_in_flight_both_ways_loses_and_repeats_nothing() {
    let (Some(url), Some(down)) = (stack_url(WS_URL), stack_url(DOWN_URL)) else {
        return;
    };
    let id = unique();
    let client_id = format!("both-{id}");
    let to_page = format!("{USER}/both-{id}/in");
    let from_page = format!("{USER}/both-{id}/out");
    let o = persistent_options(&client_id);

    // Page 1: its persistent session subscribes, then the page goes away.
    let page1 = Recorded::subscribed(url, o.clone(), &[(&to_page, QoS::ExactlyOnce)]).await;
    drop(page1);
    sleep(200).await;

    // While the page is gone: the broker queues QoS 1 and 2 messages for its session.
    let other = Recorded::connect(url, options(&format!("other-{id}")));
    let watcher = Recorded::subscribed(
        url,
        options(&format!("watch-{id}")),
        &[(&from_page, QoS::ExactlyOnce)],
    )
    .await;
    for (i, qos) in [QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .cycle()
        .take(6)
        .enumerate()
    {
        other
            .client
            .publish(&to_page, format!("in{i}").as_bytes(), qos, false)
            .expect("publish");
    }
    other
        .wait_n(6, 10_000, |e| matches!(e, Event::Published { .. }))
        .await;

    // Page 1 again, offline (its route's upstream is down): it accepts four messages, then
    // reloads before any went out.
    let offline = Recorded::connect(down, o.clone());
    for (i, qos) in [QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .cycle()
        .take(4)
        .enumerate()
    {
        offline
            .client
            .publish(&from_page, format!("out{i}").as_bytes(), qos, false)
            .expect("accepted offline");
    }
    assert!(eventually(5_000, || offline.client.pending_count() == 4).await);
    drop(offline);
    sleep(100).await;

    // Page 2, online: both directions complete.
    let page2 = Recorded::connect(url, o);
    page2
        .wait_n(6, 10_000, |e| matches!(e, Event::Message(_)))
        .await;
    page2
        .wait_n(4, 10_000, |e| matches!(e, Event::Published { .. }))
        .await;
    watcher
        .wait_n(4, 10_000, |e| matches!(e, Event::Message(_)))
        .await;
    sleep(500).await;
    let mut inbound = page2.payloads();
    inbound.sort();
    let expected_in: Vec<Vec<u8>> = (0..6).map(|i| format!("in{i}").into_bytes()).collect();
    assert_eq!(
        inbound, expected_in,
        "every message to the page, none twice"
    );
    let mut outbound = watcher.payloads();
    outbound.sort();
    let expected_out: Vec<Vec<u8>> = (0..4).map(|i| format!("out{i}").into_bytes()).collect();
    assert_eq!(
        outbound, expected_out,
        "every message from the page, none twice"
    );
    for c in [&page2, &other, &watcher] {
        c.client.end();
    }
}
