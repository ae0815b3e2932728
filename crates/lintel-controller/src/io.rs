//! The door hardware, behind traits: relays that release locks (simulated, or Linux GPIO
//! lines in `gpio.rs`); the readers are OSDP's (`osdp.rs`), and the local interface
//! (`local.rs`) stands in for readers, door contacts and exit buttons by hand.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use lintel_domain::DoorId;
use serde::Serialize;
use uuid::Uuid;

/// What releases a door's lock. The door's state (`state.rs`) decides when; a relay only
/// does as told.
pub trait Relays: Send + Sync {
    /// Releases `door`'s lock (`true`) or locks it (`false`).
    fn set(&self, door: DoorId, released: bool);
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
    doors: Mutex<HashMap<DoorId, (bool, u64)>>,
}

impl SimulatedRelays {
    pub fn states(&self) -> Vec<RelayState> {
        let doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        let mut states: Vec<RelayState> = doors
            .iter()
            .map(|(door, &(released, pulses))| RelayState {
                door: door.0,
                released,
                pulses,
            })
            .collect();
        states.sort_by_key(|s| s.door);
        states
    }
}

impl Relays for SimulatedRelays {
    fn set(&self, door: DoorId, released: bool) {
        let mut doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        let relay = doors.entry(door).or_default();
        if released && !relay.0 {
            relay.1 += 1;
        }
        relay.0 = released;
        tracing::info!(door = %door, released, "relay");
    }
}
