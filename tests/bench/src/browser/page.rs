//! One measured page load in headless Chromium: the page's status and result over WebDriver,
//! the renderer's CPU counters over DevTools, and for a shared-connection case the second
//! window whose page holds the connection.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::webdriver::{Browser, WindowHandle};

/// What one run measured.
pub(super) struct RunResult {
    pub(super) rate: f64,
    pub(super) user_agent: String,
    /// Renderer CPU per completion (µs), from Chromium's counters; `None` when unavailable.
    pub(super) cpu_us: Option<f64>,
    /// JavaScript (and wasm) execution on the page's main thread per completion (µs).
    pub(super) script_us: Option<f64>,
}

/// Chromium's page metrics (`Performance.getMetrics` over chromedriver's CDP bridge).
fn metrics(browser: &Browser) -> Option<Vec<(String, f64)>> {
    let reply = cdp(browser, "Performance.getMetrics").ok()?;
    let list = reply.get("metrics")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|m| {
                Some((
                    m.get("name")?.as_str()?.to_string(),
                    m.get("value")?.as_f64()?,
                ))
            })
            .collect(),
    )
}

/// A parameterless DevTools command on the current page.
fn cdp(browser: &Browser, cmd: &str) -> Result<Value, String> {
    browser.cdp(cmd, serde_json::json!({}))
}

/// `name`'s increase between two snapshots, in µs per `n` (values are seconds).
fn per_completion(
    before: Option<&[(String, f64)]>,
    after: Option<&[(String, f64)]>,
    name: &str,
    n: f64,
) -> Option<f64> {
    let get = |m: Option<&[(String, f64)]>| m?.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let delta = get(after)? - get(before)?;
    (n > 0.0 && delta >= 0.0).then(|| delta * 1e6 / n)
}

/// The page's `[benchResult, benchStatus]`.
fn page_state(browser: &Browser) -> Result<(Option<Value>, String), String> {
    let value = browser.try_eval(
        "return [window.benchResult || null, String(window.benchStatus)];",
        Vec::new(),
    )?;
    let items = value.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let status = items
        .get(1)
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let result = items.first().filter(|r| r.is_object()).cloned();
    Ok((result, status))
}

/// The reason a page gave for its failed run.
fn failed(result: &Value) -> String {
    result
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("the page reported a failure without a reason")
        .to_string()
}

/// Polls the current page until its status is `wanted`; `Err` on its failure or at `deadline`.
fn wait_status(browser: &Browser, wanted: &str, deadline: Instant) -> Result<(), String> {
    loop {
        let (result, status) = page_state(browser)?;
        if let Some(result) = result {
            return Err(failed(&result));
        }
        if status == wanted {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("not {wanted} in time (page status: {status})"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The second window of a shared-connection run: its page holds the connection until dropped.
struct Holder<'a> {
    browser: &'a Browser,
    window: WindowHandle,
    measured: WindowHandle,
}

impl<'a> Holder<'a> {
    /// Opens a window, loads `url` there and waits until it holds the connection; the current
    /// window stays the measured one.
    fn open(browser: &'a Browser, url: &str, deadline: Instant) -> Result<Holder<'a>, String> {
        let measured = browser.window();
        let window = browser.new_window();
        browser.switch_to(&window);
        let holder = Holder {
            browser,
            window,
            measured,
        };
        browser.try_goto(url)?;
        wait_status(browser, "holding", deadline)?;
        let _ = cdp(browser, "Performance.enable");
        browser.switch_to(&holder.measured);
        Ok(holder)
    }

    /// Its renderer's counters (the measured window stays current).
    fn metrics(&self) -> Option<Vec<(String, f64)>> {
        self.browser.switch_to(&self.window);
        let metrics = metrics(self.browser);
        self.browser.switch_to(&self.measured);
        metrics
    }
}

impl Drop for Holder<'_> {
    fn drop(&mut self) {
        self.browser.switch_to(&self.window);
        self.browser.close_current();
        self.browser.switch_to(&self.measured);
    }
}

/// `ProcessTime` of the measured page's renderer plus, when there is one, the holder's (its
/// own renderer: Chromium gives each window's top-level page a process).
fn renderer_time(browser: &Browser, holder: Option<&Holder<'_>>) -> Option<Vec<(String, f64)>> {
    let mut metrics = metrics(browser)?;
    if let Some(holder) = holder {
        let other = holder.metrics()?;
        for (name, value) in &mut metrics {
            if let Some((_, more)) = other.iter().find(|(k, _)| k == name) {
                *value += more;
            }
        }
    }
    Some(metrics)
}

/// One page load: waits for "ready", reads the CPU counters, starts the run, waits for its
/// result, reads the counters again. With `holder` (a page URL), a second window first loads
/// that page, which holds the connection the measured page goes through. `Err` says why it
/// failed.
pub(super) fn one_run(
    browser: &Browser,
    url: &str,
    holder: Option<&str>,
    limit: Duration,
    profile: Option<&Path>,
) -> Result<RunResult, String> {
    let go = |to: &str| browser.try_goto(to);
    // Leave the previous page (closing its WebSocket) before loading the next.
    go("about:blank")?;
    let deadline = Instant::now() + limit;
    let holder = holder
        .map(|url| Holder::open(browser, url, deadline))
        .transpose()?;
    go(url)?;
    // Connected and subscribed?
    wait_status(browser, "ready", deadline)?;
    let _ = cdp(browser, "Performance.enable");
    if profile.is_some() {
        for cmd in ["Profiler.enable", "Profiler.start"] {
            cdp(browser, cmd)?;
        }
    }
    let before = renderer_time(browser, holder.as_ref());
    browser.try_eval("return window.benchGo();", Vec::new())?;
    loop {
        let (result, status) = page_state(browser)?;
        match result {
            Some(result) if result.get("ok").and_then(Value::as_bool) == Some(true) => {
                let after = renderer_time(browser, holder.as_ref());
                if let Some(path) = profile {
                    let reply = cdp(browser, "Profiler.stop")?;
                    let text = reply
                        .get("profile")
                        .map(Value::to_string)
                        .unwrap_or_default();
                    if let Err(e) = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
                        .and_then(|()| std::fs::write(path, text))
                    {
                        eprintln!("browser: cannot write {}: {e}", path.display());
                    }
                }
                let num = |key: &str| result.get(key)?.as_f64().filter(|n| n.is_finite());
                let rate = num("rate").ok_or("the page reported no rate")?;
                let total = num("total").unwrap_or(0.0);
                return Ok(RunResult {
                    rate,
                    user_agent: result
                        .get("userAgent")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    cpu_us: per_completion(
                        before.as_deref(),
                        after.as_deref(),
                        "ProcessTime",
                        total,
                    ),
                    script_us: per_completion(
                        before.as_deref(),
                        after.as_deref(),
                        "ScriptDuration",
                        total,
                    ),
                });
            }
            Some(result) => return Err(failed(&result)),
            None if Instant::now() >= deadline => {
                return Err(format!(
                    "no result within {limit:?} (page status: {status})"
                ))
            }
            None => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}
