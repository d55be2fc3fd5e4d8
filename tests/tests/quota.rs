//! Issue 17, quota: the browser's IndexedDB session store really full (Chromium's quota for the
//! origin lowered through DevTools, `Storage.overrideQuotaForOrigin`, not a test hook), while
//! the broker is down so every QoS 1 publish stays pending. A publish the store cannot hold
//! rejects with `storage_full`; after a reload, with the quota back and the broker up, every
//! publish accepted before it is delivered and no refused one is.
//!
//! Needs: `cargo build -p ws-bridge --bins`, `scripts/build-pkg.sh` (client-wasm/pkg).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::app_page::package_site;
use tests::bridge::{toml_for_broker, BridgeProcess};
use tests::certs::TestPki;
use tests::mosquitto::{Mosquitto, MosquittoOptions, PLATFORM_PASSWORD, PLATFORM_USER};
use tests::webdriver::Browser;

const LIMIT: Duration = Duration::from_secs(30);
const CLIENT_ID: &str = "quota-tab";
const TOPIC: &str = "quota/t";
/// Publishes tried while the store fills; the quota below holds far fewer.
const COUNT: usize = 120;
const SIZE: usize = 16 * 1024;
/// Room left in the origin's quota above what it already uses.
const HEADROOM: u64 = 256 * 1024;

fn wait(what: &str, limit: Duration, mut done: impl FnMut() -> bool, state: impl Fn() -> String) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {limit:?}\n{}",
            state()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn open_page(browser: &Browser, origin: &str) {
    browser.goto(&format!("{origin}/index.html"));
    browser.wait_text("#ready", "ready", LIMIT);
    browser.eval(
        "window.openClient({ clientId: arguments[0], topic: arguments[1], username: arguments[2], password: arguments[3] })",
        vec![CLIENT_ID.into(), TOPIC.into(), PLATFORM_USER.into(), PLATFORM_PASSWORD.into()],
    );
}

fn names(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_full_indexeddb_quota_refuses_the_publish_and_loses_nothing_accepted() {
    let pki = TestPki::generate();
    let mut broker = Mosquitto::start(&pki, MosquittoOptions::default());
    let site = package_site("quota_page.html");
    let toml = format!(
        "static_dir = \"{}\"\n{}",
        site.path().display(),
        toml_for_broker(&broker, "")
    );
    let bridge = BridgeProcess::with_config_toml(&toml);
    let origin = format!("http://{}", bridge.addr);
    let browser = Browser::start();
    let q = || browser.eval("return window.q", vec![]);

    // A persistent session subscribed to its own topic, then the broker goes away.
    open_page(&browser, &origin);
    wait(
        "connected and subscribed",
        LIMIT,
        || {
            q()["states"]
                .as_array()
                .is_some_and(|s| s.iter().any(|v| v == "connected"))
        },
        || format!("{:?}", q()),
    );
    std::thread::sleep(Duration::from_millis(500));
    broker.stop();
    wait(
        "the page saw the broker go",
        LIMIT,
        || {
            q()["states"]
                .as_array()
                .and_then(|s| s.last())
                .is_some_and(|v| v != "connected")
        },
        || format!("{:?}", q()),
    );

    // The origin's real quota: what it uses now plus a little.
    let usage = browser
        .eval(
            "return navigator.storage.estimate().then((e) => e.usage)",
            vec![],
        )
        .as_u64()
        .expect("navigator.storage.estimate()");
    browser
        .cdp(
            "Storage.overrideQuotaForOrigin",
            json!({ "origin": origin, "quotaSize": usage + HEADROOM }),
        )
        .expect("Storage.overrideQuotaForOrigin");
    browser.eval(
        "window.publishMany({ topic: arguments[0], count: arguments[1], size: arguments[2] })",
        vec![TOPIC.into(), COUNT.into(), SIZE.into()],
    );
    let settled = || {
        let pending = browser.eval("return window.client.pendingCount", vec![]);
        let refused = q()["refused"].as_array().map_or(0, Vec::len);
        pending.as_u64().unwrap_or(0) as usize + refused
    };
    wait(
        "every publish accepted or refused",
        LIMIT,
        || settled() == COUNT,
        || format!("settled {}; {:?}", settled(), q()["refused"]),
    );
    let state = q();
    let refused: Vec<(String, String)> = state["refused"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r[0].as_str().unwrap_or("").to_string(),
                        r[1].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(!refused.is_empty(), "the quota never refused a publish");
    assert!(
        refused.iter().all(|(_, code)| code == "storage_full"),
        "{refused:?}"
    );
    let refused_ids: BTreeSet<String> = refused.iter().map(|(id, _)| id.clone()).collect();
    let accepted: BTreeSet<String> = (1..=COUNT)
        .map(|i| format!("m{i}"))
        .filter(|id| !refused_ids.contains(id))
        .collect();
    assert!(!accepted.is_empty(), "nothing fitted: raise HEADROOM");
    eprintln!(
        "quota {} B over {usage} B in use: {} of {COUNT} publishes of {SIZE} B accepted, {} refused with storage_full",
        HEADROOM,
        accepted.len(),
        refused_ids.len()
    );

    // A reload with the quota back and the broker up: the stored session goes out.
    browser
        .cdp(
            "Storage.overrideQuotaForOrigin",
            json!({ "origin": origin }),
        )
        .expect("quota back");
    broker.restart();
    open_page(&browser, &origin);
    wait(
        "every accepted publish delivered",
        LIMIT,
        || names(&q()["received"]).is_superset(&accepted),
        || {
            let got = names(&q()["received"]);
            format!(
                "missing {:?}; {:?}",
                accepted.difference(&got).collect::<Vec<_>>(),
                q()["errors"]
            )
        },
    );
    std::thread::sleep(Duration::from_secs(1));
    let received = names(&q()["received"]);
    let leaked: Vec<_> = received.intersection(&refused_ids).collect();
    assert!(leaked.is_empty(), "refused publishes were sent: {leaked:?}");
}
