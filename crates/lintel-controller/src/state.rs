//! The door's states on the controller, from what it drives and what it senses:
//!
//! - **locked**, or **unlocked**: released for a pulse (a grant, a remote open, a
//!   request to exit) or held by an access's schedule;
//! - **open**: the door contact says the door stands open, after it was unlocked;
//! - **forced_open**: the contact opened while the door was locked (no grant, no exit
//!   request): an alarm until it closes;
//! - **held_open**: open longer than the door's `held_open_secs`: an alarm until it closes.
//!
//! Closing the door ends a pulse at once (relocking behind the person, so nobody follows on
//! the same grant); a door held by a schedule stays unlocked. Every change of state is a
//! `Change` the caller journals as an event, with why it happened. Times are the
//! controller's clock, so the tests drive them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use lintel_domain::DoorId;
use serde::{Deserialize, Serialize};

use crate::io::Relays;

/// A door's state as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Locked,
    Unlocked,
    Open,
    HeldOpen,
    ForcedOpen,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Locked => "locked",
            State::Unlocked => "unlocked",
            State::Open => "open",
            State::HeldOpen => "held_open",
            State::ForcedOpen => "forced_open",
        }
    }
}

/// Why a door's state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A granted decision, or a remote open the server decided.
    Granted,
    /// An access's schedule began or stopped holding it unlocked.
    Schedule,
    /// The request-to-exit button (or sensor), which needs no credential.
    Exit,
    /// The door contact opened.
    Opened,
    /// The door contact closed.
    Closed,
    /// The unlock time ran out.
    Timeout,
    /// Open longer than the door allows.
    HeldTooLong,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Granted => "granted",
            Cause::Schedule => "schedule",
            Cause::Exit => "exit",
            Cause::Opened => "opened",
            Cause::Closed => "closed",
            Cause::Timeout => "timeout",
            Cause::HeldTooLong => "held_too_long",
        }
    }
}

/// A door's state changed (or an exit was requested), to be journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub door: DoorId,
    pub state: State,
    pub cause: Cause,
    pub at: DateTime<Utc>,
}

/// How long a door may stand open before it is held open, unless its wiring says.
pub const HELD_OPEN_AFTER: Duration = Duration::seconds(30);

/// A door as it is now.
#[derive(Debug, Clone, Serialize)]
pub struct DoorView {
    pub door: uuid::Uuid,
    pub state: State,
    /// Held unlocked by an access's schedule.
    pub held: bool,
    /// Released now (held, or within a pulse).
    pub released: bool,
    /// How many times it was unlocked (granted, or exit) since the controller started; one
    /// within another's unlock time lengthens it rather than pulsing the relay again.
    pub unlocks: u64,
}

struct Door {
    pulse_until: Option<DateTime<Utc>>,
    held: bool,
    open: bool,
    opened_at: Option<DateTime<Utc>>,
    alarm: Option<State>,
    /// The relay as last set.
    relay: bool,
    /// The state as last reported.
    reported: State,
    unlocks: u64,
}

impl Door {
    fn new() -> Door {
        Door {
            pulse_until: None,
            held: false,
            open: false,
            opened_at: None,
            alarm: None,
            relay: false,
            reported: State::Locked,
            unlocks: 0,
        }
    }

    fn released(&self, now: DateTime<Utc>) -> bool {
        self.held || self.pulse_until.is_some_and(|until| until > now)
    }

    fn state(&self, now: DateTime<Utc>) -> State {
        match self.alarm {
            Some(alarm) => alarm,
            None if self.open => State::Open,
            None if self.released(now) => State::Unlocked,
            None => State::Locked,
        }
    }
}

/// What each door's wiring says of its sensors.
#[derive(Debug, Clone, Copy)]
pub struct Sensors {
    /// How long the door may stand open before it is held open.
    pub held_open_after: Duration,
}

impl Default for Sensors {
    fn default() -> Self {
        Sensors {
            held_open_after: HELD_OPEN_AFTER,
        }
    }
}

/// Every door's state, and the relays it drives.
pub struct DoorStates {
    relays: Arc<dyn Relays>,
    sensors: HashMap<DoorId, Sensors>,
    doors: Mutex<HashMap<DoorId, Door>>,
}

