//! What the controller keeps across restarts and power loss, in its data directory:
//!
//! - `rules.json`: the last rules the server sent whole. Replaced whole (written beside,
//!   fsynced, renamed over, the directory fsynced), so a crash leaves the old rules or the
//!   new ones, never a mix. `rules.changes.jsonl`: the changes the server sent since, one
//!   line each (the hash they apply to, the hash they make, the changes), appended and
//!   fsynced before they are used; read back in order on start, each checked against the
//!   hash it makes, then folded into a new `rules.json` (as also once the file grows past
//!   `FOLD_OVER`). `rules.confirmed`: when the server last said they are still the rules to
//!   have (written the same way, a few bytes, so confirming never rewrites the rules).
//! - `keypad.json`: when unknown PIN codes were typed at each door within the longest back-off
//!   window, so that a restart does not clear the keypad's back-off.
//! - `journal.jsonl`: every decision and every change of a door's state, one line each, written and fsynced before the relay
//!   fires or the answer is given (over zeros written ahead of time, `JOURNAL_AHEAD`; reading
//!   stops at the first line that does not read). `journal.acked` holds how many of its first lines the server
//!   has stored; once it has them all and they pass `COMPACT_OVER`, its lines are zeroed
//!   (`acked` first set back to 0, so a crash in between sends some again, which the server
//!   stores once, and loses none).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use lintel_domain::DoorId;
use lintel_domain::controller::{ControllerRules, RulesChanges};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const RULES: &str = "rules.json";
const CHANGES: &str = "rules.changes.jsonl";
const GUESSES: &str = "keypad.json";
/// Past this size, the changes kept are folded into the rules whole.
pub const FOLD_OVER: u64 = 4 << 20;

/// One line of `rules.changes.jsonl`.
#[derive(Deserialize)]
struct ChangeLine {
    from: String,
    hash: String,
    changes: RulesChanges,
}

#[derive(Serialize)]
struct ChangeLineRef<'a> {
    from: &'a str,
    hash: &'a str,
    changes: &'a RulesChanges,
}

/// The rules as kept on disk.
#[derive(Debug, Clone)]
pub struct KeptRules {
    pub rules: ControllerRules,
    /// Their hash, of the bytes kept.
    pub hash: String,
    /// When the server last said these are the rules to have.
    pub confirmed_at: DateTime<Utc>,
}

/// One decision, as journaled and handed over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub door: Uuid,
    pub granted: bool,
    /// The deny reason's name when denied.
    pub reason: Option<String>,
    /// `card`, `pin` or `card_and_pin`.
    pub credential: String,
    /// `in` or `out`.
    pub direction: String,
    pub member: Option<Uuid>,
    pub access: Option<Uuid>,
    pub offline: bool,
    /// Set when the entry is a door's change of state rather than a decision (whose fields
    /// are then empty); absent from older journals, which hold only decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door_state: Option<DoorStateEntry>,
    /// Set when the entry is a change of one of the door's readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<ReaderEntry>,
}

/// A reader's change of state, as journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderEntry {
    /// Its name in the controller's configuration.
    pub name: String,
    /// `online`, `offline`, `refused` or `install_mode`.
    pub state: String,
    /// Its case reported open.
    pub tamper: bool,
}

/// A door's change of state, as journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoorStateEntry {
    /// `locked`, `unlocked`, `open`, `held_open` or `forced_open`.
    pub state: String,
    /// Why: `granted`, `schedule`, `exit`, `opened`, `closed`, `timeout`, `held_too_long`.
    pub cause: String,
}

#[derive(Clone)]
pub struct Disk {
    dir: PathBuf,
}

