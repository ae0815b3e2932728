//! Readers and keypads on RS-485 buses speaking OSDP (SIA's Open Supervised Device Protocol,
//! IEC 60839-11-5), through LibOSDP (the `libosdp` crate) as the control panel.
//!
//! - **One thread per bus** refreshes LibOSDP every few milliseconds (it asks for at least
//!   every 50 ms) and decides what its readers send there, with the same engine and journal
//!   as every other decision (`Doors::present_from`), so a card read reaches the relay
//!   without crossing threads.
//! - **Secure channel always.** Each reader's key (SCBK) is derived from its door's reader key,
//!   which comes with the rules (`reader::osdp_key`): a bus starts once the rules are held.
//!   Readers run with LibOSDP's `ENFORCE_SECURE`, so a reader that does not answer with its
//!   key (a new reader, which knows only the well-known default key SCBK-D) is refused and
//!   reported. An admin turns on install mode for one reader (`Readers::install`): then, and
//!   only then, the default key is accepted once, the reader's own key is set with a KEYSET,
//!   the secure channel starts again with it, and install mode ends by itself. Nothing a
//!   reader sends counts until its secure channel is up.
//! - **Cards** are decoded by the format set for the reader (`card.rs`). **Keypads**: digits
//!   then `#` (`*` clears; more than `KEY_GAP` between keys starts over); a card at a door
//!   whose access wants card and PIN waits `PIN_WAIT` for the code.
//! - **Feedback** on every decision: granted, green for the unlock time and one beep; denied,
//!   red flashes and two beeps; a card waiting for its PIN, amber.
//! - **Supervision**: a reader is online (secure channel up), offline (silent), refused
//!   (answering, but not on its key) or in install mode; `Readers::status` says which, since
//!   when, and whether it reports tamper. A reader is refused when it answered since it was
//!   last online (its replies are framed and checked off the bus: `Heard`). LibOSDP retries
//!   an offline reader only after five minutes, so a bus with a reader down is started again
//!   after `RETRY_FIRST`, doubling to `RETRY_MAX` (the other readers of the bus miss a few
//!   polls then).

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use libosdp::{
    Channel, ChannelError, ControlPanel, ControlPanelBuilder, OsdpCommand, OsdpCommandBuzzer,
    OsdpCommandLed, OsdpEvent, OsdpFlag, OsdpLedColor, OsdpLedParams, OsdpStatusReportType,
    PdInfoBuilder,
};
use lintel_domain::decision::Direction;
use lintel_domain::{DoorId, reader};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::card::{self, CardFormat, CardRead};
use crate::door::{Doors, Presented};

/// How often LibOSDP is refreshed: well within its 50 ms, and a small share of a card's way
/// to the relay.
const TICK: Duration = Duration::from_millis(5);
/// Longer than this between two keys, and the code typed so far is dropped.
pub const KEY_GAP: Duration = Duration::from_secs(5);
/// How long a card waits for its PIN at a door that wants both.
pub const PIN_WAIT: Duration = Duration::from_secs(10);
/// The longest code a keypad takes; a longer one is dropped.
const MAX_CODE: usize = 12;
/// How long install mode lasts unless the reader's key is set before.
pub const INSTALL_FOR: Duration = Duration::from_secs(10 * 60);
const RETRY_FIRST: Duration = Duration::from_secs(5);
/// Also how long a reader plugged back in may wait to be tried again.
const RETRY_MAX: Duration = Duration::from_secs(15);

/// The baud rates OSDP defines.
pub const BAUD_RATES: [u32; 6] = [9600, 19200, 38400, 57600, 115_200, 230_400];

/// One RS-485 bus (a serial port) and the readers on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusConfig {
    /// The serial port: `/dev/ttyUSB0`, `/dev/ttyAMA0`, `/dev/serial/by-id/…`.
    pub port: String,
    /// One of `BAUD_RATES`; every reader on the bus is set to it.
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default)]
    pub readers: Vec<ReaderConfig>,
}

fn default_baud() -> u32 {
    9600
}

