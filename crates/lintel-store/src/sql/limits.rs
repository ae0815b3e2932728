//! Rate limits as slots in sliding windows (`send_events`). Taking a slot counts and records
//! in one transaction, under a lock of each key, so parallel requests can never take more
//! slots than a window has, on any number of nodes.

use chrono::{DateTime, Utc};

use super::{Backend, Conn};
use crate::{Limit, Slot, StoreError};

pub(super) async fn take_slots(
    store: &Backend,
    limits: &[Limit<'_>],
    now: DateTime<Utc>,
) -> Result<Slot, StoreError> {
    let mut keys: Vec<&str> = limits.iter().map(|l| l.key).collect();
    // One order of locks for every caller: two takers of the same keys never wait on each
    // other in a circle.
    keys.sort_unstable();
    keys.dedup();
    let mut tx = store.writer().begin().await?;
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

/// Gives back one slot taken under `key` at `at` (an attempt that turned out not to count).
pub(super) async fn give_back(
    store: &Backend,
    key: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "DELETE FROM send_events WHERE ",
        row_id!(),
        " IN (SELECT ",
        row_id!(),
        " FROM send_events WHERE rate_key = $1 AND sent_at = $2 LIMIT 1)"
    ))
    .bind(key)
    .bind(at)
    .execute(store.writer())
    .await?;
    Ok(())
}

pub(super) async fn recent_sends(
    store: &Backend,
    rate_key: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let rows: Vec<(DateTime<Utc>,)> = sqlx::query_as(
        "SELECT sent_at FROM send_events WHERE rate_key = $1 AND sent_at > $2 ORDER BY sent_at",
    )
    .bind(rate_key)
    .bind(since)
    .fetch_all(store.reader())
    .await?;
    Ok(rows.into_iter().map(|(at,)| at).collect())
}
