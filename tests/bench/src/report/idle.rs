//! Section 3: idle sessions: memory, connect rate, and where one bridge stops.

use std::fmt::Write as _;

use crate::idle::IdleRun;

use super::cells::cell;
use super::Report;

/// The relay column of an idle row: how many processes shared the sessions.
pub(super) fn relay_label(run: &IdleRun) -> String {
    if run.relays > 1 {
        format!("{} ({} processes)", run.relay, run.relays)
    } else {
        run.relay.to_string()
    }
}

pub(super) fn idle_section(md: &mut String, report: &Report) {
    let _ = writeln!(
        md,
        "## 3. Idle sessions: memory, connect rate, and where it stops\n"
    );
    let _ = writeln!(
        md,
        "Real sessions held by separate processes: TCP from several loopback source addresses \
         (127.0.0.2, 127.0.0.3, ...: from one address the ephemeral ports run out near 28,000), \
         the WebSocket upgrade, an MQTT CONNECT relayed to mosquitto over the relay's TLS \
         connection and its CONNACK back; then each stays open, answering the relay's pings. \
         The bridge rows ran on their own mosquitto with one TLS listener per 12,500 sessions \
         (each listener is another destination for the bridge's upstream ports) and one route \
         to each. Memory: RSS of the relay before and with the sessions (for websockify, the \
         proportional set size of its process and the child it forks per connection, so \
         shared pages count once). A run with fewer sessions open than asked for is FAILED.\n"
    );
    if let Some(run) = report.idle.iter().find(|r| r.relay == "ws-bridge") {
        let ceiling = run
            .ceilings
            .iter()
            .find(|c| c.1.starts_with("open files of one relay"))
            .map_or("(not measured)".to_string(), |c| c.0.to_string());
        let spread = report
            .idle
            .iter()
            .find(|r| r.relay == "ws-bridge" && r.relays > 1);
        let _ = writeln!(
            md,
            "Every process ran with an open-file limit of {} (`RLIMIT_NOFILE`; the bench raises \
             it as far as it may: to `fs.nr_open` with CAP_SYS_RESOURCE, else to the hard limit, \
             which here it may not exceed). A bridge needs two descriptors per session, so one \
             bridge process holds at most {ceiling} sessions here{}.\n",
            run.nofile,
            match spread {
                Some(r) => format!(
                    "; the {} sessions therefore ran on {} bridge processes (a deployment raises \
                     `LimitNOFILE` in the systemd unit instead), and the one-bridge row shows one \
                     bridge near its limit",
                    r.requested, r.relays
                ),
                None => String::new(),
            }
        );
    }
    let _ = writeln!(
        md,
        "| relay | sessions asked | open when measured | connect time | sessions/s (peak 1 s) | RSS before | RSS with sessions | per session | |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for run in &report.idle {
        let (per, status) = match &run.failed {
            None => (
                format!("{:.1} KiB", run.per_session_kib()),
                "ok".to_string(),
            ),
            Some(why) => ("**FAILED**".into(), format!("**FAILED**: {}", cell(why))),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} s | {:.0} ({:.0}) | {} KiB | {} KiB | {per} | {status} |",
            relay_label(run),
            run.requested,
            run.alive,
            run.connect_time.as_secs_f64(),
            run.connect_rate(),
            run.peak_rate,
            run.relay_before_kib,
            run.relay_with_kib
        );
    }
    for run in report.idle.iter().filter(|r| r.relay == "ws-bridge") {
        let _ = writeln!(md, "\n{}", idle_summary(run));
    }
}

/// A scale run's other costs and its ceilings, as Markdown (also printed by `--only idle`).
pub(crate) fn idle_summary(run: &IdleRun) -> String {
    let mut md = String::new();
    let alive = run.alive.max(1) as f64;
    let _ = writeln!(
        md,
        "**{} idle sessions through {}** ({} source addresses; {} mosquitto process(es) with {} \
         TLS listeners in all; {} holding process(es); open-file limit {}): {} open, connected \
         in {:.1} s ({:.0} sessions/s, peak {:.0} in one second). {}",
        run.requested,
        relay_label(run),
        run.sources,
        run.brokers,
        run.listeners,
        run.holders,
        run.nofile,
        run.alive,
        run.connect_time.as_secs_f64(),
        run.connect_rate(),
        run.peak_rate,
        match &run.failed {
            None => "All open when measured.".to_string(),
            Some(why) => format!("**FAILED**: {}.", cell(why)),
        }
    );
    let _ = writeln!(
        md,
        "\n| per session | KiB |\n|---|---:|\n| bridge RSS | {:.1} |\n| mosquitto RSS | {:.1} |\n| the holding processes (client side) | {:.1} |\n| kernel TCP buffers (`/proc/net/sockstat`) | {:.1} |",
        run.per_session_kib(),
        run.broker_delta_kib as f64 / alive,
        run.holder_kib as f64 / alive,
        run.kernel_tcp_delta_kib as f64 / alive
    );
    let _ = writeln!(
        md,
        "\nBridge open files: {} before, {} with the sessions ({:.2} per session).",
        run.relay_fds.0,
        run.relay_fds.1,
        run.relay_fds.1.saturating_sub(run.relay_fds.0) as f64 / alive
    );
    if !run.ceilings.is_empty() {
        let _ = writeln!(
            md,
            "\nWhere one bridge stops on this machine, from these figures (first limit first):\n\n| sessions | limit |\n|---:|---|"
        );
        for (n, what) in &run.ceilings {
            let _ = writeln!(md, "| {n} | {} |", cell(what));
        }
    }
    if let Some(n) = run.conntrack {
        let _ = writeln!(
            md,
            "\nConnection tracking: {n} entries in `nf_conntrack` with the sessions open{}.",
            if n == 0 {
                " (loopback traffic is not tracked here: no limit from the conntrack table)"
            } else {
                ""
            }
        );
    }
    md
}