/// A reader (with or without a keypad) on a bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderConfig {
    /// A name of your choosing, unique on this controller: `lobby-in`.
    pub name: String,
    /// Its OSDP address on the bus, 0 to 126.
    pub address: u8,
    /// The door it reads for (its id in Lintel).
    pub door: Uuid,
    /// `in` (the default) or `out`: an exit reader.
    #[serde(default)]
    pub direction: Side,
    /// How it sends cards: `h10301` (26 bits, the default), `corporate1000` (35),
    /// `h10304` (37, with a facility code), `h10302` (37, without), `raw`.
    #[serde(default)]
    pub format: CardFormat,
    /// Whether it has a keypad whose codes count (PIN codes, and card then PIN).
    #[serde(default = "yes")]
    pub keypad: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    #[default]
    In,
    Out,
}

impl Side {
    fn direction(self) -> Direction {
        match self {
            Side::In => Direction::In,
            Side::Out => Direction::Out,
        }
    }
}

/// Where a reader stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReaderState {
    /// The controller holds no rules yet, so it has no key for the reader.
    WaitingForRules,
    /// On its secure channel, with its own key.
    Online,
    /// Not answering: unplugged, unpowered, wrong address or baud rate.
    Offline,
    /// Answering, but not on its key (a new reader knows only the default key): turn on
    /// install mode for it to set its key.
    Refused,
    /// Accepting the default key once, to set the reader's own.
    InstallMode,
}

impl ReaderState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReaderState::WaitingForRules => "waiting_for_rules",
            ReaderState::Online => "online",
            ReaderState::Offline => "offline",
            ReaderState::Refused => "refused",
            ReaderState::InstallMode => "install_mode",
        }
    }
}

/// A reader as `Readers::status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReaderStatus {
    pub name: String,
    pub port: String,
    pub address: u8,
    pub door: Uuid,
    pub state: ReaderState,
    pub since: DateTime<Utc>,
    /// The reader reports its case opened.
    pub tamper: bool,
}

enum Request {
    Install(usize),
}

/// The buses' threads, as the rest of the controller reaches them.
#[derive(Clone, Default)]
pub struct Readers {
    status: Arc<Mutex<Vec<ReaderStatus>>>,
    /// Per bus: its thread's requests, and the index of its first reader in `status`.
    buses: Vec<(Sender<Request>, usize)>,
}

impl Readers {
    /// Opens every bus's port (an error names the one that does not open) and starts a
    /// thread for each.
    pub fn start(buses: &[BusConfig], doors: Arc<Doors>) -> anyhow::Result<Readers> {
        let now = doors.now();
        let mut readers = Readers::default();
        let mut opened = Vec::new();
        for (i, bus) in buses.iter().enumerate() {
            let port = serialport::new(&bus.port, bus.baud)
                .timeout(Duration::ZERO)
                .open()
                .map_err(|e| anyhow::anyhow!("osdp[{i}].port: cannot open {}: {e}", bus.port))?;
            opened.push(port);
        }
        let mut status = Vec::new();
        for (i, (bus, port)) in buses.iter().zip(opened).enumerate() {
            let (send, receive) = std::sync::mpsc::channel();
            readers.buses.push((send, status.len()));
            status.extend(bus.readers.iter().map(|r| ReaderStatus {
                name: r.name.clone(),
                port: bus.port.clone(),
                address: r.address,
                door: r.door,
                state: ReaderState::WaitingForRules,
                since: now,
                tamper: false,
            }));
            let thread = BusThread {
                id: i32::try_from(i).unwrap_or(i32::MAX),
                config: bus.clone(),
                port,
                doors: doors.clone(),
                status: readers.status.clone(),
                first: readers.buses[i].1,
                requests: receive,
            };
            std::thread::Builder::new()
                .name(format!("osdp-{i}"))
                .spawn(move || thread.run())?;
        }
        *readers
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = status;
        Ok(readers)
    }

