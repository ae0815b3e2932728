//! `lintel-controller`: the program at the door. It syncs its doors' rules from a Lintel
//! server, decides cards and PIN codes there (offline too), journals every decision until
//! the server has stored it, and releases the locks. See the README's "Door controllers".
//! The work is in the library (`lib.rs`); this is its command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use lintel_controller::config::{Config, Flags};

/// The Lintel door controller: keeps its doors' rules from the server, decides cards and
/// PIN codes at the door (offline too), and hands every decision to the server exactly once.
/// Every flag can also be set in the config file or as LINTEL_CONTROLLER_<NAME>.
#[derive(Debug, Parser)]
#[command(name = "lintel-controller", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A TOML file with any of the settings below (flags and variables override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The Lintel server: http://HOST:PORT (the port of its HTTP API, which serves gRPC too).
    #[arg(long)]
    server: Option<String>,
    /// A file holding this controller's token (lct_…), as shown once when an admin made the
    /// controller. LINTEL_CONTROLLER_TOKEN may hold the token itself.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Where the rules and the journal of decisions are kept (created if missing; keep it on
    /// storage that survives power loss).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The local interface of the simulated reader and relays (loopback only unless you mean
    /// it: whoever reaches it can present any card). Lines: `card DOOR NUMBER [FC]`,
    /// `pin DOOR CODE`, `card+pin DOOR NUMBER FC|- CODE`, `proof DOOR`, `relays`, `status`.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Seconds between heartbeats to the server (1 to 60).
    #[arg(long)]
    heartbeat_secs: Option<u64>,
    /// What to log: info, debug, lintel_controller=debug, …
    #[arg(long)]
    log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enrol this controller with a pairing code an admin made for it (in the dashboard, or
    /// POST …/controllers/{id}/pairing-code; good for 15 minutes and once): the server
    /// answers its token, written to --token-file (readable by this user only). Then run
    /// lintel-controller with the same settings.
    Pair {
        /// The code, as shown (dashes, spaces and case do not matter).
        code: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let flags = Flags {
        server: cli.server,
        token_file: cli.token_file,
        data_dir: cli.data_dir,
        listen: cli.listen,
        heartbeat_secs: cli.heartbeat_secs,
        log_level: cli.log_level,
    };
    let config = Config::load(cli.config.as_deref(), &flags)?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .with_writer(std::io::stderr)
        .init();
    if let Some(Command::Pair { code }) = cli.command {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(lintel_controller::pair::pair(&config, &code));
    }
    let token = config.token()?;
    // One thread: a controller is a small box, and its work is small.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(lintel_controller::run(config, token))
}
