//! Rate limits as slots in sliding windows (`send_events`). Taking a slot counts and records
//! in one transaction, under a lock of each key, so parallel requests can never take more
//! slots than a window has, on any number of nodes. Attempts (sign-in and verification codes,
//! app PINs) are counted before their secret is compared, in one statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Backend, Conn};
use crate::{Attempt, Limit, LimitStore, Slot, StoreError};

/// When the first of `limit`'s full windows frees a slot, or `None` when none is full.
async fn full_until(
    conn: &mut Conn,
    limit: &Limit<'_>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mut until = None;
    for (window, max) in limit.windows {
        let taken: Vec<(DateTime<Utc>,)> = sqlx::query_as(
            "SELECT sent_at FROM send_events WHERE rate_key = $1 AND sent_at > $2 \
             ORDER BY sent_at DESC LIMIT $3",
        )
        .bind(limit.key)
        .bind(now - *window)
        .bind(i64::try_from(*max).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
        if taken.len() >= *max {
            // The oldest of the newest `max` slots leaves the window first.
            let frees_at = taken[taken.len() - 1].0 + *window;
            until = Some(until.map_or(frees_at, |u: DateTime<Utc>| u.max(frees_at)));
        }
    }
    Ok(until)
}

/// Counts one more attempt in `counter` of row `id` of `table` before its secret is compared,
/// unless `max` are counted already (wrong in a row, or being compared right now): so parallel
/// attempts can never compare more than `max` guesses. `Some(false)`: `max` are counted;
/// `None`: the row has ended (`ends` is set). The names are ours, never user input.
pub(super) async fn start_attempt(
    conn: &mut Conn,
    table: &'static str,
    counter: &'static str,
    ends: &'static str,
    id: Uuid,
    max: u32,
) -> Result<Option<bool>, StoreError> {
    let sql = format!(
        "UPDATE {table} SET {counter} = {counter} + 1 \
         WHERE id = $1 AND {ends} IS NULL AND {counter} < $2 RETURNING {counter}"
    );
    let counted: Option<(i32,)> = sqlx::query_as(&sql)
        .bind(id)
        .bind(i32::try_from(max).unwrap_or(i32::MAX))
        .fetch_optional(&mut *conn)
        .await?;
    if counted.is_some() {
        return Ok(Some(true));
    }
    let live: Option<(i32,)> = sqlx::query_as(&format!(
        "SELECT 1 FROM {table} WHERE id = $1 AND {ends} IS NULL"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(live.map(|_| false))
}

/// An attempt counted by `start_attempt` was wrong: ends the row (sets `ends` to `now`) when
/// `max` are counted. Returns the count; `NotFound` when the row has already ended.
pub(super) async fn confirm_failure(
    conn: &mut Conn,
    table: &'static str,
    counter: &'static str,
    ends: &'static str,
    id: Uuid,
    now: DateTime<Utc>,
    max: u32,
) -> Result<u32, StoreError> {
    let sql = format!(
        "UPDATE {table} SET {ends} = CASE WHEN {counter} >= $3 THEN $2 ELSE {ends} END \
         WHERE id = $1 AND {ends} IS NULL RETURNING {counter}"
    );
    let failures: Option<(i32,)> = sqlx::query_as(&sql)
        .bind(id)
        .bind(now)
        .bind(i32::try_from(max).unwrap_or(i32::MAX))
        .fetch_optional(conn)
        .await?;
    let (failures,) = failures.ok_or(StoreError::NotFound)?;
    Ok(u32::try_from(failures).unwrap_or(0))
}

#[async_trait]
impl LimitStore for Backend {
    async fn start_attempt(&self, attempt: Attempt, max: u32) -> Result<bool, StoreError> {
        let (table, counter, ends, id) = match attempt {
            Attempt::SignIn(id) => ("sign_ins", "code_failures", "finished_at", id.0),
            Attempt::Verification(id) => ("verifications", "failures", "finished_at", id.0),
            Attempt::Pin(id) => ("devices", "pin_failures", "revoked_at", id.0),
        };
        let mut conn = self.writer().acquire().await?;
        start_attempt(&mut conn, table, counter, ends, id, max)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn take_slots(
        &self,
        limits: &[Limit<'_>],
        now: DateTime<Utc>,
    ) -> Result<Slot, StoreError> {
        let mut keys: Vec<&str> = limits.iter().map(|l| l.key).collect();
        // One order of locks for every caller: two takers of the same keys never wait on each
        // other in a circle.
        keys.sort_unstable();
        keys.dedup();
        let mut tx = self.writer().begin().await?;
        for key in &keys {
            Backend::lock_key(&mut tx, key).await?;
        }
        let mut wait = None;
        for limit in limits {
            if let Some(after) = full_until(&mut tx, limit, now).await? {
                wait = Some(wait.map_or(after, |w: DateTime<Utc>| w.max(after)));
            }
        }
        if let Some(frees_at) = wait {
            tx.rollback().await?;
            return Ok(Slot::Full {
                retry_after: frees_at - now,
            });
        }
        for key in &keys {
            sqlx::query("INSERT INTO send_events (rate_key, sent_at) VALUES ($1, $2)")
                .bind(*key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Slot::Taken)
    }

    /// Gives back one slot taken under `key` at `at` (an attempt that turned out not to count).
    async fn give_back(&self, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "DELETE FROM send_events WHERE ",
            row_id!(),
            " IN (SELECT ",
            row_id!(),
            " FROM send_events WHERE rate_key = $1 AND sent_at = $2 LIMIT 1)"
        ))
        .bind(key)
        .bind(at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn spend_proof(&self, proof: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO spent_proofs (proof, spent_at) VALUES ($1, $2) \
             ON CONFLICT (proof) DO NOTHING",
        )
        .bind(proof)
        .bind(at)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn recent_sends(
        &self,
        rate_key: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let rows: Vec<(DateTime<Utc>,)> = sqlx::query_as(
            "SELECT sent_at FROM send_events WHERE rate_key = $1 AND sent_at > $2 ORDER BY sent_at",
        )
        .bind(rate_key)
        .bind(since)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(|(at,)| at).collect())
    }
}