    pub fn status(&self) -> Vec<ReaderStatus> {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Turns on install mode for the reader named `name`, for `INSTALL_FOR` or until its key
    /// is set. False for a name no bus has.
    pub fn install(&self, name: &str) -> bool {
        let at = self.status().iter().position(|r| r.name == name);
        let Some(at) = at else {
            return false;
        };
        let bus = self.buses.iter().rev().find(|(_, first)| *first <= at);
        bus.is_some_and(|(send, first)| send.send(Request::Install(at - first)).is_ok())
    }
}

/// A bus's thread: starts LibOSDP on the port once the readers' keys are known, and again
/// when they change or a reader needs another try.
struct BusThread {
    id: i32,
    config: BusConfig,
    port: Box<dyn serialport::SerialPort>,
    doors: Arc<Doors>,
    status: Arc<Mutex<Vec<ReaderStatus>>>,
    first: usize,
    requests: Receiver<Request>,
}

/// Why a session on the bus ended.
enum Ended {
    /// The keys changed, or a reader was put in install mode: start again at once.
    Restart,
    /// A reader has been down for the time to retry it.
    Retry,
    /// The controller is stopping.
    Gone,
}

impl BusThread {
    fn run(self) {
        let mut retry = RETRY_FIRST;
        let mut installing: HashMap<usize, Instant> = HashMap::new();
        loop {
            let Some(keys) = self.keys() else {
                self.set_all(ReaderState::WaitingForRules);
                if let Err(TryRecvError::Disconnected) = self.requests.try_recv() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
                continue;
            };
            match self.session(&keys, &mut installing, &mut retry) {
                Ok(Ended::Gone) => return,
                Ok(Ended::Restart) => {}
                Ok(Ended::Retry) => retry = (retry * 2).min(RETRY_MAX),
                Err(err) => {
                    tracing::error!(port = %self.config.port, error = %err, "OSDP bus failed; starting it again");
                    std::thread::sleep(retry);
                    retry = (retry * 2).min(RETRY_MAX);
                }
            }
        }
    }

    /// Each reader's key, from its door's reader key in the rules held; `None` while a door
    /// is not in them.
    fn keys(&self) -> Option<Vec<[u8; 16]>> {
        self.config
            .readers
            .iter()
            .map(|r| {
                let key = self.doors.reader_key(DoorId(r.door))?;
                Some(reader::osdp_key(&key, r.address))
            })
            .collect()
    }

    fn set_all(&self, state: ReaderState) {
        for i in 0..self.config.readers.len() {
            self.set(i, state, None);
        }
    }

    fn state_of(&self, i: usize) -> Option<ReaderState> {
        let status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        status.get(self.first + i).map(|r| r.state)
    }

    /// Records reader `i`'s state (and tamper, when given); logs a change, and journals it
    /// as an event for the server (waiting for rules aside: no door is known then).
    fn set(&self, i: usize, state: ReaderState, tamper: Option<bool>) {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(reader) = status.get_mut(self.first + i) else {
            return;
        };
        let changed = reader.state != state || tamper.is_some_and(|t| t != reader.tamper);
        if changed && state != ReaderState::WaitingForRules {
            let entry = crate::disk::ReaderEntry {
                name: reader.name.clone(),
                state: state.as_str().to_owned(),
                tamper: tamper.unwrap_or(reader.tamper),
            };
            self.doors.record_reader(DoorId(reader.door), entry);
        }
        if let Some(tamper) = tamper.filter(|t| *t != reader.tamper) {
            reader.tamper = tamper;
            tracing::warn!(reader = %reader.name, tamper, "reader tamper");
        }
        if reader.state != state {
            let was = reader.state;
            reader.state = state;
            reader.since = self.doors.now();
            match state {
                ReaderState::Online | ReaderState::WaitingForRules | ReaderState::InstallMode => {
                    tracing::info!(reader = %reader.name, ?was, ?state, "reader state");
                }
                ReaderState::Offline | ReaderState::Refused => {
                    tracing::warn!(reader = %reader.name, ?was, ?state, "reader state");
                }
            }
        }
    }

