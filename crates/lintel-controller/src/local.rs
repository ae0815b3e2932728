//! The local interface: a simulated reader and keypad, and a view of the relays, as lines
//! over TCP (one request a line, one JSON answer a line):
//!
//! ```text
//! card <door-uuid> <number> [facility-code]      a card presented
//! pin <door-uuid> <code>                         a code typed, then #
//! card+pin <door-uuid> <number> <facility-code|-> <code>
//! proof <door-uuid>                              a proof of presence at the door's reader, as
//!                                                the reader hands it to a phone (signed with
//!                                                the door's key; good once, for 30 seconds)
//! relays                                         each simulated relay: released now, pulses so far
//! doors                                          each door's state: locked, unlocked, open,
//!                                                held_open, forced_open; held by a schedule?
//! contact <door-uuid> open|closed                the door contact of a door not wired to GPIO
//! exit <door-uuid>                               its request-to-exit button pressed
//! readers                                        each OSDP reader: online, offline, refused
//!                                                (not on its key), install mode; tamper
//! install <reader-name>                          install mode for that reader: its default key
//!                                                is accepted once to set its own (10 minutes)
//! status                                         rules held, how fresh, stale from when, events waiting
//! ```
//!
//! Bind it to loopback: whoever reaches it can present any card.

use std::sync::Arc;

use lintel_domain::DoorId;
use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::door::{Doors, Presented};
use crate::io::SimulatedRelays;
use crate::osdp::{INSTALL_FOR, Readers};

/// The longest line read: anything longer is refused, not buffered.
const MAX_LINE: usize = 512;

/// What the local interface reaches.
#[derive(Clone)]
pub struct Local {
    pub doors: Arc<Doors>,
    pub relays: Arc<SimulatedRelays>,
    pub readers: Readers,
    /// Doors wired to GPIO: their contact and button are the lines', not the interface's.
    pub wired: std::collections::HashSet<DoorId>,
}

pub async fn serve(listener: TcpListener, local: Local) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let local = local.clone();
        tokio::spawn(async move {
            if let Err(err) = session(stream, &local).await {
                tracing::debug!(error = %err, "local interface connection ended");
            }
        });
    }
}

async fn session(stream: TcpStream, local: &Local) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1;
        if (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .await?
            == 0
        {
            return Ok(());
        }
        let too_long = line.last() != Some(&b'\n') && line.len() > MAX_LINE;
        let answer = match std::str::from_utf8(&line) {
            Ok(_) if too_long => json!({ "error": "line too long" }),
            Ok(text) => answer(text.trim(), local),
            Err(_) => json!({ "error": "lines are UTF-8 text" }),
        };
        let mut text = answer.to_string();
        text.push('\n');
        write.write_all(text.as_bytes()).await?;
        if too_long {
            return Ok(());
        }
    }
}

fn answer(line: &str, local: &Local) -> serde_json::Value {
    let doors = &local.doors;
    let words: Vec<&str> = line.split_whitespace().collect();
    let presented = match words.as_slice() {
        ["relays"] => return json!({ "relays": local.relays.states() }),
        ["readers"] => return json!({ "readers": local.readers.status() }),
        ["doors"] => return json!({ "doors": doors.door_views() }),
        ["contact", door, open @ ("open" | "closed")] => {
            return by_hand(local, door, |door| {
                doors.contact(door, *open == "open");
                Ok(())
            });
        }
        ["exit", door] => {
            return by_hand(local, door, |door| {
                if !doors.exit(door) {
                    return Err("no such door in the rules held".to_owned());
                }
                Ok(())
            });
        }
        ["install", name] => {
            return if local.readers.install(name) {
                json!({ "install_mode": name, "for_secs": INSTALL_FOR.as_secs() })
            } else {
                json!({ "error": format!("no reader named {name:?} in the configuration") })
            };
        }
        ["status"] => {
            let (version, hash) = doors.held();
            let (whole, changes) = doors.updates();
            return json!({
                "rules_received": { "whole": whole, "changes": changes },
                "rules_version": version,
                "rules_hash": hash,
                "confirmed_at": doors.confirmed_at(),
                "stale_at": doors.stale_at(),
                "stale": doors.stale_at().is_none_or(|at| doors.now() > at),
                "connected": doors.connected(),
                "events_waiting": doors.waiting_count(),
                "credentials": doors.credential_count(),
                "doors": doors.doors(),
            });
        }
        ["proof", door] => {
            return match door_id(door).map(|door| doors.reader_proof(door)) {
                Ok(Some((proof, expires_at))) => {
                    json!({ "proof": proof, "expires_at": expires_at })
                }
                Ok(None) => json!({ "error": "no such door in the rules held" }),
                Err(message) => json!({ "error": message }),
            };
        }
        ["card", door, number] => card(door, None, number),
        ["card", door, number, fc] => card(door, Some(fc), number),
        ["pin", door, code] => Ok((door_id(door), Presented::Pin((*code).to_owned()))),
        ["card+pin", door, number, fc, code] => {
            card(door, Some(fc).filter(|f| **f != "-"), number).map(|(door, p)| match p {
                Presented::Card {
                    facility_code,
                    number,
                } => (
                    door,
                    Presented::CardAndPin {
                        facility_code,
                        number,
                        pin: (*code).to_owned(),
                    },
                ),
                other => (door, other),
            })
        }
        _ => Err("say: card DOOR NUMBER [FC] | pin DOOR CODE | card+pin DOOR NUMBER FC|- CODE | proof DOOR | relays | doors | contact DOOR open|closed | exit DOOR | readers | install READER | status".to_owned()),
    };
    match presented.and_then(|(door, p)| Ok((door?, p))) {
        Ok((door, presented)) => match doors.present(door, &presented) {
            Ok(answer) => json!(answer),
            Err(err) => {
                tracing::error!(error = %err, "could not journal a decision; nothing opened");
                json!({ "error": "could not journal the decision; nothing opened" })
            }
        },
        Err(message) => json!({ "error": message }),
    }
}

/// Does `what` to a door's simulated contact or button, unless the door is wired to GPIO;
/// answers with the door's state.
fn by_hand(
    local: &Local,
    door: &str,
    what: impl FnOnce(DoorId) -> Result<(), String>,
) -> serde_json::Value {
    let door = match door_id(door) {
        Ok(door) => door,
        Err(message) => return json!({ "error": message }),
    };
    if local.wired.contains(&door) {
        return json!({ "error": "that door is wired to GPIO: its lines say" });
    }
    match what(door) {
        Ok(()) => {
            let view = local
                .doors
                .door_views()
                .into_iter()
                .find(|v| v.door == door.0);
            json!({ "door": view })
        }
        Err(message) => json!({ "error": message }),
    }
}

fn door_id(text: &str) -> Result<DoorId, String> {
    Uuid::parse_str(text)
        .map(DoorId)
        .map_err(|_| format!("{text:?} is not a door's uuid"))
}

type Parsed = Result<(Result<DoorId, String>, Presented), String>;

fn card(door: &str, fc: Option<&&str>, number: &str) -> Parsed {
    let facility_code = match fc {
        None => None,
        Some(fc) => Some(
            fc.parse::<u32>()
                .map_err(|_| format!("{fc:?} is not a facility code"))?,
        ),
    };
    Ok((
        door_id(door),
        Presented::Card {
            facility_code,
            number: number.to_owned(),
        },
    ))
}
