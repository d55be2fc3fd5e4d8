//! `mqttws`: MQTT 3.1.1 from the command line over `mqtt://`, `mqtts://`, `ws://` and `wss://`,
//! with the seed flows (Murano activation and console, Azure Sphere echo host and device).
//!
//! Every failure is one line on stderr (`mqttws: error: ...`) and a distinct exit status (see
//! `mqttws --help`).
#![forbid(unsafe_code)]

mod cli;
mod exit;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::Cli;
use exit::{CliError, Failure};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Failure::Usage.exit_code()
            } else {
                0
            });
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report(&CliError::new(
                Failure::Local,
                format!("cannot start the runtime: {e}"),
            ))
        }
    };
    match runtime.block_on(cli::run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

fn report(error: &CliError) -> ExitCode {
    let _ = writeln!(std::io::stderr().lock(), "mqttws: error: {}", error.message);
    ExitCode::from(error.failure.exit_code())
}