    /// LibOSDP on the bus until the keys change, or a reader has been down for `retry`
    /// (set back to `RETRY_FIRST` once every reader is online).
    fn session(
        &self,
        keys: &[[u8; 16]],
        installing: &mut HashMap<usize, Instant>,
        retry: &mut Duration,
    ) -> anyhow::Result<Ended> {
        let heard = Arc::new(Mutex::new(Heard::default()));
        let channel = SerialChannel {
            id: self.id,
            port: Some(self.port.try_clone()?),
            heard: heard.clone(),
        };
        let mut pds = Vec::new();
        for (reader, key) in self.config.readers.iter().zip(keys) {
            pds.push(
                PdInfoBuilder::new()
                    .name(&reader.name)?
                    .address(i32::from(reader.address))?
                    .baud_rate(i32::try_from(self.config.baud)?)?
                    .flag(OsdpFlag::EnforceSecure)
                    .secure_channel_key(*key),
            );
        }
        let mut cp = ControlPanelBuilder::new()
            .add_channel(Box::new(channel), pds)
            .build()?;
        let events: Arc<Mutex<Vec<(i32, OsdpEvent)>>> = Arc::default();
        let queue = events.clone();
        cp.set_event_callback(move |pd, event| {
            queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((pd, event));
            0
        });
        for &i in installing.keys() {
            cp.set_flag(pd_of(i), OsdpFlag::EnforceSecure, false);
        }
        let mut bus = Bus {
            cp,
            doors: &self.doors,
            readers: self
                .config
                .readers
                .iter()
                .map(|config| Station {
                    config,
                    keypad: Keypad::default(),
                    waiting_card: None,
                    tamper: None,
                })
                .collect(),
        };
        let started = Instant::now();
        let mut looked = started;
        // When each reader was last seen online in this session.
        let mut last_online: Vec<Option<Instant>> = vec![None; self.config.readers.len()];
        let mut down_since: Option<Instant> = None;
        loop {
            bus.cp.refresh();
            let now = Instant::now();
            let arrived =
                std::mem::take(&mut *events.lock().unwrap_or_else(PoisonError::into_inner));
            for (pd, event) in arrived {
                let Ok(i) = usize::try_from(pd) else { continue };
                if self.online(&bus.cp, i) {
                    bus.handle(i, event, now);
                } else {
                    tracing::warn!(reader = %self.config.readers[i].name, "ignored what a reader off its secure channel sent");
                }
            }
            bus.expire(now);
            match self.requests.try_recv() {
                Ok(Request::Install(i)) if i < self.config.readers.len() => {
                    tracing::warn!(reader = %self.config.readers[i].name, "install mode: the default key is accepted once, to set the reader's own");
                    installing.insert(i, now + INSTALL_FOR);
                    // Started again with the reader's flag cleared, as LibOSDP would wait
                    // minutes before trying a reader it put offline.
                    return Ok(Ended::Restart);
                }
                Ok(Request::Install(_)) | Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => return Ok(Ended::Gone),
            }
            if now.duration_since(looked) >= Duration::from_millis(100) {
                looked = now;
                let heard = heard.lock().unwrap_or_else(PoisonError::into_inner);
                let mut all_online = true;
                for (i, reader) in self.config.readers.iter().enumerate() {
                    let online = self.online(&bus.cp, i);
                    if online && installing.remove(&i).is_some() {
                        // On the secure channel with its own key: a reader that came on
                        // with the default key was given its own (KEYSET) and the channel
                        // started again with it before LibOSDP says online.
                        bus.cp.set_flag(pd_of(i), OsdpFlag::EnforceSecure, true);
                        tracing::info!(reader = %reader.name, "reader on its own key: install mode over");
                    }
                    if installing.get(&i).is_some_and(|until| *until <= now) {
                        installing.remove(&i);
                        bus.cp.set_flag(pd_of(i), OsdpFlag::EnforceSecure, true);
                        tracing::warn!(reader = %reader.name, "install mode over: no key was set");
                    }
                    if online {
                        last_online[i] = Some(now);
                    }
                    let answered = heard.last_reply(reader.address);
                    let settling = now.duration_since(started) < Duration::from_secs(1);
                    let state = if online {
                        ReaderState::Online
                    } else if settling {
                        // A new session has not polled it yet: what it was, until it has.
                        self.state_of(i).unwrap_or(ReaderState::Offline)
                    } else if installing.contains_key(&i) {
                        ReaderState::InstallMode
                    } else if answered.is_some_and(|at| last_online[i].is_none_or(|o| at > o)) {
                        ReaderState::Refused
                    } else {
                        ReaderState::Offline
                    };
                    all_online &= online;
                    let tamper = bus.readers[i].tamper.take();
                    self.set(i, state, tamper);
                }
                drop(heard);
                if all_online {
                    down_since = None;
                    *retry = RETRY_FIRST;
                } else if now.duration_since(started) > Duration::from_secs(1) {
                    let since = *down_since.get_or_insert(now);
                    if now.duration_since(since) >= *retry {
                        return Ok(Ended::Retry);
                    }
                }
                if self.keys().as_deref() != Some(keys) {
                    return Ok(Ended::Restart);
                }
            }
            std::thread::sleep(TICK);
        }
    }

