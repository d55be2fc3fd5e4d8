//! A small, total MQTT fixed-header framer (MQTT 3.1.1 and 5 share the fixed header).
//!
//! It never panics on input: every slice is checked, the remaining-length varint is at most
//! four bytes, and a packet whose total size (fixed header plus remaining length) exceeds the
//! configured maximum is refused as soon as its header is known, before its body is buffered.
//!
//! * [`Reframer`] (broker -> browser) hands out runs of whole packets (small packets keep their
//!   boundaries) and streams a packet larger than one piece in bounded pieces, so what it holds
//!   does not grow with the packet size.
//! * [`PacketSizer`] (browser -> broker) only tracks packet boundaries in a byte stream split
//!   arbitrarily across WebSocket messages, so the maximum size is enforced without buffering.

use bytes::{Bytes, BytesMut};
use mqtt_core::wire::frame::{read_frame_header, RemainingLength, RemainingLengthTooLong};

pub use mqtt_core::wire::frame::MAX_REMAINING_LENGTH;

/// Why a byte stream is not a valid sequence of MQTT packets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The remaining-length varint is longer than four bytes (the peer's fault).
    #[error("malformed MQTT packet: remaining length longer than 4 bytes")]
    MalformedLength,
    /// The packet type nibble is 0, which MQTT reserves (the peer's fault).
    #[error("malformed MQTT packet: reserved packet type 0")]
    ReservedType,
    /// The packet is larger than the configured maximum (the peer's fault, or the limit is low).
    #[error("packet too large: {size} bytes (max {max})")]
    TooLarge {
        /// Total size of the packet: fixed header plus remaining length.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
}

impl From<RemainingLengthTooLong> for FrameError {
    fn from(_: RemainingLengthTooLong) -> Self {
        FrameError::MalformedLength
    }
}

/// Refuses the reserved packet type 0 (MQTT 3.1.1 §2.2.1), checked on the first byte alone.
fn check_first_byte(first: u8) -> Result<(), FrameError> {
    if first >> 4 == 0 {
        return Err(FrameError::ReservedType);
    }
    Ok(())
}

/// Refuses a packet of `total` bytes over `max_packet`.
fn check_size(total: usize, max_packet: usize) -> Result<(), FrameError> {
    if total > max_packet {
        return Err(FrameError::TooLarge {
            size: total,
            max: max_packet,
        });
    }
    Ok(())
}

/// Parses a fixed header at the start of `buf` (the varint itself is [`mqtt_core::wire::frame`]'s).
///
/// Returns `Ok(None)` when more bytes are needed, or `Ok(Some((header_len, total_len)))`.
pub fn parse_header(buf: &[u8], max_packet: usize) -> Result<Option<(usize, usize)>, FrameError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    check_first_byte(first)?;
    let Some(header) = read_frame_header(buf)? else {
        return Ok(None);
    };
    check_size(header.frame_len(), max_packet)?;
    Ok(Some((header.header_len, header.frame_len())))
}

/// Cuts the broker's byte stream into WebSocket message payloads (broker -> browser).
///
/// A packet of at most `max_piece` bytes goes out whole, batched with the whole packets after
/// it up to `max_piece` bytes: small packets keep their boundaries, as before. A larger packet
/// is streamed: each piece holds at most `max_piece` bytes of it and nothing else, handed out
/// as soon as it is read (MQTT 3.1.1 §6.0: a packet may span WebSocket messages; the clients
/// reassemble the byte stream). So what is held stays under `max_piece` plus one read, whatever
/// the packet size; the size limit is still checked from each packet's header, before its body.
#[derive(Debug)]
pub struct Reframer {
    buf: BytesMut,
    max_packet: usize,
    max_piece: usize,
    /// Bytes of a large packet still to hand out; its beginning already went out.
    large_left: usize,
    /// Large packets begun so far (for metrics).
    large_packets: u64,
}

impl Reframer {
    /// A reframer refusing packets larger than `max_packet` bytes in total, and handing out at
    /// most `max_piece` bytes at a time (at least 1).
    pub fn new(max_packet: usize, max_piece: usize) -> Self {
        Reframer {
            buf: BytesMut::new(),
            max_packet,
            max_piece: max_piece.max(1),
            large_left: 0,
            large_packets: 0,
        }
    }

    /// The buffer to read into (call [`Reframer::take`] after filling it).
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Bytes currently held (not yet handed out).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True between packets: nothing held and no large packet under way.
    pub fn at_boundary(&self) -> bool {
        self.buf.is_empty() && self.large_left == 0
    }

    /// Packets larger than one piece begun so far.
    pub fn large_packets(&self) -> u64 {
        self.large_packets
    }

