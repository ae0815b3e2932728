//! The door hardware, behind traits: relays that release locks. The next step adds OSDP
//! readers and GPIO relays behind the same traits; today the relays are simulated, and cards
//! and codes come in through the local interface (`local.rs`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use lintel_domain::DoorId;
use serde::Serialize;
use uuid::Uuid;

/// What releases a door's lock.
pub trait Relays: Send + Sync {
    /// Releases `door`'s lock for `for_`, then locks it again (unless it is held).
    fn release(&self, door: DoorId, for_: Duration);

    /// Holds `door`'s lock released until told otherwise (`held` false locks it again).
    fn hold(&self, door: DoorId, held: bool);
}

/// A relay's state as the simulation shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelayState {
    pub door: Uuid,
    /// Released now: held, or within a release.
    pub released: bool,
    /// Held released (by an access's schedule).
    pub held: bool,
    /// How many times it was released since the controller started.
    pub pulses: u64,
}

/// Relays that only remember what they were told: for tests and demos.
#[derive(Default)]
pub struct SimulatedRelays {
    doors: Mutex<HashMap<DoorId, Relay>>,
}

struct Relay {
    pulses: u64,
    until: Instant,
    held: bool,
}

impl SimulatedRelays {
    pub fn states(&self) -> Vec<RelayState> {
        let doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let mut states: Vec<RelayState> = doors
            .iter()
            .map(|(door, relay)| RelayState {
                door: door.0,
                released: relay.held || relay.until > now,
                held: relay.held,
                pulses: relay.pulses,
            })
            .collect();
        states.sort_by_key(|s| s.door);
        states
    }

    fn with(&self, door: DoorId, change: impl FnOnce(&mut Relay)) {
        let mut doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        change(doors.entry(door).or_insert_with(|| Relay {
            pulses: 0,
            until: Instant::now(),
            held: false,
        }));
    }
}

impl Relays for SimulatedRelays {
    fn release(&self, door: DoorId, for_: Duration) {
        self.with(door, |relay| {
            relay.pulses += 1;
            relay.until = Instant::now() + for_;
        });
        tracing::info!(door = %door, secs = for_.as_secs(), "relay released");
    }

    fn hold(&self, door: DoorId, held: bool) {
        self.with(door, |relay| relay.held = held);
    }
}
