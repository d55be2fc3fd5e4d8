//! The browser client (Rust API) in headless Chromium against a real ws-bridge and a real
//! mosquitto over TLS, started by `scripts/wasm-test.sh`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod web_common;

use mqtt_core::{ConnectionError, Event, QoS, TransportFailure};
use wasm_bindgen_test::*;
use web_common::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn connect_subscribe_and_round_trip_qos_0_1_2() {
    let Some(url) = stack_url(WS_URL) else { return };
    let id = unique();
    let c = Recorded::connect(url, options(&format!("rt-{id}")));
    c.wait(5_000, is_connected).await;
    assert!(c.client.is_connected());
    assert!(c.client.timer_uses_worker(), "the timer runs in a Worker");
    let filter = format!("{USER}/rt-{id}/#");
    let req = c
        .client
        .subscribe(&[(&filter, QoS::ExactlyOnce)])
        .expect("subscribe");
    c.wait(
        5_000,
        |e| matches!(e, Event::Subscribed { request, .. } if *request == req),
    )
    .await;
    let granted = c.find(|e| matches!(e, Event::Subscribed { .. }));
    assert_eq!(
        granted,
        Some(Event::Subscribed {
            request: req,
            granted: vec![Some(QoS::ExactlyOnce)]
        })
    );

    let topic = format!("{USER}/rt-{id}/x");
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let payload = format!("qos {}", mqtt_core::qos_to_u8(qos));
        c.client
            .publish(&topic, payload.as_bytes(), qos, false)
            .expect("publish");
    }
    c.wait_n(3, 5_000, |e| matches!(e, Event::Published { .. }))
        .await;
    c.wait_n(3, 5_000, |e| matches!(e, Event::Message(_))).await;
    let received: Vec<(Vec<u8>, QoS)> = c
        .events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some((m.payload.clone(), m.qos)),
            _ => None,
        })
        .collect();
    assert_eq!(
        received,
        vec![
            (b"qos 0".to_vec(), QoS::AtMostOnce),
            (b"qos 1".to_vec(), QoS::AtLeastOnce),
            (b"qos 2".to_vec(), QoS::ExactlyOnce)
        ]
    );
    c.client.end();
    c.wait(2_000, |e| matches!(e, Event::Disconnected)).await;
    assert!(!c.client.is_connected());
}

#[wasm_bindgen_test]
async fn binary_payloads_arrive_unchanged() {
    let Some(url) = stack_url(WS_URL) else { return };
    let id = unique();
    let c = Recorded::connect(url, options(&format!("bin-{id}")));
    let topic = format!("{USER}/bin-{id}");
    c.client
        .subscribe(&[(&topic, QoS::AtLeastOnce)])
        .expect("subscribe");
    let mut payload: Vec<u8> = (0..=255u8).collect();
    payload.extend_from_slice(&[0xff, 0xfe, 0x00, 0xc3, 0x28, 0xed, 0xa0, 0x80]); // not UTF-8
    payload.extend(std::iter::repeat_n(0u8, 70_000)); // several WebSocket-sized chunks
    c.wait(5_000, |e| matches!(e, Event::Subscribed { .. }))
        .await;
    c.client
        .publish(&topic, &payload, QoS::AtLeastOnce, false)
        .expect("publish");
    c.wait(5_000, |e| matches!(e, Event::Message(_))).await;
    let got = c.find(|e| matches!(e, Event::Message(_)));
    match got {
        Some(Event::Message(m)) => assert!(
            m.payload == payload,
            "payload changed ({} bytes)",
            m.payload.len()
        ),
        other => panic!("{other:?}"),
    }
    c.client.end();
}

