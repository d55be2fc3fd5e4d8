//! Packet identifiers: a set of them, and their allocation across publishes, subscribes and
//! unsubscribes, so that none is handed out twice while in use.

/// A set of packet identifiers as a bitset (8 KiB at most): cheaper than a tree, and no tree
/// code in the wasm binary.
#[derive(Debug, Default, Clone)]
pub(super) struct PidSet {
    words: Vec<u64>,
    len: usize,
}

impl PidSet {
    fn slot(pid: u16) -> (usize, u64) {
        (usize::from(pid / 64), 1u64 << (pid % 64))
    }

    #[cfg(test)]
    fn contains(&self, pid: u16) -> bool {
        let (word, bit) = Self::slot(pid);
        self.words.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Adds `pid`; false if it was already there.
    pub(super) fn insert(&mut self, pid: u16) -> bool {
        let (word, bit) = Self::slot(pid);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        let fresh = self.words[word] & bit == 0;
        self.words[word] |= bit;
        self.len += usize::from(fresh);
        fresh
    }

    /// Removes `pid`; false if it was not there.
    pub(super) fn remove(&mut self, pid: u16) -> bool {
        let (word, bit) = Self::slot(pid);
        if let Some(w) = self.words.get_mut(word) {
            if *w & bit != 0 {
                *w &= !bit;
                self.len -= 1;
                return true;
            }
        }
        false
    }

    /// The identifiers in the set, ascending.
    pub(super) fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.words.iter().enumerate().flat_map(|(word, bits)| {
            (0..64u16)
                .filter(move |bit| bits & (1u64 << bit) != 0)
                .map(move |bit| word as u16 * 64 + bit)
        })
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn clear(&mut self) {
        self.words.clear();
        self.len = 0;
    }
}

/// Packet identifiers in use (publishes, subscribes, unsubscribes), never handed out twice.
#[derive(Debug, Default)]
pub(super) struct PacketIds {
    next: u16,
    used: PidSet,
}

impl PacketIds {
    /// The next free identifier after the last one handed out, or `None` if all 65535 are used.
    #[must_use = "an allocated id is in use until released"]
    pub(super) fn allocate(&mut self) -> Option<u16> {
        if !self.has_free() {
            return None;
        }
        loop {
            self.next = self.next.checked_add(1).unwrap_or(1);
            if self.used.insert(self.next) {
                return Some(self.next);
            }
        }
    }

    /// Marks `pid` as used (restoring a persisted in-flight message). False if it already was.
    /// Marks `pid` as in use (a restored publish); false if it is 0 or already taken. New ids
    /// continue after the highest reserved one, so an id freed since (whose late duplicate ack
    /// may still be on the wire) is not handed out again before the others have been.
    pub(super) fn reserve(&mut self, pid: u16) -> bool {
        let fresh = pid != 0 && self.used.insert(pid);
        if fresh {
            self.next = self.next.max(pid);
        }
        fresh
    }

    pub(super) fn release(&mut self, pid: u16) {
        self.used.remove(pid);
    }

    /// Whether `allocate` would find an identifier.
    pub(super) fn has_free(&self) -> bool {
        self.used.len() < usize::from(u16::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn packet_ids_skip_those_in_use_and_wrap_past_zero() {
        let mut ids = PacketIds::default();
        assert_eq!(ids.allocate(), Some(1));
        assert!(ids.reserve(2));
        assert_eq!(ids.allocate(), Some(3));
        ids.next = u16::MAX - 1;
        assert_eq!(ids.allocate(), Some(u16::MAX));
        assert_eq!(ids.allocate(), Some(4)); // 1, 2, 3 still in use, 0 is never used
        ids.release(1);
        ids.next = u16::MAX;
        assert_eq!(ids.allocate(), Some(1));
        assert!(!ids.reserve(0));
    }

    #[test]
    fn the_pid_set_counts_and_forgets() {
        let mut set = PidSet::default();
        assert!(set.insert(65_535) && set.insert(1) && !set.insert(1));
        assert_eq!(set.len(), 2);
        assert!(set.contains(65_535) && !set.contains(2));
        set.remove(1);
        set.remove(1);
        assert_eq!(set.len(), 1);
        set.clear();
        assert!(!set.contains(65_535));
    }
}
