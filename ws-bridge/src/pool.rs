//! A small per-thread stock of I/O buffers, so a busy session does not allocate and free its
//! read-ahead and batch buffers on every burst (measured: malloc and free were about 8% of the
//! relay's CPU, partly on the allocator's arena lock), while an idle session still holds none.
//!
//! At most [`KEEP`] buffers of about [`SIZE`] bytes are kept per worker thread; anything else
//! goes back to the allocator.

use std::cell::RefCell;

use bytes::BytesMut;

/// Capacity of a pooled buffer.
pub const SIZE: usize = 16 * 1024;
/// Buffers kept per thread, at most (so at most 512 KiB per thread).
pub const KEEP: usize = 32;

thread_local! {
    static STOCK: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for at least [`SIZE`] bytes.
pub fn take() -> BytesMut {
    let mut buf = STOCK
        .try_with(|s| s.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    buf.reserve(SIZE);
    buf
}

/// Returns a buffer's memory to the stock (its contents are discarded). Buffers grown much
/// beyond [`SIZE`] (a large packet) are freed instead.
pub fn give(mut buf: BytesMut) {
    if buf.capacity() == 0 {
        return;
    }
    buf.clear();
    // Reclaims the room already read past, when nothing else still shares the allocation.
    buf.reserve(SIZE);
    if buf.capacity() > 2 * SIZE {
        return;
    }
    let _ = STOCK.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.len() < KEEP {
                s.push(buf);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_and_bounds() {
        let a = take();
        assert!(a.capacity() >= SIZE && a.is_empty());
        give(a);
        let mut b = take();
        assert!(b.capacity() >= SIZE);
        b.extend_from_slice(b"data");
        give(b);
        assert!(take().is_empty());
        give(BytesMut::with_capacity(10 * SIZE)); // too large: freed
        give(BytesMut::new()); // nothing to keep
        for _ in 0..KEEP + 5 {
            give(BytesMut::with_capacity(SIZE));
        }
        assert!(STOCK.with(|s| s.borrow().len()) <= KEEP);
    }
}
