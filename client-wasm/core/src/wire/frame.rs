//! The MQTT fixed header (MQTT 3.1.1 §2.2): one byte of type and flags, then the remaining length
//! as a varint of one to four bytes, seven bits each, least significant first (§2.2.3).

/// The largest remaining length four varint bytes can express (§2.2.3: 268,435,455).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// The longest fixed header: the first byte and four length bytes.
pub const MAX_HEADER_LEN: usize = 5;

/// The fixed header of a frame whose remaining length is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The first byte: packet type and flags.
    pub first_byte: u8,
    /// Bytes of fixed header (1 + length of the remaining-length field).
    pub header_len: usize,
    /// The remaining length.
    pub body_len: usize,
}

impl FrameHeader {
    /// Bytes of the whole frame.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.body_len
    }

    /// The packet type (the first byte's high nibble).
    pub fn packet_type(&self) -> u8 {
        self.first_byte >> 4
    }
}

/// The remaining-length field had a continuation bit on its fourth byte. Always the peer's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("remaining length uses more than four bytes")]
pub struct RemainingLengthTooLong;

/// Reads a fixed header. `Ok(None)` means more bytes are needed to know the length.
pub fn read_frame_header(buf: &[u8]) -> Result<Option<FrameHeader>, RemainingLengthTooLong> {
    let Some(&first_byte) = buf.first() else {
        return Ok(None);
    };
    let mut length = RemainingLength::default();
    for &byte in buf.iter().skip(1).take(4) {
        if let Some(body_len) = length.push(byte)? {
            return Ok(Some(FrameHeader {
                first_byte,
                header_len: 1 + length.bytes_read(),
                body_len,
            }));
        }
    }
    if buf.len() >= MAX_HEADER_LEN {
        return Err(RemainingLengthTooLong);
    }
    Ok(None)
}

/// A remaining-length varint read one byte at a time, for readers that meet the header in
/// pieces (a stream cut at any byte).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemainingLength {
    value: usize,
    read: usize,
}

impl RemainingLength {
    /// Adds the next byte: `Ok(Some(length))` once the varint is complete, `Ok(None)` while it
    /// continues, an error on a fifth byte.
    pub fn push(&mut self, byte: u8) -> Result<Option<usize>, RemainingLengthTooLong> {
        if self.read == 4 {
            return Err(RemainingLengthTooLong);
        }
        self.value |= usize::from(byte & 0x7f) << (7 * self.read);
        self.read += 1;
        if byte & 0x80 == 0 {
            Ok(Some(self.value))
        } else if self.read == 4 {
            Err(RemainingLengthTooLong)
        } else {
            Ok(None)
        }
    }

    /// Length bytes taken so far.
    pub fn bytes_read(&self) -> usize {
        self.read
    }
}

/// Appends `len` as a remaining-length varint. `None` (and nothing written) when it exceeds
/// [`MAX_REMAINING_LENGTH`].
pub fn write_remaining_length(len: usize, out: &mut Vec<u8>) -> Option<()> {
    if len > MAX_REMAINING_LENGTH {
        return None;
    }
    let mut left = len;
    loop {
        let digit = (left & 0x7f) as u8;
        left >>= 7;
        if left == 0 {
            out.push(digit);
            return Some(());
        }
        out.push(digit | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        write_remaining_length(len, &mut out).expect("in range");
        out
    }

    // MQTT 3.1.1 §2.2.3, Table 2.4: the boundaries of each varint length.
    #[test]
    fn remaining_length_boundaries_from_table_2_4() {
        for (len, bytes) in [
            (0, vec![0x00]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (16_383, vec![0xff, 0x7f]),
            (16_384, vec![0x80, 0x80, 0x01]),
            (2_097_151, vec![0xff, 0xff, 0x7f]),
            (2_097_152, vec![0x80, 0x80, 0x80, 0x01]),
            (MAX_REMAINING_LENGTH, vec![0xff, 0xff, 0xff, 0x7f]),
        ] {
            assert_eq!(encoded(len), bytes, "{len}");
            let mut frame = vec![0x30];
            frame.extend(&bytes);
            let header = read_frame_header(&frame).unwrap().unwrap();
            assert_eq!((header.header_len, header.body_len), (1 + bytes.len(), len));
        }
        assert_eq!(
            write_remaining_length(MAX_REMAINING_LENGTH + 1, &mut Vec::new()),
            None
        );
    }

    #[test]
    fn a_fifth_length_byte_is_refused_and_short_headers_ask_for_more() {
        assert_eq!(
            read_frame_header(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            Err(RemainingLengthTooLong)
        );
        assert_eq!(
            read_frame_header(&[0x30, 0xff, 0xff, 0xff, 0xff]),
            Err(RemainingLengthTooLong)
        );
        assert_eq!(read_frame_header(&[]), Ok(None));
        assert_eq!(read_frame_header(&[0x30, 0xff, 0xff]), Ok(None));
    }

    #[test]
    fn the_incremental_reader_agrees_with_the_whole_header_reader() {
        for len in [0, 1, 127, 128, 300, 16_384, 2_097_152, MAX_REMAINING_LENGTH] {
            let mut reader = RemainingLength::default();
            let mut result = None;
            for byte in encoded(len) {
                result = reader.push(byte).unwrap();
            }
            assert_eq!(result, Some(len));
        }
    }
}
