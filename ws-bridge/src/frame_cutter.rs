//! Cuts the browser's WebSocket data frames into complete binary frames of at most `max_piece`
//! payload bytes, below tungstenite, so no frame or message larger than one piece is ever held.
//!
//! Why the bridge reads frame headers itself: tungstenite 0.30 (and tokio-tungstenite) buffer a
//! whole frame, then a whole message, before handing it out (`max_frame_size`,
//! `max_message_size`); there is no incremental payload API (asked upstream: tungstenite-rs
//! issues 303 and 304, async-tungstenite issue 108). A standard client (paho-mqtt's
//! websockets transport, tungstenite clients, our own) sends each MQTT packet as one frame, so a
//! 16 MiB PUBLISH is one 16 MiB frame. MQTT over WebSockets is a byte stream (MQTT 3.1.1 §6.0:
//! a packet may span frames and messages), so message boundaries mean nothing to the relay and
//! cutting is lossless. tungstenite still does everything else: unmasking, ping/pong, the close
//! handshake and close-frame checks, and all writes.
//!
//! RFC 6455 §5, as applied here to each frame from the client:
//! * control frames (close, ping, pong; §5.5) pass through unchanged, also between the frames of
//!   a fragmented message (§5.4); fragmented or longer than 125 bytes: 1002.
//! * binary and continuation frames are re-emitted as complete (FIN) binary frames of at most
//!   `max_piece` payload bytes; the payload passes through still masked, each piece carrying the
//!   frame's key rotated to the piece's offset (§5.3). Empty data frames carry nothing: dropped.
//! * refused: text frames (1003: the relay carries MQTT only), unmasked frames (§5.1), RSV bits
//!   without a negotiated extension (§5.2), reserved opcodes (§5.2), a 64-bit length with its
//!   most significant bit set (§5.2), a continuation without a message or a new message inside
//!   a fragmented one (§5.4): 1002.
//!
//! Memory: two 14-byte header buffers; payload goes straight from the socket into tungstenite's
//! read buffer. [`FrameCutter`] is the sans-IO state machine (fuzzed by `ws-bridge/fuzz`'s
//! `frame_cutter` target); [`CutFrames`] puts it under tungstenite.

use std::io::{self, Cursor};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, ReadBuf};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

use crate::close::{PROTOCOL_ERROR, UNSUPPORTED_DATA};
use crate::metrics::Metrics;

/// The longest WebSocket frame header: 2 bytes, a 64-bit length, a mask key.
pub const MAX_HEADER: usize = 14;
/// The longest control frame payload (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: u64 = 125;

/// Why the client's framing is refused: the close code and its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// [`PROTOCOL_ERROR`] or [`UNSUPPORTED_DATA`].
    pub code: u16,
    /// Shown to the person using the browser.
    pub reason: &'static str,
}

impl Refusal {
    const fn protocol(reason: &'static str) -> Refusal {
        Refusal {
            code: PROTOCOL_ERROR,
            reason,
        }
    }

    /// The refusal carried by an IO error from [`CutFrames`], if it is one.
    pub fn of(error: &io::Error) -> Option<Refusal> {
        error.get_ref()?.downcast_ref::<Refusal>().copied()
    }
}

/// What the cutter needs next from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Up to this many header bytes, read into [`FrameCutter::header_room`].
    Header(usize),
    /// Up to this many payload bytes, passed through unchanged after [`FrameCutter::output`].
    Payload(u64),
}

/// The sans-IO cutter (see the module docs).
#[derive(Debug, Clone)]
pub struct FrameCutter {
    max_piece: u64,
    header: [u8; MAX_HEADER],
    header_len: usize,
    out: [u8; MAX_HEADER],
    out_len: usize,
    out_pos: usize,
    /// Payload bytes of the frame being emitted still to pass through.
    piece_left: u64,
    /// Payload bytes of the client's data frame after the current piece.
    frame_left: u64,
    /// Where the next piece starts in the client's data frame, and that frame's mask key.
    offset: u64,
    mask: [u8; 4],
    /// A fragmented data message is open (its last frame is still to come).
    in_message: bool,
    refused: Option<Refusal>,
    large_frames: u64,
}

