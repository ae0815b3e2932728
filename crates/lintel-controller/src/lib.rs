//! The Lintel door controller: it keeps its doors' rules from the server (`sync`), decides
//! cards and PIN codes at the door with the domain's engine, offline too (`door`), journals
//! every decision until the server has stored it (`disk`), and drives the locks (`io`, with
//! simulated relays and the local interface in `local`).

pub mod card;
pub mod config;
pub mod disk;
pub mod door;
pub mod io;
pub mod local;
pub mod osdp;
pub mod sync;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;

/// Runs the controller until interrupted: the local interface, and the sync stream beside it.
pub async fn run(config: Config, token: String) -> anyhow::Result<()> {
    let disk = disk::Disk::open(&config.data_dir)?;
    let relays = Arc::new(io::SimulatedRelays::default());
    let doors = Arc::new(door::Doors::open(disk, relays.clone())?);
    // Every bus's port opens now, or the controller does not start: the error names it.
    let readers = osdp::Readers::start(&config.osdp, doors.clone())?;
    let (version, _) = doors.held();
    tracing::info!(
        data_dir = %config.data_dir.display(),
        rules_version = version,
        events_waiting = doors.waiting_count(),
        "lintel-controller starting"
    );
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    println!(
        "lintel-controller: local interface on {} (syncing with {})",
        listener.local_addr()?,
        config.server
    );
    let sync = sync::Sync {
        server: config.server.clone(),
        token,
        heartbeat: Duration::from_secs(config.heartbeat_secs),
        doors: doors.clone(),
    };
    tokio::spawn(sync.run());
    // Doors held unlocked by a schedule follow it to the second, offline too.
    let holder = doors.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            holder.hold_scheduled();
        }
    });
    let local = local::Local {
        doors,
        relays,
        readers,
    };
    tokio::select! {
        served = local::serve(listener, local) => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
