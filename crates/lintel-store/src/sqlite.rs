//! The SQLite backend: one database file in WAL mode, a single writer connection (so writers
//! queue instead of failing with "database is locked") and a pool of readers.

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lintel_domain::OrgId;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use crate::group::GroupCommit;
use crate::signals::{Receiver, Signal, Signals};
use crate::{Migration, StoreError};

type Db = sqlx::Sqlite;
type Backend = SqliteStore;

const MIGRATIONS: &[Migration] = crate::migrate::SQLITE;
const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS lintel_migrations (
    version INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    signals: Arc<Signals>,
    events: GroupCommit,
}

/// Rows of `rule_versions` and `events` a transaction on the writer changed, by rowid.
#[derive(Default)]
struct Changed {
    rules: Vec<i64>,
    events: Vec<i64>,
}

/// The organizations of those rows of `table` (`rule_versions` or `events`).
async fn orgs_of(
    conn: &mut sqlx::SqliteConnection,
    table: &str,
    mut rowids: Vec<i64>,
) -> Result<Vec<OrgId>, sqlx::Error> {
    rowids.sort_unstable();
    rowids.dedup();
    let mut orgs = Vec::new();
    // A batch may add thousands of events: well under SQLite's limit of bound values.
    for chunk in rowids.chunks(1000) {
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT DISTINCT org_id FROM {table} WHERE rowid IN ("
        ));
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(")");
        let found: Vec<(Uuid,)> = q.build_query_as().fetch_all(&mut *conn).await?;
        orgs.extend(found.into_iter().map(|(org,)| OrgId(org)));
    }
    orgs.sort_unstable();
    orgs.dedup();
    Ok(orgs)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::create_private_dir(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        // Readable by the owner only; SQLite gives its -wal and -shm files the same mode.
        let mut file = std::fs::OpenOptions::new();
        file.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
        file.open(path)
            .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", path.display())))?;
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let signals = Arc::new(Signals::default());
        // The `rule_versions` and `events` rows the open transaction changed, by rowid.
        let changed = Arc::new(Mutex::new(Changed::default()));
        let (on_connect, on_release) = (changed.clone(), changed);
        let announce = signals.clone();
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect(move |conn, _| {
                let changed = on_connect.clone();
                Box::pin(async move {
                    let mut handle = conn.lock_handle().await?;
                    let noted = changed.clone();
                    handle.set_update_hook(move |row| match row.table {
                        "rule_versions" => lock(&noted).rules.push(row.rowid),
                        "events" => lock(&noted).events.push(row.rowid),
                        _ => {}
                    });
                    handle.set_rollback_hook(move || *lock(&changed) = Changed::default());
                    Ok(())
                })
            })
            // Back in the pool, the transaction has committed (or rolled back, and then the
            // signal is needless but harmless): receivers reading now see the change.
            .after_release(move |conn, _| {
                let changed = on_release.clone();
                let signals = announce.clone();
                Box::pin(async move {
                    let Changed { rules, events } = std::mem::take(&mut *lock(&changed));
                    for org in orgs_of(conn, "rule_versions", rules).await? {
                        signals.send(Signal::Rules(org));
                    }
                    for org in orgs_of(conn, "events", events).await? {
                        signals.send(Signal::Events(org));
                    }
                    Ok(true)
                })
            })
            .connect_with(options.clone())
            .await?;
        // Each connection is a thread of sqlx's, and every query a hand-over to it and back:
        // beyond a few, more readers only add switching between threads (measured with
        // bench/load.sh: 8 readers served fewer unlocks than 3).
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            events: GroupCommit::start(sql::GroupWriter(writer.clone())),
            reader,
            writer,
            signals,
        })
    }

    /// One node: every controller's stream is held here.
    const SHARED: bool = false;

    /// The writer's update hook notes inserted events instead.
    const SIGNAL_IN_INSERT: bool = false;

    fn subscribe(&self) -> Receiver {
        self.signals.subscribe()
    }

    async fn send_signal(&self, signal: Signal) -> Result<(), StoreError> {
        self.signals.send(signal);
        Ok(())
    }

    /// Nothing to send: the writer's hooks see the rules change and signal it once committed.
    async fn announce(
        _conn: &mut sqlx::SqliteConnection,
        _signal: Signal,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn group_commit(&self) -> &GroupCommit {
        &self.events
    }

    const NAME: &'static str = "sqlite";

    async fn lock_migrations(_tx: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
        Ok(())
    }

    /// Nothing to lock: the single writer connection already serialises transactions.
    async fn lock_key(_tx: &mut sqlx::SqliteConnection, _key: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Appended to the select of a read-modify-write update. SQLite has no row locks: its
/// single writer connection already serialises writes. PostgreSQL locks the row read.
macro_rules! for_update {
    () => {
        ""
    };
}

/// Whether a list of ids next to `org_id = …` is given as a `VALUES` subquery: not here,
/// where SQLite probes the primary key for each id of a plain `IN (…)` list but walks the
/// organization's rows against the subquery.
/// The member a decision event's summary names, in SQL.
const MEMBER_OF_SUMMARY: &str = "json_extract(summary, '$.member_id')";
const IDS_AS_VALUES: bool = false;

/// A column naming one row of any table, to delete one of several equal rows.
macro_rules! row_id {
    () => {
        "rowid"
    };
}

/// Appended to the select of rows a worker takes for itself (outbox messages).
macro_rules! skip_locked {
    () => {
        ""
    };
}

// The same SQL module is compiled into each backend, with `Db` and `Backend` naming it.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
