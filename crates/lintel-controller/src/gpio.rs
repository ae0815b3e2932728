//! Doors wired to Linux GPIO lines through the character device (`gpiocdev`, the kernel's
//! uAPI; not the deprecated sysfs): the lock's relay an output, the door contact and the
//! request-to-exit button inputs, debounced by the kernel, each watched by a thread of its
//! own that tells the door's state (`Doors::contact`, `Doors::exit`). Doors without wiring
//! keep simulated relays.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gpiocdev::Request;
use gpiocdev::line::{EdgeDetection, EdgeKind, Value};
use lintel_domain::DoorId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::door::Doors;
use crate::io::{Relays, SimulatedRelays};
use crate::state::Sensors;

/// A line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    High,
    Low,
}

/// What a door is wired to (`[[doors]]` in the configuration file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorWiring {
    /// The door (its id in Lintel).
    pub door: Uuid,
    /// The GPIO chip of its lines: `/dev/gpiochip0` unless said.
    #[serde(default = "default_chip")]
    pub chip: PathBuf,
    /// The line (its offset on the chip) driving the lock's relay.
    pub relay: Option<u32>,
    /// The level that releases the lock: `high` (the default) or `low`.
    #[serde(default = "high")]
    pub relay_releases: Level,
    /// The door contact's line, if the door has one.
    pub contact: Option<u32>,
    /// The level the contact reads while the door is open: `high` (the default: a contact
    /// closed to ground with a pull-up) or `low`.
    #[serde(default = "high")]
    pub contact_open: Level,
    /// The request-to-exit button's line, if the door has one.
    pub exit: Option<u32>,
    /// The level the button reads while pressed: `low` (the default) or `high`.
    #[serde(default = "low")]
    pub exit_pressed: Level,
    /// How long the door may stand open before it is held open (an alarm), 1 to 3600 s.
    #[serde(default = "thirty")]
    pub held_open_secs: u32,
    /// Input debouncing in milliseconds, 0 to 1000 (20 unless said).
    #[serde(default = "twenty")]
    pub debounce_ms: u32,
}

fn default_chip() -> PathBuf {
    PathBuf::from("/dev/gpiochip0")
}
fn high() -> Level {
    Level::High
}
fn low() -> Level {
    Level::Low
}
fn thirty() -> u32 {
    30
}
fn twenty() -> u32 {
    20
}

