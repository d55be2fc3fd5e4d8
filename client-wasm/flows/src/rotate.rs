//! Rotating a message by one character, as the Azure Sphere echo host does.

/// Which way characters move. The seed's text says left ("hello" -> "elloh"); the sample's
/// Python host code rotates right ("hello" -> "ohell").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// The first character moves to the end ("hello" -> "elloh").
    #[default]
    Left,
    /// The last character moves to the front ("hello" -> "ohell").
    Right,
}

impl core::str::FromStr for Direction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "left" => Ok(Direction::Left),
            "right" => Ok(Direction::Right),
            other => Err(format!("rotation must be 'left' or 'right', not '{other}'")),
        }
    }
}

/// Rotates by one character. UTF-8 text rotates by characters, never splitting one; any other
/// payload rotates by bytes.
pub fn rotate(payload: &[u8], direction: Direction) -> Vec<u8> {
    let unit = match core::str::from_utf8(payload) {
        Ok(text) => match direction {
            Direction::Left => text.chars().next().map_or(0, char::len_utf8),
            Direction::Right => text.chars().next_back().map_or(0, char::len_utf8),
        },
        Err(_) => usize::from(!payload.is_empty()),
    };
    let split = match direction {
        Direction::Left => unit,
        Direction::Right => payload.len() - unit,
    };
    let (head, tail) = payload.split_at(split);
    [tail, head].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rotates_like_the_seed_and_like_the_sample_code() {
        assert_eq!(rotate(b"hello", Direction::Left), b"elloh");
        assert_eq!(rotate(b"hello", Direction::Right), b"ohell");
        assert_eq!(rotate(b"", Direction::Left), b"");
        assert_eq!(rotate(b"a", Direction::Right), b"a");
    }

    #[test]
    fn never_splits_a_character() {
        assert_eq!(
            rotate("héllo→".as_bytes(), Direction::Left),
            "éllo→h".as_bytes()
        );
        assert_eq!(
            rotate("héllo→".as_bytes(), Direction::Right),
            "→héllo".as_bytes()
        );
        assert_eq!(
            rotate("🦀ab".as_bytes(), Direction::Left),
            "ab🦀".as_bytes()
        );
        // Not UTF-8: rotated by bytes.
        assert_eq!(rotate(&[0xff, 1, 2], Direction::Left), [1, 2, 0xff]);
    }
}
