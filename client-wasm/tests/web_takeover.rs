//! Takeover by a client that is not a tab ([MQTT-3.1.4-2]: the broker drops the older
//! connection of a client id): a raw MQTT client outside the browser (the stack's
//! `/take-over`, straight to mosquitto over TCP) keeps reconnecting with the page's id. The
//! page must end in the "elsewhere" state after a bounded number of CONNECTs (counted in
//! mosquitto's log), not flap forever, and `takeOver()` must connect again.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod web_common;

use std::cell::RefCell;
use std::rc::Rc;

use client_wasm::js::connect;
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_common::*;

wasm_bindgen_test_configure!(run_in_browser);

fn state_name(state: &JsValue) -> String {
    Reflect::get(state, &"state".into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn repeated_takeovers_from_outside_end_in_elsewhere_not_a_loop() {
    let Some(url) = stack_url(WS_URL) else {
        return;
    };
    let client_id = format!("elsewhere-{}", unique());
    let options = Object::new();
    for (k, v) in [
        ("clientId", JsValue::from(client_id.as_str())),
        ("username", USER.into()),
        ("password", PASSWORD.into()),
    ] {
        Reflect::set(&options, &k.into(), &v).expect("set");
    }
    let backoff = Object::new();
    Reflect::set(&backoff, &"initialMs".into(), &200.into()).expect("set");
    Reflect::set(&backoff, &"maxMs".into(), &1_000.into()).expect("set");
    Reflect::set(&options, &"reconnect".into(), &backoff).expect("set");
    let client = connect(url, Some(options.unchecked_into())).expect("connect");
    let states: Rc<RefCell<Vec<JsValue>>> = Rc::default();
    let sink = states.clone();
    let record = Closure::<dyn FnMut(JsValue)>::new(move |s| sink.borrow_mut().push(s));
    client.on_state(
        record
            .as_ref()
            .unchecked_ref::<Function>()
            .clone()
            .unchecked_into(),
    );
    let named = |name: &str| {
        states
            .borrow()
            .iter()
            .filter(|s| state_name(s) == name)
            .count()
    };
    assert!(eventually(10_000, || named("connected") == 1).await);

    // The other client takes the id, again and again, for 8 s.
    let outside: Rc<RefCell<Option<String>>> = Rc::default();
    let done = outside.clone();
    let path = format!("/take-over?client_id={client_id}&ms=8000");
    wasm_bindgen_futures::spawn_local(async move {
        *done.borrow_mut() = Some(control(&path).await);
    });
    let ended = eventually(8_000, || named("elsewhere") == 1).await;
    let connected = named("connected");
    assert!(
        ended,
        "no 'elsewhere' after {connected} connections; states: {:?}",
        states.borrow().iter().map(state_name).collect::<Vec<_>>()
    );
    let last = states.borrow().last().cloned().expect("a state");
    assert_eq!(state_name(&last), "elsewhere");
    let at = Reflect::get(&last, &"at".into())
        .ok()
        .and_then(|a| a.as_f64())
        .unwrap_or(0.0);
    assert!(
        (js_sys::Date::now() - at).abs() < 10_000.0,
        "`at` is when it happened"
    );
    let error = Reflect::get(&last, &"error".into()).expect("error");
    assert_eq!(code(&error), "connected_elsewhere");
    assert!(connected <= 3, "{connected} connections before giving up");

    // No reconnect storm: the page stays put while the other client goes on.
    assert!(eventually(15_000, || outside.borrow().is_some()).await);
    let outside_connects = outside.borrow().clone().unwrap_or_default();
    let total: usize = control(&format!("/connects?client_id={client_id}"))
        .await
        .parse()
        .expect("a count");
    let outside_connects: usize = outside_connects
        .trim_start_matches("connects=")
        .parse()
        .expect("a count");
    let page_connects = total - outside_connects;
    log(&format!(
        "CONNECTs at the broker: page {page_connects}, other client {outside_connects}"
    ));
    assert!(
        page_connects <= 4,
        "the page sent {page_connects} CONNECTs (at most the first and 3 short-lived ones)"
    );
    assert_eq!(
        named("connected"),
        connected,
        "no reconnect after 'elsewhere'"
    );

    // The other client is gone; the user takes the id back.
    client.take_over();
    assert!(eventually(10_000, || named("connected") == connected + 1).await);
    sleep(1_000).await;
    assert_eq!(state_name(&client.state().into()), "connected");
    client.end();
}

/// A connection shared by two clients (tabs) of one client id ([MQTT-3.1.4-2] from outside):
/// the leader stops in "elsewhere" and so does the follower, which learns it from the leader;
/// the follower's `takeOver()` is handed to the leader, whose connection it is, and both are
/// connected again.
#[wasm_bindgen_test]
async fn a_shared_connection_taken_from_outside_is_elsewhere_in_every_tab() {
    let Some(url) = stack_url(WS_URL) else {
        return;
    };
    let client_id = format!("elsewhere-shared-{}", unique());
    let options = || {
        let options = Object::new();
        for (k, v) in [
            ("clientId", JsValue::from(client_id.as_str())),
            ("username", USER.into()),
            ("password", PASSWORD.into()),
        ] {
            Reflect::set(&options, &k.into(), &v).expect("set");
        }
        let backoff = Object::new();
        Reflect::set(&backoff, &"initialMs".into(), &200.into()).expect("set");
        Reflect::set(&backoff, &"maxMs".into(), &1_000.into()).expect("set");
        Reflect::set(&options, &"reconnect".into(), &backoff).expect("set");
        Some(options.unchecked_into())
    };
    let state = |client: &client_wasm::js::MqttClient| state_name(&client.state().into());
    let leader = connect(url, options()).expect("connect");
    assert!(eventually(10_000, || state(&leader) == "connected").await);
    let follower = connect(url, options()).expect("connect");
    assert!(eventually(5_000, || state(&follower) == "connected").await);
    assert_eq!(
        (leader.role().as_str(), follower.role().as_str()),
        ("leader", "follower")
    );

    let outside: Rc<RefCell<Option<String>>> = Rc::default();
    let done = outside.clone();
    let path = format!("/take-over?client_id={client_id}&ms=8000");
    wasm_bindgen_futures::spawn_local(async move {
        *done.borrow_mut() = Some(control(&path).await);
    });
    let both = eventually(8_000, || {
        state(&leader) == "elsewhere" && state(&follower) == "elsewhere"
    })
    .await;
    assert!(
        both,
        "states: leader {}, follower {}",
        state(&leader),
        state(&follower)
    );
    let error = Reflect::get(&follower.state(), &"error".into()).expect("error");
    assert_eq!(code(&error), "connected_elsewhere");

    // The other client is gone; the user takes the id back in the follower's tab.
    assert!(eventually(15_000, || outside.borrow().is_some()).await);
    follower.take_over();
    assert!(
        eventually(10_000, || {
            state(&leader) == "connected" && state(&follower) == "connected"
        })
        .await,
        "states: leader {}, follower {}",
        state(&leader),
        state(&follower)
    );
    follower.end();
    leader.end();
}
