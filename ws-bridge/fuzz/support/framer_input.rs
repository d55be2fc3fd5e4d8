// One framer fuzz input (shared by fuzz_targets/framer.rs and ws-bridge/tests/fuzz_corpus.rs).
//
// Byte 0 picks the maximum packet size, byte 1 the batch size; the rest is a sequence of
// (length byte, chunk) pairs: the stream as the bridge reads it, split at arbitrary points.
// The same chunks go to the broker->browser `Reframer` and the browser->broker `PacketSizer`,
// checked against a reference that reads whole headers at once with mqtt-core's
// `wire::frame::read_frame_header` (the one varint definition; the bridge's incremental paths
// must agree with it however the stream is cut):
// * neither panics; both accept or refuse at the same chunk, for the same reason;
// * the concatenated batches equal the accepted prefix of the stream, each batch is a run of
//   whole packets, no larger than the batch size unless it is a single packet;
// * what stays buffered is less than one maximum packet (plus a partial header): memory per
//   session is bounded by the configuration, whatever the peer sends.
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

pub fn run(data: &[u8]) {
    let (Some(&m), Some(&b)) = (data.first(), data.get(1)) else {
        return;
    };
    let max_packet = 2 + usize::from(m) * 9;
    let max_batch = 1 + usize::from(b) * 5;
    let mut reframer = Reframer::new(max_packet);
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
        let scanned = reframer.scan();
        let sized = sizer.feed(chunk);
        assert_eq!(scanned.clone().err(), expected_err, "reframer vs reference");
        assert_eq!(sized.err(), expected_err, "sizer vs reference");
        if scanned.is_err() {
            // The relay closes the session here; nothing more is read.
            return;
        }
        while let Some(batch) = reframer.take_batch(max_batch) {
            let (sizes, used, err) = reference(&batch, max_packet);
            assert_eq!(err, None, "a batch holds only valid packets");
            assert_eq!(used, batch.len(), "a batch is a run of whole packets");
            assert!(!sizes.is_empty());
            assert!(
                sizes.len() == 1 || batch.len() <= max_batch,
                "batch of {} packets, {} bytes > {max_batch}",
                sizes.len(),
                batch.len()
            );
            out.extend_from_slice(&batch);
        }
        reframer.shrink_if_empty();
        let (_, whole, _) = reference(&stream, max_packet);
        assert_eq!(out.len(), whole, "every whole packet was handed out");
        assert_eq!(
            &out[..],
            &stream[..whole],
            "batches are the stream, in order"
        );
        assert_eq!(reframer.buffered(), stream.len() - whole);
        assert!(reframer.buffered() < max_packet.max(5), "bounded buffer");
        assert_eq!(sizer.at_boundary(), reframer.buffered() == 0);
    }
}
