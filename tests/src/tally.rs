//! Counting message ids on each side of a delivery test: payloads `"<class> <n>"`, ids 1..=count
//! per class; a class whose name ends in '2' is QoS 2 and may not repeat an id.

use std::collections::BTreeMap;

/// Counts of each id per class ("q1", "q2", "feed1", "feed2") from payloads `"<class> <n>"`.
pub fn tally(payloads: &[String]) -> BTreeMap<String, BTreeMap<u32, u32>> {
    let mut t: BTreeMap<String, BTreeMap<u32, u32>> = BTreeMap::new();
    for p in payloads {
        let (class, n) = p.split_once(' ').unwrap_or((p.as_str(), ""));
        let n: u32 = n.trim().parse().unwrap_or(0);
        *t.entry(class.to_string())
            .or_default()
            .entry(n)
            .or_default() += 1;
    }
    t
}

/// What one side saw.
#[derive(Debug, Default)]
pub struct Figures {
    /// Messages seen, duplicates included.
    pub received: u64,
    /// Ids never seen.
    pub lost: u64,
    /// Extra copies in QoS 1 classes (MQTT-4.3.2 allows them).
    pub dup_qos1: u64,
    /// Extra copies in QoS 2 classes (must be 0, MQTT-4.3.3).
    pub dup_qos2: u64,
}

/// Checks `payloads` against ids 1..=count of each class: none missing, none unexpected, no
/// duplicate in a QoS 2 class (its name ends in '2'). Returns the figures.
pub fn check(side: &str, payloads: &[String], classes: &[(&str, u32)]) -> Figures {
    let t = tally(payloads);
    let mut f = Figures::default();
    let mut problems = Vec::new();
    for (class, count) in classes {
        let empty = BTreeMap::new();
        let ids = t.get(*class).unwrap_or(&empty);
        let missing: Vec<u32> = (1..=*count).filter(|n| !ids.contains_key(n)).collect();
        let unexpected: Vec<u32> = ids
            .keys()
            .copied()
            .filter(|n| *n == 0 || n > count)
            .collect();
        let dups: u64 = ids.values().map(|c| u64::from(c.saturating_sub(1))).sum();
        f.received += ids.values().map(|c| u64::from(*c)).sum::<u64>();
        f.lost += missing.len() as u64;
        if class.ends_with('2') {
            f.dup_qos2 += dups;
            if dups > 0 {
                let twice: Vec<u32> = ids
                    .iter()
                    .filter(|(_, c)| **c > 1)
                    .map(|(n, _)| *n)
                    .collect();
                problems.push(format!(
                    "{class}: delivered more than once (MQTT-4.3.3): {twice:?}"
                ));
            }
        } else {
            f.dup_qos1 += dups;
        }
        if !missing.is_empty() {
            problems.push(format!("{class}: lost {} ids: {missing:?}", missing.len()));
        }
        if !unexpected.is_empty() {
            problems.push(format!("{class}: unexpected ids {unexpected:?}"));
        }
    }
    let others: Vec<&String> = t
        .keys()
        .filter(|k| !classes.iter().any(|(c, _)| c == k))
        .collect();
    assert!(
        others.is_empty(),
        "{side}: unexpected payload classes {others:?}"
    );
    assert!(problems.is_empty(), "{side}:\n{}", problems.join("\n"));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn qos1_duplicates_are_counted_not_refused() {
        let f = check(
            "test",
            &payloads(&["q1 1", "q1 2", "q1 1", "q2 1", "q2 2"]),
            &[("q1", 2), ("q2", 2)],
        );
        assert_eq!((f.received, f.lost, f.dup_qos1, f.dup_qos2), (5, 0, 1, 0));
    }

    #[test]
    #[should_panic(expected = "delivered more than once")]
    fn a_qos2_duplicate_fails() {
        check("test", &payloads(&["q2 1", "q2 1"]), &[("q2", 1)]);
    }

    #[test]
    #[should_panic(expected = "lost 1 ids: [2]")]
    fn a_missing_id_fails() {
        check("test", &payloads(&["q1 1"]), &[("q1", 2)]);
    }
}
