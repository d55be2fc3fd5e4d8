//! Pure text helpers for the views: payloads as text, hex or JSON, clock times, bridge URLs.
//! No browser API here, so all of it is tested natively.

use mqtt_core::wire::names::{validate_product_id, validate_route_name};

/// How the message log shows payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum PayloadFormat {
    #[default]
    Text,
    Hex,
    Json,
}

impl PayloadFormat {
    pub(crate) const ALL: [PayloadFormat; 3] =
        [PayloadFormat::Text, PayloadFormat::Hex, PayloadFormat::Json];

    pub(crate) fn key(self) -> &'static str {
        match self {
            PayloadFormat::Text => "text",
            PayloadFormat::Hex => "hex",
            PayloadFormat::Json => "json",
        }
    }

    pub(crate) fn from_key(key: &str) -> Self {
        match key {
            "hex" => PayloadFormat::Hex,
            "json" => PayloadFormat::Json,
            _ => PayloadFormat::Text,
        }
    }
}

/// A payload as the user asked to see it. Text is lossy UTF-8; JSON falls back to text, marked.
pub(crate) fn payload(bytes: &[u8], format: PayloadFormat) -> String {
    match format {
        PayloadFormat::Text => String::from_utf8_lossy(bytes).into_owned(),
        PayloadFormat::Hex => hex(bytes),
        PayloadFormat::Json => match core::str::from_utf8(bytes).ok().and_then(pretty_json) {
            Some(pretty) => pretty,
            None => format!("(not JSON) {}", String::from_utf8_lossy(bytes)),
        },
    }
}

/// Bytes as space-separated lower-case hex pairs.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A number if the payload is one (after trimming), for the charts.
pub(crate) fn number(bytes: &[u8]) -> Option<f64> {
    let value: f64 = core::str::from_utf8(bytes).ok()?.trim().parse().ok()?;
    value.is_finite().then_some(value)
}

/// `HH:MM:SS.mmm` of a Unix time in milliseconds, shifted by `offset_min` minutes (local time).
pub(crate) fn clock(unix_ms: u64, offset_min: i64) -> String {
    let local = i128::from(unix_ms) + i128::from(offset_min) * 60_000;
    let day_ms = local.rem_euclid(86_400_000);
    let (h, rest) = (day_ms / 3_600_000, day_ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
}

/// The default bridge URL for a page served from `protocol` (`http:`/`https:`) and `host`
/// (with port): the same origin, `/mqtt`, `wss` when the page is `https`.
pub(crate) fn default_bridge_url(protocol: &str, host: &str) -> String {
    let scheme = if protocol.eq_ignore_ascii_case("https:") {
        "wss"
    } else {
        "ws"
    };
    if host.is_empty() {
        return "ws://127.0.0.1:8080/mqtt".into();
    }
    format!("{scheme}://{host}/mqtt")
}

/// The URL to dial: the bridge URL with `/<route>` or `/<route>/<product>` appended.
pub(crate) fn endpoint(url: &str, route: &str, product: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let (route, product) = (route.trim(), product.trim());
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        return Err("the bridge URL must start with ws:// or wss://".into());
    }
    // Empty means "not given"; anything else must follow the bridge's own rules.
    if !route.is_empty() {
        validate_route_name(route).map_err(|e| e.to_string())?;
    }
    if !product.is_empty() {
        validate_product_id(product).map_err(|e| e.to_string())?;
    }
    match (route.is_empty(), product.is_empty()) {
        (true, true) => Ok(url.to_string()),
        (false, true) => Ok(format!("{url}/{route}")),
        (false, false) => Ok(format!("{url}/{route}/{product}")),
        (true, false) => {
            Err("a product id needs a route (the bridge's Murano route, e.g. murano)".into())
        }
    }
}

/// Re-indents a JSON document with two spaces; `None` when it is not JSON.
pub(crate) fn pretty_json(text: &str) -> Option<String> {
    let mut parser = Json {
        bytes: text.as_bytes(),
        pos: 0,
        out: String::new(),
    };
    parser.value(0)?;
    parser.skip_ws();
    (parser.pos == parser.bytes.len()).then_some(parser.out)
}

/// A small validating JSON re-printer (no allocation per value, no dependency). It keeps the
/// payload's key order and number spelling; `serde_json::Value` would sort keys, re-spell
/// numbers (`2.5e1` as `25.0`) and add 10.8 KB gzip (21 KB raw) to the wasm (measured).
struct Json<'a> {
    bytes: &'a [u8],
    pos: usize,
    out: String,
}

