//! Keepalive in a hidden, throttled tab.
//!
//! Chrome's intensive throttling lets a hidden page's `setTimeout` wake up at most once a minute
//! (after five minutes hidden); the client's timer runs in a Worker to escape it. A headless
//! test cannot wait five minutes, and the runner's page cannot be backgrounded through the DevTools
//! protocol from inside the test, so the test reproduces the effect in the page: `document.hidden`
//! and `visibilityState` report a hidden tab (and `visibilitychange` fires), and the page's
//! `setTimeout` is wrapped so no callback runs sooner than 60 s — what throttling does. With a 1 s
//! keepalive mosquitto drops a silent client after 1.5 s, so:
//! * with the Worker timer the connection stays up for 6 s (PINGREQs keep flowing);
//! * with the `setTimeout` fallback (the control) the broker drops it, proving the throttling
//!   emulation bites.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod web_common;

use client_wasm::ClientConfig;
use js_sys::Function;
use mqtt_core::Event;
use wasm_bindgen_test::*;
use web_common::*;

wasm_bindgen_test_configure!(run_in_browser);

const HIDE_AND_THROTTLE: &str = "
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
    if (!window.__originalSetTimeout) window.__originalSetTimeout = window.setTimeout;
    const original = window.__originalSetTimeout;
    window.setTimeout = (f, ms, ...args) => original.call(window, f, Math.max(ms || 0, 60000), ...args);
";

const SHOW_AND_RESTORE: &str = "
    delete document.hidden;
    delete document.visibilityState;
    if (window.__originalSetTimeout) window.setTimeout = window.__originalSetTimeout;
    document.dispatchEvent(new Event('visibilitychange'));
";

fn run(script: &str) {
    Function::new_no_args(script)
        .call0(&wasm_bindgen::JsValue::NULL)
        .expect("page script");
}

fn hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

async fn connect_hidden(worker_timer: bool) -> Recorded {
    let url = WS_URL.expect("stack");
    keep_original_set_timeout();
    let mut o = options(&format!("hidden-{worker_timer}-{}", unique()));
    o.keep_alive_secs = 1;
    run(HIDE_AND_THROTTLE);
    assert!(hidden());
    let c = Recorded::connect_with(
        url,
        o,
        ClientConfig {
            worker_timer,
            ..ClientConfig::default()
        },
    );
    assert_eq!(c.client.timer_uses_worker(), worker_timer);
    c.wait(5_000, is_connected).await;
    c
}

#[wasm_bindgen_test]
async fn keepalive_survives_a_hidden_throttled_tab() {
    if stack_url(WS_URL).is_none() {
        return;
    }
    let c = connect_hidden(true).await;
    sleep(6_000).await;
    let lost = c.count(is_lost);
    run(SHOW_AND_RESTORE);
    assert_eq!(
        lost,
        0,
        "connection lost while hidden: {:#?}",
        c.events.borrow()
    );
    assert!(c.client.is_connected());
    c.client.end();
}

#[wasm_bindgen_test]
async fn control_main_thread_timers_starve_when_throttled() {
    if stack_url(WS_URL).is_none() {
        return;
    }
    let c = connect_hidden(false).await;
    let mut waited = 0;
    while c.count(is_lost) == 0 && waited < 8_000 {
        sleep(50).await;
        waited += 50;
    }
    run(SHOW_AND_RESTORE);
    assert!(
        c.count(is_lost) >= 1,
        "expected the broker to drop a client whose keepalive timer is throttled: {:#?}",
        c.events.borrow()
    );
    assert!(!c
        .events
        .borrow()
        .iter()
        .any(|e| matches!(e, Event::Disconnected)));
    c.client.end();
}
