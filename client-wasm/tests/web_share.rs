//! One connection shared by the clients of one (URL, client id) (`client_wasm::js`, sharing on
//! by default with an explicit `clientId`), in headless Chromium against the real bridge and
//! broker. Two clients in one page stand for two tabs: the Web Lock and the BroadcastChannel
//! treat them alike. The cross-window tests are in `tests/tests/tabs.rs`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod web_common;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_common::*;

wasm_bindgen_test_configure!(run_in_browser);

fn payloads(seen: &Rc<RefCell<Vec<JsValue>>>) -> Vec<String> {
    seen.borrow()
        .iter()
        .map(|m| {
            let payload = Reflect::get(m, &"payload".into()).unwrap_or(JsValue::UNDEFINED);
            String::from_utf8_lossy(&js_sys::Uint8Array::new(&payload).to_vec()).into_owned()
        })
        .collect()
}

fn opts(qos: u8) -> Option<client_wasm::js::PublishOptions> {
    Some(object(&[("qos", qos.into())]).unchecked_into())
}

/// The first client holds the connection (leader), the second goes through it (follower):
/// the follower's subscribe and QoS 2 publish settle on the leader's acknowledgements, both
/// receive every message, and when the leader ends the follower takes over and goes on.
/// `share: false` keeps a client to itself.
#[wasm_bindgen_test]
async fn two_clients_with_one_client_id_share_one_connection() {
    let Some(url) = stack_url(WS_URL) else { return };
    let id = format!("share-{}", unique());
    let persistent = [("clean", JsValue::FALSE)];
    let a = js_connect(url, &id, &persistent);
    wait_until(5_000, "the first client to lead", || {
        a.role() == "leader" && a.connected()
    })
    .await;
    let b = js_connect(url, &id, &persistent);
    assert_eq!(b.role(), "follower");
    let (b_states, on_state) = recorder();
    b.on_state(on_state.unchecked_into());
    wait_until(5_000, "the follower to see the connection", || {
        b.connected()
    })
    .await;
    let seen_state = b_states.borrow().last().cloned().expect("a state");
    assert_eq!(
        Reflect::get(&seen_state, &"state".into()).ok(),
        Some(JsValue::from("connected"))
    );

    let (a_messages, on_a) = recorder();
    a.on_message(on_a.unchecked_into());
    let (b_messages, on_b) = recorder();
    b.on_message(on_b.unchecked_into());
    let topic = format!("{USER}/{id}/t");
    let granted = settle(b.subscribe(JsValue::from(topic.as_str()).unchecked_into(), Some(2)))
        .await
        .expect("SUBACK through the leader");
    assert_eq!(Array::from(&granted).to_vec(), vec![JsValue::from(2u8)]);
    settle(a.publish(&topic, JsValue::from("from a").unchecked_into(), opts(1)))
        .await
        .expect("PUBACK");
    settle(b.publish(&topic, JsValue::from("from b").unchecked_into(), opts(2)))
        .await
        .expect("PUBCOMP through the leader");
    assert_eq!(b.pending_count(), 0);
    for seen in [&a_messages, &b_messages] {
        wait_until(5_000, "both messages in both clients", || {
            payloads(seen) == ["from a", "from b"]
        })
        .await;
    }
    let e = settle(b.publish("bad/#", JsValue::from("x").unchecked_into(), None))
        .await
        .expect_err("checked in the follower");
    assert_eq!(code(&e), "invalid_topic");

    a.end();
    wait_until(5_000, "the follower to take over", || {
        b.role() == "leader" && b.connected()
    })
    .await;
    settle(b.publish(&topic, JsValue::from("after").unchecked_into(), opts(1)))
        .await
        .expect("PUBACK on the new leader's connection");
    wait_until(5_000, "the message after the takeover", || {
        payloads(&b_messages).last().map(String::as_str) == Some("after")
    })
    .await;

    let solo = js_connect(url, &id, &[("share", JsValue::FALSE)]);
    assert_eq!(solo.role(), "solo");
    solo.end();
    b.end();
    let last = b_states.borrow().last().cloned().expect("a state");
    assert_eq!(
        Reflect::get(&last, &"state".into()).ok(),
        Some(JsValue::from("closed"))
    );
}

/// A follower that ends leaves the leader's connection alone, and reports "closed" itself.
#[wasm_bindgen_test]
async fn a_follower_that_ends_leaves_the_connection_to_the_others() {
    let Some(url) = stack_url(WS_URL) else { return };
    let id = format!("share-end-{}", unique());
    let a = js_connect(url, &id, &[]);
    wait_until(5_000, "the first client to lead", || {
        a.role() == "leader" && a.connected()
    })
    .await;
    let b = js_connect(url, &id, &[]);
    wait_until(5_000, "the follower to see the connection", || {
        b.connected()
    })
    .await;
    b.end();
    assert_eq!(
        Reflect::get(&JsValue::from(b.state()), &"state".into()).ok(),
        Some(JsValue::from("closed"))
    );
    sleep(300).await;
    assert!(a.connected(), "the leader's connection is untouched");
    let topic = format!("{USER}/{id}/t");
    settle(a.publish(&topic, JsValue::from("still").unchecked_into(), opts(1)))
        .await
        .expect("PUBACK");
    a.end();
}