impl FrameCutter {
    /// A cutter emitting data frames of at most `max_piece` payload bytes (at least 1).
    pub fn new(max_piece: usize) -> FrameCutter {
        FrameCutter {
            max_piece: u64::try_from(max_piece.max(1)).unwrap_or(u64::MAX),
            header: [0; MAX_HEADER],
            header_len: 0,
            out: [0; MAX_HEADER],
            out_len: 0,
            out_pos: 0,
            piece_left: 0,
            frame_left: 0,
            offset: 0,
            mask: [0; 4],
            in_message: false,
            refused: None,
            large_frames: 0,
        }
    }

    /// Header bytes the cutter wrote, to hand on before anything else.
    pub fn output(&self) -> &[u8] {
        self.out.get(self.out_pos..self.out_len).unwrap_or(&[])
    }

    /// `n` bytes of [`Self::output`] were handed on.
    pub fn consume_output(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out_len);
    }

    /// Data frames larger than one piece seen so far.
    pub fn large_frames(&self) -> u64 {
        self.large_frames
    }

    /// What to read next; the refusal once the framing was refused.
    pub fn need(&self) -> Result<Need, Refusal> {
        if let Some(refusal) = self.refused {
            return Err(refusal);
        }
        if self.piece_left > 0 {
            return Ok(Need::Payload(self.piece_left));
        }
        Ok(Need::Header(self.header_needed() - self.header_len))
    }

    /// Where to read the header bytes [`Need::Header`] asks for.
    pub fn header_room(&mut self) -> &mut [u8] {
        let end = self.header_needed();
        self.header.get_mut(self.header_len..end).unwrap_or(&mut [])
    }

    /// `n` bytes were read into [`Self::header_room`].
    pub fn header_read(&mut self, n: usize) -> Result<(), Refusal> {
        self.header_len = (self.header_len + n).min(self.header_needed());
        if self.header_len >= 2 && self.header_len == self.header_needed() {
            if let Err(refusal) = self.start_frame() {
                self.refused = Some(refusal);
                return Err(refusal);
            }
        }
        Ok(())
    }

    /// `n` payload bytes (at most what [`Need::Payload`] asked) were passed through.
    pub fn payload_passed(&mut self, n: usize) {
        let n = u64::try_from(n).unwrap_or(u64::MAX).min(self.piece_left);
        self.piece_left -= n;
        if self.piece_left == 0 && self.frame_left > 0 {
            self.start_piece();
        }
    }

    /// Header bytes needed for the frame being read: 2, then as many as the second byte says.
    fn header_needed(&self) -> usize {
        let [_, second, ..] = self.header;
        if self.header_len < 2 {
            return 2;
        }
        let length_bytes = match second & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask_bytes = if second & 0x80 != 0 { 4 } else { 0 };
        2 + length_bytes + mask_bytes
    }

    /// A whole header is in: check it and start passing the frame on.
    fn start_frame(&mut self) -> Result<(), Refusal> {
        let read = self.header_len;
        self.header_len = 0;
        let bytes = self.header.get(..read).unwrap_or(&[]);
        let (header, len) = match FrameHeader::parse(&mut Cursor::new(bytes)) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Err(Refusal::protocol("malformed WebSocket frame header")),
            Err(_) => return Err(Refusal::protocol("reserved WebSocket opcode")),
        };
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Err(Refusal::protocol(
                "RSV bits set without a negotiated extension",
            ));
        }
        if len > i64::MAX as u64 {
            return Err(Refusal::protocol(
                "frame length with its most significant bit set",
            ));
        }
        let Some(mask) = header.mask else {
            return Err(Refusal::protocol("unmasked frame from the client"));
        };
        match header.opcode {
            OpCode::Control(Control::Close | Control::Ping | Control::Pong) => {
                if !header.is_final || len > MAX_CONTROL_PAYLOAD {
                    return Err(Refusal::protocol(
                        "control frame fragmented or longer than 125 bytes",
                    ));
                }
                // Unchanged: tungstenite answers pings and runs the close handshake.
                if let (Some(dst), Some(src)) = (self.out.get_mut(..read), self.header.get(..read))
                {
                    dst.copy_from_slice(src);
                }
                self.out_len = read;
                self.out_pos = 0;
                self.piece_left = len;
                self.frame_left = 0;
                Ok(())
            }
            OpCode::Data(Data::Text) => Err(Refusal {
                code: UNSUPPORTED_DATA,
                reason: "text frames are not allowed: MQTT over WebSockets uses binary frames",
            }),
            OpCode::Data(Data::Continue) if !self.in_message => Err(Refusal::protocol(
                "continuation frame without a message to continue",
            )),
            OpCode::Data(Data::Binary) if self.in_message => Err(Refusal::protocol(
                "new message before the fragmented one ended",
            )),
            OpCode::Data(Data::Binary | Data::Continue) => {
                self.in_message = !header.is_final;
                if len > self.max_piece {
                    self.large_frames += 1;
                }
                self.mask = mask;
                self.offset = 0;
                self.frame_left = len;
                if len > 0 {
                    self.start_piece();
                }
                Ok(())
            }
            OpCode::Data(Data::Reserved(_)) | OpCode::Control(Control::Reserved(_)) => {
                Err(Refusal::protocol("reserved WebSocket opcode"))
            }
        }
    }

    /// Writes the header of the next piece of the client's data frame.
    fn start_piece(&mut self) {
        let n = self.frame_left.min(self.max_piece);
        let mut mask = self.mask;
        // The key applies from the frame's first byte (§5.3): rotate it to this piece's start.
        mask.rotate_left((self.offset % 4) as usize);
        let header = FrameHeader {
            is_final: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode: OpCode::Data(Data::Binary),
            mask: Some(mask),
        };
        let mut out: &mut [u8] = &mut self.out;
        // 14 bytes always hold a header; on the impossible failure nothing is emitted and the
        // payload is still counted, so tungstenite would see a framing error, not garbage.
        let room = out.len();
        let written = header.format(n, &mut out).map(|()| room - out.len());
        self.out_len = written.unwrap_or(0);
        self.out_pos = 0;
        self.piece_left = n;
        self.frame_left -= n;
        self.offset += n;
    }
}

