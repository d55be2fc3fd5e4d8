//! `mqttws echo-host`: the Azure Sphere echo host.

use clap::Args;
use mqtt_flows::rotate::Direction;
use mqtt_flows::{EchoHost, EchoHostConfig};

use super::connect::ConnectArgs;
use super::flow_loop::run_until_done;
use super::io::text;
use super::topics::{check_filter, check_topic, qos};
use crate::exit::CliError;

#[derive(Args, Debug)]
pub(crate) struct EchoArgs {
    #[command(flatten)]
    pub(super) link: ConnectArgs,
    /// Topic the device publishes on
    #[arg(
        long = "in",
        value_name = "TOPIC",
        default_value = "azuresphere/sample/host"
    )]
    in_topic: String,
    /// Topic the rotated message goes to
    #[arg(
        long = "out",
        value_name = "TOPIC",
        default_value = "azuresphere/sample/device"
    )]
    out_topic: String,
    /// Rotation: left ("hello" -> "elloh", as the seed says) or right (as its Python code does)
    #[arg(long, value_name = "left|right", default_value = "left")]
    rotate: Direction,
    /// Quality of service
    #[arg(short = 'q', long, value_name = "0|1|2", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    /// Exit after echoing COUNT messages
    #[arg(long, value_name = "COUNT")]
    count: Option<u64>,
}

pub(super) async fn echo_host(args: EchoArgs) -> Result<(), CliError> {
    check_filter(&args.in_topic)?;
    check_topic(&args.out_topic)?;
    let config = EchoHostConfig {
        in_topic: args.in_topic.clone(),
        out_topic: args.out_topic.clone(),
        direction: args.rotate,
        qos: qos(args.qos),
    };
    run_until_done(
        &args.link,
        &args.in_topic,
        EchoHost::new(config),
        args.count,
        "echo",
        |out, echo| {
            out.line(format_args!("received: {}", text(&echo.received)))?;
            out.line(format_args!("sent: {}", text(&echo.sent)))?;
            Ok(true)
        },
    )
    .await
}
