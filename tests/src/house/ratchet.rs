//! An allow-list that only shrinks: what is found must be listed, and what is listed must
//! still be found.

/// The comparison of what a check found with its allow-list.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ratchet {
    /// Found and not listed: a new violation.
    pub new: Vec<String>,
    /// Listed and no longer found: the entry is stale and must go.
    pub stale: Vec<String>,
}

impl Ratchet {
    /// Compares the keys `found` with the keys `allowed`.
    pub fn compare<'a>(
        found: impl IntoIterator<Item = &'a str>,
        allowed: impl IntoIterator<Item = &'a str>,
    ) -> Ratchet {
        let found: Vec<&str> = found.into_iter().collect();
        let allowed: Vec<&str> = allowed.into_iter().collect();
        Ratchet {
            new: found
                .iter()
                .filter(|f| !allowed.contains(f))
                .map(ToString::to_string)
                .collect(),
            stale: allowed
                .iter()
                .filter(|a| !found.contains(a))
                .map(ToString::to_string)
                .collect(),
        }
    }

    /// Nothing new and nothing stale.
    pub fn holds(&self) -> bool {
        self.new.is_empty() && self.stale.is_empty()
    }
}