/// A leader dropped without `end()` (its JS object freed) releases the lock: the follower
/// takes over instead of waiting for the tab to close.
#[wasm_bindgen_test]
async fn a_dropped_leader_lets_the_follower_take_over() {
    let Some(url) = stack_url(WS_URL) else { return };
    let id = format!("share-drop-{}", unique());
    let a = js_connect(url, &id, &[]);
    wait_until(5_000, "the first client to lead", || {
        a.role() == "leader" && a.connected()
    })
    .await;
    let b = js_connect(url, &id, &[]);
    wait_until(5_000, "the follower to see the connection", || {
        b.connected()
    })
    .await;
    assert_eq!(b.role(), "follower");
    drop(a);
    wait_until(5_000, "the follower to take over", || {
        b.role() == "leader" && b.connected()
    })
    .await;
    b.end();
}

/// An unsubscribe in one tab does not stop a filter another tab still holds: the leader sends
/// UNSUBSCRIBE only for filters no tab holds any more.
#[wasm_bindgen_test]
async fn an_unsubscribe_in_one_tab_keeps_the_filter_of_the_other() {
    let Some(url) = stack_url(WS_URL) else { return };
    let id = format!("share-unsub-{}", unique());
    let a = js_connect(url, &id, &[]);
    wait_until(5_000, "the first client to lead", || {
        a.role() == "leader" && a.connected()
    })
    .await;
    let b = js_connect(url, &id, &[]);
    wait_until(5_000, "the follower to see the connection", || {
        b.connected()
    })
    .await;
    let (a_messages, on_a) = recorder();
    a.on_message(on_a.unchecked_into());
    let topic = format!("{USER}/{id}/t");
    let filter = || JsValue::from(topic.as_str()).unchecked_into();
    for client in [&a, &b] {
        settle(client.subscribe(filter(), Some(1)))
            .await
            .expect("SUBACK");
    }
    settle(b.unsubscribe(filter())).await.expect("settled");
    settle(a.publish(&topic, JsValue::from("one").unchecked_into(), opts(1)))
        .await
        .expect("PUBACK");
    wait_until(5_000, "the leader's filter to stay", || {
        payloads(&a_messages) == ["one"]
    })
    .await;
    // The last holder lets go: now the broker stops sending.
    settle(a.unsubscribe(filter())).await.expect("UNSUBACK");
    settle(a.publish(&topic, JsValue::from("two").unchecked_into(), opts(1)))
        .await
        .expect("PUBACK");
    sleep(500).await;
    assert_eq!(payloads(&a_messages), ["one"]);
    b.end();
    a.end();
}

/// The leader keeps a follower's QoS 1/2 publish in its IndexedDB store (`ClientConfig` as
/// the web app's console uses it, offline: the route's upstream is down): the leader accepts
/// it once the transaction holding its row committed, and only then tells the follower it is
/// stored; one the store cannot hold is refused in the follower with `storage_full`. When the
/// leader goes, the follower leads: it reads the store, restores the row and adopts it as its
/// own publish (one pending message, not two: it is not submitted again).
#[wasm_bindgen_test]
async fn a_followers_publish_is_stored_by_the_leader_and_adopted_by_the_next() {
    use client_wasm::browser::TabRole;
    use client_wasm::ClientConfig;
    use mqtt_core::persist::StoreError;
    use mqtt_core::{Event, PublishFailure, QoS};

    let Some(down) = stack_url(DOWN_URL) else {
        return;
    };
    let id = unique();
    let client_id = format!("share-store-{id}");
    let topic = format!("{USER}/share-store-{id}");
    let config = ClientConfig {
        share: true,
        store_quota: Some(300),
        ..ClientConfig::default()
    };
    let leader = Recorded::connect_with(down, persistent_options(&client_id), config.clone());
    wait_until(5_000, "the first client to lead", || {
        leader.client.role() == TabRole::Leader
    })
    .await;
    let follower = Recorded::connect_with(down, persistent_options(&client_id), config);
    assert_eq!(follower.client.role(), TabRole::Follower);

    follower
        .client
        .publish(&topic, b"from-follower", QoS::AtLeastOnce, false)
        .expect("handed to the leader");
    wait_until(5_000, "the leader to accept it (row committed)", || {
        leader.client.pending_count() == 1
    })
    .await;
    let record = stored_record(&client_id).await.expect("a record");
    assert!(record.contains("ZnJvbS1mb2xsb3dlcg=="), "its row: {record}");

    follower
        .client
        .publish(&topic, &[b'r'; 4096], QoS::ExactlyOnce, false)
        .expect("handed to the leader");
    follower
        .wait(5_000, |e| {
            matches!(
                e,
                Event::PublishFailed {
                    reason: PublishFailure::NotStored(StoreError::Full),
                    ..
                }
            )
        })
        .await;
    assert_eq!(follower.client.pending_count(), 1, "the stored one waits");
    assert_eq!(
        leader.client.pending_count(),
        1,
        "the refused one was never accepted"
    );

    // The leader's page goes away without end() (a crash, a reload).
    drop(leader);
    wait_until(5_000, "the follower to lead", || {
        follower.client.role() == TabRole::Leader
    })
    .await;
    sleep(500).await;
    assert_eq!(
        follower.client.pending_count(),
        1,
        "restored from the store and adopted, not submitted again"
    );
    assert_eq!(follower.count(|e| matches!(e, Event::Published { .. })), 0);
    follower.client.end();
}