impl DoorStates {
    pub fn new(relays: Arc<dyn Relays>, sensors: HashMap<DoorId, Sensors>) -> DoorStates {
        DoorStates {
            relays,
            sensors,
            doors: Mutex::default(),
        }
    }

    /// Says how long each wired door may stand open.
    pub fn wire(&mut self, sensors: HashMap<DoorId, Sensors>) {
        self.sensors = sensors;
    }

    fn sensors(&self, door: DoorId) -> Sensors {
        self.sensors.get(&door).copied().unwrap_or_default()
    }

    /// Changes `door` with `change`, then sets its relay and reports its state if either
    /// changed.
    fn with(
        &self,
        door: DoorId,
        now: DateTime<Utc>,
        cause: Cause,
        change: impl FnOnce(&mut Door),
    ) -> Vec<Change> {
        let mut doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        let d = doors.entry(door).or_insert_with(Door::new);
        change(d);
        let mut changes = Vec::new();
        self.settle(door, d, now, cause, &mut changes);
        changes
    }

    fn settle(
        &self,
        door: DoorId,
        d: &mut Door,
        now: DateTime<Utc>,
        cause: Cause,
        changes: &mut Vec<Change>,
    ) {
        let released = d.released(now);
        if released != d.relay {
            self.relays.set(door, released);
            d.relay = released;
        }
        let state = d.state(now);
        if state != d.reported {
            d.reported = state;
            changes.push(Change {
                door,
                state,
                cause,
                at: now,
            });
        }
    }

    /// Releases `door` for `for_` (from now; a longer pulse already running stays).
    pub fn unlock(
        &self,
        door: DoorId,
        for_: std::time::Duration,
        cause: Cause,
        now: DateTime<Utc>,
    ) -> Vec<Change> {
        let until = now + Duration::from_std(for_).unwrap_or(Duration::zero());
        let mut changes = self.with(door, now, cause, |d| {
            d.pulse_until = d.pulse_until.max(Some(until));
            d.unlocks += 1;
        });
        if cause == Cause::Exit && changes.is_empty() {
            // Already unlocked: the request to exit is on record all the same.
            let state = self.view(door, now).state;
            changes.push(Change {
                door,
                state,
                cause,
                at: now,
            });
        }
        changes
    }

    /// Holds `door` unlocked (an access's schedule), or stops holding it.
    pub fn hold(&self, door: DoorId, held: bool, now: DateTime<Utc>) -> Vec<Change> {
        self.with(door, now, Cause::Schedule, |d| d.held = held)
    }

    /// The door contact opened or closed. Opening while locked is forced; closing clears
    /// the alarms and ends a pulse.
    pub fn contact(&self, door: DoorId, open: bool, now: DateTime<Utc>) -> Vec<Change> {
        let cause = if open { Cause::Opened } else { Cause::Closed };
        self.with(door, now, cause, |d| {
            if d.open == open {
                return;
            }
            d.open = open;
            if open {
                d.opened_at = Some(now);
                if !d.released(now) {
                    d.alarm = Some(State::ForcedOpen);
                }
            } else {
                d.opened_at = None;
                d.alarm = None;
                d.pulse_until = None;
            }
        })
    }

    /// Ends pulses that ran out and raises the held-open alarm: called often (every 100 ms).
    pub fn tick(&self, now: DateTime<Utc>) -> Vec<Change> {
        let mut doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        let mut changes = Vec::new();
        for (&door, d) in doors.iter_mut() {
            let too_long = self.sensors(door).held_open_after;
            let cause = if d.alarm.is_none() && d.opened_at.is_some_and(|at| now - at > too_long) {
                d.alarm = Some(State::HeldOpen);
                Cause::HeldTooLong
            } else {
                Cause::Timeout
            };
            self.settle(door, d, now, cause, &mut changes);
        }
        changes
    }