impl Json<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn indent(&mut self, depth: usize) {
        self.out.push('\n');
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        self.skip_ws();
        match *self.bytes.get(self.pos)? {
            b'{' => self.container(depth, b'}', true),
            b'[' => self.container(depth, b']', false),
            b'"' => self.string(),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn container(&mut self, depth: usize, close: u8, object: bool) -> Option<()> {
        self.out.push(char::from(self.bytes[self.pos]));
        self.pos += 1;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&close) {
            self.pos += 1;
            self.out.push(char::from(close));
            return Some(());
        }
        loop {
            self.indent(depth + 1);
            if object {
                self.skip_ws();
                if self.bytes.get(self.pos) != Some(&b'"') {
                    return None;
                }
                self.string()?;
                self.skip_ws();
                if self.bytes.get(self.pos) != Some(&b':') {
                    return None;
                }
                self.pos += 1;
                self.out.push_str(": ");
            }
            self.value(depth + 1)?;
            self.skip_ws();
            match self.bytes.get(self.pos)? {
                b',' => {
                    self.pos += 1;
                    self.out.push(',');
                }
                c if *c == close => {
                    self.pos += 1;
                    self.indent(depth);
                    self.out.push(char::from(close));
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn string(&mut self) -> Option<()> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match *self.bytes.get(self.pos)? {
                b'"' => break,
                b'\\' => self.pos += 2,
                c if c < 0x20 => return None,
                _ => self.pos += 1,
            }
        }
        self.pos += 1;
        self.out
            .push_str(core::str::from_utf8(self.bytes.get(start..self.pos)?).ok()?);
        Some(())
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word.as_bytes()).then_some(())?;
        self.pos = end;
        self.out.push_str(word);
        Some(())
    }

    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        while matches!(
            self.bytes.get(self.pos),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let text = core::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
        text.parse::<f64>().ok()?;
        self.out.push_str(text);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_as_text_hex_and_json() {
        assert_eq!(payload(b"32", PayloadFormat::Text), "32");
        assert_eq!(payload(b"32", PayloadFormat::Hex), "33 32");
        assert_eq!(
            payload(b"{\"t\":[1, 2.5e1],\"ok\":true}", PayloadFormat::Json),
            "{\n  \"t\": [\n    1,\n    2.5e1\n  ],\n  \"ok\": true\n}"
        );
        assert_eq!(payload(b"{}", PayloadFormat::Json), "{}");
        assert_eq!(payload(b"32", PayloadFormat::Json), "32");
        assert_eq!(payload(b"hello", PayloadFormat::Json), "(not JSON) hello");
        assert_eq!(
            payload(b"{\"a\":}", PayloadFormat::Json),
            "(not JSON) {\"a\":}"
        );
        assert_eq!(payload(&[0xff, 0x41], PayloadFormat::Text), "\u{fffd}A");
    }

    #[test]
    fn json_rejects_garbage_without_panicking() {
        for bad in [
            "",
            "[",
            "{\"a\" 1}",
            "\"abc",
            "[1,]",
            "tru",
            "1 2",
            "{\"a\":1,}",
            "\"\\",
            "-",
        ] {
            assert_eq!(pretty_json(bad), None, "{bad:?}");
        }
        assert_eq!(pretty_json(" \"a\\\"b\" ").as_deref(), Some("\"a\\\"b\""));
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(pretty_json(&deep), None);
    }

    #[test]
    fn numbers_for_charts() {
        assert_eq!(number(b"32"), Some(32.0));
        assert_eq!(number(b" -1.5\n"), Some(-1.5));
        assert_eq!(number(b"hot"), None);
        assert_eq!(number(b"NaN"), None);
        assert_eq!(number(b"inf"), None);
    }

    #[test]
    fn clock_times() {
        assert_eq!(clock(0, 0), "00:00:00.000");
        assert_eq!(clock(3_723_004, 0), "01:02:03.004");
        assert_eq!(clock(0, -60), "23:00:00.000");
        assert_eq!(clock(86_400_000 + 1, 120), "02:00:00.001");
    }

    #[test]
    fn bridge_url_follows_the_page() {
        assert_eq!(
            default_bridge_url("http:", "127.0.0.1:8080"),
            "ws://127.0.0.1:8080/mqtt"
        );
        assert_eq!(
            default_bridge_url("https:", "example.com"),
            "wss://example.com/mqtt"
        );
        assert_eq!(default_bridge_url("file:", ""), "ws://127.0.0.1:8080/mqtt");
    }

    #[test]
    fn endpoint_appends_route_and_product() {
        let base = "ws://h:1/mqtt/";
        assert_eq!(endpoint(base, "", "").unwrap(), "ws://h:1/mqtt");
        assert_eq!(endpoint(base, "local", "").unwrap(), "ws://h:1/mqtt/local");
        assert_eq!(
            endpoint(base, "murano", "x2lmj5npsktbuik9").unwrap(),
            "ws://h:1/mqtt/murano/x2lmj5npsktbuik9"
        );
        assert!(endpoint(base, "", "x2")
            .unwrap_err()
            .contains("needs a route"));
        assert!(endpoint(base, "a/b", "").is_err());
        assert!(endpoint(base, "m", "X").is_err());
        assert!(endpoint("http://h/mqtt", "", "")
            .unwrap_err()
            .contains("ws://"));
    }
}
