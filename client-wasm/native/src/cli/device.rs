//! `mqttws device`: the Azure Sphere device loop.

use std::time::Duration;

use clap::Args;
use mqtt_flows::{Device, DeviceConfig, DeviceOutput};

use super::connect::ConnectArgs;
use super::flow_loop::run_until_done;
use super::io::text;
use super::topics::{check_filter, check_topic, qos};
use crate::exit::{CliError, Failure};

#[derive(Args, Debug)]
pub(crate) struct DeviceArgs {
    #[command(flatten)]
    pub(super) link: ConnectArgs,
    /// Topic the echo host answers on
    #[arg(
        long = "in",
        value_name = "TOPIC",
        default_value = "azuresphere/sample/device"
    )]
    in_topic: String,
    /// Topic the device publishes on
    #[arg(
        long = "out",
        value_name = "TOPIC",
        default_value = "azuresphere/sample/host"
    )]
    out_topic: String,
    /// Milliseconds between publishes
    #[arg(long, value_name = "N", default_value_t = 1000)]
    interval_ms: u64,
    /// The first message
    #[arg(long, value_name = "TEXT", default_value = "Hello from Azure Sphere")]
    message: String,
    /// Exit after COUNT messages came back
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Quality of service
    #[arg(short = 'q', long, value_name = "0|1|2", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
}

pub(super) async fn device(args: DeviceArgs) -> Result<(), CliError> {
    check_filter(&args.in_topic)?;
    check_topic(&args.out_topic)?;
    if args.interval_ms == 0 {
        return Err(CliError::new(
            Failure::Usage,
            "--interval-ms must be at least 1",
        ));
    }
    let config = DeviceConfig {
        in_topic: args.in_topic.clone(),
        out_topic: args.out_topic.clone(),
        interval: Duration::from_millis(args.interval_ms),
        message: args.message.clone(),
        qos: qos(args.qos),
    };
    run_until_done(
        &args.link,
        &args.in_topic,
        Device::new(config),
        args.count,
        "publish",
        |out, output| {
            match output {
                DeviceOutput::Sent(payload) => {
                    out.line(format_args!("sent: {}", text(&payload)))?;
                }
                DeviceOutput::Received(payload) => {
                    out.line(format_args!("received: {}", text(&payload)))?;
                    return Ok(true);
                }
            }
            Ok(false)
        },
    )
    .await
}
