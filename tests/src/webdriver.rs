//! Headless Chromium under Debian's `chromedriver`, driven with the `thirtyfour` WebDriver client
//! behind a blocking facade: the tests are plain `#[test]` functions that poll the page.
//!
//! ```no_run
//! use std::time::Duration;
//! use tests::webdriver::Browser;
//! let browser = Browser::start();
//! browser.goto("http://127.0.0.1:8080/#/console");
//! browser.fill("#pub-message", "32");
//! browser.click("#publish");
//! browser.wait_text("#message-log", "32", Duration::from_secs(10));
//! browser.screenshot(std::path::Path::new("tests/artifacts/console.png"));
//! ```

use std::future::Future;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use thirtyfour::common::capabilities::chromium::ChromiumLikeCapabilities;
use thirtyfour::prelude::{By, DesiredCapabilities, WebDriver, WebDriverResult, WebElement};
use thirtyfour::TimeoutConfiguration;
/// A tab or window of the browser (`Browser::window`, `new_tab`, `new_window`).
pub use thirtyfour::WindowHandle;

use crate::certs::TempDir;
use crate::procs::{free_port, loopback, wait_for_port, ChildGuard};

/// Debian's WebDriver server for Chromium (package `chromium-driver`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's Chromium, the browser binary every session starts.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The flags every test browser starts with, here and under wasm-bindgen-test (plus a fresh
/// `--user-data-dir`; the WebDriver tests also set a window size).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
];

