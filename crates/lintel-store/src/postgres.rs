//! The PostgreSQL backend: the production store, shared by any number of server nodes.

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::group::GroupCommit;
use crate::signals::{CHANNEL, Receiver, Signal, Signals};
use crate::{Migration, StoreError};

type Db = sqlx::Postgres;
type Backend = PgStore;

const MIGRATIONS: &[Migration] = crate::migrate::POSTGRES;
const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS lintel_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)";
/// Serialises migrations of nodes starting at once; any constant unique to Lintel will do.
const MIGRATION_LOCK: i64 = 0x4c49_4e54_454c;

pub struct PgStore {
    pool: PgPool,
    signals: Signals,
    events: GroupCommit,
    /// The task listening for other nodes' signals, started by the first receiver.
    listener: OnceLock<JoinHandle<()>>,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.get() {
            listener.abort();
        }
    }
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("lintel");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            events: GroupCommit::start(sql::GroupWriter(pool.clone())),
            pool,
            signals: Signals::default(),
            listener: OnceLock::new(),
        })
    }

    /// Another node shares the database: a controller's stream may be held there.
    const SHARED: bool = true;

    /// An insert of events says so to every node in the same statement (`sql::events`).
    const SIGNAL_IN_INSERT: bool = true;

    fn subscribe(&self) -> Receiver {
        let receiver = self.signals.subscribe();
        self.listener
            .get_or_init(|| tokio::spawn(listen(self.pool.clone(), self.signals.sender())));
        receiver
    }

    async fn send_signal(&self, signal: Signal) -> Result<(), StoreError> {
        PgStore::announce(&mut *self.pool.acquire().await?, signal).await
    }

    /// Signals every node once the transaction on `conn` commits.
    async fn announce(conn: &mut sqlx::PgConnection, signal: Signal) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(signal.encode())
            .execute(conn)
            .await?;
        Ok(())
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn group_commit(&self) -> &GroupCommit {
        &self.events
    }

    const NAME: &'static str = "postgres";

    async fn lock_migrations(tx: &mut sqlx::PgConnection) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(tx)
            .await?;
        Ok(())
    }

    /// Serialises takers of slots under one rate key, until the transaction ends.
    async fn lock_key(tx: &mut sqlx::PgConnection, key: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(tx)
            .await?;
        Ok(())
    }
}

/// Appended to the select of a read-modify-write update. SQLite has no row locks: its
/// single writer connection already serialises writes. PostgreSQL locks the row read.
macro_rules! for_update {
    () => {
        " FOR UPDATE"
    };
}

/// Whether a list of ids next to `org_id = …` is given as a `VALUES` subquery: yes, see
/// `sql::accesses::push_id_in`.
/// The member a decision event's summary names, in SQL.
const MEMBER_OF_SUMMARY: &str = "summary->>'member_id'";
const IDS_AS_VALUES: bool = true;

/// A column naming one row of any table, to delete one of several equal rows.
macro_rules! row_id {
    () => {
        "ctid"
    };
}

/// Appended to the select of rows a worker takes for itself (outbox messages).
macro_rules! skip_locked {
    () => {
        " FOR UPDATE SKIP LOCKED"
    };
}

// The same SQL module is compiled into each backend, with `Db` and `Backend` naming it.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

/// Hears every node's signals on one connection of the pool and hands them to this node's
/// receivers. Each time it (re)starts listening it says `Missed`: whatever was signalled
/// while it was not listening is lost, so receivers look again.
async fn listen(pool: PgPool, signals: broadcast::Sender<Signal>) {
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = match listener.await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for other nodes' signals; trying again in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let _ = signals.send(Signal::Missed);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(signal) = Signal::decode(notification.payload()) {
                        let _ = signals.send(signal);
                    }
                }
                // The connection was lost and made again: signals in between are lost.
                Ok(None) => {
                    let _ = signals.send(Signal::Missed);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "lost the connection listening for other nodes' signals");
                    break;
                }
            }
        }
    }
}
