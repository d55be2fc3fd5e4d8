//! `ws-bridge token`: mints an admission token for a route of a configuration file, with the
//! route's current key (see `ws_bridge::admission`). The token goes to stdout, alone on its
//! line; nothing else is printed there.

use std::path::PathBuf;
use std::process::ExitCode;

use ws_bridge::admission::{self, Claims};
use ws_bridge::Config;

/// Mint an admission token for a route (printed on stdout).
#[derive(clap::Args, Debug)]
pub(crate) struct TokenArgs {
    /// The bridge's TOML configuration (the route's keys are read from it).
    #[arg(long)]
    config: PathBuf,
    /// The route the token opens.
    #[arg(long)]
    route: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
    /// Bind the token to this MQTT client id: the session's CONNECT must carry it.
    #[arg(long)]
    client_id: Option<String>,
}

/// Runs the command: exit 0 with the token on stdout, 2 with a reason on stderr.
pub(crate) fn run(args: &TokenArgs) -> ExitCode {
    match mint(args) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ws-bridge token: {e}");
            ExitCode::from(2)
        }
    }
}

fn mint(args: &TokenArgs) -> Result<String, String> {
    if args.ttl == 0 {
        return Err("--ttl must be at least 1 second".into());
    }
    let config = Config::load(&args.config).map_err(|e| e.to_string())?;
    if !config.routes.contains_key(&args.route) {
        return Err(format!(
            "route {:?} is not in {}",
            args.route,
            args.config.display()
        ));
    }
    let keys = admission::route_keys(&config, &args.route)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "route {:?} has no admission table: it needs no token",
                args.route
            )
        })?;
    let expires_at = admission::unix_now()
        .checked_add(args.ttl)
        .ok_or("--ttl is too large")?;
    keys.mint(&Claims {
        route: args.route.clone(),
        expires_at,
        client_id: args.client_id.clone(),
    })
    .map_err(|e| e.to_string())
}
