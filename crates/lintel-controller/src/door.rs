//! The controller's decisions: a card, a PIN code or both presented at one of its doors,
//! decided by the domain's engine from the rules it holds, on its own clock, journaled, then
//! the relay released. The same engine and the same reasons as the server.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lintel_domain::controller::{self, ControllerDoor, ControllerRules, RulesChanges};
use lintel_domain::credential::{self, GUESSES_PER_DOOR, pin_digest};
use lintel_domain::decision::{
    AuthType, Decision, DenyReason, Direction, DoorRestrictions, Request, Rules,
};
use lintel_domain::{Clock, DoorId, SiteId, SystemClock, reader};
use serde::Serialize;
use uuid::Uuid;

use crate::card::CardRead;
use crate::disk::{Disk, DoorStateEntry, Entry, FOLD_OVER, Journal, ReaderEntry};
use crate::io::Relays;
use crate::state::{Cause, Change, DoorStates, DoorView, Sensors};

/// What is presented at a door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    Card {
        facility_code: Option<u32>,
        number: String,
    },
    Pin(String),
    CardAndPin {
        facility_code: Option<u32>,
        number: String,
        pin: String,
    },
}

impl Presented {
    /// A card read by a reader, presented alone.
    pub fn card(card: &CardRead) -> Presented {
        Presented::Card {
            facility_code: card.facility_code,
            number: card.number.to_string(),
        }
    }
}

/// The answer given at the door (and over the local interface).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub door: Uuid,
    pub granted: bool,
    pub reason: Option<DenyReason>,
    /// The event's id, as the server will store it.
    pub event: Uuid,
    pub offline: bool,
}

/// The rules in use: indexed for the engine, with what else decisions and the sync need.
/// The rules as sent are not kept in memory (they are on disk): at 250,000 credentials they
/// would double the controller's memory.
struct Loaded {
    version: i64,
    /// Their hash, computed once.
    hash: String,
    site_id: SiteId,
    offline_max_age_secs: i64,
    doors: Vec<ControllerDoor>,
    credentials: usize,
    confirmed_at: DateTime<Utc>,
    engine: Rules,
    site_key: Option<[u8; 32]>,
}

impl Loaded {
    /// How long `door`'s lock is released, if the rules name the door.
    fn unlock_time(&self, door: DoorId) -> Option<Duration> {
        let door = self.doors.iter().find(|d| d.id == door)?;
        Some(Duration::from_secs(u64::from(door.unlock_duration_secs)))
    }

    /// Applies changes to the rules in use, in place: the engine's entries one by one.
    fn apply(&mut self, changes: RulesChanges, hash: &str, now: DateTime<Utc>) {
        self.version = changes.version;
        self.hash = hash.to_owned();
        self.confirmed_at = now;
        if let Some(key) = changes.pin_site_key {
            self.site_key = controller::key_of_hex(&key);
        }
        if let Some(age) = changes.offline_max_age_secs {
            self.offline_max_age_secs = age;
        }
        let engine = &mut self.engine;
        if let Some(doors) = changes.doors {
            for gone in self
                .doors
                .iter()
                .filter(|d| !doors.iter().any(|n| n.id == d.id))
            {
                engine.remove_door(gone.id);
            }
            for door in &doors {
                engine.upsert_door(door.id, DoorRestrictions::default());
            }
            self.doors = doors;
        }
        for schedule in changes.schedules.put {
            match schedule.timetable() {
                Ok(timetable) => engine.upsert_schedule(schedule.id, timetable),
                Err(err) => {
                    tracing::error!(schedule = %schedule.id, error = %err, "unreadable schedule: it opens nothing");
                    engine.remove_schedule(schedule.id);
                }
            }
        }
        for id in changes.schedules.remove {
            engine.remove_schedule(id);
        }
        for member in changes.members.put {
            engine.upsert_member(member);
        }
        for id in changes.members.remove {
            engine.remove_member(id);
        }
        for access in changes.accesses.put {
            engine.upsert_access(access);
        }
        for id in changes.accesses.remove {
            engine.remove_access(id);
        }
        for (key, rule) in changes.credentials.put {
            self.credentials += usize::from(engine.credential(&key).is_none());
            engine.upsert_credential(key, rule);
        }
        for key in changes.credentials.remove {
            self.credentials -= usize::from(engine.credential(&key).is_some());
            engine.remove_credential(&key);
        }
    }

    /// Whether the server last confirmed the rules longer ago than the site allows: then
    /// they open nothing, and hold nothing unlocked.
    fn stale(&self, now: DateTime<Utc>) -> bool {
        now - self.confirmed_at > chrono::Duration::seconds(self.offline_max_age_secs)
    }
}

/// A change of a door or of one of its readers, to be journaled.
struct Note {
    door: DoorId,
    at: DateTime<Utc>,
    door_state: Option<DoorStateEntry>,
    reader: Option<ReaderEntry>,
}

