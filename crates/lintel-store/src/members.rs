//! What the store keeps about memberships, invitations and the event log.

use chrono::{DateTime, Utc};
use lintel_domain::{Area, Email, EventActor, GroupId, Membership, MembershipStatus, Phone};
use uuid::Uuid;

/// Who makes a change and when: every change to an organization's objects is recorded in its
/// event log in the same transaction as the change.
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    pub actor: EventActor,
    pub at: DateTime<Utc>,
}

/// The person behind a membership, as admins see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    pub phone: Option<Phone>,
}

/// A membership with its person (`None` while invited).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    pub membership: Membership,
    pub person: Option<Person>,
}

/// Narrows a list of members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberFilter {
    pub status: Option<MembershipStatus>,
    /// Members holding this area (named explicitly, not through `owner`).
    pub area: Option<Area>,
    pub group: Option<GroupId>,
    /// Part of a name, an email, a phone or an invited address, in any case.
    pub query: Option<String>,
}

/// Narrows the event log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// An exact kind (`door.created`) or the object part of kinds (`door`).
    pub kind: Option<String>,
    /// The account or API key that acted.
    pub actor_id: Option<Uuid>,
    pub object_id: Option<Uuid>,
    /// From this time, inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Up to this time, exclusive.
    pub until: Option<DateTime<Utc>>,
}

/// A membership or invitation to add: with the link and message of an invitation sent by
/// email or SMS.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMember {
    pub membership: Membership,
    pub link: Option<InviteLink>,
    pub message: Option<crate::Message>,
}

/// The secret part of an invitation sent by email or SMS: the hash of its link's token.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteLink {
    pub token_hash: Vec<u8>,
    /// `None` for a first owner's invitation, which waits however long it takes.
    pub expires_at: Option<DateTime<Utc>>,
}
