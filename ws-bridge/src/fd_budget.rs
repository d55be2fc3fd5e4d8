//! Open files, the first limit a busy bridge meets: each session holds two descriptors (the
//! browser's socket and the broker's), and the listener, the runtime and the log a few more. A
//! service started with the common soft limit of 1,024 would stop near 480 sessions with
//! `max_connections = 10000`, its new connections left waiting in the listen backlog. So at
//! start the soft limit is raised to the hard one (as nginx and HAProxy do), and a limit that
//! still allows fewer sessions than `max_connections` is logged with the figure.

/// Descriptors kept for the listener, the runtime, the log and files read at run time.
const RESERVE: u64 = 64;

/// Sessions an open-file limit of `nofile` holds.
pub fn sessions_for(nofile: u64) -> u64 {
    nofile.saturating_sub(RESERVE) / 2
}

/// Raises the soft open-file limit to the hard one; returns the sessions the new limit holds.
pub fn raise() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX).map(sessions_for)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_descriptors_a_session_after_the_reserve() {
        assert_eq!(sessions_for(1_024), 480);
        assert_eq!(sessions_for(20_000), 9_968);
        assert_eq!(sessions_for(10), 0);
    }
}
