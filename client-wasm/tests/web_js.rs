//! The JavaScript API (`client_wasm::js`, what `pkg/client_wasm.js` exports) in headless
//! Chromium against the real bridge and broker: promises, states, error codes, payloads.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod web_common;

use std::cell::RefCell;
use std::rc::Rc;

use client_wasm::js::connect;
use js_sys::{Array, Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_common::*;

wasm_bindgen_test_configure!(run_in_browser);

fn states(seen: &Rc<RefCell<Vec<JsValue>>>) -> Vec<String> {
    seen.borrow()
        .iter()
        .map(|s| field(s, "state").as_string().unwrap_or_default())
        .collect()
}

/// A URL the browser cannot open a WebSocket to is the caller's mistake: `connect` throws
/// "invalid_url" at once, never a transport failure or a close code 0.
#[wasm_bindgen_test]
fn a_bad_url_is_refused_by_connect() {
    for url in [
        "not a url",
        "http://127.0.0.1:1/mqtt",
        "ws://127.0.0.1:1/mqtt#frag",
    ] {
        let error = connect(url, None).err().expect(url);
        assert_eq!(code(&error), "invalid_url", "{url}");
        assert!(error.is_instance_of::<js_sys::Error>());
    }
}

#[wasm_bindgen_test]
async fn js_api_publishes_strings_and_bytes_and_settles_on_acknowledgement() {
    let Some(url) = stack_url(WS_URL) else { return };
    let id = unique();
    let client = js_connect(url, &format!("js-{id}"), &[]);
    let (state_seen, on_state) = recorder();
    client.on_state(on_state.unchecked_into());
    let (messages, on_message) = recorder();
    client.on_message(on_message.unchecked_into());
    assert_eq!(
        states(&state_seen),
        ["connecting"],
        "onState reports the current state at once"
    );

    let filter = format!("{USER}/js-{id}/#");
    let granted = settle(client.subscribe(JsValue::from(filter).unchecked_into(), Some(2)))
        .await
        .expect("suback");
    assert_eq!(Array::from(&granted).to_vec(), vec![JsValue::from(2u8)]);
    assert!(client.connected());
    assert!(states(&state_seen).contains(&"connected".to_string()));

    let text_topic = format!("{USER}/js-{id}/text");
    let bin_topic = format!("{USER}/js-{id}/bin");
    let bytes: Vec<u8> = vec![0, 1, 2, 0xff, 0xfe, 0x80, 0xc0, 0x00, b'a'];
    let opts = |qos: u8| Some(object(&[("qos", qos.into())]).unchecked_into());
    let p0 = client.publish(
        &text_topic,
        JsValue::from("héllo ✓").unchecked_into(),
        opts(0),
    );
    let p1 = client.publish(
        &bin_topic,
        Uint8Array::from(bytes.as_slice()).unchecked_into(),
        opts(1),
    );
    let p2 = client.publish(&text_topic, JsValue::from("two").unchecked_into(), opts(2));
    for p in [p0, p1, p2] {
        assert_eq!(settle(p).await.expect("acknowledged"), JsValue::UNDEFINED);
    }
    wait_until(5_000, "3 messages", || messages.borrow().len() >= 3).await;
    let got: Vec<(String, Vec<u8>, f64)> = messages
        .borrow()
        .iter()
        .map(|m| {
            let payload: Uint8Array = field(m, "payload").unchecked_into();
            (
                field(m, "topic").as_string().unwrap_or_default(),
                payload.to_vec(),
                field(m, "qos").as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (text_topic.clone(), "héllo ✓".as_bytes().to_vec(), 0.0),
            (bin_topic, bytes, 1.0),
            (text_topic, b"two".to_vec(), 2.0)
        ]
    );

    let e = settle(client.publish("bad/#", JsValue::from("x").unchecked_into(), None))
        .await
        .expect_err("invalid");
    assert_eq!(code(&e), "invalid_topic");
    assert!(e.is_instance_of::<js_sys::Error>());
    let e = settle(client.publish("a", JsValue::from(5).unchecked_into(), None))
        .await
        .expect_err("payload type");
    assert_eq!(code(&e), "invalid_payload");
    settle(client.unsubscribe(JsValue::from(format!("{USER}/js-{id}/#")).unchecked_into()))
        .await
        .expect("unsuback");

    client.end();
    assert_eq!(
        states(&state_seen).last().map(String::as_str),
        Some("closed")
    );
    let e = settle(client.publish(
        &format!("{USER}/x"),
        JsValue::from("late").unchecked_into(),
        None,
    ))
    .await;
    assert_eq!(code(&e.expect_err("ended")), "ended");
}

#[wasm_bindgen_test]
async fn js_api_reports_bad_credentials_and_rejects_pending_on_end() {
    let (Some(url), Some(down)) = (stack_url(WS_URL), stack_url(DOWN_URL)) else {
        return;
    };
    let client = js_connect(
        url,
        &format!("jsbad-{}", unique()),
        &[("password", "nope".into())],
    );
    let (seen, on_state) = recorder();
    client.on_state(on_state.unchecked_into());
    wait_until(5_000, "closed", || {
        states(&seen).contains(&"closed".to_string())
    })
    .await;
    let closed = seen.borrow().last().cloned().expect("state");
    // mosquitto 2.0 refuses a wrong password with CONNACK 5 ("not_authorized"); 4 is "bad_credentials".
    let refused = field(&closed, "code").as_string().unwrap_or_default();
    assert!(
        matches!(refused.as_str(), "bad_credentials" | "not_authorized"),
        "{refused}"
    );
    assert_eq!(code(&field(&closed, "error")), refused);

    // Offline (upstream down): the state says when the next attempt is; end() rejects.
    let client = js_connect(down, &format!("jsdown-{}", unique()), &[]);
    let (seen, on_state) = recorder();
    client.on_state(on_state.unchecked_into());
    let pending = client.publish(
        &format!("{USER}/never"),
        JsValue::from("x").unchecked_into(),
        Some(object(&[("qos", 1.into())]).unchecked_into()),
    );
    wait_until(5_000, "reconnecting", || {
        states(&seen).contains(&"reconnecting".to_string())
    })
    .await;
    let reconnecting = seen
        .borrow()
        .iter()
        .find(|s| field(s, "state").as_string().as_deref() == Some("reconnecting"))
        .cloned();
    let reconnecting = reconnecting.expect("reconnecting state");
    assert!(field(&reconnecting, "inMs")
        .as_f64()
        .is_some_and(|ms| ms > 0.0));
    assert!(field(&reconnecting, "attempt").as_f64().is_some());
    assert_eq!(
        field(&field(&reconnecting, "error"), "closeCode").as_f64(),
        Some(4502.0)
    );
    client.end();
    let e = settle(pending).await.expect_err("rejected by end()");
    assert_eq!(code(&e), "ended");
}

/// Records the size of every WebSocket message the page sends, until dropped.
struct SendSpy(JsValue);

impl SendSpy {
    fn install() -> SendSpy {
        let spy = Function::new_no_args(
            "const send = WebSocket.prototype.send; const sizes = [];
             WebSocket.prototype.send = function (data) { sizes.push(data.byteLength); return send.call(this, data); };
             return { sizes, restore() { WebSocket.prototype.send = send; } };",
        )
        .call0(&JsValue::NULL)
        .expect("spy");
        SendSpy(spy)
    }

    /// The sizes so far, in bytes.
    fn sizes(&self) -> Vec<u64> {
        Array::from(&field(&self.0, "sizes"))
            .iter()
            .filter_map(|v| v.as_f64())
            .map(|n| n as u64)
            .collect()
    }
}

impl Drop for SendSpy {
    fn drop(&mut self) {
        let restore = Reflect::get(&self.0, &"restore".into()).ok();
        if let Some(restore) = restore.and_then(|f| f.dyn_into::<Function>().ok()) {
            let _ = restore.call0(&self.0);
        }
    }
}

/// Packets produced while one incoming message is handled (its PUBACK and what the message
/// callback publishes) leave as one WebSocket message, not one `send` each.
#[wasm_bindgen_test]
async fn packets_of_one_turn_share_a_websocket_message() {
    let Some(url) = stack_url(WS_URL) else { return };
    let spy = SendSpy::install();
    let sizes = || spy.sizes();

    let id = unique();
    let client = Rc::new(js_connect(url, &format!("js-batch-{id}"), &[]));
    let trigger = format!("{USER}/batch-{id}/trigger");
    let echo = format!("{USER}/batch-{id}/echo");
    settle(client.subscribe(
        JsValue::from(format!("{USER}/batch-{id}/#")).unchecked_into(),
        Some(1),
    ))
    .await
    .expect("suback");
    let (messages, record) = recorder();
    let weak = Rc::downgrade(&client);
    let echo_topic = echo.clone();
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |m: JsValue| {
        let from_trigger = field(&m, "topic").as_string().as_deref() == Some(trigger.as_str());
        let _ = record.call1(&JsValue::NULL, &m);
        if let (true, Some(client)) = (from_trigger, weak.upgrade()) {
            for _ in 0..3 {
                let _ = client.publish(&echo_topic, JsValue::from("x").unchecked_into(), None);
            }
        }
    });
    client.on_message(on_message.into_js_value().unchecked_into());

    let before = sizes().len();
    let opts = Some(object(&[("qos", 1.into())]).unchecked_into());
    settle(client.publish(
        &format!("{USER}/batch-{id}/trigger"),
        JsValue::from("go").unchecked_into(),
        opts,
    ))
    .await
    .expect("puback");
    wait_until(5_000, "the trigger and 3 echoes", || {
        messages.borrow().len() >= 4
    })
    .await;
    // PUBACK (4 bytes) and three QoS 0 PUBLISHes of "x" (2 + 2 + topic + 1 bytes each).
    let batch = 4 + 3 * (5 + echo.len()) as u64;
    let sent: Vec<u64> = sizes()[before..].to_vec();
    drop(spy);
    assert!(
        sent.contains(&batch),
        "one message of {batch} bytes expected: {sent:?}"
    );
    client.end();
}

/// Publishes made one after another by the page (a loop; promise callbacks run the same way)
/// leave as one WebSocket message at the end of the script, not one `send` each: a send costs
/// the browser far more than the bytes in it.
#[wasm_bindgen_test]
async fn publishes_of_one_script_share_a_websocket_message() {
    let Some(url) = stack_url(WS_URL) else { return };
    let spy = SendSpy::install();
    let sizes = || spy.sizes();
    let id = unique();
    let client = js_connect(url, &format!("js-loop-{id}"), &[]);
    let topic = format!("{USER}/loop-{id}/t");
    // Connected once a subscription is acknowledged.
    settle(client.subscribe(JsValue::from(topic.clone()).unchecked_into(), Some(0)))
        .await
        .expect("suback");
    let before = sizes().len();
    let opts = || Some(object(&[("qos", 1.into())]).unchecked_into());
    let promises: Vec<_> = (0..5)
        .map(|_| client.publish(&topic, JsValue::from("x").unchecked_into(), opts()))
        .collect();
    for promise in promises {
        settle(promise).await.expect("puback");
    }
    let sent = sizes()[before..].to_vec();
    drop(spy);
    // Five QoS 1 PUBLISHes of "x": 2 (fixed header) + 2 + topic + 2 (packet id) + 1 bytes each.
    let five = 5 * (7 + topic.len()) as u64;
    assert_eq!(sent, [five], "one message of five PUBLISHes expected");
    client.end();
}
