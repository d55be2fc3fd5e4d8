//! A read-ahead buffer under each socket of a session: one `recv` fills up to [`CHUNK`] bytes,
//! and the small reads above it (tungstenite reads a frame header, then its payload, into what
//! is left of its buffer; rustls reads at most 4 KiB of records at a time) are served from
//! memory instead of one syscall each.
//!
//! It is adaptive: a read goes straight into the caller's buffer unless the previous one filled
//! its buffer (more is waiting); only then is a buffer taken (from [`crate::pool`]), and it is
//! given back as soon as the socket is drained. Handshakes and idle sessions, whose reads are
//! short, never hold one; a busy session holds at most [`CHUNK`] bytes more than before.
//! Writes pass straight through.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// Bytes asked of the socket per read (at least).
pub const CHUNK: usize = crate::pool::SIZE;

/// A stream with a read-ahead buffer (see the module docs).
#[derive(Debug)]
pub struct ReadAhead<S> {
    inner: S,
    buf: BytesMut,
    /// The last read from the socket filled what it was given: more is probably waiting.
    hot: bool,
}

impl<S> ReadAhead<S> {
    /// Wraps `inner`; allocates nothing until the first read.
    pub fn new(inner: S) -> Self {
        ReadAhead {
            inner,
            buf: BytesMut::new(),
            hot: false,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ReadAhead<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.buf.is_empty() {
            if !this.hot || out.remaining() >= CHUNK {
                // Straight into the caller's buffer. A read that fills it says more is waiting:
                // the next one goes through the read-ahead buffer.
                crate::pool::give(std::mem::take(&mut this.buf));
                let want = out.remaining();
                let before = out.filled().len();
                let r = Pin::new(&mut this.inner).poll_read(cx, out);
                this.hot = matches!(r, Poll::Ready(Ok(())))
                    && want > 0
                    && out.filled().len() - before == want;
                return r;
            }
            if this.buf.capacity() == 0 {
                this.buf = crate::pool::take();
            }
            let room = this.buf.capacity();
            let filled = {
                let read = std::pin::pin!(this.inner.read_buf(&mut this.buf));
                read.poll(cx)
            };
            match filled {
                Poll::Pending => {
                    // Nothing more for now: an idle session keeps no buffer.
                    this.hot = false;
                    crate::pool::give(std::mem::take(&mut this.buf));
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                // A short read drained the socket.
                Poll::Ready(Ok(n)) => this.hot = n == room,
            }
        }
        let n = out.remaining().min(this.buf.len());
        if let Some(chunk) = this.buf.get(..n) {
            out.put_slice(chunk);
        }
        this.buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

write_through_inner!(ReadAhead);

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncWriteExt, DuplexStream};

    /// Counts the reads that reach the socket.
    struct Counting(DuplexStream, usize);
    impl AsyncRead for Counting {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            out: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            let r = Pin::new(&mut this.0).poll_read(cx, out);
            if r.is_ready() {
                this.1 += 1;
            }
            r
        }
    }

    #[tokio::test]
    async fn small_reads_come_from_few_large_reads_and_the_buffer_is_released() {
        let (a, mut b) = tokio::io::duplex(64 * 1024);
        let mut r = ReadAhead::new(Counting(a, 0));
        let data: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
        b.write_all(&data).await.unwrap();
        let mut got = Vec::new();
        let mut small = [0u8; 14];
        let mut reads = 0;
        while got.len() < data.len() {
            let n = r.read(&mut small).await.unwrap();
            got.extend_from_slice(&small[..n]);
            reads += 1;
            assert!(r.buf.len() <= 2 * CHUNK);
        }
        assert_eq!(got, data);
        assert!(
            r.get_ref().1 <= 8,
            "{} socket reads for {reads}",
            r.get_ref().1
        );
        // Nothing left to read: the next read waits, and the buffer is gone meanwhile.
        let pending = futures_util::FutureExt::now_or_never(r.read(&mut small));
        assert!(pending.is_none());
        assert_eq!(r.buf.capacity(), 0);
        b.write_all(b"xy").await.unwrap();
        drop(b);
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"xy");
    }

    #[tokio::test]
    async fn short_reads_never_take_a_buffer() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut r = ReadAhead::new(a);
        let mut big = [0u8; 100];
        for _ in 0..3 {
            b.write_all(b"CONNACK").await.unwrap();
            let n = r.read(&mut big).await.unwrap();
            assert_eq!(&big[..n], b"CONNACK");
            assert_eq!(r.buf.capacity(), 0);
        }
    }
}
