// One framer fuzz input (shared by fuzz_targets/framer.rs and ws-bridge/tests/fuzz_corpus.rs).
//
// Byte 0 picks the maximum packet size, byte 1 the piece (batch) size; the rest is a sequence
// of (length byte, chunk) pairs: the stream as the bridge reads it, split at arbitrary points.
// The same chunks go to the broker->browser `Reframer` and the browser->broker `PacketSizer`,
// checked against a reference that reads whole headers at once with mqtt-core's
// `wire::frame::read_frame_header` (the one varint definition; the bridge's incremental paths
// must agree with it however the stream is cut):
// * neither panics; both accept or refuse at the same chunk, for the same reason;
// * the concatenated pieces equal the handed-out prefix of the stream: every whole packet, and
//   every byte of a packet larger than one piece as soon as it is read (MQTT 3.1.1 §6.0);
// * each piece is either a run of whole packets of at most one piece in total, or part of one
//   larger packet, at most one piece long;
// * what stays held is less than one piece (or a partial 4-byte header): memory per session is
//   bounded by `max_batch`, not by the packet size, whatever the peer sends.
use mqtt_core::wire::frame::read_frame_header;
use ws_bridge::framer::{FrameError, PacketSizer, Reframer};

/// The reference: splits `stream` into whole packets; the error of the first bad header.
fn reference(stream: &[u8], max: usize) -> (Vec<usize>, usize, Option<FrameError>) {
    let mut sizes = Vec::new();
    let mut at = 0;
    loop {
        let rest = &stream[at..];
        if rest.is_empty() {
            return (sizes, at, None);
        }
        if rest[0] >> 4 == 0 {
            return (sizes, at, Some(FrameError::ReservedType));
        }
        let header = match read_frame_header(rest) {
            Ok(Some(header)) => header,
            Ok(None) => return (sizes, at, None),
            Err(_) => return (sizes, at, Some(FrameError::MalformedLength)),
        };
        let total = header.frame_len();
        if total > max {
            return (sizes, at, Some(FrameError::TooLarge { size: total, max }));
        }
        if rest.len() < total {
            return (sizes, at, None);
        }
        sizes.push(total);
        at += total;
    }
}

/// Where the reframer may have handed out up to: every whole packet, plus what was read of a
/// packet larger than one piece (its header known).
fn handed_out(stream: &[u8], max: usize, piece: usize) -> usize {
    let (_, whole, _) = reference(stream, max);
    let rest = &stream[whole..];
    match read_frame_header(rest) {
        Ok(Some(h)) if rest[0] >> 4 != 0 && h.frame_len() <= max && h.frame_len() > piece => {
            stream.len()
        }
        _ => whole,
    }
}

pub(crate) fn run(data: &[u8]) {
    let (Some(&m), Some(&b)) = (data.first(), data.get(1)) else {
        return;
    };
    let max_packet = 2 + usize::from(m) * 9;
    let max_piece = 1 + usize::from(b) * 5;
    let mut reframer = Reframer::new(max_packet, max_piece);
    let mut sizer = PacketSizer::new(max_packet);
    let mut stream: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = Vec::new();
    let mut rest = &data[2..];
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len % 64).min(tail.len());
        let (chunk, tail) = tail.split_at(n);
        rest = tail;
        stream.extend_from_slice(chunk);
        let (_, _, expected_err) = reference(&stream, max_packet);
        reframer.reserve(chunk.len());
        reframer.buffer_mut().extend_from_slice(chunk);
        let sized = sizer.feed(chunk);
        assert_eq!(sized.err(), expected_err, "sizer vs reference");
        let mut taken = Ok(());
        loop {
            let piece = match reframer.take() {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(e) => {
                    taken = Err(e);
                    break;
                }
            };
            assert!(!piece.is_empty() && piece.len() <= max_piece.max(1), "piece of {}", piece.len());
            let start = out.len();
            out.extend_from_slice(&piece);
            // A run of whole small packets, or a part of one large packet.
            let (before, _, _) = reference(&stream[..start], max_packet);
            let at_boundary = before.iter().sum::<usize>() == start;
            let (sizes, used, err) = reference(&piece, max_packet);
            let whole_run = at_boundary && err.is_none() && used == piece.len()
                && sizes.iter().all(|s| *s <= max_piece);
            if !whole_run {
                // Inside one packet larger than a piece: the stream's packets up to its end.
                let (all, _, _) = reference(&stream, max_packet);
                let mut packet_start: usize = 0;
                let mut inside = false;
                for size in all.iter().copied().chain(std::iter::once(usize::MAX)) {
                    let end = packet_start.saturating_add(size);
                    if start >= packet_start && start < end {
                        inside = size > max_piece && out.len() <= end;
                        break;
                    }
                    packet_start = end;
                }
                assert!(inside, "piece at {start}..{} is neither whole packets nor part of one large packet", out.len());
            }
        }
        assert_eq!(taken.err(), expected_err, "reframer vs reference");
        if expected_err.is_some() {
            // The relay closes the session here; nothing more is read.
            return;
        }
        reframer.shrink_if_empty();
        let handed = handed_out(&stream, max_packet, max_piece);
        assert_eq!(out.len(), handed, "everything that may go out went out");
        assert_eq!(&out[..], &stream[..handed], "pieces are the stream, in order");
        assert_eq!(reframer.buffered(), stream.len() - handed);
        assert!(reframer.buffered() < max_piece.max(5), "bounded buffer");
        assert_eq!(sizer.at_boundary(), reframer.at_boundary());
    }
}
