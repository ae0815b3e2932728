//! Typed ids: UUIDv7, so ids sort by creation time and lists paginate in creation order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id stamped with `now`, taken from the injected clock.
            pub fn new(now: DateTime<Utc>) -> Self {
                Self(new_v7(now))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    )*};
}

id_type!(
    /// An organization (tenant).
    OrgId,
    /// A site of an organization.
    SiteId,
    /// A door, gate, locker, storage unit or relay.
    DoorId,
    /// A group of memberships.
    GroupId,
    /// An API key.
    ApiKeyId,
    /// A door controller: the box at a site that holds its doors' rules and drives them.
    ControllerId,
    /// A person's account.
    AccountId,
    /// A signed-in app or browser.
    DeviceId,
    /// One run through the sign-in (or registration) steps.
    SignInId,
    /// A message waiting in the outbox.
    MessageId,
    /// A code sent to prove an address before a change.
    VerificationId,
    /// An account's place in an organization, or an invitation to one.
    MembershipId,
    /// One entry of an organization's event log.
    EventId,
    /// A grant: who may pass which doors, when and how.
    AccessId,
    /// Weekly windows and exceptions in a time zone.
    ScheduleId,
    /// A member's card.
    CardId,
    /// A member's PIN code at a site.
    PinId,
    /// A guest's access link.
    LinkId,
);

/// Ids made in the same millisecond would sort at random; the context's counter keeps them in
/// the order they were made (within this process; across server nodes, to the millisecond).
static V7_CONTEXT: Mutex<uuid::ContextV7> = Mutex::new(uuid::ContextV7::new());

fn new_v7(now: DateTime<Utc>) -> Uuid {
    let secs = u64::try_from(now.timestamp()).unwrap_or(0);
    let context = V7_CONTEXT.lock().unwrap_or_else(PoisonError::into_inner);
    Uuid::new_v7(uuid::Timestamp::from_unix(
        &*context,
        secs,
        now.timestamp_subsec_nanos(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_at_the_same_instant_sort_in_the_order_they_were_made() {
        let now = DateTime::from_timestamp(1_772_442_000, 0).unwrap();
        let ids: Vec<_> = (0..1000).map(|_| DoorId::new(now)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids.iter().all(|id| id.0.get_version_num() == 7));
    }
}
