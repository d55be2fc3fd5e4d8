//! CPU time of a process and the children it forked, from `/proc`: the figure per relayed
//! message that holds still on a shared machine, where messages per second do not.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|t| *t > 0)
            .unwrap_or(100)
    })
}

/// `/proc/<pid>/stat` fields after the command name (which may hold spaces and parentheses).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// utime + stime of one process (all its threads), in ticks. Fields 14 and 15 of `stat`, i.e.
/// 12 and 13 after the command name.
fn own_ticks(pid: u32) -> Option<u64> {
    let f = stat_fields(pid)?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Direct children of `pid` (websockify forks one per connection), from every process's
/// parent id. (`/proc/<pid>/task/<tid>/children` is cheaper but skips entries while children
/// start or exit, as a previous run's websockify children do: it read 0 µs/msg at times.)
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            stat_fields(*child)
                .and_then(|f| f.get(1)?.parse::<u32>().ok())
                .is_some_and(|ppid| ppid == pid)
        })
        .collect()
}

/// CPU ticks used so far by `pid` and by each of its live direct children, per process.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sample(BTreeMap<u32, u64>);

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} processes, {} ticks",
            self.0.len(),
            self.0.values().sum::<u64>()
        )
    }
}

/// Samples `pid` and its children; `None` when the process is gone.
pub(crate) fn tree_cpu(pid: u32) -> Option<Sample> {
    let mut ticks = BTreeMap::new();
    ticks.insert(pid, own_ticks(pid)?);
    for child in children(pid) {
        if let Some(t) = own_ticks(child) {
            ticks.insert(child, t);
        }
    }
    Some(Sample(ticks))
}

/// CPU time spent between two samples. Per process: a process in both adds its difference; one
/// that started after `before` adds all of its time; one that exited in between (a previous
/// run's websockify child closing) is left out, as its last figures are gone with it.
pub(crate) fn spent(before: &Sample, after: &Sample) -> Duration {
    let ticks: u64 = after
        .0
        .iter()
        .map(|(pid, t)| t.saturating_sub(before.0.get(pid).copied().unwrap_or(0)))
        .sum();
    Duration::from_secs_f64(ticks as f64 / ticks_per_second() as f64)
}

/// Microseconds of CPU per message between two samples; `None` when either is missing or no
/// message was counted.
pub(crate) fn per_message_us(
    before: Option<&Sample>,
    after: Option<&Sample>,
    messages: u64,
) -> Option<f64> {
    let spent = spent(before?, after?);
    (messages > 0).then(|| spent.as_secs_f64() * 1e6 / messages as f64)
}

/// Resolution of one sample, for the report (10 ms with the usual 100 ticks per second).
pub(crate) fn tick() -> Duration {
    Duration::from_secs_f64(1.0 / ticks_per_second() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_cpu_grows_with_work() {
        let me = std::process::id();
        let before = tree_cpu(me).expect("own stat");
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(200) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = tree_cpu(me).expect("own stat");
        assert!(
            spent(&before, &after) > Duration::ZERO,
            "{before:?} -> {after:?}"
        );
        assert!(per_message_us(Some(&before), Some(&after), 0).is_none());
        assert!(per_message_us(Some(&before), Some(&after), 10).is_some_and(|us| us > 0.0));
    }

    #[test]
    fn an_exited_child_does_not_count_against_the_run() {
        let before = Sample(BTreeMap::from([(1, 100), (2, 50)]));
        let after = Sample(BTreeMap::from([(1, 130), (3, 20)]));
        let expected = 50.0 / ticks_per_second() as f64;
        assert!((spent(&before, &after).as_secs_f64() - expected).abs() < 1e-9);
    }
}
