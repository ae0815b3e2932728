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
    /// Releases `door`'s lock for `for_`, then locks it again.
    fn release(&self, door: DoorId, for_: Duration);
}

/// A relay's state as the simulation shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelayState {
    pub door: Uuid,
    /// Released now.
    pub released: bool,
    /// How many times it was released since the controller started.
    pub pulses: u64,
}

/// Relays that only remember what they were told: for tests and demos.
#[derive(Default)]
pub struct SimulatedRelays {
    doors: Mutex<HashMap<DoorId, (u64, Instant)>>,
}

impl SimulatedRelays {
    pub fn states(&self) -> Vec<RelayState> {
        let doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let mut states: Vec<RelayState> = doors
            .iter()
            .map(|(door, (pulses, until))| RelayState {
                door: door.0,
                released: *until > now,
                pulses: *pulses,
            })
            .collect();
        states.sort_by_key(|s| s.door);
        states
    }
}

impl Relays for SimulatedRelays {
    fn release(&self, door: DoorId, for_: Duration) {
        let mut doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = doors.entry(door).or_insert((0, Instant::now()));
        entry.0 += 1;
        entry.1 = Instant::now() + for_;
        tracing::info!(door = %door, secs = for_.as_secs(), "relay released");
    }
}