#[wasm_bindgen_test]
async fn bad_credentials_stop_with_their_code() {
    let Some(url) = stack_url(WS_URL) else { return };
    let mut o = options(&format!("bad-{}", unique()));
    o.password = Some(b"wrong".to_vec());
    let c = Recorded::connect(url, o);
    c.wait(5_000, is_lost).await;
    match c.find(is_lost) {
        Some(Event::ConnectionLost {
            error,
            reconnect_in,
            ..
        }) => {
            // MQTT 3.1.1 has two codes for this: 4 (bad user name or password) and 5 (not
            // authorized). mosquitto 2.0 answers a wrong password with 5.
            assert!(
                matches!(error.code(), "bad_credentials" | "not_authorized"),
                "{error}"
            );
            assert!(!error.is_retried());
            assert_eq!(reconnect_in, None, "refused credentials are not retried");
        }
        other => panic!("{other:?}"),
    }
    sleep(600).await;
    assert_eq!(c.count(is_lost), 1, "no retry");
}

#[wasm_bindgen_test]
async fn bridge_close_reasons_reach_the_application() {
    let (Some(badtls), Some(down), Some(unknown)) = (
        stack_url(BADTLS_URL),
        stack_url(DOWN_URL),
        stack_url(UNKNOWN_URL),
    ) else {
        return;
    };
    // TLS verification of the upstream failed: permanent, with the bridge's reason.
    let c = Recorded::connect(badtls, options(&format!("tls-{}", unique())));
    c.wait(5_000, is_lost).await;
    let (code, reason, retry, reconnect_in) = first_close(&c);
    assert_eq!(code, 4010, "{reason}");
    assert!(reason.contains("TLS verification failed"), "{reason}");
    assert!(!retry);
    assert_eq!(reconnect_in, None);

    // Upstream unreachable: the reason is shown and the client keeps trying.
    let c = Recorded::connect(down, options(&format!("down-{}", unique())));
    c.wait_n(2, 8_000, is_lost).await;
    let (code, reason, retry, reconnect_in) = first_close(&c);
    assert_eq!(code, 4502, "{reason}");
    assert!(reason.contains("upstream unreachable"), "{reason}");
    assert!(retry);
    assert!(reconnect_in.is_some());
    assert!(c.count(|e| matches!(e, Event::Reconnecting { .. })) >= 1);
    c.client.end();

    // Unknown route: HTTP 404 before the upgrade, which a browser reports only as close 1006.
    let c = Recorded::connect(unknown, options(&format!("nope-{}", unique())));
    c.wait(5_000, is_lost).await;
    match c.find(is_lost) {
        Some(Event::ConnectionLost {
            error: ConnectionError::Transport(TransportFailure::HandshakeRefused(text)),
            ..
        }) => {
            assert!(
                text.contains("handshake failed") && text.contains("404"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    c.client.end();
}

#[wasm_bindgen_test]
async fn reconnects_after_a_bridge_restart_without_losing_qos1() {
    let Some(url) = stack_url(WS_URL) else { return };
    let id = unique();
    let topic = format!("{USER}/restart-{id}");
    let so = persistent_options(&format!("sub-{id}"));
    let sub = Recorded::connect(url, so);
    sub.client
        .subscribe(&[(&topic, QoS::AtLeastOnce)])
        .expect("subscribe");
    sub.wait(5_000, |e| matches!(e, Event::Subscribed { .. }))
        .await;
    let po = persistent_options(&format!("pub-{id}"));
    let publisher = Recorded::connect(url, po);
    publisher.wait(5_000, is_connected).await;

    for i in 0..20 {
        publisher
            .client
            .publish(&topic, format!("m{i}").as_bytes(), QoS::AtLeastOnce, false)
            .expect("publish");
    }
    let restarted = restart_bridge(1_500);
    sleep(300).await; // the bridge is down now
    for i in 20..40 {
        publisher
            .client
            .publish(&topic, format!("m{i}").as_bytes(), QoS::AtLeastOnce, false)
            .expect("queued");
    }
    restarted.await.expect("restart request");
    publisher
        .wait_n(40, 20_000, |e| matches!(e, Event::Published { .. }))
        .await;
    sub.wait_n(40, 20_000, |e| matches!(e, Event::Message(_)))
        .await;
    let mut got: Vec<String> = sub
        .events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(String::from_utf8_lossy(&m.payload).into_owned()),
            _ => None,
        })
        .collect();
    got.sort();
    got.dedup(); // QoS 1 may repeat; it must not lose
    let mut want: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(got, want);
    for c in [&sub, &publisher] {
        assert!(c.count(is_lost) >= 1, "the restart was noticed");
        assert!(c.count(is_connected) >= 2, "and the client reconnected");
        assert!(c.client.is_connected());
    }
    assert_eq!(publisher.client.pending_count(), 0);
    sub.client.end();
    publisher.client.end();
}

#[wasm_bindgen_test]
async fn unacknowledged_qos1_survives_a_page_reload() {
    let (Some(url), Some(down)) = (stack_url(WS_URL), stack_url(DOWN_URL)) else {
        return;
    };
    let id = unique();
    let client_id = format!("reload-{id}");
    let topic = format!("{USER}/reload-{id}");
    let watcher = Recorded::subscribed(
        url,
        options(&format!("watch-{id}")),
        &[(&topic, QoS::AtLeastOnce)],
    )
    .await;

    // "Page 1": offline (the route's upstream is down), three QoS 1 messages accepted.
    let o = persistent_options(&client_id);
    let page1 = Recorded::connect(down, o.clone());
    for i in 0..3 {
        page1
            .client
            .publish(&topic, format!("r{i}").as_bytes(), QoS::AtLeastOnce, false)
            .expect("queued");
    }
    assert!(eventually(5_000, || page1.client.pending_count() == 3).await);
    let saved = stored_record(&client_id)
        .await
        .expect("pending publishes saved (IndexedDB)");
    assert!(!saved.contains(PASSWORD), "credentials are never stored");
    // The page goes away without end() (a reload): drop every handle.
    drop(page1);
    sleep(100).await;

    // "Page 2": same client id, reachable broker: the stored messages go out.
    let page2 = Recorded::connect(url, o);
    page2
        .wait_n(3, 10_000, |e| matches!(e, Event::Published { .. }))
        .await;
    watcher
        .wait_n(3, 10_000, |e| matches!(e, Event::Message(_)))
        .await;
    assert!(eventually(5_000, || page2.client.pending_count() == 0).await);
    sleep(200).await;
    assert_eq!(
        stored_record(&client_id).await,
        None,
        "storage cleared once acknowledged"
    );
    page2.client.end();
    watcher.client.end();
}

#[wasm_bindgen_test]
async fn the_online_event_skips_the_reconnect_delay() {
    let Some(down) = stack_url(DOWN_URL) else {
        return;
    };
    let mut o = options(&format!("online-{}", unique()));
    o.reconnect.initial_delay = std::time::Duration::from_secs(20);
    o.reconnect.max_delay = std::time::Duration::from_secs(20);
    let c = Recorded::connect(down, o);
    c.wait(5_000, is_lost).await;
    sleep(200).await;
    assert_eq!(c.count(is_lost), 1, "waiting out a 10-20 s delay");
    let window = web_sys::window().expect("window");
    let online = web_sys::Event::new("online").expect("event");
    window.dispatch_event(&online).expect("dispatch");
    c.wait_n(2, 3_000, is_lost).await; // a new attempt right away (the route is still down)
    c.client.end();
}

/// The first connection loss, which must be a WebSocket close from the bridge: its code, reason,
/// whether the client retries, and when.
fn first_close(c: &Recorded) -> (u16, String, bool, Option<std::time::Duration>) {
    match c.find(is_lost) {
        Some(Event::ConnectionLost {
            error,
            reconnect_in,
            ..
        }) => match &error {
            ConnectionError::Transport(TransportFailure::Closed { code, reason }) => {
                (*code, reason.clone(), error.is_retried(), reconnect_in)
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}