impl Disk {
    pub fn open(dir: &Path) -> anyhow::Result<Disk> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
        Ok(Disk {
            dir: dir.to_owned(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Replaces `name` whole with `bytes`: written beside, fsynced, renamed over it, and the
    /// directory fsynced so the rename itself survives power loss.
    fn replace(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let beside = self.path(&format!("{name}.new"));
        let mut file = File::create(&beside)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&beside, self.path(name))?;
        File::open(&self.dir)?.sync_all()
    }

    /// Replaces `name` whole with what `write` writes, as `replace` does.
    fn replace_with(
        &self,
        name: &str,
        write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let beside = self.path(&format!("{name}.new"));
        let mut out = BufWriter::new(File::create(&beside)?);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        fs::rename(&beside, self.path(name))?;
        File::open(&self.dir)?.sync_all()
    }

    /// The rules kept: those the server sent whole (`rules.json`) with the changes it sent
    /// since applied in order, each only onto the rules it was made for and only if it makes
    /// the rules its hash names (a line cut short by a crash, or a change that does not,
    /// ends them there). What was read is folded into a new `rules.json`. Confirmed when
    /// `rules.confirmed` says; without that (a crash between the two writes of the very first
    /// rules) they count as never confirmed: stale, they open nothing until the server
    /// confirms them.
    pub fn load_rules(&self) -> anyhow::Result<Option<KeptRules>> {
        let bytes = match fs::read(self.path(RULES)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut hash = ControllerRules::hash_of(&bytes);
        let mut rules: ControllerRules = serde_json::from_slice(&bytes)?;
        drop(bytes);
        let lines = self.changes()?;
        if !lines.is_empty() {
            let read = lines.len();
            // Chained by the hashes the lines name, and the rules hashed once at the end:
            // hashing 250,000 cards after each of thousands of lines would take minutes.
            let mut applied = 0;
            let mut named = hash.clone();
            for line in &lines {
                if line.from != named {
                    break;
                }
                rules.apply(&line.changes);
                named.clone_from(&line.hash);
                applied += 1;
            }
            if applied > 0 {
                hash = rules.hash();
                if hash != named {
                    let good = self.lines_that_hold(&lines[..applied])?;
                    tracing::error!(
                        line = good + 1,
                        "rule changes on disk do not make the rules they name; using those before them"
                    );
                    return self.fold(good);
                }
            }
            if applied < read {
                tracing::warn!(
                    applied,
                    read,
                    "rule changes on disk left unapplied (cut short, or not for these rules)"
                );
            }
            if applied > 0 {
                self.replace_with(RULES, |out| Ok(serde_json::to_writer(out, &rules)?))?;
            }
        }
        // Emptied whenever it holds anything, a torn line alone included: the next changes
        // must start a line of their own.
        if fs::metadata(self.path(CHANGES)).is_ok_and(|m| m.len() > 0) {
            self.replace(CHANGES, b"")?;
        }
        let confirmed_at = fs::read_to_string(self.path("rules.confirmed"))
            .ok()
            .and_then(|text| DateTime::parse_from_rfc3339(text.trim()).ok())
            .map_or(DateTime::UNIX_EPOCH, |at| at.with_timezone(&Utc));
        Ok(Some(KeptRules {
            rules,
            hash,
            confirmed_at,
        }))
    }

    /// How many of `lines`, applied in order onto `rules.json`, each make the rules they
    /// name (the slow way, hashing after each: only when the quick check failed).
    fn lines_that_hold(&self, lines: &[ChangeLine]) -> anyhow::Result<usize> {
        let mut rules: ControllerRules = serde_json::from_slice(&fs::read(self.path(RULES))?)?;
        let mut good = 0;
        for line in lines {
            rules.apply(&line.changes);
            if rules.hash() != line.hash {
                break;
            }
            good += 1;
        }
        Ok(good)
    }

    /// Keeps the rules with only the first `count` lines of changes applied.
    fn fold(&self, count: usize) -> anyhow::Result<Option<KeptRules>> {
        let lines = self.changes()?;
        let mut rules: ControllerRules = serde_json::from_slice(&fs::read(self.path(RULES))?)?;
        for line in &lines[..count] {
            rules.apply(&line.changes);
        }
        self.replace_with(RULES, |out| Ok(serde_json::to_writer(out, &rules)?))?;
        self.replace(CHANGES, b"")?;
        self.load_rules()
    }

    /// The lines of changes kept, up to the first that does not read.
    fn changes(&self) -> anyhow::Result<Vec<ChangeLine>> {
        let file = match File::open(self.path(CHANGES)) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut lines = Vec::new();
        for line in BufReader::new(file).lines() {
            match serde_json::from_str::<ChangeLine>(&line?) {
                Ok(line) => lines.push(line),
                Err(_) => break,
            }
        }
        Ok(lines)
    }

    /// Keeps new rules exactly as the server sent them (`json`), then their confirmation.
    /// The changes kept are dropped first: a crash in between leaves the older rules whole.
    /// A crash before the confirmation leaves the new rules with the older one: they may
    /// look staler than they are, never fresher.
    pub fn save_rules(&self, json: &[u8], confirmed_at: DateTime<Utc>) -> anyhow::Result<()> {
        self.replace(CHANGES, b"")?;
        self.replace(RULES, json)?;
        Ok(self.save_confirmed(confirmed_at)?)
    }

    /// Keeps changes the server sent to the rules of hash `from`, making those of `hash`,
    /// then their confirmation; returns how large the file of changes has grown.
    pub fn save_changes(
        &self,
        from: &str,
        hash: &str,
        changes: &RulesChanges,
        confirmed_at: DateTime<Utc>,
    ) -> anyhow::Result<u64> {
        let mut line = serde_json::to_vec(&ChangeLineRef {
            from,
            hash,
            changes,
        })?;
        line.push(b'\n');
        let path = self.path(CHANGES);
        let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
        file.write_all(&line)?;
        file.sync_data()?;
        let size = file.metadata()?.len();
        if size == line.len() as u64 {
            // A new file: its name must survive power loss too.
            File::open(&self.dir)?.sync_all()?;
        }
        self.save_confirmed(confirmed_at)?;
        Ok(size)
    }

    /// When unknown PIN codes were typed at each door lately, as `save_guesses` kept them;
    /// none when there is no such file or it does not read.
    pub fn load_guesses(&self) -> HashMap<DoorId, Vec<DateTime<Utc>>> {
        fs::read(self.path(GUESSES))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Keeps the keypad's recent unknown codes (their times only), replaced whole.
    pub fn save_guesses(
        &self,
        guesses: &HashMap<DoorId, Vec<DateTime<Utc>>>,
    ) -> anyhow::Result<()> {
        Ok(self.replace(GUESSES, &serde_json::to_vec(guesses)?)?)
    }

    /// Notes that the server confirmed the rules kept, without writing them again.
    pub fn save_confirmed(&self, at: DateTime<Utc>) -> std::io::Result<()> {
        self.replace("rules.confirmed", at.to_rfc3339().as_bytes())
    }

    /// How many of the journal's first lines the server has stored.
    pub fn save_acked(&self, count: usize) -> std::io::Result<()> {
        self.replace("journal.acked", count.to_string().as_bytes())
    }
}

/// The journal of decisions not yet stored by the server, on disk and in memory.
pub struct Journal {
    disk_dir: PathBuf,
    file: File,
    /// Every line of the file, in order.
    entries: Vec<Entry>,
    /// How many of the first entries the server has stored.
    acked: usize,
    /// Where the next line goes: the bytes before are the entries' lines, those after zeros.
    end: u64,
    /// How long the file is, zeros included.
    allocated: u64,
}

/// The journal is kept written out with zeros this far ahead of its last line: a line then
/// overwrites blocks already on disk, so its fdatasync has no file size or block allocation
/// to write as well (the one write a decision waits for before the relay fires).
const JOURNAL_AHEAD: u64 = if cfg!(test) { 4096 } else { 1 << 20 };
/// Lines the server has all stored are zeroed once they pass this size, rather than at every
/// acknowledgement: zeroing holds the journal, and so the next decision, for two fsyncs.
const COMPACT_OVER: u64 = if cfg!(test) { 1 } else { 256 << 10 };

impl Journal {
    /// Opens the journal, reading what a previous run left. A last line cut short by a crash
    /// is dropped: it was never fsynced, so no answer was given for it.
    pub fn open(disk: &Disk) -> anyhow::Result<Journal> {
        let path = disk.path("journal.jsonl");
        let mut entries = Vec::new();
        if let Ok(file) = File::open(&path) {
            for line in BufReader::new(file).lines() {
                match serde_json::from_str::<Entry>(&line?) {
                    Ok(entry) => entries.push(entry),
                    Err(_) => break,
                }
            }
        }
        let acked = match fs::read_to_string(disk.path("journal.acked")) {
            Ok(text) => text.trim().parse::<usize>().unwrap_or(0),
            Err(_) => 0,
        }
        .min(entries.len());
        // Rewrite what was read, so a torn last line is gone before anything is appended.
        let mut journal = Journal {
            disk_dir: disk.dir.clone(),
            file: OpenOptions::new().create(true).append(true).open(&path)?,
            entries,
            acked,
            end: 0,
            allocated: 0,
        };
        journal.rewrite()?;
        Ok(journal)
    }

    fn disk(&self) -> Disk {
        Disk {
            dir: self.disk_dir.clone(),
        }
    }

    /// Writes the file again: the entries' lines, then zeros up to the next `JOURNAL_AHEAD`.
    fn rewrite(&mut self) -> anyhow::Result<()> {
        let mut text = Vec::new();
        for e in &self.entries {
            serde_json::to_writer(&mut text, e)?;
            text.push(b'\n');
        }
        self.end = text.len() as u64;
        self.allocated = (self.end / JOURNAL_AHEAD + 1) * JOURNAL_AHEAD;
        text.resize(usize::try_from(self.allocated)?, 0);
        self.disk().replace("journal.jsonl", &text)?;
        self.file = OpenOptions::new()
            .write(true)
            .open(self.disk_dir.join("journal.jsonl"))?;
        Ok(())
    }

    /// Appends a decision and makes it durable before returning.
    pub fn append(&mut self, entry: Entry) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(&entry)?;
        line.push(b'\n');
        let len = line.len() as u64;
        if self.end + len > self.allocated {
            let more = JOURNAL_AHEAD.max(len);
            self.file
                .write_all_at(&vec![0; usize::try_from(more)?], self.allocated)?;
            self.file.sync_all()?;
            self.allocated += more;
        }
        self.file.write_all_at(&line, self.end)?;
        self.file.sync_data()?;
        self.end += len;
        self.entries.push(entry);
        Ok(())
    }

    /// Entries the server has not yet stored, oldest first, at most `limit`.
    pub fn waiting(&self, limit: usize) -> &[Entry] {
        let end = self.entries.len().min(self.acked + limit);
        &self.entries[self.acked..end]
    }

    pub fn waiting_count(&self) -> usize {
        self.entries.len() - self.acked
    }

    /// Notes that the server stored these entries. Once it has them all and the lines pass
    /// `COMPACT_OVER`, they are zeroed (the count first set back to 0, so a crash in between
    /// sends some again rather than losing any). Otherwise the new count is returned for the
    /// caller to keep in `journal.acked` (`Disk::save_acked`) without holding the journal,
    /// whose lock the decisions wait for.
    pub fn stored(&mut self, ids: &[Uuid]) -> anyhow::Result<Option<usize>> {
        let ids: std::collections::HashSet<&Uuid> = ids.iter().collect();
        let before = self.acked;
        while self.acked < self.entries.len() && ids.contains(&self.entries[self.acked].id) {
            self.acked += 1;
        }
        if self.acked == before {
            return Ok(None);
        }
        if self.acked == self.entries.len() && self.end >= COMPACT_OVER {
            // Forget the count first: a crash before the file is emptied sends them again.
            self.disk().save_acked(0)?;
            // Zeros over the lines (not a new file: the blocks ahead stay written).
            self.file
                .write_all_at(&vec![0; usize::try_from(self.end)?], 0)?;
            self.file.sync_data()?;
            self.end = 0;
            self.entries.clear();
            self.acked = 0;
            return Ok(None);
        }
        Ok(Some(self.acked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128) -> Entry {
        Entry {
            id: Uuid::from_u128(n),
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            door: Uuid::from_u128(7),
            granted: true,
            reason: None,
            credential: "card".into(),
            direction: "in".into(),
            member: None,
            access: None,
            offline: true,
            door_state: None,
            reader: None,
        }
    }

    #[test]
    fn the_journal_keeps_what_the_server_has_not_stored_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::open(dir.path()).unwrap();
        let mut journal = Journal::open(&disk).unwrap();
        for n in 1..=3 {
            journal.append(entry(n)).unwrap();
        }
        // The count is the caller's to keep (outside the journal's lock).
        assert_eq!(journal.stored(&[Uuid::from_u128(1)]).unwrap(), Some(1));
        disk.save_acked(1).unwrap();
        drop(journal);

        let mut journal = Journal::open(&disk).unwrap();
        let waiting: Vec<u128> = journal.waiting(10).iter().map(|e| e.id.as_u128()).collect();
        assert_eq!(waiting, [2, 3]);
        // Stored out of order: only the leading run counts.
        assert_eq!(journal.stored(&[Uuid::from_u128(3)]).unwrap(), None);
        assert_eq!(journal.waiting_count(), 2);
        journal
            .stored(&[Uuid::from_u128(2), Uuid::from_u128(3)])
            .unwrap();
        assert_eq!(journal.waiting_count(), 0);
        drop(journal);
        let journal = Journal::open(&disk).unwrap();
        assert_eq!(journal.waiting_count(), 0);
        let text = fs::read(dir.path().join("journal.jsonl")).unwrap();
        assert!(
            text.iter().all(|&b| b == 0),
            "only the zeros written ahead are left"
        );

        // Written again from the start, past the zeros written ahead (so the file grows),
        // and read back alike.
        let mut journal = Journal::open(&disk).unwrap();
        for n in 10..60 {
            journal.append(entry(n)).unwrap();
        }
        drop(journal);
        let len = fs::metadata(dir.path().join("journal.jsonl"))
            .unwrap()
            .len();
        assert!(len > JOURNAL_AHEAD, "{len}");
        let journal = Journal::open(&disk).unwrap();
        let ids: Vec<u128> = journal
            .waiting(100)
            .iter()
            .map(|e| e.id.as_u128())
            .collect();
        assert_eq!(ids, (10..60).collect::<Vec<_>>());
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_dropped_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::open(dir.path()).unwrap();
        let mut journal = Journal::open(&disk).unwrap();
        journal.append(entry(1)).unwrap();
        journal.append(entry(2)).unwrap();
        drop(journal);
        let path = dir.path().join("journal.jsonl");
        let mut text = fs::read(&path).unwrap();
        text.extend_from_slice(b"{\"id\":\"0000");
        fs::write(&path, text).unwrap();

        let mut journal = Journal::open(&disk).unwrap();
        assert_eq!(journal.waiting_count(), 2);
        journal.append(entry(3)).unwrap();
        drop(journal);
        let journal = Journal::open(&disk).unwrap();
        let ids: Vec<u128> = journal.waiting(10).iter().map(|e| e.id.as_u128()).collect();
        assert_eq!(ids, [1, 2, 3]);
    }
}
