//! The terminal side of a command: stdout lines, `--debug` lines on stderr, and what arrives
//! besides the broker (stdin lines, Ctrl-C, SIGTERM).

use std::fmt::Display;
use std::io::{BufRead, Write};

use tokio::sync::mpsc;

use crate::exit::{CliError, Failure};

/// Writes lines to stdout; a closed stdout is a local failure, never a panic.
pub(super) struct Out;

impl Out {
    pub(super) fn line(&self, text: impl Display) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}")
            .and_then(|()| stdout.flush())
            .map_err(|e| CliError::new(Failure::Local, format!("cannot write to stdout: {e}")))
    }

    pub(super) fn prompt(&self, text: &str) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        write!(stdout, "{text}")
            .and_then(|()| stdout.flush())
            .map_err(|e| CliError::new(Failure::Local, format!("cannot write to stdout: {e}")))
    }
}

pub(super) fn debug(enabled: bool, text: impl Display) {
    if enabled {
        let _ = writeln!(std::io::stderr().lock(), "mqttws: {text}");
    }
}

/// What arrives besides the broker: lines of stdin, its end, Ctrl-C or SIGTERM.
pub(super) enum Input {
    Line(String),
    Eof,
    Interrupt,
}

/// The sender is returned so the channel never closes while the command runs.
pub(super) fn inputs(
    read_stdin: bool,
) -> (mpsc::UnboundedSender<Input>, mpsc::UnboundedReceiver<Input>) {
    let (tx, rx) = mpsc::unbounded_channel();
    if read_stdin {
        let lines = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let line = line.strip_suffix('\r').map(str::to_string).unwrap_or(line);
                if lines.send(Input::Line(line)).is_err() {
                    return;
                }
            }
            let _ = lines.send(Input::Eof);
        });
    }
    let keep = tx.clone();
    let interrupt = tx.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = interrupt.send(Input::Interrupt);
        }
    });
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            if term.recv().await.is_some() {
                let _ = tx.send(Input::Interrupt);
            }
        }
    });
    (keep, rx)
}

pub(super) fn text(payload: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(payload)
}
