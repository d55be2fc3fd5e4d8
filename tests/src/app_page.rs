//! Driving the built web app (web/dist) in headless Chromium: shared by the browser and demo
//! end-to-end tests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::webdriver::Browser;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The built app; fails with the command to run when it is missing.
pub fn web_dist() -> PathBuf {
    let dist = workspace().join("web/dist");
    for file in ["index.html", "web.js", "web_bg.wasm", "style.css"] {
        assert!(
            dist.join(file).exists(),
            "{} is missing: build the web app first with `scripts/build-web.sh`",
            dist.join(file).display()
        );
    }
    dist
}

/// Opens a page of the app and starts collecting uncaught errors (a wasm panic is one).
pub fn open(browser: &Browser, url: &str) {
    browser.goto(url);
    browser.element("#status");
    browser.eval(
        "window.__errors = window.__errors || [];\
         window.addEventListener('error', e => window.__errors.push(String(e.message)));\
         window.addEventListener('unhandledrejection', e => window.__errors.push(String(e.reason)));",
        vec![],
    );
}

/// Uncaught errors seen on the page since `open`.
pub fn errors(browser: &Browser) -> Vec<String> {
    let v = browser.eval("return window.__errors || []", vec![]);
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.as_str().map(str::to_string))
        .collect()
}

/// Fails the test if the page threw anything since `open`; `context` (e.g. the stack's logs)
/// goes into the message.
pub fn assert_no_errors(browser: &Browser, context: &str) {
    let errors = errors(browser);
    assert!(errors.is_empty(), "{errors:?}\n{context}");
}

/// Waits until the connection status shows `state`; returns its text.
pub fn wait_state(browser: &Browser, state: &str, limit: Duration) -> String {
    browser.wait_for(&format!("status {state}"), limit, |b| {
        (b.attr("#status", "data-state").as_deref() == Some(state))
            .then(|| b.text("#status").unwrap_or_default())
    })
}

/// Texts of the message log's rows in one direction (`in` / `out`), newest first: topic, the QoS
/// column when `with_qos`, and payload, separated by spaces.
pub fn log_rows(browser: &Browser, log: &str, dir: &str, with_qos: bool) -> Vec<String> {
    let qos = if with_qos {
        "r.querySelector('.qos').textContent + ' ' + "
    } else {
        ""
    };
    let script = format!(
        "return [...document.querySelectorAll(arguments[0] + ' [data-testid=log-row][data-dir=' + arguments[1] + ']')]\
         .map(r => r.dataset.topic + ' ' + {qos}r.querySelector('.payload').textContent)"
    );
    let v = browser.eval(&script, vec![log.into(), dir.into()]);
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect()
}

/// Waits until the log shows `row` (as `log_rows` formats it).
pub fn wait_row(
    browser: &Browser,
    log: &str,
    dir: &str,
    row: &str,
    with_qos: bool,
    limit: Duration,
) {
    browser.wait_for(&format!("{dir} row {row:?} in {log}"), limit, |b| {
        log_rows(b, log, dir, with_qos)
            .iter()
            .any(|r| r == row)
            .then_some(())
    });
}

/// A folder to serve: `tests/clients/<page>` as `index.html`, with client-wasm's npm package
/// (`client-wasm/pkg`, built by `scripts/build-pkg.sh`) under `pkg/`.
pub fn package_site(page: &str) -> crate::certs::TempDir {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pkg = manifest.join("../client-wasm/pkg");
    assert!(
        pkg.join("client_wasm.js").is_file() && pkg.join("client_wasm_bg.wasm").is_file(),
        "{} is missing: build it first with `bash scripts/build-pkg.sh`",
        pkg.display()
    );
    let site = crate::certs::TempDir::new("package-site");
    std::fs::copy(
        manifest.join("clients").join(page),
        site.path().join("index.html"),
    )
    .expect("copy page");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
    for file in ["client_wasm.js", "client_wasm_bg.wasm"] {
        std::fs::copy(pkg.join(file), site.path().join("pkg").join(file)).expect("copy pkg");
    }
    // The glue imports its inline_js modules from snippets/<crate-hash>/.
    copy_tree(&pkg.join("snippets"), &site.path().join("pkg/snippets"));
    site
}

/// Copies the folder `from` (if there is one) to `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    std::fs::create_dir_all(to).expect("create folder");
    for entry in entries {
        let entry = entry.expect("read folder");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}
