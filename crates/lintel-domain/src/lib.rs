//! Lintel's model and its rules: ids, validated values and the clock. No IO, no async.

pub mod access;
pub mod account;
pub mod area;
pub mod clock;
pub mod controller;
pub mod credential;
pub mod decision;
pub mod door;
pub mod event;
pub mod group;
pub mod ids;
pub mod link;
pub mod member;
pub mod org;
pub mod reader;
pub mod schedule;
pub mod site;
pub mod validate;

pub use access::{Access, AccessDoor, AccessKind, AccessStatus};
pub use account::{Account, Device, DeviceKind, Email, Phone};
pub use area::{Area, Areas};
pub use clock::{Clock, SystemClock};
pub use controller::Controller;
pub use credential::{Card, CredentialStatus, Pin};
pub use door::{Door, DoorKind, Preferences};
pub use event::{Event, EventActor, EventKind};
pub use group::Group;
pub use ids::{
    AccessId, AccountId, ApiKeyId, CardId, ControllerId, DeviceId, DoorId, EventId, GroupId,
    LinkId, MembershipId, MessageId, OrgId, PinId, ScheduleId, SignInId, SiteId, VerificationId,
};
pub use link::{AccessLink, Delivery, LinkQuotas, LinkState};
pub use member::{Invitation, InviteChannel, Membership, MembershipStatus};
pub use org::{OrgName, OrgSettings, Organization, Slug, TimeZone};
pub use schedule::Schedule;
pub use site::{Address, Geofence, Site};
pub use validate::ValidationError;