    /// Whether reader `i` is online on its secure channel: the only state in which what it
    /// sends counts.
    fn online(&self, cp: &ControlPanel, i: usize) -> bool {
        cp.is_online(pd_of(i)) && cp.is_sc_active(pd_of(i))
    }
}

fn pd_of(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// A bus's LibOSDP and what its readers are in the middle of.
struct Bus<'a> {
    cp: ControlPanel,
    doors: &'a Doors,
    readers: Vec<Station<'a>>,
}

struct Station<'a> {
    config: &'a ReaderConfig,
    keypad: Keypad,
    /// A card read at a door that wants its PIN too, and until when it waits.
    waiting_card: Option<(CardRead, Instant)>,
    /// A tamper report not yet recorded.
    tamper: Option<bool>,
}

/// What a reader shows and sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feedback {
    Granted { secs: u32 },
    Denied,
    PinWanted,
}

impl Bus<'_> {
    fn handle(&mut self, i: usize, event: OsdpEvent, now: Instant) {
        let Some(station) = self.readers.get_mut(i) else {
            return;
        };
        let config = station.config;
        match event {
            OsdpEvent::CardRead(read) => {
                match card::decode(config.format, &read.data, read.nr_bits) {
                    Ok(card) => {
                        let (door, side) = (DoorId(config.door), config.side());
                        if config.keypad && self.doors.card_wants_pin(door, side, &card) {
                            station.waiting_card = Some((card, now + PIN_WAIT));
                            station.keypad.clear();
                            self.signal(i, Feedback::PinWanted);
                        } else {
                            self.decide(i, &Presented::card(&card));
                        }
                    }
                    Err(err) => {
                        tracing::warn!(reader = %config.name, error = %err, "unreadable card");
                        self.signal(i, Feedback::Denied);
                    }
                }
            }
            OsdpEvent::KeyPress(keys) if config.keypad => {
                for key in keys.data {
                    let station = &mut self.readers[i];
                    let Some(pin) = station.keypad.press(key, now) else {
                        continue;
                    };
                    let presented = match station.waiting_card.take() {
                        Some((card, _)) => Presented::CardAndPin {
                            facility_code: card.facility_code,
                            number: card.number.to_string(),
                            pin,
                        },
                        None => Presented::Pin(pin),
                    };
                    self.decide(i, &presented);
                }
            }
            OsdpEvent::KeyPress(_) => {
                tracing::debug!(reader = %config.name, "keys ignored: the reader has no keypad in the configuration");
            }
            OsdpEvent::Status(report) if report.type_ == OsdpStatusReportType::Local => {
                // A local status report: tamper, then power.
                station.tamper = Some(report.report[0] != 0);
            }
            OsdpEvent::Status(_) | OsdpEvent::MfgReply(_) => {}
        }
    }

    /// Cards that waited for a PIN in vain are decided alone (and denied, as the door wants
    /// both); keys typed too long ago are dropped.
    fn expire(&mut self, now: Instant) {
        for i in 0..self.readers.len() {
            let station = &mut self.readers[i];
            station.keypad.expire(now);
            if let Some((card, _)) = station.waiting_card.take_if(|(_, until)| *until <= now) {
                self.decide(i, &Presented::card(&card));
            }
        }
    }

    fn decide(&mut self, i: usize, presented: &Presented) {
        let config = self.readers[i].config;
        let door = DoorId(config.door);
        let feedback = match self.doors.present_from(door, config.side(), presented) {
            Ok(answer) if answer.granted => Feedback::Granted {
                secs: self.doors.unlock_secs(door).unwrap_or(5),
            },
            Ok(_) => Feedback::Denied,
            Err(err) => {
                tracing::error!(reader = %config.name, error = %err, "could not decide: denied");
                Feedback::Denied
            }
        };
        self.signal(i, feedback);
    }

    fn signal(&mut self, i: usize, feedback: Feedback) {
        let pd = pd_of(i);
        let (color, on, off, tenths, beeps) = match feedback {
            Feedback::Granted { secs } => (
                OsdpLedColor::Green,
                10,
                0,
                u16::try_from(secs.saturating_mul(10)).unwrap_or(u16::MAX),
                1,
            ),
            Feedback::Denied => (OsdpLedColor::Red, 2, 2, 20, 2),
            Feedback::PinWanted => (
                OsdpLedColor::Amber,
                5,
                5,
                u16::try_from(PIN_WAIT.as_millis() / 100).unwrap_or(u16::MAX),
                0,
            ),
        };
        let led = OsdpCommand::Led(OsdpCommandLed {
            reader: 0,
            led_number: 0,
            temporary: OsdpLedParams {
                control_code: 2,
                on_count: on,
                off_count: off,
                on_color: color,
                off_color: if off == 0 { color } else { OsdpLedColor::None },
                timer_count: tenths,
            },
            permanent: OsdpLedParams::default(),
        });
        let mut commands = vec![led];
        if beeps > 0 {
            commands.push(OsdpCommand::Buzzer(OsdpCommandBuzzer {
                reader: 0,
                control_code: 2,
                on_count: 1,
                off_count: 1,
                rep_count: beeps,
            }));
        }
        for command in commands {
            if self.cp.send_command(pd, command).is_err() {
                tracing::warn!(reader = %self.readers[i].config.name, "the reader's queue of commands is full");
            }
        }
    }
}