/// A stream whose reads go through a [`FrameCutter`] (writes pass straight through).
#[derive(Debug)]
pub struct CutFrames<S> {
    inner: S,
    /// Bytes read with the HTTP request head, served before the socket.
    prefix: Bytes,
    cutter: FrameCutter,
    metrics: Arc<Metrics>,
}

impl<S> CutFrames<S> {
    /// Wraps `inner`, whose first bytes are `prefix` (already read after the request head).
    pub fn new(inner: S, prefix: Vec<u8>, max_piece: usize, metrics: Arc<Metrics>) -> Self {
        CutFrames {
            inner,
            prefix: Bytes::from(prefix),
            cutter: FrameCutter::new(max_piece),
            metrics,
        }
    }
}

/// Reads from `prefix` first, then from `inner`.
fn poll_source<S: AsyncRead + Unpin>(
    inner: &mut S,
    prefix: &mut Bytes,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    if prefix.is_empty() {
        return Pin::new(inner).poll_read(cx, buf);
    }
    let n = prefix.len().min(buf.remaining());
    buf.put_slice(prefix.get(..n).unwrap_or(&[]));
    prefix.advance(n);
    Poll::Ready(Ok(()))
}

impl<S: AsyncRead + Unpin> AsyncRead for CutFrames<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let start = out.filled().len();
        loop {
            let pending = this.cutter.output();
            let n = pending.len().min(out.remaining());
            out.put_slice(pending.get(..n).unwrap_or(&[]));
            this.cutter.consume_output(n);
            if out.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let produced = out.filled().len() > start;
            // Something handed on is a complete read; waiting or failing is for the next one.
            let wait = |p: bool| {
                if p {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                }
            };
            match this.cutter.need() {
                Err(_) if produced => return Poll::Ready(Ok(())),
                Err(refusal) => return Poll::Ready(Err(io::Error::other(refusal))),
                Ok(Need::Payload(left)) => {
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(out.remaining());
                    let mut dst = ReadBuf::new(out.initialize_unfilled_to(n));
                    match poll_source(&mut this.inner, &mut this.prefix, cx, &mut dst) {
                        Poll::Pending => return wait(produced),
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Ready(Ok(())) => {
                            let got = dst.filled().len();
                            out.advance(got);
                            this.cutter.payload_passed(got);
                            // `got == 0` with nothing produced is the end of the stream.
                            return Poll::Ready(Ok(()));
                        }
                    }
                }
                Ok(Need::Header(_)) => {
                    let mut dst = ReadBuf::new(this.cutter.header_room());
                    match poll_source(&mut this.inner, &mut this.prefix, cx, &mut dst) {
                        Poll::Pending => return wait(produced),
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Ready(Ok(())) => {
                            let got = dst.filled().len();
                            if got == 0 {
                                return Poll::Ready(Ok(()));
                            }
                            let large = this.cutter.large_frames();
                            // A refusal is kept by the cutter and reported by the next turn.
                            let _ = this.cutter.header_read(got);
                            if this.cutter.large_frames() > large {
                                this.metrics.large_frames_up.inc();
                            }
                        }
                    }
                }
            }
        }
    }
}

