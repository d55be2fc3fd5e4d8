//! A minimal W3C WebDriver client for Debian's `chromedriver` driving headless `chromium`:
//! blocking HTTP/1.1 over a loopback `TcpStream`, with a small JSON value type of its own.
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

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::certs::TempDir;
use crate::procs::{free_port, loopback, wait_for_port, ChildGuard};

/// Debian's driver and browser.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
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

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A JSON value (enough for WebDriver).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(items) => Some(items),
            _ => None,
        }
    }

    /// A string value.
    pub fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }

    /// An object from pairs.
    pub fn obj<const N: usize>(pairs: [(&str, Json); N]) -> Json {
        Json::Obj(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// Serialises the value.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(&n.to_string()),
            Json::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    Json::Str(k.clone()).write(out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Parses a JSON document.
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at {}", b as char, self.i))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > 128 {
            return Err("too deep".into());
        }
        self.ws();
        match self.s.get(self.i).copied() {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(members));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.eat(b':')?;
                    members.push((key, self.value(depth + 1)?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(members));
                        }
                        _ => return Err(format!("bad object at {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(items));
                        }
                        _ => return Err(format!("bad array at {}", self.i)),
                    }
                }
            }
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(_) => {
                let start = self.i;
                while matches!(
                    self.s.get(self.i),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                let text =
                    std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                text.parse()
                    .map(Json::Num)
                    .map_err(|_| format!("bad number {text:?}"))
            }
            None => Err("unexpected end".into()),
        }
    }

    fn word(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
        self.i += 4;
        u32::from_str_radix(std::str::from_utf8(h).map_err(|e| e.to_string())?, 16)
            .map_err(|e| e.to_string())
    }

    fn string(&mut self) -> Result<String, String> {
        if self.s.get(self.i) != Some(&b'"') {
            return Err(format!("expected a string at {}", self.i));
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    let c = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let low = self.hex4()?;
                                code = 0x10000
                                    + ((code - 0xD800) << 10)
                                    + (low.wrapping_sub(0xDC00) & 0x3ff);
                            }
                            char::from_u32(code).unwrap_or('\u{fffd}')
                        }
                        other => other as char,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b => out.push(b),
            }
        }
    }
}

/// Decodes standard base64 (screenshots).
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            other => return Err(format!("bad base64 byte {other}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// One HTTP/1.1 exchange on a fresh connection; returns status and body.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(loopback(port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    // chromedriver may keep the connection open: read the head, then exactly the body.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let split = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the HTTP header ended".into());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut payload = raw[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line: {head}"))?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_ascii_lowercase())
        })
    };
    if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while payload.len() < length {
            let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed inside the HTTP body".into());
            }
            payload.extend_from_slice(&buf[..n]);
        }
        payload.truncate(length);
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        while !payload.ends_with(b"0\r\n\r\n") {
            let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            payload.extend_from_slice(&buf[..n]);
        }
        payload = dechunk(&payload)?;
    } else {
        stream
            .read_to_end(&mut payload)
            .map_err(|e| e.to_string())?;
    }
    Ok((status, String::from_utf8_lossy(&payload).into_owned()))
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| e.to_string())?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("short chunk")?);
        data = data.get(size + 2..).ok_or("short chunk")?;
    }
}

