//! Rate limits. A slot is taken before the work it limits, in one store transaction with the
//! count (`Store::take_slots`), so parallel requests cannot pass a limit; an attempt that turns
//! out not to count (a right code) gives its slot back.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use lintel_domain::{Phone, ValidationError};
use lintel_store::{Limit, Slot};

use super::{AppState, Error};

/// Sends to one email address or phone number: at most 3 a minute and 5 in 10 minutes.
pub(crate) const PER_ADDRESS: &[(Duration, usize)] =
    &[(Duration::minutes(1), 3), (Duration::minutes(10), 5)];

/// Where SMS to numbers not yet proven may go, and how many an hour (`sms_countries`,
/// `sms_per_hour`): texting a number nobody has proven is what SMS pumping abuses.
#[derive(Debug, Clone)]
pub struct SmsPolicy {
    /// ISO 3166 codes; empty: any country.
    pub countries: Vec<String>,
    pub per_hour: usize,
}

impl SmsPolicy {
    /// The hourly budget when the operator sets none.
    pub const PER_HOUR: usize = 300;
}

impl Default for SmsPolicy {
    fn default() -> Self {
        SmsPolicy {
            countries: Vec::new(),
            per_hour: Self::PER_HOUR,
        }
    }
}

/// Checks that `phone` (a number not yet proven, in `field`) may be texted, and takes a slot
/// of the server's hourly budget for it.
pub(crate) async fn take_unproven_sms(
    state: &AppState,
    now: DateTime<Utc>,
    field: &str,
    phone: &Phone,
) -> Result<(), Error> {
    check_sms_country(state, field, phone)?;
    take_sms_budget(state, now).await
}

/// Refuses a number not yet proven outside the operator's countries, when they are set.
pub(crate) fn check_sms_country(state: &AppState, field: &str, phone: &Phone) -> Result<(), Error> {
    let countries = &state.sms.countries;
    let allowed = countries.is_empty()
        || phone
            .region()
            .is_some_and(|r| countries.iter().any(|c| c.eq_ignore_ascii_case(&r)));
    if allowed {
        return Ok(());
    }
    Err(ValidationError::new(
        field,
        "sms_country_not_allowed",
        format!(
            "codes are sent by SMS only to numbers of {}; ask the operator to add yours",
            countries.join(", ")
        ),
    )
    .into())
}

/// Takes a slot of the server's hourly budget of SMS to numbers not yet proven.
pub(crate) async fn take_sms_budget(state: &AppState, now: DateTime<Utc>) -> Result<(), Error> {
    let budget = [(Duration::hours(1), state.sms.per_hour)];
    take_one(state, now, "sms-unproven", &budget).await
}

/// A request's source as limits count it: an IPv4 address, or the /64 network of an IPv6
/// one (what one subscriber is given, so its addresses count as one).
pub(crate) fn source(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

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
    windows: &[(Duration, usize)],
) -> Result<(), Error> {
    take(state, now, &[Limit { key, windows }]).await
}

#[cfg(test)]
mod tests {
    use super::source;

    #[test]
    fn an_ipv6_source_counts_by_its_64_network() {
        let a = source("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = source("2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap());
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b);
        assert_ne!(a, source("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(source("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
        assert_eq!(source("10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