write_through_inner!(CutFrames);

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::WebSocketStream;
    use tungstenite::protocol::Role;
    use tungstenite::Message;

    const KEY: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

    fn apply_mask(data: &mut [u8], key: [u8; 4]) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }

    /// A client frame: `first` byte (FIN, RSV, opcode), masked with [`KEY`] unless `masked` is off.
    fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
        let mut out = vec![first];
        let bit = if masked { 0x80 } else { 0 };
        match payload.len() {
            n @ 0..=125 => out.push(bit | n as u8),
            n @ 126..=65_535 => {
                out.push(bit | 126);
                out.extend((n as u16).to_be_bytes());
            }
            n => {
                out.push(bit | 127);
                out.extend((n as u64).to_be_bytes());
            }
        }
        let mut body = payload.to_vec();
        if masked {
            out.extend(KEY);
            apply_mask(&mut body, KEY);
        }
        out.extend(body);
        out
    }

    /// Runs `input` through a cutter, `step` bytes per read at most; the output and any refusal.
    fn cut(input: &[u8], max_piece: usize, step: usize) -> (Vec<u8>, Option<Refusal>) {
        let mut c = FrameCutter::new(max_piece);
        let mut out = Vec::new();
        let mut rest = input;
        loop {
            out.extend_from_slice(c.output());
            let n = c.output().len();
            c.consume_output(n);
            match c.need() {
                Err(r) => return (out, Some(r)),
                Ok(_) if rest.is_empty() => return (out, None),
                Ok(Need::Payload(left)) => {
                    let n = (left as usize).min(step).min(rest.len());
                    out.extend_from_slice(&rest[..n]);
                    rest = &rest[n..];
                    c.payload_passed(n);
                }
                Ok(Need::Header(want)) => {
                    let n = want.min(step).min(rest.len());
                    c.header_room()[..n].copy_from_slice(&rest[..n]);
                    rest = &rest[n..];
                    let _ = c.header_read(n);
                }
            }
        }
    }

    /// Decodes the cutter's output: (FIN, opcode, unmasked payload) per frame.
    fn frames_of(mut wire: &[u8]) -> Vec<(bool, u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while !wire.is_empty() {
            let mut cursor = Cursor::new(wire);
            let (h, len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
            let at = cursor.position() as usize;
            let mut payload = wire[at..at + len as usize].to_vec();
            apply_mask(&mut payload, h.mask.expect("still masked"));
            let first = wire[0];
            frames.push((h.is_final, first & 0x0F, payload));
            wire = &wire[at + len as usize..];
        }
        frames
    }

    /// RFC 6455 §5.3/§5.4 and MQTT 3.1.1 §6.0: a large frame becomes complete binary frames of
    /// at most one piece, still masked, whatever the read sizes; the payload is unchanged.
    #[test]
    fn a_large_frame_becomes_bounded_complete_frames() {
        let payload: Vec<u8> = (0..100_003u32).map(|i| (i * 7) as u8).collect();
        let input = frame(0x82, &payload, true);
        for (piece, step) in [(64, 1), (65, 7), (1000, 4096), (1 << 20, 333)] {
            let (out, refused) = cut(&input, piece, step);
            assert_eq!(refused, None);
            let frames = frames_of(&out);
            assert!(frames
                .iter()
                .all(|(fin, op, p)| *fin && *op == 2 && p.len() <= piece));
            let joined: Vec<u8> = frames.into_iter().flat_map(|f| f.2).collect();
            assert_eq!(joined, payload, "piece {piece}, step {step}");
        }
    }

    /// RFC 6455 §5.4/§5.5: control frames pass unchanged between fragments; the fragments
    /// become complete binary frames; empty data frames carry nothing.
    #[test]
    fn fragments_and_interleaved_control_frames() {
        let mut input = frame(0x02, b"abc", true);
        input.extend(frame(0x89, b"ping!", true));
        input.extend(frame(0x00, b"", true));
        input.extend(frame(0x80, b"defgh", true));
        input.extend(frame(0x88, &[0x03, 0xE8], true));
        let (out, refused) = cut(&input, 4, 3);
        assert_eq!(refused, None);
        let frames = frames_of(&out);
        let want: Vec<(bool, u8, Vec<u8>)> = vec![
            (true, 2, b"abc".to_vec()),
            (true, 9, b"ping!".to_vec()),
            (true, 2, b"defg".to_vec()),
            (true, 2, b"h".to_vec()),
            (true, 8, vec![0x03, 0xE8]),
        ];
        assert_eq!(frames, want);
    }

    #[test]
    fn framing_violations_are_refused_with_their_close_code() {
        let cases: Vec<(Vec<u8>, u16)> = vec![
            (frame(0x81, b"text", true), UNSUPPORTED_DATA),
            (frame(0x82, b"unmasked", false), PROTOCOL_ERROR),
            (frame(0xC2, b"rsv1", true), PROTOCOL_ERROR),
            (frame(0x83, b"reserved data opcode", true), PROTOCOL_ERROR),
            (frame(0x8B, b"reserved control", true), PROTOCOL_ERROR),
            (frame(0x80, b"lone continuation", true), PROTOCOL_ERROR),
            (
                [frame(0x02, b"a", true), frame(0x82, b"b", true)].concat(),
                PROTOCOL_ERROR,
            ),
            (frame(0x89, &[0u8; 126], true), PROTOCOL_ERROR),
            (frame(0x09, b"fragmented ping", true), PROTOCOL_ERROR),
            (
                vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4],
                PROTOCOL_ERROR,
            ),
        ];
        for (input, code) in cases {
            let (_, refused) = cut(&input, 64, 5);
            assert_eq!(refused.map(|r| r.code), Some(code), "{input:02x?}");
        }
    }

    /// Through tungstenite: a 1 MiB message in one frame arrives as pieces of at most 4 KiB,
    /// pings are answered, and the close handshake completes.
    #[tokio::test]
    async fn tungstenite_reads_pieces_and_still_answers_pings_and_closes() {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let metrics = Arc::new(Metrics::default());
        let cut = CutFrames::new(server_io, Vec::new(), 4096, metrics.clone());
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_frame_size(Some(4096))
            .max_message_size(Some(4096));
        let mut server = WebSocketStream::from_raw_socket(cut, Role::Server, Some(config)).await;
        let mut client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
        let payload: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
        let sent = payload.clone();
        let sender = tokio::spawn(async move {
            client.send(Message::binary(sent)).await.unwrap();
            client
                .send(Message::Ping(b"p".to_vec().into()))
                .await
                .unwrap();
            client.close(None).await.unwrap();
            let (mut pongs, mut closes) = (0, 0);
            while let Some(Ok(m)) = client.next().await {
                pongs += usize::from(m.is_pong());
                closes += usize::from(m.is_close());
            }
            (pongs, closes)
        });
        let mut got = Vec::new();
        while let Some(m) = server.next().await {
            match m.unwrap() {
                Message::Binary(b) => {
                    assert!(b.len() <= 4096);
                    got.extend_from_slice(&b);
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        assert_eq!(got, payload);
        // The close reply goes out with the next read or flush; then the server ends the stream.
        server.flush().await.unwrap();
        drop(server);
        let (pongs, closes) = sender.await.unwrap();
        assert_eq!(
            (pongs, closes),
            (1, 1),
            "the ping was answered, the close replied to"
        );
        assert_eq!(metrics.large_frames_up.get(), 1);
    }
}
