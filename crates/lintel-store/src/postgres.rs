//! The PostgreSQL backend: the production store, shared by any number of server nodes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

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
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("lintel");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
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
