//! Test support: a fresh database per test on either backend, a fake clock, and a macro that
//! runs one test body on both backends.
//!
//! PostgreSQL tests use `LINTEL_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`): each test creates its own database there and
//! drops it afterwards. When the server is unreachable they are skipped with a message,
//! unless `CI=true` or `LINTEL_TEST_REQUIRE_POSTGRES=1`, where they fail.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SubsecRound as _, TimeZone as _, Utc};
use lintel_domain::Clock;
use lintel_store::Store;
use sqlx::Connection as _;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database that disappears when dropped.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// The URL the store was opened with, for tests that open it again (the CLI, say).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh database on `backend`, or `None` when PostgreSQL is unreachable and not
    /// required (the test then reports itself skipped).
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("lintel.db").display());
        let store = migrated(&url).await;
        TestDb {
            store,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("LINTEL_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(err) if !postgres_required() => {
                eprintln!("skipped: PostgreSQL at {admin_url} is unreachable ({err})");
                return None;
            }
            Err(err) => panic!(
                "PostgreSQL at {admin_url} is unreachable ({err}); it is required when CI=true \
                 or LINTEL_TEST_REQUIRE_POSTGRES=1"
            ),
        };
        let name = format!("lintel_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let url = replace_database(&admin_url, &name);
        let store = migrated(&url).await;
        Some(TestDb {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }
}

impl TestDb {
    /// The one integer a query answers (`SELECT COUNT(*) …`), read behind the store's back.
    pub async fn count(&self, sql: &str) -> i64 {
        if self.url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query_scalar(sql)
                .fetch_one(&mut conn)
                .await
                .expect("count")
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query_scalar(sql)
                .fetch_one(&mut conn)
                .await
                .expect("count")
        }
    }

    /// Runs raw SQL on the test database, behind the store's back (to simulate tampering
    /// or an older version's data).
    pub async fn execute(&self, sql: &str) {
        use sqlx::Executor as _;
        if self.url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            conn.execute(sql).await.expect("execute");
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            conn.execute(sql).await.expect("execute");
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, db) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime, which cannot be blocked on: use a thread
            // with its own.
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await
                        .map(|_| ())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {name}: {dropped:?}");
            }
        }
    }
}

fn postgres_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("LINTEL_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn migrated(url: &str) -> Arc<dyn Store> {
    let store = lintel_store::connect(url)
        .await
        .expect("open the test store");
    store
        .migrate(FakeClock::START.with_timezone(&Utc))
        .await
        .expect("migrate the test store");
    store
}

/// A clock that stands still until a test moves it.
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<Mutex<DateTime<Utc>>>);

impl FakeClock {
    /// Where every fake clock starts: 2026-03-02 09:00 UTC, a Monday.
    pub const START: DateTime<Utc> = DateTime::from_timestamp(1_772_442_000, 0).unwrap();

    pub fn new() -> Self {
        Self::at(Self::START)
    }

    pub fn at(now: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = now;
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().expect("clock lock").trunc_subsecs(6)
    }
}

/// A UTC time, for readable tests.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// Runs each named `async fn name(backend: Backend)` as two tests, `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_in_a_url_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }

    #[test]
    fn the_fake_clock_starts_on_a_monday_morning() {
        use chrono::{Datelike, Timelike};
        let start = FakeClock::new().now();
        assert_eq!(start.weekday(), chrono::Weekday::Mon);
        assert_eq!((start.hour(), start.minute()), (9, 0));
    }
}
