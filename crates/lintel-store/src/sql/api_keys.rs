//! API keys and the sessions of keys signed in with a token.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use lintel_domain::{ApiKeyId, EventKind, OrgId};
use sqlx::types::Json;
use uuid::Uuid;

use super::events::record;
use super::{Backend, Conn, fetch_in_org, fetch_limit, is_foreign_key_violation, page_from_rows};
use crate::rows::ApiKeyRow;
use crate::{
    ApiKey, ApiKeyStore, Audit, FreshTokens, KeyReissue, KeySession, Page, PageRequest, StoreError,
};

const SELECT_API_KEY: &str = concat!(
    "SELECT ",
    api_key_columns!(),
    " FROM api_keys WHERE org_id = $1 AND id = $2"
);

/// How often `last_used_at` of an API key is written at most.
const TOUCH_EVERY: Duration = Duration::seconds(60);

async fn insert_key_reissue(
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

/// A session's id, key, auth token expiry and revocation.
type SessionRow = (Uuid, Uuid, DateTime<Utc>, Option<DateTime<Utc>>);

#[async_trait]
impl ApiKeyStore for Backend {
    async fn create_api_key(&self, key: &ApiKey, audit: Option<&Audit>) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, areas, created_at, \
             expires_at, last_used_at, revoked_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(key.id.0)
        .bind(key.org_id.map(|o| o.0))
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.secret_hash)
        .bind(Json(&key.areas))
        .bind(key.created_at)
        .bind(key.expires_at)
        .bind(key.last_used_at)
        .bind(key.revoked_at)
        .bind(key.created_by.map(|m| m.0))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::MissingReference { field: "org_id" }
            } else {
                e.into()
            }
        })?;
        if let (Some(org), Some(audit)) = (key.org_id, audit) {
            let summary = serde_json::json!({ "after": {
                "name": key.name, "prefix": key.prefix, "areas": key.areas,
                "expires_at": key.expires_at,
            }});
            record(
                &mut tx,
                org,
                audit,
                EventKind::ApiKeyCreated,
                Some(("api_key", key.id.0)),
                summary,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        fetch_in_org::<ApiKeyRow, _>(self.reader(), SELECT_API_KEY, org, id.0).await
    }

    async fn list_api_keys(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, StoreError> {
        let rows = sqlx::query_as::<_, ApiKeyRow>(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE org_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(org.0)
        .bind(page.after)
        .bind(fetch_limit(page))
        .fetch_all(self.reader())
        .await?;
        page_from_rows(rows, page, |k: &ApiKey| k.id.0)
    }

    async fn revoke_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        audit: &Audit,
    ) -> Result<ApiKey, StoreError> {
        let mut tx = self.writer().begin().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $3              WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(org.0)
        .bind(id.0)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        let key: ApiKey = fetch_in_org::<ApiKeyRow, _>(&mut *tx, SELECT_API_KEY, org, id.0).await?;
        if done.rows_affected() > 0 {
            let summary =
                serde_json::json!({ "before": { "name": key.name, "prefix": key.prefix } });
            record(
                &mut tx,
                org,
                audit,
                EventKind::ApiKeyRevoked,
                Some(("api_key", id.0)),
                summary,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(key)
    }

    async fn find_api_key(&self, secret_hash: &[u8]) -> Result<Option<ApiKey>, StoreError> {
        sqlx::query_as::<_, ApiKeyRow>(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE secret_hash = $1"
        ))
        .bind(secret_hash)
        .fetch_optional(self.reader())
        .await?
        .map(ApiKey::try_from)
        .transpose()
    }

    async fn create_key_session(
        &self,
        id: Uuid,
        key: ApiKeyId,
        fresh: &FreshTokens,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer().begin().await?;
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
        insert_key_reissue(&mut tx, id, &fresh.reissue_hash, fresh.now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_key_session(&self, auth_hash: &[u8]) -> Result<Option<KeySession>, StoreError> {
        let mut conn = self.reader().acquire().await?;
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

    async fn reissue_key_session(
        &self,
        presented: &[u8],
        issued_after: DateTime<Utc>,
        fresh: &FreshTokens,
    ) -> Result<KeyReissue, StoreError> {
        let mut tx = self.writer().begin().await?;
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
                    insert_key_reissue(&mut tx, session, &fresh.reissue_hash, fresh.now).await?;
                    KeyReissue::Rotated
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 \
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(id.0)
        .bind(now)
        .bind(now - TOUCH_EVERY)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
