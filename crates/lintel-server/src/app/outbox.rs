//! Delivering the outbox: messages were written in the same transaction as what caused them;
//! this job sends them, retrying with exponential backoff.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use lintel_store::{Channel, Message};

use super::{AppState, Error};

/// How long a taken message is hidden from other senders before it is tried again.
const LEASE: Duration = Duration::minutes(2);
/// Messages taken per run.
const BATCH: u32 = 20;
/// After this many failed attempts a message is given up on (about two days of retries).
pub const MAX_ATTEMPTS: u32 = 60;

/// Sends one message over its channel.
#[async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), String>;
}

/// The development transport: every message, link and code included, goes to the log, so a
/// newcomer can sign in without any email or SMS provider.
pub struct LogTransport;

#[async_trait]
impl Transport for LogTransport {
    async fn send(&self, message: &Message) -> Result<(), String> {
        let channel = match message.channel {
            Channel::Email => "email",
            Channel::Sms => "SMS",
        };
        tracing::info!(
            to = %message.recipient,
            "{channel} (no provider configured, so it is shown here instead of sent):\n{}{}\n",
            if message.subject.is_empty() { String::new() } else { format!("Subject: {}\n\n", message.subject) },
            message.body
        );
        Ok(())
    }
}

/// What a run of a job did, so a runner knows whether to run again at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Worked,
    Idle,
}

/// When a message that failed `attempts` times is tried again: 10 s, 20 s, 40 s, … at most
/// an hour apart.
pub fn retry_at(now: DateTime<Utc>, attempts: u32) -> DateTime<Utc> {
    let secs = 10i64.saturating_mul(1i64 << attempts.min(20)).min(3600);
    now + Duration::seconds(secs)
}

/// Sends the messages due at `now`.
pub async fn deliver_due(
    state: &AppState,
    transport: &dyn Transport,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let messages = state.store.claim_messages(now, now + LEASE, BATCH).await?;
    if messages.is_empty() {
        return Ok(Outcome::Idle);
    }
    for message in &messages {
        match transport.send(message).await {
            Ok(()) => state.store.mark_message_sent(message.id, now).await?,
            Err(error) => {
                let attempts = message.attempts + 1;
                tracing::warn!(message = %message.id, attempts, %error, "message not delivered");
                let retry = if attempts >= MAX_ATTEMPTS {
                    tracing::error!(message = %message.id, "giving up on message after {attempts} attempts");
                    None
                } else {
                    Some(retry_at(now, attempts))
                };
                state
                    .store
                    .mark_message_failed(message.id, &error, retry)
                    .await?;
            }
        }
    }
    Ok(Outcome::Worked)
}

/// Delivers until `stop` resolves: at once while there is work, then once a second.
pub async fn run(state: AppState, transport: Arc<dyn Transport>) {
    loop {
        let now = state.clock.now();
        match deliver_due(&state, transport.as_ref(), now).await {
            Ok(Outcome::Worked) => continue,
            Ok(Outcome::Idle) => {}
            Err(err) => tracing::error!(error = %err, "outbox delivery failed"),
        }
        tokio::time::sleep(StdDuration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_an_hour() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let gaps: Vec<i64> = (1..=10)
            .map(|a| (retry_at(now, a) - now).num_seconds())
            .collect();
        assert_eq!(&gaps[..5], &[20, 40, 80, 160, 320]);
        assert!(gaps.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!((retry_at(now, 60) - now).num_seconds(), 3600);
    }
}