impl ReaderConfig {
    fn side(&self) -> Direction {
        self.direction.direction()
    }
}

/// A keypad's code in progress.
#[derive(Debug, Default)]
struct Keypad {
    code: String,
    last: Option<Instant>,
}

impl Keypad {
    /// Takes a key as OSDP sends it (ASCII digits; `*` as 0x7F or `*`, `#` as 0x0D or `#`):
    /// the code, when `#` ends one.
    fn press(&mut self, key: u8, now: Instant) -> Option<String> {
        self.expire(now);
        self.last = Some(now);
        match key {
            b'0'..=b'9' if self.code.len() < MAX_CODE => {
                self.code.push(char::from(key));
                None
            }
            b'0'..=b'9' => {
                // Too long for any code: start over rather than decide a truncated one.
                self.clear();
                None
            }
            0x0D | b'#' => {
                let code = std::mem::take(&mut self.code);
                self.last = None;
                (!code.is_empty()).then_some(code)
            }
            _ => {
                // `*` clears, and so does anything else.
                self.clear();
                None
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        if self
            .last
            .is_some_and(|last| now.duration_since(last) > KEY_GAP)
        {
            self.clear();
        }
    }

    fn clear(&mut self) {
        self.code.clear();
        self.last = None;
    }
}

/// The serial port as LibOSDP's channel. What is read is also framed, to tell which readers
/// answer at all (`Heard`).
struct SerialChannel {
    id: i32,
    /// Taken when LibOSDP closes the channel (once per reader: the first closes it).
    port: Option<Box<dyn serialport::SerialPort>>,
    heard: Arc<Mutex<Heard>>,
}

impl Channel for SerialChannel {
    fn get_id(&self) -> i32 {
        self.id
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ChannelError> {
        let port = self.port.as_mut().ok_or(ChannelError::TransportError)?;
        match port.read(buf) {
            Ok(n) => {
                self.heard
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .feed(&buf[..n], Instant::now());
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                Err(ChannelError::WouldBlock)
            }
            Err(_) => Err(ChannelError::TransportError),
        }
    }

    fn write(&mut self, buf: &[u8]) -> Result<usize, ChannelError> {
        let port = self.port.as_mut().ok_or(ChannelError::TransportError)?;
        Ok(port.write(buf)?)
    }

    fn flush(&mut self) -> Result<(), ChannelError> {
        let port = self.port.as_mut().ok_or(ChannelError::TransportError)?;
        Ok(port.flush()?)
    }

    fn close(&mut self) -> Result<(), ChannelError> {
        self.port = None;
        Ok(())
    }
}

/// Start of an OSDP frame.
const SOM: u8 = 0x53;
/// Shortest frame: SOM, address, length (2), control, code, checksum.
const MIN_FRAME: usize = 7;
const MAX_FRAME: usize = 1024;

/// Which addresses answered, and when: replies (the address's top bit set) read off the
/// bus, framed and checked (CRC-16 or checksum) so that noise does not count.
#[derive(Default)]
struct Heard {
    buf: Vec<u8>,
    replied: HashMap<u8, Instant>,
}

impl Heard {
    fn feed(&mut self, bytes: &[u8], now: Instant) {
        self.buf.extend_from_slice(bytes);
        loop {
            let Some(start) = self.buf.iter().position(|&b| b == SOM) else {
                self.buf.clear();
                return;
            };
            self.buf.drain(..start);
            if self.buf.len() < 5 {
                return;
            }
            let len = usize::from(u16::from_le_bytes([self.buf[2], self.buf[3]]));
            if !(MIN_FRAME..=MAX_FRAME).contains(&len) {
                self.buf.drain(..1);
                continue;
            }
            if self.buf.len() < len {
                return;
            }
            if frame_checks(&self.buf[..len]) {
                if self.buf[1] & 0x80 != 0 {
                    self.replied.insert(self.buf[1] & 0x7F, now);
                }
                self.buf.drain(..len);
            } else {
                self.buf.drain(..1);
            }
        }
    }

    /// When `address` last answered.
    fn last_reply(&self, address: u8) -> Option<Instant> {
        self.replied.get(&address).copied()
    }
}

/// Whether a whole frame's check bytes match: a CRC-16 when its control byte says so (bit
/// 2), else an 8-bit checksum.
fn frame_checks(frame: &[u8]) -> bool {
    let n = frame.len();
    if frame[4] & 0x04 != 0 {
        crc16(&frame[..n - 2]) == u16::from_le_bytes([frame[n - 2], frame[n - 1]])
    } else {
        let sum = frame[..n - 1]
            .iter()
            .fold(0u8, |sum, &b| sum.wrapping_add(b));
        sum.wrapping_neg() == frame[n - 1]
    }
}

/// OSDP's CRC-16: polynomial 0x1021, initial value 0x1D0F, no reflection (CRC-16/AUG-CCITT).
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0x1D0F, |crc: u16, &b| {
        (0..8).fold(crc ^ (u16::from(b) << 8), |crc, _| {
            if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crc_is_osdp_s() {
        // The check value of CRC-16/AUG-CCITT, as the catalogues of CRCs give it.
        assert_eq!(crc16(b"123456789"), 0xE5CC);
    }

    #[test]
    fn keys_make_a_code_ended_by_hash_cleared_by_star_or_a_pause() {
        let mut keypad = Keypad::default();
        let t = Instant::now();
        let typed = |keypad: &mut Keypad, keys: &[u8], at: Instant| {
            keys.iter()
                .filter_map(|&k| keypad.press(k, at))
                .collect::<Vec<_>>()
        };
        assert_eq!(typed(&mut keypad, b"4802\r", t), ["4802"]);
        assert_eq!(typed(&mut keypad, b"12#", t), ["12"]);
        // `*` (0x7F on the wire) clears what was typed.
        assert_eq!(typed(&mut keypad, b"99\x7f4802#", t), ["4802"]);
        assert_eq!(typed(&mut keypad, b"99*1#", t), ["1"]);
        // A pause longer than KEY_GAP starts over.
        typed(&mut keypad, b"77", t);
        let later = t + KEY_GAP + Duration::from_millis(1);
        assert_eq!(typed(&mut keypad, b"5#", later), ["5"]);
        // `#` alone is nothing; a code longer than any is dropped whole.
        assert!(typed(&mut keypad, b"#", t).is_empty());
        assert_eq!(
            typed(&mut keypad, b"1234567890123#", t),
            Vec::<String>::new()
        );
        assert_eq!(typed(&mut keypad, b"1234567890123", t).len(), 0);
        assert_eq!(typed(&mut keypad, b"#", t), Vec::<String>::new());
    }

    #[test]
    fn replies_count_only_when_framed_and_checked() {
        // An osdp_ACK from address 1 with a CRC, then noise, then the same with a checksum.
        let mut ack = vec![SOM, 0x81, 8, 0, 0x04 | 0x01, 0x40];
        let crc = crc16(&ack);
        ack.extend_from_slice(&crc.to_le_bytes());
        let mut sum_ack = vec![SOM, 0x82, 7, 0, 0x01, 0x40];
        let sum = sum_ack.iter().fold(0u8, |s, &b| s.wrapping_add(b));
        sum_ack.push(sum.wrapping_neg());
        let t = Instant::now();
        let mut heard = Heard::default();
        let mut bytes = vec![0xFF, 0x53, 0x00];
        bytes.extend_from_slice(&ack);
        bytes.extend_from_slice(&sum_ack);
        // Fed in pieces, as a port reads.
        for piece in bytes.chunks(3) {
            heard.feed(piece, t);
        }
        assert_eq!(heard.last_reply(1), Some(t));
        assert_eq!(heard.last_reply(2), Some(t));
        // A command to address 3 (top bit clear) and a reply with a bad CRC do not count.
        let mut bad = vec![SOM, 0x83, 8, 0, 0x04, 0x40, 0, 0];
        heard.feed(&bad, t);
        bad[1] = 0x03;
        heard.feed(&bad, t);
        assert_eq!(heard.last_reply(3), None);
    }
}
