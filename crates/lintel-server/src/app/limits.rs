//! Rate limits. A slot is taken before the work it limits, in one store transaction with the
//! count (`Store::take_slots`), so parallel requests cannot pass a limit; an attempt that turns
//! out not to count (a right code) gives its slot back.

use chrono::{DateTime, Utc};
use lintel_store::{Limit, Slot};

use super::{AppState, Error};

/// Takes a slot under every limit, or refuses with `rate_limited` saying when to try again.
pub(crate) async fn take(
    state: &AppState,
    now: DateTime<Utc>,
    limits: &[Limit<'_>],
) -> Result<(), Error> {
    match state.store.take_slots(limits, now).await? {
        Slot::Taken => Ok(()),
        Slot::Full { retry_after } => Err(Error::RateLimited {
            retry_after_secs: u64::try_from(retry_after.num_seconds().max(1)).unwrap_or(1),
        }),
    }
}

/// Takes one slot under `key`.
pub(crate) async fn take_one(
    state: &AppState,
    now: DateTime<Utc>,
    key: &str,
    windows: &[(chrono::Duration, usize)],
) -> Result<(), Error> {
    take(state, now, &[Limit { key, windows }]).await
}
