//! Configuration, as the server's: built-in defaults, then a TOML file (`--config`), then
//! `LINTEL_CONTROLLER_…` environment variables, then command-line flags.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::gpio::DoorWiring;
use crate::osdp::{BAUD_RATES, BusConfig};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The Lintel server the controller syncs with: `http://HOST:PORT` (its HTTP port, which
    /// also serves gRPC) or `https://…` behind a TLS proxy. Several nodes of one Lintel,
    /// separated by commas, are tried in turn: when one fails, the next.
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
    /// OSDP buses and their readers (`[[osdp]]` tables, each with `[[osdp.readers]]`; in
    /// the file only).
    pub osdp: Vec<BusConfig>,
    /// Doors wired to GPIO lines: relay, door contact, exit button (`[[doors]]` tables; in
    /// the file only). Doors not listed have simulated relays.
    pub doors: Vec<DoorWiring>,
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
            osdp: Vec::new(),
            doors: Vec::new(),
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
        for server in config.servers() {
            if !(server.starts_with("http://") || server.starts_with("https://")) {
                anyhow::bail!("server: {server:?} is not an http:// or https:// address");
            }
        }
        if config.servers().is_empty() {
            anyhow::bail!("server: give the address of the Lintel server");
        }
        config.check_wiring()?;
        crate::gpio::check(&config.doors)?;
        Ok(config)
    }

    /// The servers of `server`, in the order given.
    pub fn servers(&self) -> Vec<String> {
        self.server
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The buses and readers make sense together: an error names the setting that does not.
    fn check_wiring(&self) -> anyhow::Result<()> {
        let mut names = HashSet::new();
        let mut ports = HashSet::new();
        for (i, bus) in self.osdp.iter().enumerate() {
            if !ports.insert(&bus.port) {
                anyhow::bail!("osdp[{i}].port: {} is the port of another bus", bus.port);
            }
            if !BAUD_RATES.contains(&bus.baud) {
                anyhow::bail!("osdp[{i}].baud: {} is not one of {BAUD_RATES:?}", bus.baud);
            }
            if bus.readers.is_empty() {
                anyhow::bail!("osdp[{i}].readers: a bus needs at least one reader");
            }
            let mut addresses = HashSet::new();
            for (j, reader) in bus.readers.iter().enumerate() {
                let at = format!("osdp[{i}].readers[{j}]");
                if reader.address > 126 {
                    anyhow::bail!("{at}.address: {} is past 126", reader.address);
                }
                if !addresses.insert(reader.address) {
                    anyhow::bail!(
                        "{at}.address: another reader on {} has address {}",
                        bus.port,
                        reader.address
                    );
                }
                if reader.name.trim().is_empty() || reader.name.contains(char::is_whitespace) {
                    anyhow::bail!("{at}.name: a name without spaces, such as lobby-in");
                }
                if !names.insert(&reader.name) {
                    anyhow::bail!("{at}.name: another reader is named {}", reader.name);
                }
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("controller.toml");
        std::fs::write(&file, toml).unwrap();
        Config::load(Some(&file), &Flags::default())
    }

    const DOOR: &str = "0190a4c2-0000-7000-8000-000000000001";

    fn bus(port: &str, baud: u32, readers: &[(&str, u8)]) -> String {
        let mut text = format!("[[osdp]]\nport = \"{port}\"\nbaud = {baud}\n");
        for (name, address) in readers {
            text.push_str(&format!(
                "[[osdp.readers]]\nname = \"{name}\"\naddress = {address}\ndoor = \"{DOOR}\"\n"
            ));
        }
        text
    }

    #[test]
    fn the_example_configuration_reads() {
        let example = include_str!("../../../deploy/controller.example.toml");
        let config = load(example).unwrap();
        assert_eq!(config.osdp[0].readers.len(), 2);
        assert_eq!(config.doors[0].relay, Some(17));
    }

    #[test]
    fn several_servers_are_tried_in_the_order_given() {
        let config =
            load("server = \"http://10.0.0.1:8080, https://lintel.example.com\"\n").unwrap();
        assert_eq!(
            config.servers(),
            ["http://10.0.0.1:8080", "https://lintel.example.com"]
        );
        let refused = load("server = \"http://a:8080,b:8080\"\n").unwrap_err();
        assert!(
            refused.to_string().starts_with("server: \"b:8080\""),
            "{refused}"
        );
        assert!(load("server = \" , \"\n").is_err());
    }

    #[test]
    fn wiring_that_cannot_be_is_refused_naming_the_setting() {
        let good = load(&bus(
            "/dev/ttyUSB0",
            9600,
            &[("lobby-in", 1), ("lobby-out", 2)],
        ))
        .unwrap();
        let readers = &good.osdp[0].readers;
        assert_eq!(readers[1].direction, crate::osdp::Side::In);
        assert!(readers[0].keypad);
        let refused = |toml: String| load(&toml).unwrap_err().to_string();
        assert!(
            refused(bus("/dev/ttyUSB0", 9600, &[("a", 1), ("b", 1)]))
                .starts_with("osdp[0].readers[1].address")
        );
        assert!(refused(bus("/dev/ttyUSB0", 9601, &[("a", 1)])).starts_with("osdp[0].baud"));
        assert!(refused(bus("/dev/ttyUSB0", 9600, &[("a", 127)])).contains(".address"));
        let two_buses =
            bus("/dev/ttyUSB0", 9600, &[("a", 1)]) + &bus("/dev/ttyUSB0", 9600, &[("b", 1)]);
        assert!(refused(two_buses).starts_with("osdp[1].port"));
        let same_name =
            bus("/dev/ttyUSB0", 9600, &[("a", 1)]) + &bus("/dev/ttyUSB1", 9600, &[("a", 1)]);
        assert!(refused(same_name).starts_with("osdp[1].readers[0].name"));
        assert!(refused(bus("/dev/ttyUSB0", 9600, &[("lobby in", 1)])).contains(".name"));
        assert!(refused(bus("/dev/ttyUSB0", 9600, &[])).starts_with("osdp[0].readers"));
        // An unknown setting is refused too, by its name.
        let typo = bus("/dev/ttyUSB0", 9600, &[("a", 1)]) + "formatt = \"raw\"\n";
        assert!(refused(typo).contains("formatt"));
    }
}
