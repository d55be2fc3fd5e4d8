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
    let watcher = Recorded::connect(url, options(&format!("watch-{id}")));
    watcher
        .client
        .subscribe(&[(&topic, QoS::AtLeastOnce)])
        .expect("subscribe");
    watcher
        .wait(5_000, |e| matches!(e, Event::Subscribed { .. }))
        .await;

    // Offline (the route's upstream is down): one message accepted, then the quota runs out.
    let mut o = options(&client_id);
    o.clean_session = false;
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
    let payloads: Vec<Vec<u8>> = watcher
        .events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.payload.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(payloads, vec![b"accepted".to_vec()]);
    assert_eq!(
        storage.get_item(&storage_key(&client_id)).ok().flatten(),
        None
    );
    page2.client.end();
    watcher.client.end();
}