    /// Appends bytes (convenience for tests; the relay reads straight into [`Self::buffer_mut`]).
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next message payload: the next piece of a large packet, or a run of whole small
    /// packets. `Ok(None)` when more bytes are needed; an error when the packet at the front is
    /// malformed or too large (everything before it was handed out already).
    pub fn take(&mut self) -> Result<Option<Bytes>, FrameError> {
        if self.large_left > 0 {
            let n = self.large_left.min(self.buf.len()).min(self.max_piece);
            if n == 0 {
                return Ok(None);
            }
            self.large_left -= n;
            return Ok(Some(self.buf.split_to(n).freeze()));
        }
        let Some((_, total)) = parse_header(&self.buf, self.max_packet)? else {
            return Ok(None);
        };
        if total > self.max_piece {
            self.large_packets += 1;
            let n = total.min(self.buf.len()).min(self.max_piece);
            self.large_left = total - n;
            return Ok(Some(self.buf.split_to(n).freeze()));
        }
        if total > self.buf.len() {
            return Ok(None);
        }
        // A run of whole small packets; a bad header after it is reported by the next call.
        let mut end = total;
        while let Some(rest) = self.buf.get(end..) {
            match parse_header(rest, self.max_packet) {
                Ok(Some((_, next))) if end + next <= self.max_piece && next <= rest.len() => {
                    end += next;
                }
                _ => break,
            }
        }
        Ok(Some(self.buf.split_to(end).freeze()))
    }

    /// Ensures room for `n` more bytes.
    pub fn reserve(&mut self, n: usize) {
        if self.buf.capacity() - self.buf.len() < n {
            self.buf.reserve(n);
        }
    }

