//! The rules of Murano's current device API (`<product>.m2.exosite.io`) that a client checks
//! before sending, and the shapes of its messages.
//!
//! * Data up: `$resource/<alias>`, one value of at most [`MAX_VALUE`] bytes.
//! * Data down (platform writes): `$resource/<alias>/<timestamp>`, pushed without a
//!   subscription. The examples use microseconds; [`timestamp_ms`] accepts seconds,
//!   milliseconds and microseconds, told apart by magnitude.
//! * Batches: `$resource.batch`, a JSON array `[{"timestamp": T, "values": {alias: value}}]`;
//!   [`batch_payload`] writes microseconds (the unit of the down topics).
//! * QoS 2 is not supported: refused here, before anything is sent ([`check`]).

use mqtt_core::QoS;

/// Murano's limit on one resource value, in bytes.
pub const MAX_VALUE: usize = 1_048_576;

/// The topic of batches.
pub const BATCH_TOPIC: &str = "$resource.batch";

/// Why a publish was refused before sending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// Murano does not support QoS 2: choose 0 or 1.
    #[error("QoS 2 is not supported by Murano's $resource API: use QoS 0 or 1")]
    QosNotSupported,
    /// A value over [`MAX_VALUE`]: split it or send less.
    #[error("a value of {len} bytes exceeds Murano's limit of 1048576 bytes per resource")]
    ValueTooLarge {
        /// The value's length in bytes.
        len: usize,
    },
    /// A batch line that is not `[TIMESTAMP] alias=value ...`.
    #[error("batch: {0}")]
    BadBatch(String),
}

/// Refuses what Murano would not take: QoS 2 and values over [`MAX_VALUE`].
pub fn check(qos: QoS, value: &[u8]) -> Result<(), ResourceError> {
    if qos == QoS::ExactlyOnce {
        return Err(ResourceError::QosNotSupported);
    }
    if value.len() > MAX_VALUE {
        return Err(ResourceError::ValueTooLarge { len: value.len() });
    }
    Ok(())
}

/// A platform timestamp (seconds, milliseconds or microseconds since the Unix epoch, decided by
/// magnitude) as Unix milliseconds. Below 10^11 is seconds (10^11 s is the year 5138), below
/// 10^14 milliseconds, below 10^17 microseconds; anything else is not a timestamp.
pub fn timestamp_ms(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = text.parse().ok()?;
    match n {
        0..100_000_000_000 => n.checked_mul(1000),
        100_000_000_000..100_000_000_000_000 => Some(n),
        100_000_000_000_000..100_000_000_000_000_000 => Some(n / 1000),
        _ => None,
    }
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS.mmm UTC` (proleptic Gregorian calendar).
pub fn format_utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        unix_ms % 1000
    )
}

/// One entry of a batch: a timestamp as written (any unit [`timestamp_ms`] accepts) and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntry {
    /// The timestamp as written, in seconds, milliseconds or microseconds since the Unix epoch.
    pub timestamp: u64,
    /// The `alias=value` pairs, in the order written.
    pub values: Vec<(String, String)>,
}

/// Reads batch text: one entry per line (or per `;`), `[TIMESTAMP] alias=value alias=value`;
/// an entry without a timestamp gets `now_us` (+1 µs per entry, so they stay distinct).
pub fn parse_batch(text: &str, now_us: u64) -> Result<Vec<BatchEntry>, ResourceError> {
    let mut entries = Vec::new();
    for line in text
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let mut words = line.split_whitespace().peekable();
        let stamp = match words.peek() {
            Some(w) if w.bytes().all(|b| b.is_ascii_digit()) => {
                let w = words.next().unwrap_or_default();
                timestamp_ms(w)
                    .and_then(|_| w.parse().ok())
                    .ok_or_else(|| ResourceError::BadBatch(format!("bad timestamp {w}")))?
            }
            _ => now_us + entries.len() as u64,
        };
        let values = words
            .map(|w| match w.split_once('=') {
                Some((alias, value)) if !alias.is_empty() => {
                    check(QoS::AtMostOnce, value.as_bytes())?;
                    Ok((alias.to_string(), value.to_string()))
                }
                _ => Err(ResourceError::BadBatch(format!(
                    "expected alias=value, found {w:?}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if values.is_empty() {
            return Err(ResourceError::BadBatch(format!("no values in {line:?}")));
        }
        entries.push(BatchEntry {
            timestamp: stamp,
            values,
        });
    }
    if entries.is_empty() {
        return Err(ResourceError::BadBatch("empty batch".into()));
    }
    Ok(entries)
}

/// The JSON body of `$resource.batch`. A value that is a JSON number stays a number; anything
/// else is a string.
pub fn batch_payload(entries: &[BatchEntry]) -> String {
    let mut out = String::from("[");
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"timestamp\":{},\"values\":{{",
            entry.timestamp
        ));
        for (j, (alias, value)) in entry.values.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            json_string(&mut out, alias);
            out.push(':');
            if is_json_number(value) {
                out.push_str(value);
            } else {
                json_string(&mut out, value);
            }
        }
        out.push_str("}}");
    }
    out.push(']');
    out
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// RFC 8259 §6's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}
