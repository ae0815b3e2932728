//! Configuration, as the server's: built-in defaults, then a TOML file (`--config`), then
//! `LINTEL_CONTROLLER_…` environment variables, then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The Lintel server the controller syncs with: `http://HOST:PORT` (its HTTP port, which
    /// also serves gRPC) or `https://…` behind a TLS proxy.
    pub server: String,
    /// The controller's token (`lct_…`). Prefer `token_file`: a variable or flag may be seen
    /// by other users of the machine.
    pub token: Option<String>,
    /// A file holding the token, readable by the controller's user only.
    pub token_file: Option<PathBuf>,
    /// Where the controller keeps its rules and its journal of events (created if missing).
    pub data_dir: PathBuf,
    /// The local interface of the simulated reader and relays (`card`, `pin`, `proof`,
    /// `relays`, `status` lines over TCP); loopback only unless you mean it.
    pub listen: SocketAddr,
    /// Seconds between heartbeats to the server.
    pub heartbeat_secs: u64,
    /// A tracing filter: `info`, `debug`, `lintel_controller=debug`, …
    pub log_level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: "http://127.0.0.1:8080".into(),
            token: None,
            token_file: None,
            data_dir: PathBuf::from("./lintel-controller-data"),
            listen: "127.0.0.1:7070".parse().expect("a valid address"),
            heartbeat_secs: 5,
            log_level: "info".into(),
        }
    }
}

const KEYS: [&str; 7] = [
    "server",
    "token",
    "token_file",
    "data_dir",
    "listen",
    "heartbeat_secs",
    "log_level",
];

/// Flags given on the command line, each overriding the rest.
#[derive(Debug, Default, Serialize)]
pub struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, flags: &Flags) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        let config: Config = figment
            .merge(Env::prefixed("LINTEL_CONTROLLER_").only(&KEYS))
            .merge(Serialized::defaults(flags))
            .extract()?;
        if config.heartbeat_secs == 0 || config.heartbeat_secs > 60 {
            anyhow::bail!("heartbeat_secs must be between 1 and 60");
        }
        Ok(config)
    }

    /// The token, from `token` or `token_file`.
    pub fn token(&self) -> anyhow::Result<String> {
        let token = match (&self.token, &self.token_file) {
            (Some(token), _) => token.clone(),
            (None, Some(file)) => std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read token_file {}: {e}", file.display()))?,
            (None, None) => anyhow::bail!(
                "no token: give --token-file (or LINTEL_CONTROLLER_TOKEN); an admin makes one \
                 with POST /api/v1/orgs/{{slug}}/controllers"
            ),
        };
        let token = token.trim().to_owned();
        if !token.starts_with(lintel_domain::controller::TOKEN_PREFIX) {
            anyhow::bail!("the token must start with lct_");
        }
        Ok(token)
    }
}