    /// Releases the buffer's memory when it is empty (keeps idle sessions cheap).
    pub fn shrink_if_empty(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > 0 {
            self.buf = BytesMut::new();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SizerState {
    /// Waiting for the first byte of a packet.
    Start,
    /// Reading the remaining-length varint.
    Length(RemainingLength),
    /// Skipping the body: bytes still to skip.
    Body { left: usize },
}

/// Tracks packet boundaries in a stream without buffering (browser -> broker direction).
#[derive(Debug)]
pub struct PacketSizer {
    max_packet: usize,
    state: SizerState,
}

impl PacketSizer {
    /// A sizer refusing packets larger than `max_packet` bytes in total.
    pub fn new(max_packet: usize) -> Self {
        PacketSizer {
            max_packet,
            state: SizerState::Start,
        }
    }

    /// True when the stream ends on a packet boundary.
    pub fn at_boundary(&self) -> bool {
        self.state == SizerState::Start
    }

    /// Feeds the next bytes of the stream.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), FrameError> {
        while !data.is_empty() {
            match self.state {
                SizerState::Start => {
                    check_first_byte(data.first().copied().unwrap_or(0))?;
                    data = data.get(1..).unwrap_or(&[]);
                    self.state = SizerState::Length(RemainingLength::default());
                }
                SizerState::Length(mut length) => {
                    let byte = data.first().copied().unwrap_or(0);
                    data = data.get(1..).unwrap_or(&[]);
                    self.state = match length.push(byte)? {
                        None => SizerState::Length(length),
                        Some(value) => {
                            check_size(1 + length.bytes_read() + value, self.max_packet)?;
                            if value == 0 {
                                SizerState::Start
                            } else {
                                SizerState::Body { left: value }
                            }
                        }
                    };
                }
                SizerState::Body { left } => {
                    let n = left.min(data.len());
                    data = data.get(n..).unwrap_or(&[]);
                    self.state = if left == n {
                        SizerState::Start
                    } else {
                        SizerState::Body { left: left - n }
                    };
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_core::wire::frame::write_remaining_length;
    use proptest::prelude::*;

    fn packet(kind: u8, body_len: usize) -> Vec<u8> {
        let mut p = vec![kind << 4];
        write_remaining_length(body_len, &mut p).unwrap();
        p.extend(std::iter::repeat_n(0xAB, body_len));
        p
    }

    #[test]
    fn header_parsing() {
        assert_eq!(parse_header(&[], 100), Ok(None));
        assert_eq!(parse_header(&[0x30], 100), Ok(None));
        assert_eq!(parse_header(&[0x30, 5], 100), Ok(Some((2, 7))));
        assert_eq!(parse_header(&[0xC0, 0], 100), Ok(Some((2, 2))));
        assert_eq!(parse_header(&[0x30, 0x80], 1000), Ok(None));
        assert_eq!(parse_header(&[0x30, 0x80, 0x01], 1000), Ok(Some((3, 131))));
        assert_eq!(
            parse_header(&[0x30, 0xff, 0xff, 0xff, 0xff], usize::MAX),
            Err(FrameError::MalformedLength)
        );
        assert_eq!(
            parse_header(&[0x30, 0xff, 0xff, 0xff, 0x7f], usize::MAX),
            Ok(Some((5, 5 + MAX_REMAINING_LENGTH)))
        );
        assert_eq!(parse_header(&[0x00, 0], 100), Err(FrameError::ReservedType));
        assert_eq!(
            parse_header(&[0x30, 100], 50),
            Err(FrameError::TooLarge { size: 102, max: 50 })
        );
    }

    /// Every payload handed out until more bytes are needed.
    fn drain(r: &mut Reframer) -> Vec<Bytes> {
        std::iter::from_fn(|| r.take().unwrap()).collect()
    }

    #[test]
    fn reframer_batches_whole_packets() {
        let mut r = Reframer::new(1000, 1 << 20);
        let mut stream = packet(3, 10);
        stream.extend(packet(13, 0));
        stream.extend(packet(3, 20));
        r.push(&stream[..5]);
        assert_eq!(r.take(), Ok(None));
        r.push(&stream[5..20]);
        assert_eq!(drain(&mut r), vec![Bytes::copy_from_slice(&stream[..14])]);
        r.push(&stream[20..]);
        assert_eq!(drain(&mut r), vec![Bytes::copy_from_slice(&stream[14..])]);
        assert!(r.at_boundary());
    }

    #[test]
    fn reframer_batches_up_to_one_piece() {
        let mut r = Reframer::new(1000, 210);
        let mut stream = packet(3, 100);
        stream.extend(packet(3, 100));
        stream.extend(packet(3, 100));
        r.push(&stream);
        let lens: Vec<usize> = drain(&mut r).iter().map(Bytes::len).collect();
        assert_eq!(lens, vec![204, 102]);
    }

    /// MQTT 3.1.1 §6.0: a packet may span WebSocket messages. A packet larger than one piece
    /// goes out in pieces as it arrives, alone in its messages; the next packet starts a new one.
    #[test]
    fn reframer_streams_a_large_packet_in_bounded_pieces() {
        let mut r = Reframer::new(100_000, 64);
        let big = packet(3, 1000);
        let mut stream = big.clone();
        stream.extend(packet(13, 0));
        let mut out = Vec::new();
        for chunk in stream.chunks(50) {
            r.push(chunk);
            for piece in drain(&mut r) {
                assert!(piece.len() <= 64);
                out.push(piece);
            }
            assert!(r.buffered() < 64);
        }
        assert_eq!(r.large_packets(), 1);
        let last = out.pop().unwrap();
        assert_eq!(&last[..], &[0xD0, 0]);
        assert_eq!(out.concat(), big);
        assert!(r.at_boundary());
    }

    #[test]
    fn reframer_refuses_from_the_header_after_handing_out_what_came_before() {
        let mut r = Reframer::new(50, 1 << 20);
        let mut stream = packet(3, 10);
        stream.extend([0x30, 100]);
        r.push(&stream);
        assert_eq!(r.take().unwrap().unwrap().len(), 12);
        assert_eq!(r.take(), Err(FrameError::TooLarge { size: 102, max: 50 }));
    }

    #[test]
    fn sizer_refuses_large_and_tracks_boundaries() {
        let mut s = PacketSizer::new(50);
        s.feed(&packet(3, 10)).unwrap();
        assert!(s.at_boundary());
        s.feed(&[0x30]).unwrap();
        assert!(!s.at_boundary());
        assert_eq!(
            s.feed(&[60]),
            Err(FrameError::TooLarge { size: 62, max: 50 })
        );
        let mut s = PacketSizer::new(usize::MAX);
        assert_eq!(
            s.feed(&[0x30, 0x80, 0x80, 0x80, 0x80]),
            Err(FrameError::MalformedLength)
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512), max in 0usize..10_000) {
            let mut r = Reframer::new(max, 64);
            r.push(&data);
            while let Ok(Some(_)) = r.take() {}
            let mut s = PacketSizer::new(max);
            let _ = s.feed(&data);
            let _ = parse_header(&data, max);
        }

        #[test]
        fn any_split_reassembles(bodies in proptest::collection::vec(0usize..300, 1..20), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10)) {
            let mut stream = Vec::new();
            for b in &bodies { stream.extend(packet(3, *b)); }
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            points.push(0); points.push(stream.len());
            points.sort_unstable(); points.dedup();
            let mut r = Reframer::new(10_000, 512);
            let mut s = PacketSizer::new(10_000);
            let mut out = Vec::new();
            for w in points.windows(2) {
                let chunk = &stream[w[0]..w[1]];
                s.feed(chunk).unwrap();
                r.push(chunk);
                while let Some(b) = r.take().unwrap() {
                    prop_assert!(b.len() <= 512);
                    out.extend_from_slice(&b);
                }
                prop_assert!(r.buffered() < 512);
            }
            prop_assert!(s.at_boundary());
            prop_assert!(r.at_boundary());
            prop_assert_eq!(out, stream);
        }

        #[test]
        fn sizer_and_reframer_agree_on_limit(body in 0usize..2000, max in 2usize..2100) {
            let p = packet(3, body);
            let mut s = PacketSizer::new(max);
            let mut r = Reframer::new(max, 64);
            r.push(&p);
            let sized = s.feed(&p).is_ok();
            let scanned = r.take().is_ok();
            prop_assert_eq!(sized, scanned);
            prop_assert_eq!(sized, p.len() <= max);
        }
    }
}
