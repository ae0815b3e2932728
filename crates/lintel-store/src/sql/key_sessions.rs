//! Tokens an API key was traded for: a session per trade, its auth token replaced at each
//! reissue, and its reissue tokens rotating (a rotated one presented again revokes it).

use chrono::{DateTime, Utc};
use lintel_domain::ApiKeyId;
use uuid::Uuid;

use super::{Backend, Conn};
use crate::rows::ApiKeyRow;
use crate::{ApiKey, FreshTokens, KeyReissue, KeySession, StoreError};

async fn insert_reissue(
    conn: &mut Conn,
    session: Uuid,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO key_session_reissues (hash, session_id, is_current, created_at) \
         VALUES ($1, $2, TRUE, $3)",
    )
    .bind(hash)
    .bind(session)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn create(
    store: &Backend,
    id: Uuid,
    key: ApiKeyId,
    fresh: &FreshTokens,
) -> Result<(), StoreError> {
    let mut tx = store.writer().begin().await?;
    sqlx::query(
        "INSERT INTO key_sessions (id, api_key_id, auth_hash, auth_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(key.0)
    .bind(&fresh.auth_hash)
    .bind(fresh.auth_expires_at)
    .bind(fresh.now)
    .execute(&mut *tx)
    .await?;
    insert_reissue(&mut tx, id, &fresh.reissue_hash, fresh.now).await?;
    tx.commit().await?;
    Ok(())
}

/// A session's id, key, auth token expiry and revocation.
type SessionRow = (Uuid, Uuid, DateTime<Utc>, Option<DateTime<Utc>>);

pub(super) async fn find(
    store: &Backend,
    auth_hash: &[u8],
) -> Result<Option<KeySession>, StoreError> {
    let mut conn = store.reader().acquire().await?;
    let found: Option<SessionRow> = sqlx::query_as(
        "SELECT id, api_key_id, auth_expires_at, revoked_at FROM key_sessions \
         WHERE auth_hash = $1",
    )
    .bind(auth_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, key, auth_expires_at, revoked_at)) = found else {
        return Ok(None);
    };
    let row: ApiKeyRow = sqlx::query_as(concat!(
        "SELECT ",
        api_key_columns!(),
        " FROM api_keys WHERE id = $1"
    ))
    .bind(key)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some(KeySession {
        id,
        key: ApiKey::try_from(row)?,
        auth_expires_at,
        revoked: revoked_at.is_some(),
    }))
}

pub(super) async fn reissue(
    store: &Backend,
    presented: &[u8],
    issued_after: DateTime<Utc>,
    fresh: &FreshTokens,
) -> Result<KeyReissue, StoreError> {
    let mut tx = store.writer().begin().await?;
    let found: Option<(Uuid, bool, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT s.id, r.is_current, s.revoked_at \
         FROM key_session_reissues r JOIN key_sessions s ON s.id = r.session_id \
         JOIN api_keys k ON k.id = s.api_key_id \
         WHERE r.hash = $1 AND r.created_at > $2 \
         AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $3)",
    )
    .bind(presented)
    .bind(issued_after)
    .bind(fresh.now)
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match found {
        None | Some((_, _, Some(_))) => KeyReissue::Unknown,
        Some((session, false, None)) => {
            sqlx::query("UPDATE key_sessions SET revoked_at = $2 WHERE id = $1")
                .bind(session)
                .bind(fresh.now)
                .execute(&mut *tx)
                .await?;
            KeyReissue::Reused
        }
        Some((session, true, None)) => {
            // Only one of two concurrent rotations of the same token may win.
            let rotated = sqlx::query(
                "UPDATE key_session_reissues SET is_current = FALSE \
                 WHERE hash = $1 AND is_current",
            )
            .bind(presented)
            .execute(&mut *tx)
            .await?;
            if rotated.rows_affected() == 0 {
                KeyReissue::Unknown
            } else {
                sqlx::query(
                    "UPDATE key_sessions SET auth_hash = $2, auth_expires_at = $3 WHERE id = $1",
                )
                .bind(session)
                .bind(&fresh.auth_hash)
                .bind(fresh.auth_expires_at)
                .execute(&mut *tx)
                .await?;
                insert_reissue(&mut tx, session, &fresh.reissue_hash, fresh.now).await?;
                KeyReissue::Rotated
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}
