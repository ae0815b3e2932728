//! Deleting what has outlived its use: send records past every limit window, expired sign-in
//! attempts and codes, delivered or abandoned messages (they name people's addresses), devices
//! and rotated tokens past the reissue lifetime, temporary accesses past their end, and
//! changes of rules that every node has long caught up with (a node further behind loads
//! everything again); and, in memory, the rules of organizations idle for an hour.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use lintel_store::Purge;

use super::auth::REISSUE_TOKEN_TTL;
use super::{AppState, Error};

/// How long send records, attempts and codes are kept: far beyond every window and expiry.
const ATTEMPTS_KEPT: Duration = Duration::days(1);
/// How long a node keeps an organization's rules in memory without a request for them.
const RULES_KEPT_IDLE: Duration = Duration::hours(1);
/// How long messages are kept: past their last retry (about two days), for troubleshooting.
const MESSAGES_KEPT: Duration = Duration::days(7);

/// The cut-offs in force at `now`.
pub fn cutoffs(now: DateTime<Utc>) -> Purge {
    Purge {
        sends_before: now - ATTEMPTS_KEPT,
        attempts_before: now - ATTEMPTS_KEPT,
        messages_before: now - MESSAGES_KEPT,
        // A ceremony is useless once expired; it holds nothing worth keeping.
        flows_before: now,
        tokens_before: now - REISSUE_TOKEN_TTL,
    }
}

/// One run: deletes what is past its cut-off at `now`, and the temporary accesses that have
/// ended; returns how many rows went.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Result<u64, Error> {
    let mut expired = 0;
    loop {
        let n = state.store.expire_accesses(now).await?;
        expired += n;
        if n == 0 {
            break;
        }
    }
    let changes = state.store.prune_rule_changes(now - ATTEMPTS_KEPT).await?;
    let idle = state.rules.evict_idle(now - RULES_KEPT_IDLE);
    if idle > 0 {
        tracing::info!(
            organizations = idle,
            "forgot the rules of idle organizations"
        );
    }
    Ok(expired + changes + state.store.purge(&cutoffs(now)).await?)
}

/// Runs once an hour.
pub async fn run(state: AppState) {
    loop {
        match run_once(&state, state.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "housekeeping deleted expired records"),
            Err(err) => tracing::error!(error = %err, "housekeeping failed"),
        }
        tokio::time::sleep(StdDuration::from_secs(3600)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_purged_while_it_can_still_matter() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(400);
        let c = cutoffs(now);
        // The longest send window is 10 minutes, links live 15 and codes 10.
        assert!(now - c.sends_before > Duration::minutes(10));
        assert!(now - c.attempts_before > Duration::minutes(15));
        // Retries of a message span about two days.
        assert!(now - c.messages_before > Duration::days(2));
        // A rotated reissue token must be remembered as long as it could be presented.
        assert!(now - c.tokens_before >= REISSUE_TOKEN_TTL);
    }
}
