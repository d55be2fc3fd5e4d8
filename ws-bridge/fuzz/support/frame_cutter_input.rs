// One frame_cutter fuzz input (shared by fuzz_targets/frame_cutter.rs and
// ws-bridge/tests/fuzz_corpus.rs).
//
// Byte 0 picks the piece size, byte 1 the most bytes one read takes; the rest describes client
// frames, each as (flags, length, payload...): flags bit 7 FIN, bit 6 RSV1, bit 5 unmasked,
// bit 4 64-bit length form, low nibble the opcode; 0xFF appends the rest of the input as raw
// bytes. The wire goes through a `FrameCutter`, read in steps, and is checked against a
// reference reading of RFC 6455 §5 written here, independent of tungstenite:
// * no panic; the same refusal (1002, or 1003 for text) at the same frame;
// * every data frame out is a complete, masked binary frame of 1..=piece bytes; control frames
//   come out byte for byte; the unmasked data bytes and the control frames come out in order,
//   up to the refusal or the end of the input (a cut-off frame as far as it went).
use ws_bridge::frame_cutter::{FrameCutter, Need};

#[derive(Debug, PartialEq)]
enum Event {
    Data(Vec<u8>),
    Control(Vec<u8>),
}

/// Appends an event, merging adjacent data.
fn push(events: &mut Vec<Event>, e: Event) {
    if let (Some(Event::Data(last)), Event::Data(more)) = (events.last_mut(), &e) {
        last.extend_from_slice(more);
        return;
    }
    if e != Event::Data(Vec::new()) {
        events.push(e);
    }
}

/// A frame header: (fin, rsv, opcode, mask, payload length, header length).
type Header = (bool, u8, u8, Option<[u8; 4]>, u64, usize);

/// The header at the start of `w`, `None` if cut off.
fn header(w: &[u8]) -> Option<Header> {
    let (&b0, &b1) = (w.first()?, w.get(1)?);
    let (len, mut at) = match b1 & 0x7F {
        126 => (u64::from(u16::from_be_bytes(w.get(2..4)?.try_into().ok()?)), 4),
        127 => (u64::from_be_bytes(w.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let mask = if b1 & 0x80 != 0 {
        let m: [u8; 4] = w.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(m)
    } else {
        None
    };
    Some((b0 & 0x80 != 0, b0 & 0x70, b0 & 0x0F, mask, len, at))
}

fn unmask(data: &[u8], mask: [u8; 4]) -> Vec<u8> {
    data.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect()
}

/// The reference reading of the client's wire: events, and the refusal code if any.
fn reference(mut w: &[u8]) -> (Vec<Event>, Option<u16>) {
    let mut events = Vec::new();
    let mut in_message = false;
    while let Some((fin, rsv, op, mask, len, at)) = header(w) {
        let control = op >= 8;
        let refusal = if matches!(op, 3..=7 | 11..=15)
            || rsv != 0
            || len >> 63 != 0
            || mask.is_none()
            || (control && (!fin || len > 125))
        {
            Some(1002)
        } else if op == 1 {
            Some(1003)
        } else if (op == 0 && !in_message) || (op == 2 && in_message) {
            Some(1002)
        } else {
            None
        };
        if refusal.is_some() {
            return (events, refusal);
        }
        let available = usize::try_from(len).unwrap_or(usize::MAX).min(w.len() - at);
        let end = at + available;
        if control {
            push(&mut events, Event::Control(w[..end].to_vec()));
        } else {
            in_message = !fin;
            push(&mut events, Event::Data(unmask(&w[at..end], mask.unwrap_or_default())));
        }
        w = &w[end..];
    }
    (events, None)
}

/// Reads the cutter's output back into events, checking the shape of every frame.
fn decode_output(mut w: &[u8], piece: usize) -> Vec<Event> {
    let mut events = Vec::new();
    while !w.is_empty() {
        let (fin, rsv, op, mask, len, at) = header(w).expect("whole headers come out");
        let end = at + usize::try_from(len).unwrap().min(w.len() - at);
        if op >= 8 {
            push(&mut events, Event::Control(w[..end].to_vec()));
        } else {
            assert!(fin && rsv == 0 && op == 2, "data out is complete binary frames");
            assert!(len >= 1 && len as usize <= piece, "piece of {len} > {piece}");
            let mask = mask.expect("pieces stay masked");
            push(&mut events, Event::Data(unmask(&w[at..end], mask)));
        }
        w = &w[end..];
    }
    events
}

/// Builds the client's wire from the frame descriptions.
fn wire_of(mut d: &[u8]) -> Vec<u8> {
    let mut w = Vec::new();
    while let Some((&flags, rest)) = d.split_first() {
        if flags == 0xFF {
            w.extend_from_slice(rest);
            break;
        }
        let Some((&len, rest)) = rest.split_first() else {
            break;
        };
        let n = usize::from(len).min(rest.len());
        let (payload, rest) = rest.split_at(n);
        d = rest;
        w.push((flags & 0x80) | (flags & 0x40) | (flags & 0x0F));
        let masked = flags & 0x20 == 0;
        let bit = if masked { 0x80 } else { 0 };
        if flags & 0x10 != 0 {
            w.push(bit | 127);
            w.extend_from_slice(&(n as u64).to_be_bytes());
        } else if n < 126 {
            w.push(bit | n as u8);
        } else {
            w.push(bit | 126);
            w.extend_from_slice(&(n as u16).to_be_bytes());
        }
        let mask = [flags, len, 0x5A, 0xA5];
        if masked {
            w.extend_from_slice(&mask);
            w.extend_from_slice(&unmask(payload, mask));
        } else {
            w.extend_from_slice(payload);
        }
    }
    w
}

pub(crate) fn run(data: &[u8]) {
    let (Some(&p), Some(&s)) = (data.first(), data.get(1)) else {
        return;
    };
    let piece = 1 + usize::from(p % 64);
    let step = 1 + usize::from(s % 32);
    let wire = wire_of(&data[2..]);
    let mut cutter = FrameCutter::new(piece);
    let mut out = Vec::new();
    let mut rest = &wire[..];
    let refusal = loop {
        out.extend_from_slice(cutter.output());
        let n = cutter.output().len();
        cutter.consume_output(n);
        match cutter.need() {
            Err(r) => break Some(r.code),
            Ok(_) if rest.is_empty() => break None,
            Ok(Need::Payload(left)) => {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(step).min(rest.len());
                out.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                cutter.payload_passed(n);
            }
            Ok(Need::Header(want)) => {
                assert!((1..=14).contains(&want));
                let n = want.min(step).min(rest.len());
                cutter.header_room()[..n].copy_from_slice(&rest[..n]);
                rest = &rest[n..];
                let _ = cutter.header_read(n);
            }
        }
    };
    let (expected, expected_refusal) = reference(&wire);
    assert_eq!(refusal, expected_refusal, "refusal vs reference");
    assert_eq!(decode_output(&out, piece), expected, "output vs reference");
}