/// The controller's state shared by its tasks.
pub struct Doors {
    disk: Disk,
    rules: std::sync::RwLock<Option<Loaded>>,
    journal: Mutex<Journal>,
    /// Held while an acknowledgement from the server is kept (`stored`).
    acking: Mutex<()>,
    /// Each door's state, and the relays it drives.
    states: DoorStates,
    clock: Arc<dyn Clock>,
    /// Whether a sync stream is open now.
    connected: std::sync::atomic::AtomicBool,
    /// Wakes the uploader when a decision is journaled.
    pub journaled: tokio::sync::Notify,
    /// When unknown PIN codes were typed at each door, for the keypad's back-off (also in
    /// `keypad.json`).
    guesses: Mutex<HashMap<DoorId, Vec<DateTime<Utc>>>>,
    /// The doors held unlocked now by an access's schedule.
    holding: Mutex<HashSet<DoorId>>,
    /// Rules received whole, and as changes.
    updates: (AtomicU64, AtomicU64),
}

impl Doors {
    /// Opens the data directory: the rules and journal a previous run left, if any.
    pub fn open(disk: Disk, relays: Arc<dyn Relays>) -> anyhow::Result<Doors> {
        Doors::open_with_clock(disk, relays, Arc::new(SystemClock))
    }

    pub fn open_with_clock(
        disk: Disk,
        relays: Arc<dyn Relays>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Doors> {
        let journal = Journal::open(&disk)?;
        let guesses = disk.load_guesses();
        let rules = disk
            .load_rules()?
            .map(|kept| load(kept.rules, kept.hash, kept.confirmed_at));
        Ok(Doors {
            disk,
            rules: std::sync::RwLock::new(rules),
            journal: Mutex::new(journal),
            acking: Mutex::default(),
            states: DoorStates::new(relays, HashMap::new()),
            clock,
            connected: false.into(),
            journaled: tokio::sync::Notify::new(),
            guesses: Mutex::new(guesses),
            holding: Mutex::default(),
            updates: Default::default(),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Says how long each wired door may stand open.
    pub fn wire(&mut self, sensors: HashMap<DoorId, Sensors>) {
        self.states.wire(sensors);
    }

    /// Each door of the rules, as it is now.
    pub fn door_views(&self) -> Vec<DoorView> {
        let now = self.now();
        let mut doors: Vec<DoorId> = self.doors().keys().map(|&id| DoorId(id)).collect();
        doors.sort();
        doors.iter().map(|&d| self.states.view(d, now)).collect()
    }

    /// `door`'s contact opened or closed.
    pub fn contact(&self, door: DoorId, open: bool) {
        let now = self.now();
        self.record(self.states.contact(door, open, now));
    }

    /// `door`'s request-to-exit button was pressed: the lock is released for the door's
    /// unlock time, no credential asked, and it is on record. False for a door the rules do
    /// not name.
    pub fn exit(&self, door: DoorId) -> bool {
        self.unlock(door, Cause::Exit)
    }

    /// Ends pulses that ran out and raises held-open alarms (every 100 ms).
    pub fn tick(&self) {
        let now = self.now();
        self.record(self.states.tick(now));
    }

    /// Journals doors' changes of state as events for the server.
    fn record(&self, changes: Vec<Change>) {
        let notes = changes.into_iter().map(|change| {
            tracing::info!(door = %change.door, state = change.state.as_str(), cause = change.cause.as_str(), "door");
            let state = DoorStateEntry {
                state: change.state.as_str().to_owned(),
                cause: change.cause.as_str().to_owned(),
            };
            Note {
                door: change.door,
                at: change.at,
                door_state: Some(state),
                reader: None,
            }
        });
        self.journal_notes(notes.collect());
    }

    /// Journals a change of one of `door`'s readers (its state, or tamper) as an event for
    /// the server.
    pub fn record_reader(&self, door: DoorId, reader: ReaderEntry) {
        let at = self.now();
        self.journal_notes(vec![Note {
            door,
            at,
            door_state: None,
            reader: Some(reader),
        }]);
    }

    /// Journals what is not a decision (the decision fields empty).
    fn journal_notes(&self, notes: Vec<Note>) {
        if notes.is_empty() {
            return;
        }
        let offline = !self.connected();
        let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        for note in notes {
            let entry = Entry {
                id: Uuid::now_v7(),
                at: note.at,
                door: note.door.0,
                granted: false,
                reason: None,
                credential: String::new(),
                direction: String::new(),
                member: None,
                access: None,
                offline,
                door_state: note.door_state,
                reader: note.reader,
            };
            if let Err(err) = journal.append(entry) {
                tracing::error!(error = %err, "could not journal a change of a door or reader");
            }
        }
        drop(journal);
        self.journaled.notify_one();
    }

    /// The version and hash of the rules held: `(0, "")` for none.
    pub fn held(&self) -> (i64, String) {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        rules
            .as_ref()
            .map_or((0, String::new()), |l| (l.version, l.hash.clone()))
    }

    /// When the server last confirmed the rules held.
    pub fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        rules.as_ref().map(|l| l.confirmed_at)
    }

    /// From when the rules held open nothing unless the server confirms them again.
    pub fn stale_at(&self) -> Option<DateTime<Utc>> {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        rules
            .as_ref()
            .map(|l| l.confirmed_at + chrono::Duration::seconds(l.offline_max_age_secs))
    }

    /// Takes new rules from the server (their JSON as sent), if they are the ones `hash`
    /// names: kept on disk first, then used. The bytes are hashed and kept as they came, so
    /// rules of 250,000 cards are never serialized again here.
    pub fn replace_rules(&self, json: &[u8], hash: &str) -> anyhow::Result<()> {
        let computed = ControllerRules::hash_of(json);
        anyhow::ensure!(computed == hash, "the rules sent do not match their hash");
        let rules: ControllerRules = serde_json::from_slice(json)?;
        let now = self.now();
        self.disk.save_rules(json, now)?;
        let loaded = load(rules, computed, now);
        *self.rules.write().unwrap_or_else(PoisonError::into_inner) = Some(loaded);
        self.received(false);
        self.hold_scheduled();
        Ok(())
    }

    /// Takes changes from the server (their JSON as sent) to the rules of hash `from`,
    /// making those of `hash`: kept on disk first, then applied in place. Changes to other
    /// rules than those held are an error: the server no longer knows what this controller
    /// holds, and a new session tells it.
    pub fn apply_changes(&self, json: &[u8], from: &str, hash: &str) -> anyhow::Result<()> {
        let changes: RulesChanges = serde_json::from_slice(json)?;
        let holds = {
            let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
            rules.as_ref().is_some_and(|l| l.hash == from)
        };
        anyhow::ensure!(
            holds,
            "the server sent changes to rules this controller does not hold"
        );
        let now = self.now();
        let kept = self.disk.save_changes(from, hash, &changes, now)?;
        {
            // Held, as checked: only this task changes the rules.
            let mut rules = self.rules.write().unwrap_or_else(PoisonError::into_inner);
            if let Some(loaded) = rules.as_mut() {
                loaded.apply(changes, hash, now);
            }
        }
        self.received(true);
        self.hold_scheduled();
        if kept > FOLD_OVER {
            self.fold()?;
        }
        Ok(())
    }

    /// Folds the changes kept on disk into the rules whole. Should the rules read back not be
    /// the ones in use (a change that did not make the rules it named), those read back are
    /// used from then on, and their hash tells the server.
    pub fn fold(&self) -> anyhow::Result<()> {
        let Some(kept) = self.disk.load_rules()? else {
            return Ok(());
        };
        let mut rules = self.rules.write().unwrap_or_else(PoisonError::into_inner);
        if rules.as_ref().is_none_or(|l| l.hash != kept.hash) {
            tracing::error!("the rules kept are not those in use: using the rules kept");
            *rules = Some(load(kept.rules, kept.hash, kept.confirmed_at));
        }
        Ok(())
    }

    /// How many times rules came whole, and how many times as changes, since the start.
    pub fn updates(&self) -> (u64, u64) {
        let (whole, changes) = (&self.updates.0, &self.updates.1);
        (
            whole.load(Ordering::Relaxed),
            changes.load(Ordering::Relaxed),
        )
    }

    fn received(&self, changes: bool) {
        let counter = if changes {
            &self.updates.1
        } else {
            &self.updates.0
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Holds unlocked the doors an access keeps unlocked now (`DoorRule::held_open`, while
    /// its schedule is open; offline too), and locks the others again. Rules too old to
    /// trust, or none, hold nothing. Called every second, and at once when rules arrive.
    pub fn hold_scheduled(&self) {
        let now = self.now();
        let held: HashSet<DoorId> = {
            let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
            match rules.as_ref().filter(|l| !l.stale(now)) {
                Some(l) => l
                    .doors
                    .iter()
                    .map(|d| d.id)
                    .filter(|&d| l.engine.held_open(d, now))
                    .collect(),
                None => HashSet::new(),
            }
        };
        let mut holding = self.holding.lock().unwrap_or_else(PoisonError::into_inner);
        for &door in holding.difference(&held) {
            self.record(self.states.hold(door, false, now));
        }
        for &door in held.difference(&holding) {
            self.record(self.states.hold(door, true, now));
        }
        *holding = held;
    }

    /// A proof of presence at `door`'s reader, signed with the door's key as the server
    /// checks it, good for `reader::PROOF_TTL` (by the controller's clock, so skew shortens or
    /// lengthens it): what the reader hands a phone. `None` for a door the rules do not name.
    pub fn reader_proof(&self, door: DoorId) -> Option<(String, DateTime<Utc>)> {
        let key = self.reader_key(door)?;
        let expires_at = self.now() + reader::PROOF_TTL;
        let mut nonce = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        Some((reader::sign(&key, door, expires_at, &nonce), expires_at))
    }

    /// `door`'s reader key, from the rules held: what its proofs of presence are signed with,
    /// and what its OSDP readers' keys are derived from.
    pub fn reader_key(&self, door: DoorId) -> Option<[u8; 32]> {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        let door = rules.as_ref()?.doors.iter().find(|d| d.id == door)?;
        controller::key_of_hex(&door.reader_key)
    }

    /// How many seconds `door`'s lock is released for a grant.
    pub fn unlock_secs(&self, door: DoorId) -> Option<u32> {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        let door = rules.as_ref()?.doors.iter().find(|d| d.id == door)?;
        Some(door.unlock_duration_secs)
    }

    /// Whether `card`, presented alone at `door`, is refused only because the door wants its
    /// PIN too: then a reader with a keypad asks for the code before anything is decided.
    /// Nothing is journaled here.
    pub fn card_wants_pin(&self, door: DoorId, direction: Direction, card: &CardRead) -> bool {
        let presented = Presented::card(card);
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        let decided = decide(rules.as_ref(), door, direction, &presented, self.now());
        matches!(
            decided.decision,
            Decision::Denied(DenyReason::AuthTypeNotAllowed | DenyReason::PinRequired)
        )
    }

    /// The server decided that `door` opens (a phone, a guest link, a remote open): releases
    /// its lock for the door's unlock time. False for a door the rules held do not name.
    pub fn release(&self, door: DoorId) -> bool {
        self.unlock(door, Cause::Granted)
    }

    /// Releases `door`'s lock for its unlock time, for `cause`. False for a door the rules
    /// held do not name.
    fn unlock(&self, door: DoorId, cause: Cause) -> bool {
        let unlock = {
            let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
            rules.as_ref().and_then(|l| l.unlock_time(door))
        };
        let Some(unlock) = unlock else {
            return false;
        };
        let now = self.now();
        self.record(self.states.unlock(door, unlock, cause, now));
        true
    }

    /// The server says the rules held are current (they match `hash`). Written at most once
    /// a minute (the offline policy counts in days), and without holding the rules, which the
    /// decisions read; only the sync task changes them, so they are still those checked.
    pub fn confirm(&self, hash: &str) -> anyhow::Result<()> {
        let now = self.now();
        let due = {
            let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
            rules.as_ref().is_some_and(|l| {
                l.hash == hash && now - l.confirmed_at >= chrono::Duration::minutes(1)
            })
        };
        if due {
            self.disk.save_confirmed(now)?;
            let mut rules = self.rules.write().unwrap_or_else(PoisonError::into_inner);
            if let Some(loaded) = rules.as_mut().filter(|l| l.hash == hash) {
                loaded.confirmed_at = now;
            }
        }
        Ok(())
    }

    pub fn set_connected(&self, connected: bool) {
        self.connected
            .store(connected, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn connected(&self) -> bool {
        self.connected.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Decides what is presented at `door`'s entry reader, journals it durably, then releases
    /// the relay when granted.
    pub fn present(&self, door: DoorId, presented: &Presented) -> anyhow::Result<Answer> {
        self.present_from(door, Direction::In, presented)
    }

    /// `present` at the reader on `direction`'s side of the door.
    pub fn present_from(
        &self,
        door: DoorId,
        direction: Direction,
        presented: &Presented,
    ) -> anyhow::Result<Answer> {
        let now = self.now();
        let offline = !self.connected();
        let typed = matches!(presented, Presented::Pin(_) | Presented::CardAndPin { .. });
        let (decision, member, unlock) = if typed && self.backing_off(door, now) {
            (
                Decision::Denied(DenyReason::TooManyAttempts),
                None,
                Duration::ZERO,
            )
        } else {
            let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
            let decided = decide(rules.as_ref(), door, direction, presented, now);
            if decided.unknown_pin {
                self.guessed(door, now);
            }
            (decided.decision, decided.member, decided.unlock)
        };
        let (granted, reason, access) = match decision {
            Decision::Granted { access } => (true, None, Some(access.0)),
            Decision::Denied(reason) => (false, Some(reason), None),
        };
        let entry = Entry {
            id: Uuid::now_v7(),
            at: now,
            door: door.0,
            granted,
            reason: reason.map(|r| r.as_str().to_owned()),
            credential: auth_of(presented).as_str().to_owned(),
            direction: match direction {
                Direction::In => "in",
                Direction::Out => "out",
            }
            .into(),
            member,
            access,
            offline,
            door_state: None,
            reader: None,
        };
        let id = entry.id;
        self.journal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(entry)?;
        self.journaled.notify_one();
        if granted {
            self.record(self.states.unlock(door, unlock, Cause::Granted, now));
        }
        Ok(Answer {
            door: door.0,
            granted,
            reason,
            event: id,
            offline,
        })
    }

    /// Whether the door's keypad is backing off: too many unknown codes were typed there
    /// lately (`GUESSES_PER_DOOR`, as on the server).
    fn backing_off(&self, door: DoorId, now: DateTime<Utc>) -> bool {
        let guesses = self.guesses.lock().unwrap_or_else(PoisonError::into_inner);
        guesses.get(&door).is_some_and(|times| {
            GUESSES_PER_DOOR
                .iter()
                .any(|(window, max)| times.iter().filter(|t| now - **t < *window).count() >= *max)
        })
    }

    fn guessed(&self, door: DoorId, now: DateTime<Utc>) {
        let mut guesses = self.guesses.lock().unwrap_or_else(PoisonError::into_inner);
        let times = guesses.entry(door).or_default();
        let longest = GUESSES_PER_DOOR
            .iter()
            .map(|(w, _)| *w)
            .max()
            .unwrap_or_default();
        times.push(now);
        // Kept on disk, so that restarting the controller does not clear the back-off.
        guesses.retain(|_, times| {
            times.retain(|t| now - *t < longest);
            !times.is_empty()
        });
        if let Err(err) = self.disk.save_guesses(&guesses) {
            tracing::error!(error = %err, "could not keep the keypad's back-off on disk");
        }
    }

    /// Up to `limit` journaled decisions the server has not stored, oldest first.
    pub fn waiting(&self, limit: usize) -> Vec<Entry> {
        let journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        journal.waiting(limit).to_vec()
    }

    pub fn waiting_count(&self) -> usize {
        let journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        journal.waiting_count()
    }

    /// The server stored these decisions. The count is kept on disk after the journal is let
    /// go, so a decision meanwhile does not wait for those fsyncs; acknowledgements are taken
    /// one at a time (`acking`), so the counts reach the disk in order.
    pub fn stored(&self, ids: &[Uuid]) -> anyhow::Result<()> {
        let _acking = self.acking.lock().unwrap_or_else(PoisonError::into_inner);
        let count = {
            let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
            journal.stored(ids)?
        };
        if let Some(count) = count {
            self.disk.save_acked(count)?;
        }
        Ok(())
    }

    /// How many cards and PIN codes the rules hold.
    pub fn credential_count(&self) -> usize {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        rules.as_ref().map_or(0, |l| l.credentials)
    }

    /// The doors the rules name, with their names.
    pub fn doors(&self) -> HashMap<Uuid, String> {
        let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
        rules.as_ref().map_or_else(HashMap::new, |l| {
            l.doors.iter().map(|d| (d.id.0, d.name.clone())).collect()
        })
    }
}

/// Indexes `rules` for the engine; the rest of them is dropped.
fn load(rules: ControllerRules, hash: String, confirmed_at: DateTime<Utc>) -> Loaded {
    let site_key = rules.site_key();
    let (version, site_id, offline_max_age_secs) =
        (rules.version, rules.site_id, rules.offline_max_age_secs);
    let (credentials, doors) = (rules.credentials.len(), rules.doors.clone());
    let (engine, unreadable) = rules.into_engine();
    for (id, err) in unreadable {
        tracing::error!(schedule = %id, error = %err, "unreadable schedule: it opens nothing");
    }
    Loaded {
        version,
        hash,
        site_id,
        offline_max_age_secs,
        doors,
        credentials,
        confirmed_at,
        engine,
        site_key,
    }
}

fn auth_of(presented: &Presented) -> AuthType {
    match presented {
        Presented::Card { .. } => AuthType::Card,
        Presented::Pin(_) => AuthType::Pin,
        Presented::CardAndPin { .. } => AuthType::CardAndPin,
    }
}

struct Decided {
    decision: Decision,
    /// Whom the credential stood for.
    member: Option<Uuid>,
    /// How long to release the lock.
    unlock: Duration,
    /// A typed code no one has at this site: a guess.
    unknown_pin: bool,
}

fn denied(reason: DenyReason, unlock: Duration) -> Decided {
    Decided {
        decision: Decision::Denied(reason),
        member: None,
        unlock,
        unknown_pin: false,
    }
}

fn decide(
    loaded: Option<&Loaded>,
    door: DoorId,
    direction: Direction,
    presented: &Presented,
    now: DateTime<Utc>,
) -> Decided {
    let Some(loaded) = loaded else {
        // No rules yet: nothing is known here.
        return denied(DenyReason::RulesStale, Duration::ZERO);
    };
    let unlock = loaded.unlock_time(door).unwrap_or(Duration::ZERO);
    if loaded.stale(now) {
        return denied(DenyReason::RulesStale, unlock);
    }
    let pin_key = |code: &str| {
        loaded
            .site_key
            .map(|key| credential::pin_key(loaded.site_id, &pin_digest(&key, code)))
    };
    let (first, pin) = match presented {
        Presented::Card {
            facility_code,
            number,
        } => (credential::card_key(*facility_code, number), None),
        Presented::Pin(code) => match pin_key(code) {
            Some(key) => (key.clone(), Some(key)),
            None => return denied(DenyReason::UnknownCredential, unlock),
        },
        Presented::CardAndPin {
            facility_code,
            number,
            pin,
        } => (credential::card_key(*facility_code, number), pin_key(pin)),
    };
    let request = Request {
        credential: &first,
        door,
        direction,
        auth: auth_of(presented),
        at: now,
        phone: None,
    };
    let decision = match (presented, &pin) {
        (Presented::CardAndPin { .. }, Some(pin)) => loaded.engine.decide_pair(&request, pin),
        (Presented::CardAndPin { .. }, None) => Decision::Denied(DenyReason::UnknownCredential),
        _ => loaded.engine.decide(&request),
    };
    Decided {
        decision,
        member: loaded.engine.credential(&first).map(|c| c.member.0),
        unlock,
        unknown_pin: pin
            .as_ref()
            .is_some_and(|pin| loaded.engine.credential(pin).is_none()),
    }
}

#[cfg(test)]
mod tests {
    use lintel_domain::controller::{ControllerDoor, ControllerRules, hex};
    use lintel_domain::decision::{AccessRule, AuthTypes, CredentialRule, DoorRule, MemberRule};
    use lintel_domain::schedule::{Schedule, WindowText};
    use lintel_domain::{AccessId, ControllerId, MembershipId, ScheduleId, SiteId, TimeZone};
    use lintel_testkit::FakeClock;

    use super::*;
    use crate::io::SimulatedRelays;

    const SITE_KEY: [u8; 32] = [7; 32];

    struct Fixture {
        doors: Doors,
        relays: Arc<SimulatedRelays>,
        clock: FakeClock,
        door: DoorId,
        /// The rules sent.
        rules: ControllerRules,
        _dir: tempfile::TempDir,
    }

    /// One door; Ada may open it by card or PIN: card 12/1001, code 480213.
    fn fixture() -> Fixture {
        let clock = FakeClock::new();
        let now = clock.now();
        let door = DoorId::new(now);
        let ada = MembershipId::new(now);
        let site = SiteId::new(now);
        let rules = ControllerRules {
            version: 1,
            controller_id: ControllerId::new(now),
            site_id: site,
            pin_site_key: hex(&SITE_KEY),
            offline_max_age_secs: 3600,
            doors: vec![ControllerDoor {
                id: door,
                name: "Front".into(),
                unlock_duration_secs: 5,
                reader_key: hex(&[3; 32]),
            }],
            schedules: vec![],
            members: vec![MemberRule {
                id: ada,
                active: true,
                groups: vec![],
            }],
            accesses: vec![AccessRule {
                id: AccessId::new(now),
                valid_from: None,
                valid_to: None,
                schedule: None,
                doors: vec![DoorRule {
                    door,
                    in_types: AuthTypes::of([AuthType::Card, AuthType::Pin, AuthType::CardAndPin]),
                    out_types: AuthTypes::ANY,
                    held_open: false,
                }],
                members: vec![ada],
                groups: vec![],
            }],
            credentials: vec![
                (
                    credential::card_key(Some(12), "1001"),
                    CredentialRule {
                        member: ada,
                        revoked: false,
                    },
                ),
                (
                    credential::pin_key(site, &pin_digest(&SITE_KEY, "480213")),
                    CredentialRule {
                        member: ada,
                        revoked: false,
                    },
                ),
            ],
        };
        let dir = tempfile::tempdir().unwrap();
        let relays = Arc::new(SimulatedRelays::default());
        let doors = Doors::open_with_clock(
            Disk::open(dir.path()).unwrap(),
            relays.clone(),
            Arc::new(clock.clone()),
        )
        .unwrap();
        send(&doors, &rules);
        Fixture {
            doors,
            relays,
            clock,
            door,
            rules,
            _dir: dir,
        }
    }

    /// `rules` as the server sends them.
    fn send(doors: &Doors, rules: &ControllerRules) {
        let json = serde_json::to_vec(rules).unwrap();
        doors.replace_rules(&json, &rules.hash()).unwrap();
    }

    fn card(number: &str) -> Presented {
        Presented::Card {
            facility_code: Some(12),
            number: number.into(),
        }
    }

    #[test]
    fn cards_and_codes_are_decided_journaled_and_release_the_relay() {
        let f = fixture();
        // Each presented after the last unlock ran out (5 s), so each is a pulse of its own.
        let present = |presented: &Presented| {
            let answer = f.doors.present(f.door, presented).unwrap();
            f.clock.advance(chrono::Duration::seconds(6));
            f.doors.tick();
            answer
        };
        let answer = present(&card("1001"));
        assert!(answer.granted && answer.offline, "{answer:?}");
        let answer = present(&Presented::Pin("480213".into()));
        assert!(answer.granted, "{answer:?}");
        let answer = present(&card("1002"));
        assert_eq!(answer.reason, Some(DenyReason::UnknownCredential));
        let both = Presented::CardAndPin {
            facility_code: Some(12),
            number: "1001".into(),
            pin: "480213".into(),
        };
        assert!(present(&both).granted);
        assert_eq!(f.relays.states()[0].pulses, 3);
        // Journaled: each decision, and each change of the door's state it made.
        let waiting: Vec<String> = f
            .doors
            .waiting(20)
            .iter()
            .map(|e| match &e.door_state {
                Some(s) => format!("{} ({})", s.state, s.cause),
                None => format!("granted {}", e.granted),
            })
            .collect();
        let unlocked_then_locked = ["unlocked (granted)", "locked (timeout)"];
        let mut expected = vec!["granted true"];
        expected.extend(unlocked_then_locked);
        expected.push("granted true");
        expected.extend(unlocked_then_locked);
        expected.push("granted false");
        expected.push("granted true");
        expected.extend(unlocked_then_locked);
        assert_eq!(waiting, expected);
    }

    #[test]
    fn the_keypad_backs_off_after_five_unknown_codes_and_cards_still_open() {
        let f = fixture();
        for code in ["111111", "222222", "333333", "444444", "555555"] {
            let answer = f
                .doors
                .present(f.door, &Presented::Pin(code.into()))
                .unwrap();
            assert_eq!(answer.reason, Some(DenyReason::UnknownCredential));
        }
        // Even the right code is not decided now: guessing it would be too easy.
        let answer = f
            .doors
            .present(f.door, &Presented::Pin("480213".into()))
            .unwrap();
        assert_eq!(answer.reason, Some(DenyReason::TooManyAttempts));
        assert!(f.doors.present(f.door, &card("1001")).unwrap().granted);
        // Restarting the controller does not clear it.
        let again = restarted(&f);
        let answer = again
            .present(f.door, &Presented::Pin("480213".into()))
            .unwrap();
        assert_eq!(answer.reason, Some(DenyReason::TooManyAttempts));
        f.clock.advance(chrono::Duration::minutes(11));
        let answer = f
            .doors
            .present(f.door, &Presented::Pin("480213".into()))
            .unwrap();
        assert!(answer.granted, "{answer:?}");
    }

    #[test]
    fn rules_not_confirmed_for_longer_than_the_site_allows_open_nothing() {
        let f = fixture();
        f.clock.advance(chrono::Duration::minutes(59));
        assert!(f.doors.present(f.door, &card("1001")).unwrap().granted);
        f.clock.advance(chrono::Duration::minutes(2));
        let answer = f.doors.present(f.door, &card("1001")).unwrap();
        assert_eq!(answer.reason, Some(DenyReason::RulesStale));
        // Confirmed again by the server: it opens again.
        let (_, hash) = f.doors.held();
        f.doors.confirm(&hash).unwrap();
        assert!(f.doors.present(f.door, &card("1001")).unwrap().granted);
    }

    #[test]
    fn an_access_s_schedule_holds_its_door_unlocked_while_open_and_trusted() {
        let f = fixture();
        let (_, hash) = f.doors.held();
        let mut rules = f.doors.disk.load_rules().unwrap().unwrap().rules;
        assert_eq!(rules.hash(), hash);
        let now = f.clock.now();
        let schedule = ScheduleId::new(now);
        rules.version += 1;
        rules.schedules = vec![Schedule {
            id: schedule,
            name: "Opening hours".into(),
            time_zone: TimeZone::parse("time_zone", "UTC").unwrap(),
            windows: lintel_domain::schedule::DAY_NAMES
                .map(|day| WindowText {
                    day: day.into(),
                    start: "08:00".into(),
                    end: "17:00".into(),
                })
                .to_vec(),
            exceptions: vec![],
            created_at: now,
            updated_at: now,
        }];
        let held = |rules: &mut ControllerRules, held_open: bool, schedule: Option<ScheduleId>| {
            rules.accesses[0].doors[0].held_open = held_open;
            rules.accesses[0].schedule = schedule;
            rules.version += 1;
        };
        let released = |f: &Fixture| {
            let held = f.doors.door_views().iter().any(|d| d.held && d.released);
            assert_eq!(held, f.relays.states().iter().any(|r| r.released));
            held
        };
        let day = now.date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
        f.clock.set(day);

        // Not asked to: the schedule opens the door for cards only.
        held(&mut rules, false, Some(schedule));
        send(&f.doors, &rules);
        assert!(!released(&f));
        // Asked to, within the schedule: unlocked as the rules arrive.
        held(&mut rules, true, Some(schedule));
        send(&f.doors, &rules);
        assert!(released(&f), "{:?}", f.relays.states());
        // The schedule closes, and opens the next morning.
        f.clock.set(day + chrono::Duration::hours(8));
        send(&f.doors, &rules);
        assert!(!released(&f));
        f.clock.set(day + chrono::Duration::hours(23));
        send(&f.doors, &rules);
        assert!(released(&f));
        // Rules unconfirmed past the site's limit hold nothing, though the schedule is open.
        f.clock.advance(chrono::Duration::minutes(61));
        f.doors.hold_scheduled();
        assert!(!released(&f));
        // An access without a schedule holds nothing.
        held(&mut rules, true, None);
        send(&f.doors, &rules);
        assert!(!released(&f));
    }

    #[test]
    fn a_confirmation_outlives_a_restart_without_the_rules_written_again() {
        let f = fixture();
        let rules_file = f._dir.path().join("rules.json");
        let written = std::fs::read(&rules_file).unwrap();
        let (_, hash) = f.doors.held();
        f.clock.advance(chrono::Duration::minutes(50));
        f.doors.confirm(&hash).unwrap();
        f.doors.confirm("another hash").unwrap();
        assert_eq!(std::fs::read(&rules_file).unwrap(), written);

        let again = Doors::open_with_clock(
            Disk::open(f._dir.path()).unwrap(),
            f.relays.clone(),
            Arc::new(f.clock.clone()),
        )
        .unwrap();
        assert_eq!(again.held(), f.doors.held());
        assert_eq!(again.confirmed_at(), Some(f.clock.now()));
        // An hour after the first rules, but minutes after the confirmation: still opens.
        f.clock.advance(chrono::Duration::minutes(30));
        assert!(again.present(f.door, &card("1001")).unwrap().granted);
    }

    /// The controller of `f`'s data directory, started again.
    fn restarted(f: &Fixture) -> Doors {
        Doors::open_with_clock(
            Disk::open(f._dir.path()).unwrap(),
            f.relays.clone(),
            Arc::new(f.clock.clone()),
        )
        .unwrap()
    }

    /// Sends `new` as changes from the rules `f` holds.
    fn send_changes(doors: &Doors, old: &ControllerRules, new: &ControllerRules) {
        let changes = old.changes_to(new).unwrap();
        let json = serde_json::to_vec(&changes).unwrap();
        doors
            .apply_changes(&json, &old.hash(), &new.hash())
            .unwrap();
    }

    #[test]
    fn changes_apply_in_place_outlive_a_restart_and_fold_into_the_rules() {
        let f = fixture();
        let ada = f.rules.members[0].id;
        // Card 1001 revoked, card 1002 new, the door renamed.
        let mut new = f.rules.clone();
        new.version = 2;
        new.doors[0].name = "Front door".into();
        new.credentials[0].1.revoked = true;
        new.credentials.push((
            credential::card_key(Some(12), "1002"),
            CredentialRule {
                member: ada,
                revoked: false,
            },
        ));
        new.credentials.sort_by(|a, b| a.0.cmp(&b.0));
        send_changes(&f.doors, &f.rules, &new);
        assert_eq!(f.doors.held(), (2, new.hash()));
        assert_eq!(f.doors.updates(), (1, 1));
        assert_eq!(f.doors.credential_count(), 3);
        let decided = |doors: &Doors| {
            ["1001", "1002", "1003"].map(|n| doors.present(f.door, &card(n)).unwrap().reason)
        };
        let expected = [
            Some(DenyReason::CredentialRevoked),
            None,
            Some(DenyReason::UnknownCredential),
        ];
        assert_eq!(decided(&f.doors), expected);
        // Changes to rules other than those held are refused, and change nothing.
        let json = serde_json::to_vec(&new.changes_to(&f.rules).unwrap()).unwrap();
        assert!(
            f.doors
                .apply_changes(&json, "other", &f.rules.hash())
                .is_err()
        );
        assert_eq!(f.doors.held(), (2, new.hash()));

        // Kept on disk: the same rules after a restart, which folds them into rules.json.
        let changes_file = f._dir.path().join("rules.changes.jsonl");
        assert!(std::fs::metadata(&changes_file).unwrap().len() > 0);
        let again = restarted(&f);
        assert_eq!(again.held(), (2, new.hash()));
        assert_eq!(decided(&again), expected);
        assert_eq!(std::fs::metadata(&changes_file).unwrap().len(), 0);
        let rules_file = std::fs::read(f._dir.path().join("rules.json")).unwrap();
        assert_eq!(ControllerRules::hash_of(&rules_file), new.hash());

        // Rules sent whole afterwards replace both; a line cut short by a crash is dropped.
        let mut third = new.clone();
        third.version = 3;
        third.credentials.retain(|(_, rule)| !rule.revoked);
        send_changes(&again, &new, &third);
        let mut text = std::fs::read(&changes_file).unwrap();
        text.extend_from_slice(b"{\"from\":\"");
        std::fs::write(&changes_file, text).unwrap();
        let after_crash = restarted(&f);
        assert_eq!(after_crash.held(), (3, third.hash()));
        assert_eq!(after_crash.credential_count(), 2);

        // A crash that leaves only a torn line: the next changes still read back.
        std::fs::write(&changes_file, b"{\"from\":\"").unwrap();
        let again = restarted(&f);
        let mut fourth = third.clone();
        fourth.version = 4;
        fourth.doors[0].unlock_duration_secs = 9;
        send_changes(&again, &third, &fourth);
        assert_eq!(restarted(&f).held(), (4, fourth.hash()));
    }

    #[test]
    fn a_change_on_disk_that_does_not_make_the_rules_it_names_is_not_used() {
        let f = fixture();
        let mut new = f.rules.clone();
        new.version = 2;
        new.credentials[0].1.revoked = true;
        // Said to make other rules than it does: applied in place (the hash is the server's
        // word), caught when read back, and the rules before it used.
        let changes = f.rules.changes_to(&new).unwrap();
        let json = serde_json::to_vec(&changes).unwrap();
        f.doors
            .apply_changes(&json, &f.rules.hash(), "not the hash they make")
            .unwrap();
        f.doors.fold().unwrap();
        assert_eq!(f.doors.held(), (1, f.rules.hash()));
        assert!(f.doors.present(f.door, &card("1001")).unwrap().granted);
        // A controller without rules takes no changes, to any hash.
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(f.clock.clone());
        let empty =
            Doors::open_with_clock(Disk::open(dir.path()).unwrap(), f.relays.clone(), clock);
        assert!(
            empty
                .unwrap()
                .apply_changes(&json, "", &new.hash())
                .is_err()
        );
    }
}
