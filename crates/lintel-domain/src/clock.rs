//! The one place the wall clock is read; everything else is handed `now`.

use chrono::{DateTime, SubsecRound as _, Utc};

/// Where the current time comes from. Tests use a fake one and never sleep.
///
/// Times are whole microseconds: what both databases store, so that what a request returns
/// is exactly what a later read returns.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the single sanctioned read of the system time
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