/// Headless Chromium under chromedriver, one WebDriver session. The session is deleted (the
/// browser closed) and chromedriver killed on drop.
pub struct Browser {
    driver: WebDriver,
    /// Runs the client's requests; each method blocks on one.
    runtime: tokio::runtime::Runtime,
    // Dropped after the session is deleted (fields drop in order, after `Drop::drop`).
    _driver_process: ChildGuard,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a fresh headless Chromium session.
    pub fn start() -> Browser {
        for bin in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(bin).exists(),
                "{bin} not found: install Debian's chromium and chromium-driver (scripts/setup.sh)"
            );
        }
        let port = free_port();
        let driver_process = ChildGuard::spawn(
            "chromedriver",
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(loopback(port), Duration::from_secs(20));
        let profile = TempDir::new("chromium-profile");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the WebDriver client");
        let url = format!("http://{}", loopback(port));
        let mut last_error = String::new();
        for _ in 0..3 {
            let caps = chromium_capabilities(&profile.path().display().to_string())
                .expect("Chromium capabilities");
            match runtime.block_on(WebDriver::new(url.as_str(), caps)) {
                Ok(driver) => {
                    return Browser {
                        driver,
                        runtime,
                        _driver_process: driver_process,
                        _profile: profile,
                    }
                }
                Err(e) => last_error = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("cannot start a headless Chromium session: {last_error}");
    }

    /// Runs one client request to completion; `Err` carries WebDriver's message.
    fn run<T>(&self, request: impl Future<Output = WebDriverResult<T>>) -> Result<T, String> {
        self.runtime.block_on(request).map_err(|e| e.to_string())
    }

    /// Navigates the current tab; `Err` carries WebDriver's message.
    pub fn try_goto(&self, url: &str) -> Result<(), String> {
        self.run(self.driver.goto(url))
    }

    /// Navigates the current tab; panics with WebDriver's message on failure.
    pub fn goto(&self, url: &str) {
        self.try_goto(url)
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value; `Err`
    /// carries WebDriver's message.
    pub fn try_eval(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.run(async { Ok(self.driver.execute(script, args).await?.json().clone()) })
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.try_eval(script, args)
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// A DevTools command on the current page (chromedriver's `goog/cdp/execute`).
    pub fn cdp(&self, method: &str, params: Value) -> Result<Value, String> {
        self.run(self.driver.cdp().send_raw(method, params))
    }

    /// Bounds page loads and scripts (chromedriver's default page-load timeout is 300 s).
    pub fn set_timeouts(&self, page_load: Duration, script: Duration) -> Result<(), String> {
        let timeouts = TimeoutConfiguration::new(Some(script), Some(page_load), None);
        self.run(self.driver.update_timeouts(timeouts))
    }

    /// The element matching `css`, if any.
    pub fn find(&self, css: &str) -> Option<WebElement> {
        self.run(self.driver.find(By::Css(css))).ok()
    }

    /// Waits for the element (the app renders asynchronously) and returns it.
    pub fn element(&self, css: &str) -> WebElement {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(element) = self.find(css) {
                return element;
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on the page; page text:\n{}",
                self.page_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the element matching `css` (as [`Browser::element`]) and clicks it.
    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.run(element.click())
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Replaces the value of an input by typing, as a user would.
    pub fn fill(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.run(async {
            element.clear().await?;
            if !text.is_empty() {
                element.send_keys(text).await?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("fill {css}: {e}"));
        let value = self.eval(
            "return document.querySelector(arguments[0]).value",
            vec![css.into()],
        );
        assert_eq!(value.as_str(), Some(text), "{css} holds what was typed");
    }

    /// Chooses an option of a `<select>` by value.
    pub fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"));
    }

    /// The text content of the first element matching `css` (`None`: no such element).
    pub fn text(&self, css: &str) -> Option<String> {
        let v = self.eval(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            vec![css.into()],
        );
        v.as_str().map(str::to_string)
    }

    /// An attribute of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let v = self.eval(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
            vec![css.into(), name.into()],
        );
        v.as_str().map(str::to_string)
    }

    /// The whole page's visible text (for failure messages).
    pub fn page_text(&self) -> String {
        self.eval(
            "return document.body ? document.body.innerText : ''",
            vec![],
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// Polls `check` until it returns `Some`, or panics after `timeout` naming `what`.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Browser) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; page text:\n{}",
                self.page_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the text of `css` contains `needle`; returns the text.
    pub fn wait_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        self.wait_for(&format!("{needle:?} in {css}"), timeout, |b| {
            b.text(css).filter(|t| t.contains(needle))
        })
    }

    /// Saves a PNG screenshot of the current tab.
    pub fn screenshot(&self, path: &Path) {
        let png = self
            .run(self.driver.screenshot_as_png())
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("artifacts dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Sets the window's outer size (at the screen's top-left corner).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.run(self.driver.set_window_rect(0, 0, width, height))
            .unwrap_or_else(|e| panic!("window size {width}x{height}: {e}"));
    }

    /// The current tab's handle.
    pub fn window(&self) -> WindowHandle {
        self.run(self.driver.window())
            .unwrap_or_else(|e| panic!("window handle: {e}"))
    }

    /// Opens a new tab and returns its handle (the current tab does not change).
    pub fn new_tab(&self) -> WindowHandle {
        self.run(self.driver.new_tab())
            .unwrap_or_else(|e| panic!("new tab: {e}"))
    }

    /// Makes the tab or window `handle` the current one.
    pub fn switch_to(&self, handle: &WindowHandle) {
        self.run(self.driver.switch_to_window(handle.clone()))
            .unwrap_or_else(|e| panic!("switch to tab {handle}: {e}"));
    }

    /// Opens a new window of the same profile and returns its handle (the current one stays).
    pub fn new_window(&self) -> WindowHandle {
        self.run(self.driver.new_window())
            .unwrap_or_else(|e| panic!("new window: {e}"))
    }

    /// Closes the current tab or window (as a user closing it: its page unloads).
    pub fn close_current(&self) {
        self.run(self.driver.close_window())
            .unwrap_or_else(|e| panic!("close window: {e}"));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Delete the session here, on our runtime: otherwise the client does it on a thread of
        // its own and logs a warning.
        let _ = self.runtime.block_on(self.driver.clone().quit());
    }
}

/// Chromium with the shared flags, a window size and its own profile folder.
fn chromium_capabilities(profile: &str) -> WebDriverResult<thirtyfour::ChromeCapabilities> {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM)?;
    for flag in CHROMIUM_FLAGS {
        caps.add_arg(flag)?;
    }
    caps.add_arg("--window-size=1280,1400")?;
    caps.add_arg(&format!("--user-data-dir={profile}"))?;
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_carry_the_shared_flags_and_the_profile() {
        let caps = chromium_capabilities("/tmp/profile-x").unwrap();
        let json = serde_json::to_value(thirtyfour::Capabilities::from(caps)).unwrap();
        let options = &json["goog:chromeOptions"];
        assert_eq!(options["binary"], CHROMIUM);
        let args: Vec<&str> = options["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for flag in CHROMIUM_FLAGS {
            assert!(args.contains(flag), "{flag} missing from {args:?}");
        }
        assert!(args.contains(&"--user-data-dir=/tmp/profile-x"));
        assert_eq!(json["browserName"], "chrome");
    }
}