    pub fn view(&self, door: DoorId, now: DateTime<Utc>) -> DoorView {
        let doors = self.doors.lock().unwrap_or_else(PoisonError::into_inner);
        match doors.get(&door) {
            Some(d) => DoorView {
                door: door.0,
                state: d.state(now),
                held: d.held,
                released: d.released(now),
                unlocks: d.unlocks,
            },
            None => DoorView {
                door: door.0,
                state: State::Locked,
                held: false,
                released: false,
                unlocks: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::SimulatedRelays;

    fn states() -> (DoorStates, Arc<SimulatedRelays>, DoorId, DateTime<Utc>) {
        let relays = Arc::new(SimulatedRelays::default());
        let door = DoorId(uuid::Uuid::from_u128(1));
        let sensors = HashMap::from([(
            door,
            Sensors {
                held_open_after: Duration::seconds(20),
            },
        )]);
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        (DoorStates::new(relays.clone(), sensors), relays, door, now)
    }

    fn seen(changes: &[Change]) -> Vec<(State, Cause)> {
        changes.iter().map(|c| (c.state, c.cause)).collect()
    }

    const FIVE: std::time::Duration = std::time::Duration::from_secs(5);

    #[test]
    fn a_grant_unlocks_the_door_opens_closes_and_locks_behind() {
        let (states, relays, door, t) = states();
        assert_eq!(
            seen(&states.unlock(door, FIVE, Cause::Granted, t)),
            [(State::Unlocked, Cause::Granted)]
        );
        assert!(relays.states()[0].released);
        assert_eq!(
            seen(&states.contact(door, true, t + Duration::seconds(1))),
            [(State::Open, Cause::Opened)]
        );
        // The pulse ends while the door is open: the relay locks, the door stays open.
        assert!(states.tick(t + Duration::seconds(6)).is_empty());
        assert!(!relays.states()[0].released);
        assert_eq!(
            seen(&states.contact(door, false, t + Duration::seconds(8))),
            [(State::Locked, Cause::Closed)]
        );
        // Closed within the pulse: locked behind at once.
        states.unlock(door, FIVE, Cause::Granted, t + Duration::seconds(10));
        states.contact(door, true, t + Duration::seconds(11));
        let closed = states.contact(door, false, t + Duration::seconds(12));
        assert_eq!(seen(&closed), [(State::Locked, Cause::Closed)]);
        assert!(!relays.states()[0].released);
        assert_eq!(relays.states()[0].pulses, 2);
    }

    #[test]
    fn a_door_opened_while_locked_is_forced_one_left_open_is_held_open() {
        let (states, _, door, t) = states();
        assert_eq!(
            seen(&states.contact(door, true, t)),
            [(State::ForcedOpen, Cause::Opened)]
        );
        // A grant now does not clear the alarm: only closing does.
        states.unlock(door, FIVE, Cause::Granted, t + Duration::seconds(1));
        assert_eq!(states.view(door, t).state, State::ForcedOpen);
        states.contact(door, false, t + Duration::seconds(2));
        states.tick(t + Duration::seconds(10));

        states.unlock(door, FIVE, Cause::Exit, t + Duration::seconds(20));
        states.contact(door, true, t + Duration::seconds(21));
        assert!(states.tick(t + Duration::seconds(40)).is_empty());
        assert_eq!(
            seen(&states.tick(t + Duration::seconds(42))),
            [(State::HeldOpen, Cause::HeldTooLong)]
        );
        assert_eq!(
            seen(&states.contact(door, false, t + Duration::seconds(50))),
            [(State::Locked, Cause::Closed)]
        );
    }

    #[test]
    fn a_schedule_holds_the_door_through_openings_and_exits_are_always_recorded() {
        let (states, relays, door, t) = states();
        assert_eq!(
            seen(&states.hold(door, true, t)),
            [(State::Unlocked, Cause::Schedule)]
        );
        states.contact(door, true, t + Duration::seconds(1));
        assert_eq!(
            seen(&states.contact(door, false, t + Duration::seconds(2))),
            [(State::Unlocked, Cause::Closed)]
        );
        assert!(relays.states()[0].released);
        // An exit while unlocked changes nothing but is recorded.
        let exit = states.unlock(door, FIVE, Cause::Exit, t + Duration::seconds(3));
        assert_eq!(seen(&exit), [(State::Unlocked, Cause::Exit)]);
        assert_eq!(
            seen(&states.hold(door, false, t + Duration::seconds(4))),
            [] as [(State, Cause); 0]
        );
        assert_eq!(
            seen(&states.tick(t + Duration::seconds(9))),
            [(State::Locked, Cause::Timeout)]
        );
    }
}
