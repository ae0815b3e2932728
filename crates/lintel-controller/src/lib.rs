//! The Lintel door controller: it keeps its doors' rules from the server (`sync`), decides
//! cards and PIN codes at the door with the domain's engine, offline too (`door`), journals
//! every decision until the server has stored it (`disk`), keeps each door's state
//! (`state`), and drives the locks and reads the doors (`io`, `gpio`, `osdp`, and by hand
//! through the local interface in `local`).

pub mod card;
pub mod config;
pub mod disk;
pub mod door;
pub mod gpio;
pub mod io;
pub mod local;
pub mod osdp;
pub mod pair;
pub mod state;
pub mod sync;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;

/// Runs the controller until interrupted: the local interface, and the sync stream beside it.
pub async fn run(config: Config, token: String) -> anyhow::Result<()> {
    let disk = disk::Disk::open(&config.data_dir)?;
    let simulated = Arc::new(io::SimulatedRelays::default());
    // Every GPIO line is had now, or the controller does not start: the error names it.
    let (relays, inputs) = gpio::open(&config.doors, simulated.clone())?;
    let mut doors = door::Doors::open(disk, Arc::new(relays))?;
    doors.wire(gpio::sensors(&config.doors));
    let doors = Arc::new(doors);
    gpio::watch(inputs, &doors)?;
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
        servers: config.servers(),
        token,
        heartbeat: Duration::from_secs(config.heartbeat_secs),
        doors: doors.clone(),
    };
    tokio::spawn(sync.run());
    // Pulses end and alarms rise on time; doors held unlocked by a schedule follow it to the
    // second; offline too.
    let ticking = doors.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        for n in 0u64.. {
            tick.tick().await;
            ticking.tick();
            if n % 10 == 0 {
                ticking.hold_scheduled();
            }
        }
    });
    let wired = config
        .doors
        .iter()
        .map(|w| lintel_domain::DoorId(w.door))
        .collect();
    let local = local::Local {
        doors,
        relays: simulated,
        readers,
        wired,
    };
    tokio::select! {
        served = local::serve(listener, local) => served,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