impl DoorWiring {
    fn lines(&self) -> [(&'static str, Option<u32>); 3] {
        [
            ("relay", self.relay),
            ("contact", self.contact),
            ("exit", self.exit),
        ]
    }
}

/// The wiring makes sense: an error names the setting that does not (`doors[1].relay`).
pub fn check(wiring: &[DoorWiring]) -> anyhow::Result<()> {
    let mut doors = HashSet::new();
    let mut lines = HashMap::new();
    for (i, w) in wiring.iter().enumerate() {
        if !doors.insert(w.door) {
            anyhow::bail!("doors[{i}].door: {} is wired twice", w.door);
        }
        if !(1..=3600).contains(&w.held_open_secs) {
            anyhow::bail!("doors[{i}].held_open_secs: between 1 and 3600");
        }
        if w.debounce_ms > 1000 {
            anyhow::bail!("doors[{i}].debounce_ms: at most 1000");
        }
        for (name, line) in w.lines() {
            let Some(line) = line else { continue };
            let at = format!("doors[{i}].{name}");
            if let Some(other) = lines.insert((w.chip.clone(), line), at.clone()) {
                anyhow::bail!(
                    "{at}: line {line} of {} is already {other}",
                    w.chip.display()
                );
            }
        }
    }
    Ok(())
}

/// How long each wired door may stand open, for the doors' states.
pub fn sensors(wiring: &[DoorWiring]) -> HashMap<DoorId, Sensors> {
    wiring
        .iter()
        .map(|w| {
            let sensors = Sensors {
                held_open_after: chrono::Duration::seconds(i64::from(w.held_open_secs)),
            };
            (DoorId(w.door), sensors)
        })
        .collect()
}

/// Relays on GPIO lines; doors without one are simulated.
pub struct GpioRelays {
    lines: HashMap<DoorId, Request>,
    simulated: Arc<SimulatedRelays>,
}

impl Relays for GpioRelays {
    fn set(&self, door: DoorId, released: bool) {
        match self.lines.get(&door) {
            Some(line) => {
                let value = if released {
                    Value::Active
                } else {
                    Value::Inactive
                };
                if let Err(err) = line.set_lone_value(value) {
                    tracing::error!(door = %door, error = %err, "could not set the lock's relay");
                }
            }
            None => self.simulated.set(door, released),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Contact,
    Exit,
}

/// An input line requested, to be watched.
pub struct InputLine {
    door: DoorId,
    input: Input,
    request: Request,
}

/// Requests every line of `wiring` (an error names the setting whose line cannot be had:
/// no such chip, no such line, or a line in use), the relays locked.
pub fn open(
    wiring: &[DoorWiring],
    simulated: Arc<SimulatedRelays>,
) -> anyhow::Result<(GpioRelays, Vec<InputLine>)> {
    let mut relays = GpioRelays {
        lines: HashMap::new(),
        simulated,
    };
    let mut inputs = Vec::new();
    for (i, w) in wiring.iter().enumerate() {
        let door = DoorId(w.door);
        let request =
            |name: &str, line: u32, configure: &dyn Fn(&mut gpiocdev::request::Builder)| {
                let mut builder = Request::builder();
                builder
                    .on_chip(&w.chip)
                    .with_consumer(format!("lintel-{name}"))
                    .with_line(line);
                configure(&mut builder);
                builder.request().map_err(|e| {
                    anyhow::anyhow!(
                        "doors[{i}].{name}: cannot use line {line} of {}: {e}",
                        w.chip.display()
                    )
                })
            };
        if let Some(line) = w.relay {
            let output = request("relay", line, &|b| {
                b.as_output(Value::Inactive);
                if w.relay_releases == Level::Low {
                    b.as_active_low();
                }
            })?;
            relays.lines.insert(door, output);
        }
        let debounce = Duration::from_millis(u64::from(w.debounce_ms));
        for (name, line, active, input) in [
            ("contact", w.contact, w.contact_open, Input::Contact),
            ("exit", w.exit, w.exit_pressed, Input::Exit),
        ] {
            let Some(line) = line else { continue };
            let request = request(name, line, &|b| {
                b.as_input()
                    .with_edge_detection(EdgeDetection::BothEdges)
                    .with_debounce_period(debounce);
                if active == Level::Low {
                    b.as_active_low();
                }
            })?;
            inputs.push(InputLine {
                door,
                input,
                request,
            });
        }
    }
    Ok((relays, inputs))
}

/// Watches each input line on a thread of its own: the contact's level as it starts, then
/// every edge.
pub fn watch(inputs: Vec<InputLine>, doors: &Arc<Doors>) -> anyhow::Result<()> {
    for line in inputs {
        let doors = doors.clone();
        std::thread::Builder::new()
            .name(format!("gpio-{:?}", line.input).to_lowercase())
            .spawn(move || {
                if line.input == Input::Contact {
                    match line.request.lone_value() {
                        Ok(value) => doors.contact(line.door, value == Value::Active),
                        Err(err) => tracing::error!(door = %line.door, error = %err, "could not read the door contact"),
                    }
                }
                loop {
                    match line.request.read_edge_event() {
                        Ok(edge) => {
                            let active = edge.kind == EdgeKind::Rising;
                            match line.input {
                                Input::Contact => doors.contact(line.door, active),
                                Input::Exit if active => {
                                    doors.exit(line.door);
                                }
                                Input::Exit => {}
                            }
                        }
                        Err(err) => {
                            tracing::error!(door = %line.door, error = %err, "could not read a GPIO line");
                            std::thread::sleep(Duration::from_secs(1));
                        }
                    }
                }
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wired(door: u128, relay: Option<u32>, contact: Option<u32>) -> DoorWiring {
        DoorWiring {
            door: Uuid::from_u128(door),
            chip: default_chip(),
            relay,
            relay_releases: Level::High,
            contact,
            contact_open: Level::High,
            exit: None,
            exit_pressed: Level::Low,
            held_open_secs: 30,
            debounce_ms: 20,
        }
    }

    #[test]
    fn two_doors_on_one_line_or_one_door_twice_are_refused_by_setting() {
        assert!(check(&[wired(1, Some(17), Some(27)), wired(2, Some(18), None)]).is_ok());
        let err = check(&[wired(1, Some(17), None), wired(2, Some(17), None)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "doors[1].relay: line 17 of /dev/gpiochip0 is already doors[0].relay"
        );
        let err = check(&[wired(1, Some(17), Some(17))]).unwrap_err();
        assert!(err.to_string().starts_with("doors[0].contact"), "{err}");
        let err = check(&[wired(1, Some(17), None), wired(1, Some(18), None)]).unwrap_err();
        assert!(err.to_string().starts_with("doors[1].door"), "{err}");
        let mut other_chip = wired(2, Some(17), None);
        other_chip.chip = PathBuf::from("/dev/gpiochip1");
        assert!(check(&[wired(1, Some(17), None), other_chip]).is_ok());
    }

    #[test]
    fn a_chip_that_is_not_there_is_an_error_naming_the_setting() {
        let mut w = wired(1, Some(17), None);
        w.chip = PathBuf::from("/dev/no-such-gpiochip");
        let err = open(&[w], Arc::default()).err().unwrap().to_string();
        assert!(
            err.starts_with("doors[0].relay: cannot use line 17 of /dev/no-such-gpiochip"),
            "{err}"
        );
    }
}
