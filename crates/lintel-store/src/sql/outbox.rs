//! The outbox: email and SMS waiting to be sent.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::MessageId;

use super::{Backend, Conn, Db};
use crate::rows::MessageRow;
use crate::{Message, OutboxStore, StoreError};

/// Queues a message in the caller's transaction: it is sent once that commits.
pub(super) async fn enqueue(conn: &mut Conn, message: &Message) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, body, attempts, next_attempt_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
    )
    .bind(message.id.0)
    .bind(message.channel.as_str())
    .bind(&message.recipient)
    .bind(&message.subject)
    .bind(&message.body)
    .bind(message.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl OutboxStore for Backend {
    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query_as::<Db, MessageRow>(concat!(
            "UPDATE outbox SET next_attempt_at = $2 WHERE id IN (",
            "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ",
            "ORDER BY next_attempt_at LIMIT $3",
            skip_locked!(),
            ") RETURNING id, channel, recipient, subject, body, attempts, created_at"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(self.writer())
        .await?;
        let mut messages = rows
            .into_iter()
            .map(Message::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    async fn queue_message(&self, message: &Message) -> Result<(), StoreError> {
        let mut conn = self.writer().acquire().await?;
        enqueue(&mut conn, message).await
    }

    async fn mark_message_sent(&self, id: MessageId, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $2, attempts = attempts + 1, body = '' WHERE id = $1",
        )
        .bind(id.0)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn mark_message_failed(
        &self,
        id: MessageId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, \
             body = CASE WHEN $4 THEN '' ELSE body END WHERE id = $1",
        )
        .bind(id.0)
        .bind(error)
        // Not DateTime::MAX_UTC: SQLite keeps times as text, and "+262143-…" sorts before any
        // year of four digits, so a message given up on would be taken again at once.
        .bind(retry_at.unwrap_or_else(|| {
            DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31T23:59:59Z")
        }))
        .bind(retry_at.is_none())
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
