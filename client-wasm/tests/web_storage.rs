//! The stored session in a real browser (headless Chromium's `localStorage`): options that
//! would break it are refused at `connect`, and a full storage refuses a publish with
//! `storage_full` while every message accepted before it still goes out after a reload.
#![cfg(target_arch = "wasm32")]

mod web_common;

use client_wasm::browser::storage_key;
use client_wasm::js::connect;
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

/// Fills the origin's storage quota with filler keys; returns them, to remove afterwards.
fn fill_storage(storage: &Storage) -> Vec<String> {
    let mut keys = Vec::new();
    for size in [1 << 20, 1 << 16, 1 << 12, 1 << 8, 16] {
        let filler = "x".repeat(size);
        loop {
            let key = format!("filler-{}", keys.len());
            if storage.set_item(&key, &filler).is_err() {
                break;
            }
            keys.push(key);
        }
    }
    keys
}

#[wasm_bindgen_test]
async fn a_full_storage_refuses_the_publish_and_loses_nothing_accepted() {
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
    let page1 = Recorded::connect(down, o.clone());
    page1
        .client
        .publish(&topic, b"accepted", QoS::AtLeastOnce, false)
        .expect("accepted while there is room");
    let storage = local_storage();
    let filler = fill_storage(&storage);
    assert!(!filler.is_empty(), "the quota was reached");
    let refused = page1
        .client
        .publish(&topic, &[b'r'; 4096], QoS::ExactlyOnce, false)
        .expect_err("no room to store it");
    assert_eq!(refused.code(), "storage_full");
    assert_eq!(
        page1.client.pending_count(),
        1,
        "the refused one was not accepted"
    );
    for key in &filler {
        let _ = storage.remove_item(key);
    }
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
    assert_eq!(
        storage.get_item(&storage_key(&client_id)).ok().flatten(),
        None
    );
    page2.client.end();
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