/// Headless Chromium under chromedriver, one WebDriver session. The session is deleted (the
/// browser closed) and chromedriver killed on drop.
pub struct Browser {
    port: u16,
    session: String,
    _driver: ChildGuard,
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
        let driver = ChildGuard::spawn(
            "chromedriver",
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(loopback(port), Duration::from_secs(20));
        let profile = TempDir::new("chromium-profile");
        let mut args: Vec<Json> = CHROMIUM_FLAGS.iter().map(|f| Json::str(f)).collect();
        args.push(Json::str("--window-size=1280,1400"));
        args.push(Json::Str(format!(
            "--user-data-dir={}",
            profile.path().display()
        )));
        let caps = Json::obj([(
            "capabilities",
            Json::obj([(
                "alwaysMatch",
                Json::obj([
                    ("browserName", Json::str("chrome")),
                    (
                        "goog:chromeOptions",
                        Json::obj([("binary", Json::str(CHROMIUM)), ("args", Json::Arr(args))]),
                    ),
                ]),
            )]),
        )]);
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::raw(port, "POST", "/session", Some(&caps)) {
                Ok(v) => {
                    let session = v
                        .get("sessionId")
                        .and_then(Json::as_str)
                        .expect("sessionId")
                        .to_string();
                    return Browser {
                        port,
                        session,
                        _driver: driver,
                        _profile: profile,
                    };
                }
                Err(e) => last_error = e,
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("cannot start a headless Chromium session: {last_error}");
    }

    fn raw(port: u16, method: &str, path: &str, body: Option<&Json>) -> Result<Json, String> {
        let text = body.map(Json::to_text);
        let (status, reply) = http(port, method, path, text.as_deref())?;
        let json = Json::parse(&reply).map_err(|e| format!("{e}: {reply}"))?;
        let value = json.get("value").cloned().unwrap_or(Json::Null);
        if status != 200 {
            let message = value
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or(&reply);
            return Err(format!(
                "WebDriver {method} {path}: HTTP {status}: {message}"
            ));
        }
        Ok(value)
    }

    /// A command of this session; `Err` carries WebDriver's message.
    pub fn try_cmd(&self, method: &str, path: &str, body: Option<Json>) -> Result<Json, String> {
        Self::raw(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        )
    }

    /// A command of this session; panics on error.
    pub fn cmd(&self, method: &str, path: &str, body: Option<Json>) -> Json {
        self.try_cmd(method, path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(Json::obj([("url", Json::str(url))])));
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub fn eval(&self, script: &str, args: Vec<Json>) -> Json {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(Json::obj([
                ("script", Json::str(script)),
                ("args", Json::Arr(args)),
            ])),
        )
    }

    /// The element matching `css`, if any.
    pub fn find(&self, css: &str) -> Option<String> {
        let body = Json::obj([
            ("using", Json::str("css selector")),
            ("value", Json::str(css)),
        ]);
        let v = self.try_cmd("POST", "/element", Some(body)).ok()?;
        v.get(ELEMENT_KEY)
            .and_then(Json::as_str)
            .map(str::to_string)
    }

    /// Waits for the element (the app renders asynchronously) and returns its id.
    pub fn element(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(id) = self.find(css) {
                return id;
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on the page; page text:\n{}",
                self.page_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.cmd("POST", &format!("/element/{id}/click"), Some(Json::obj([])));
    }

    /// Replaces the value of an input by typing, as a user would.
    pub fn fill(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.cmd("POST", &format!("/element/{id}/clear"), Some(Json::obj([])));
        if !text.is_empty() {
            self.cmd(
                "POST",
                &format!("/element/{id}/value"),
                Some(Json::obj([("text", Json::str(text))])),
            );
        }
        let value = self.eval(
            "return document.querySelector(arguments[0]).value",
            vec![Json::str(css)],
        );
        assert_eq!(value.as_str(), Some(text), "{css} holds what was typed");
    }

    /// Chooses an option of a `<select>` by value.
    pub fn select(&self, css: &str, value: &str) {
        let opt = self.element(&format!("{css} option[value=\"{value}\"]"));
        self.cmd(
            "POST",
            &format!("/element/{opt}/click"),
            Some(Json::obj([])),
        );
    }

    /// The text content of the first element matching `css` (`None`: no such element).
    pub fn text(&self, css: &str) -> Option<String> {
        let v = self.eval(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            vec![Json::str(css)],
        );
        v.as_str().map(str::to_string)
    }

    /// An attribute of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let v = self.eval(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
            vec![Json::str(css), Json::str(name)],
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
        let v = self.cmd("GET", "/screenshot", None);
        let png = base64_decode(v.as_str().expect("base64 screenshot")).expect("decode screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("artifacts dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Sets the window's outer size.
    pub fn set_window_size(&self, width: u32, height: u32) {
        let body = Json::obj([
            ("width", Json::Num(width.into())),
            ("height", Json::Num(height.into())),
        ]);
        self.cmd("POST", "/window/rect", Some(body));
    }

    /// The current tab's handle.
    pub fn window(&self) -> String {
        self.cmd("GET", "/window", None)
            .as_str()
            .expect("handle")
            .to_string()
    }

    /// Opens a new tab and returns its handle (the current tab does not change).
    pub fn new_tab(&self) -> String {
        let v = self.cmd(
            "POST",
            "/window/new",
            Some(Json::obj([("type", Json::str("tab"))])),
        );
        v.get("handle")
            .and_then(Json::as_str)
            .expect("handle")
            .to_string()
    }

    pub fn switch_to(&self, handle: &str) {
        self.cmd(
            "POST",
            "/window",
            Some(Json::obj([("handle", Json::str(handle))])),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.try_cmd("DELETE", "", None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips() {
        let text =
            r#"{"value":{"a":[1,2.5,-3e2,true,false,null],"s":"x\"y\\z\n\u00e9\ud83e\udd80"}}"#;
        let v = Json::parse(text).unwrap();
        let s = v.get("value").unwrap().get("s").unwrap().as_str().unwrap();
        assert_eq!(s, "x\"y\\z\né🦀");
        assert_eq!(Json::parse(&v.to_text()).unwrap(), v);
        assert!(Json::parse("{\"a\":}").is_err());
        assert!(Json::parse("[1,").is_err());
        assert!(Json::parse("\"abc").is_err());
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8hIQ==").unwrap(), b"hello!!");
        assert!(base64_decode("a*b").is_err());
    }

    #[test]
    fn dechunks() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
    }
}
