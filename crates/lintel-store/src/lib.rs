//! Lintel's storage: the `Store` trait, its errors, and its SQLite and PostgreSQL backends.
//!
//! Both backends compile the same SQL module (`sql/`); what differs between them (types in
//! the schema, connection setup, row locking) stays in `sqlite.rs` and `postgres.rs`.
//!
//! Long because it is the store's whole contract in one place: each aggregate's trait,
//! documented method by method, and the types they take. The SQL is in `sql/`.

mod accounts;
mod error;
mod group;
mod members;
mod migrate;
mod postgres;
mod rows;
mod signals;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::decision::{CredentialKey, CredentialRule, DoorRestrictions, MemberRule};
use lintel_domain::door::DoorState;
use lintel_domain::{
    Access, AccessId, AccessLink, AccessStatus, Account, AccountId, ApiKeyId, Areas, Card, CardId,
    Controller, ControllerId, CredentialStatus, Device, DeviceId, Door, DoorId, Email, Event,
    EventKind, Group, GroupId, LinkId, LinkQuotas, LinkState, Membership, MembershipId, MessageId,
    OrgId, Organization, Phone, Pin, PinId, Schedule, ScheduleId, SignInId, Site, SiteId,
    ValidationError, VerificationId, controller::ControllerLive,
};
use uuid::Uuid;

/// How often a device's `last_seen_at` is written at most (callers may skip the statement
/// within it: it would change nothing).
pub const DEVICE_TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

pub use accounts::{
    AccountRecord, AuthFlow, Channel, DeviceInOrg, DeviceRecord, EmailConfirmation, FreshTokens,
    KeyReissue, KeySession, LinkedIdentity, Message, NewDevice, OrgOfDevice, PasskeyRecord,
    ProviderIdentity, Purge, Purpose, Registration, Reissue, SignIn, Verification,
};
pub use error::{ConflictKind, StoreError};
pub use members::{Audit, EventFilter, InviteLink, MemberFilter, MemberRecord, NewMember, Person};
pub use migrate::{MIGRATION_NAMES, Migration};
pub use postgres::PgStore;
pub use signals::{Receiver, Signal};
pub use sqlite::SqliteStore;

/// A change to a stored object, applied inside the store's transaction to the current row so
/// that concurrent updates never overwrite each other. It may refuse with a validation error.
pub type Change<'a, T> = &'a (dyn Fn(&mut T) -> Result<(), ValidationError> + Send + Sync);

/// A rate limit: at most `max` slots under `key` in each sliding `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit<'a> {
    pub key: &'a str,
    pub windows: &'a [(chrono::Duration, usize)],
}

/// A secret compared against a stored one, whose wrong guesses are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// A sign-in's SMS code.
    SignIn(SignInId),
    /// A verification's code.
    Verification(VerificationId),
    /// A device's app PIN.
    Pin(DeviceId),
}

/// The answer to taking slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Taken,
    /// No slot: the first frees up after `retry_after`.
    Full {
        retry_after: chrono::Duration,
    },
}

/// Which part of a list to return: at most `limit` items with ids after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Uuid>,
}

/// One page of a list, in id (so creation) order, with the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id to continue after, when more items exist.
    pub next_after: Option<Uuid>,
}

/// Narrows a list of doors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoorFilter {
    pub site_id: Option<SiteId>,
    /// Only the doors wired to this controller.
    pub controller_id: Option<ControllerId>,
}

/// Narrows a list of accesses; deleted ones are left out unless asked for by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessFilter {
    pub status: Option<AccessStatus>,
    pub door: Option<DoorId>,
    pub user: Option<MembershipId>,
    pub group: Option<GroupId>,
}

/// Everything an organization's decisions read, as of `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesSnapshot {
    pub version: i64,
    /// Members with an account (an invitation opens nothing).
    pub members: Vec<MemberRule>,
    pub schedules: Vec<Schedule>,
    /// Each door's restrictions on phones, with its site's geofence.
    pub doors: Vec<(DoorId, DoorRestrictions)>,
    /// Accesses that grant: not being deleted.
    pub accesses: Vec<Access>,
    /// Cards and PIN codes, revoked ones first, so that an active credential with the same
    /// key as a revoked one wins when they are applied in order.
    pub credentials: Vec<(CredentialKey, CredentialRule)>,
}

/// One change to an organization's rules: its version, the event kind that made it (`None`:
/// one this version does not know, from a newer node) and the event's object (none: anything
/// may have changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleChange {
    pub version: i64,
    pub kind: Option<EventKind>,
    pub object: Option<Uuid>,
}

/// Objects whose rules to read again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleObjects {
    pub accesses: Vec<AccessId>,
    pub members: Vec<MembershipId>,
    pub schedules: Vec<ScheduleId>,
    pub doors: Vec<DoorId>,
    /// Their doors, whose geofence is the site's.
    pub sites: Vec<SiteId>,
    pub cards: Vec<CardId>,
    pub pins: Vec<PinId>,
    /// Credentials by their engine key, such as those of a member who may be gone.
    pub credential_keys: Vec<CredentialKey>,
}

/// Those objects as they are now. An asked access, member or schedule that is missing here
/// grants nothing any more (deleted, being deleted, or a member without an account).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RulesDelta {
    pub accesses: Vec<Access>,
    pub members: Vec<MemberRule>,
    pub schedules: Vec<Schedule>,
    /// The asked doors and the doors of the asked sites.
    pub doors: Vec<(DoorId, DoorRestrictions)>,
    /// Every card or PIN code with an asked key or sharing one with an asked card or PIN
    /// code, revoked first.
    pub credentials: Vec<(CredentialKey, CredentialRule)>,
}

/// A new access link: its hash, the message that delivers it (none for manual links), and
/// the quotas to hold it to, counted in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLink {
    pub link: AccessLink,
    pub secret_hash: Vec<u8>,
    pub message: Option<Message>,
    pub quotas: LinkQuotas,
    /// When the current month began in the organization's time zone, for the SMS quota.
    pub month_start: DateTime<Utc>,
}

/// How a list of links is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LinkSort {
    /// Oldest first.
    #[default]
    Created,
    /// By recipient name.
    Name,
    /// Most recently used first; never used last.
    LastUsed,
    /// Soonest to end first; never ending last.
    ValidUntil,
}

/// Narrows a list of links; states are as at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkFilter {
    pub group: Option<GroupId>,
    pub state: Option<LinkState>,
    pub created_by: Option<MembershipId>,
    pub sort: LinkSort,
    pub now: DateTime<Utc>,
}

/// Narrows a list of cards or PIN codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CredentialFilter {
    pub member: Option<MembershipId>,
    pub status: Option<CredentialStatus>,
    /// PIN codes only.
    pub site: Option<SiteId>,
}

/// A PIN code to store: its digest under the site's key, which finds it, and the code sealed
/// for its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPin {
    pub pin: Pin,
    pub digest: Vec<u8>,
    pub sealed: Vec<u8>,
}

/// One of an account's active PIN codes, still sealed, with where it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnPin {
    pub org_slug: String,
    pub org_name: String,
    pub site_name: String,
    pub pin: Pin,
    pub sealed: Vec<u8>,
}

/// A stored API key: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    /// `None` for an operator key, which administers organizations themselves.
    pub org_id: Option<OrgId>,
    pub name: String,
    /// The first characters of the secret, to recognise a key in lists and logs.
    pub prefix: String,
    pub secret_hash: Vec<u8>,
    pub areas: Areas,
    /// The member who made it, when a member did: their leaving revokes it.
    pub created_by: Option<MembershipId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Organizations: the tenants.
#[async_trait]
pub trait OrgStore: Send + Sync {
    /// Creates an organization, with its first owner's membership or invitation when given.
    async fn create_org(
        &self,
        org: &Organization,
        owner: Option<&NewMember>,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    async fn get_org(&self, id: OrgId) -> Result<Organization, StoreError>;

    async fn get_org_by_slug(&self, slug: &str) -> Result<Organization, StoreError>;

    async fn list_orgs(&self, page: PageRequest) -> Result<Page<Organization>, StoreError>;

    async fn update_org(
        &self,
        id: OrgId,
        change: Change<'_, Organization>,
        audit: &Audit,
    ) -> Result<Organization, StoreError>;

    /// Deletes the organization and everything it owns.
    async fn delete_org(&self, id: OrgId) -> Result<(), StoreError>;
}

/// Places: sites, their doors, and groups of members.
#[async_trait]
pub trait PlaceStore: Send + Sync {
    async fn create_site(&self, org: OrgId, site: &Site, audit: &Audit) -> Result<(), StoreError>;

    async fn get_site(&self, org: OrgId, id: SiteId) -> Result<Site, StoreError>;

    async fn list_sites(&self, org: OrgId, page: PageRequest) -> Result<Page<Site>, StoreError>;

    async fn update_site(
        &self,
        org: OrgId,
        id: SiteId,
        change: Change<'_, Site>,
        audit: &Audit,
    ) -> Result<Site, StoreError>;

    /// Refused with the conflict `site_has_doors` while doors remain at the site.
    async fn delete_site(&self, org: OrgId, id: SiteId, audit: &Audit) -> Result<(), StoreError>;

    /// Refused with `MissingReference` when the door's site is not in `org`.
    async fn create_door(&self, org: OrgId, door: &Door, audit: &Audit) -> Result<(), StoreError>;

    async fn get_door(&self, org: OrgId, id: DoorId) -> Result<Door, StoreError>;

    /// The organization's doors with these ids that exist, in id order: one read for many.
    async fn find_doors(&self, org: OrgId, ids: &[DoorId]) -> Result<Vec<Door>, StoreError>;

    async fn list_doors(
        &self,
        org: OrgId,
        filter: DoorFilter,
        page: PageRequest,
    ) -> Result<Page<Door>, StoreError>;

    async fn update_door(
        &self,
        org: OrgId,
        id: DoorId,
        change: Change<'_, Door>,
        audit: &Audit,
    ) -> Result<Door, StoreError>;

    async fn delete_door(&self, org: OrgId, id: DoorId, audit: &Audit) -> Result<(), StoreError>;

    /// Refused with the conflict `group_name_taken` when the organization has a group of
    /// that name.
    async fn create_group(
        &self,
        org: OrgId,
        group: &Group,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    async fn get_group(&self, org: OrgId, id: GroupId) -> Result<Group, StoreError>;

    async fn list_groups(&self, org: OrgId, page: PageRequest) -> Result<Page<Group>, StoreError>;

    async fn update_group(
        &self,
        org: OrgId,
        id: GroupId,
        change: Change<'_, Group>,
        audit: &Audit,
    ) -> Result<Group, StoreError>;

    async fn delete_group(&self, org: OrgId, id: GroupId, audit: &Audit) -> Result<(), StoreError>;

    /// Whether membership of the group opens doors: an access (not deleted) or an unrevoked
    /// access link targets it.
    async fn group_grants_access(&self, org: OrgId, id: GroupId) -> Result<bool, StoreError>;
}

/// Schedules: when accesses apply.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Stores a key; an organization's key is recorded in its log under `audit`.
    /// Refused with the conflict `schedule_name_taken` when the organization has a schedule
    /// of that name.
    async fn create_schedule(
        &self,
        org: OrgId,
        schedule: &Schedule,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    async fn get_schedule(&self, org: OrgId, id: ScheduleId) -> Result<Schedule, StoreError>;

    async fn list_schedules(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<Schedule>, StoreError>;

    async fn update_schedule(
        &self,
        org: OrgId,
        id: ScheduleId,
        change: Change<'_, Schedule>,
        audit: &Audit,
    ) -> Result<Schedule, StoreError>;

    async fn delete_schedule(
        &self,
        org: OrgId,
        id: ScheduleId,
        audit: &Audit,
    ) -> Result<(), StoreError>;
}

/// Accesses: who may pass which doors, how and when.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Stores accesses, all or none, with the welcome `messages` each sends. Everything an
    /// access names must exist in the organization: a refusal is `Invalid`, naming the field
    /// (prefixed `accesses[i].` for a `batch`). An access whose id is stored already with the
    /// same grant (`Access::same_grant`) is a repeat: nothing is written for it, its messages
    /// are not sent, and the stored one is answered; any other of the organization's ids in use is
    /// `access_exists`. Ids are per organization: another's is free to take.
    /// Answers the accesses as stored, in order.
    async fn create_accesses(
        &self,
        org: OrgId,
        accesses: &[Access],
        batch: bool,
        messages: &[(AccessId, Message)],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError>;

    async fn get_access(&self, org: OrgId, id: AccessId) -> Result<Access, StoreError>;

    /// The organization's accesses with these ids that exist, in id order.
    async fn find_accesses(&self, org: OrgId, ids: &[AccessId]) -> Result<Vec<Access>, StoreError>;

    async fn list_accesses(
        &self,
        org: OrgId,
        filter: &AccessFilter,
        page: PageRequest,
    ) -> Result<Page<Access>, StoreError>;

    /// Changes accesses, all or none (refused with `access_deleted` once one is deleted), and
    /// queues `messages`. Errors name the access (`accesses[i].`) for a `batch`.
    async fn update_accesses(
        &self,
        org: OrgId,
        changes: &[(AccessId, Change<'_, Access>)],
        batch: bool,
        messages: &[Message],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError>;

    /// Marks accesses deleted, all or none (each named once): they grant nothing and stay on
    /// record.
    async fn delete_accesses(
        &self,
        org: OrgId,
        ids: &[AccessId],
        audit: &Audit,
    ) -> Result<Vec<Access>, StoreError>;

    /// Deletes temporary accesses whose `valid_to` has passed (up to 1000 a call); returns
    /// how many.
    async fn expire_accesses(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Ends the wait of the organization's accesses whose controllers all hold their last
    /// change (each controller's `rules_version` at least the access's): `creating` and
    /// `updating` become `ready`, `deleting` becomes `deleted`, each on record as
    /// `access.applied`. Returns how many.
    async fn settle_accesses(&self, org: OrgId, audit: &Audit) -> Result<u64, StoreError>;
}

/// Credentials: cards and PIN codes, and the server key they are derived under.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Gives member `card.member_id` a card. Conflicts: `card_taken` when an active card has
    /// the same number and facility code; `MissingReference` for an unknown member.
    async fn create_card(&self, org: OrgId, card: &Card, audit: &Audit) -> Result<(), StoreError>;

    async fn get_card(&self, org: OrgId, id: CardId) -> Result<Card, StoreError>;

    async fn list_cards(
        &self,
        org: OrgId,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<Card>, StoreError>;

    /// Revokes an active card (a revoked one stays as it is).
    async fn revoke_card(&self, org: OrgId, id: CardId, audit: &Audit) -> Result<Card, StoreError>;

    /// How many active PIN codes of each length the site has; `NotFound` for an unknown site.
    async fn pin_counts(&self, org: OrgId, site: SiteId) -> Result<Vec<(u8, u64)>, StoreError>;

    /// Gives a member a PIN code at a site, checking under the site's lock that the site's
    /// codes of that length stay a thousand times fewer than the possible ones
    /// (`pin_space_exhausted`) and that no active code has the same digest (`pin_taken`).
    async fn create_pin(&self, org: OrgId, pin: &NewPin, audit: &Audit) -> Result<(), StoreError>;

    async fn get_pin(&self, org: OrgId, id: PinId) -> Result<Pin, StoreError>;

    async fn list_pins(
        &self,
        org: OrgId,
        filter: CredentialFilter,
        page: PageRequest,
    ) -> Result<Page<Pin>, StoreError>;

    /// Revokes an active PIN code and forgets its sealed code.
    async fn revoke_pin(&self, org: OrgId, id: PinId, audit: &Audit) -> Result<Pin, StoreError>;

    /// The account's active PIN codes in organizations where its membership is active.
    async fn account_pins(&self, account: AccountId) -> Result<Vec<OwnPin>, StoreError>;

    /// The fingerprint of the server key this database was first used with, recording
    /// `fingerprint` when there is none yet.
    async fn server_key_fingerprint(
        &self,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError>;
}

/// Access links: guests let in by a link.
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// The organization's link quotas (the defaults until the operator sets them).
    async fn link_quotas(&self, org: OrgId) -> Result<LinkQuotas, StoreError>;

    async fn set_link_quotas(
        &self,
        org: OrgId,
        quotas: &LinkQuotas,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    /// Stores a link and queues its message, refusing under the organization's lock when a
    /// quota is used up (`email_link_quota`, `sms_link_quota`, naming the count).
    async fn create_link(&self, org: OrgId, new: &NewLink, audit: &Audit)
    -> Result<(), StoreError>;

    async fn get_link(&self, org: OrgId, id: LinkId) -> Result<AccessLink, StoreError>;

    async fn list_links(
        &self,
        org: OrgId,
        filter: LinkFilter,
        page: PageRequest,
    ) -> Result<Page<AccessLink>, StoreError>;

    /// Revokes a link (a revoked one stays as it is).
    async fn revoke_link(
        &self,
        org: OrgId,
        id: LinkId,
        audit: &Audit,
    ) -> Result<AccessLink, StoreError>;

    /// The link whose secret hashes to `hash`, with its organization.
    async fn find_link(
        &self,
        hash: &[u8],
    ) -> Result<Option<(Organization, AccessLink)>, StoreError>;

    /// Notes that the link was used at `at`.
    async fn touch_link(&self, org: OrgId, id: LinkId, at: DateTime<Utc>)
    -> Result<(), StoreError>;

    /// The doors the group's accesses name (not deleted ones), by name.
    async fn group_doors(&self, org: OrgId, group: GroupId) -> Result<Vec<Door>, StoreError>;
}

/// Memberships and invitations.
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Adds a membership or invitation. Refused with `already_member` when the account (or the account with the
    /// invited address) is a member, `already_invited` when the address has a pending
    /// invitation, `MissingReference` for a group of another organization.
    async fn create_membership(
        &self,
        org: OrgId,
        member: &NewMember,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    async fn get_member(&self, org: OrgId, id: MembershipId) -> Result<MemberRecord, StoreError>;

    /// The organization's members with these ids that exist, in id order: one read for many.
    async fn find_members(
        &self,
        org: OrgId,
        ids: &[MembershipId],
    ) -> Result<Vec<MemberRecord>, StoreError>;

    /// The account's membership of the organization, if any.
    async fn find_membership(
        &self,
        org: OrgId,
        account: AccountId,
    ) -> Result<Option<MemberRecord>, StoreError>;

    async fn list_members(
        &self,
        org: OrgId,
        filter: &MemberFilter,
        page: PageRequest,
    ) -> Result<Page<MemberRecord>, StoreError>;

    /// Active members holding at least one admin area (at most 100).
    async fn list_admins(&self, org: OrgId) -> Result<Vec<MemberRecord>, StoreError>;

    /// Changes status, areas or groups. Refused with `last_owner` when it would leave the
    /// organization without an active owner.
    async fn update_membership(
        &self,
        org: OrgId,
        id: MembershipId,
        change: Change<'_, Membership>,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError>;

    /// Removes a membership or revokes an invitation, recorded as `kind`. Refused with
    /// `last_owner` for the last active owner.
    async fn delete_membership(
        &self,
        org: OrgId,
        id: MembershipId,
        audit: &Audit,
        kind: EventKind,
    ) -> Result<(), StoreError>;

    /// The pending invitation whose link token hashes to `token_hash`, expired ones included.
    async fn find_invitation(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(Organization, MemberRecord)>, StoreError>;

    /// Makes the invitation the account's active membership, once: `invitation_used`
    /// afterwards, `already_member` when the account is a member already.
    async fn accept_invitation(
        &self,
        org: OrgId,
        id: MembershipId,
        account: AccountId,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError>;

    /// Gives a pending invitation a new link and expiry, and queues its message.
    async fn renew_invitation(
        &self,
        org: OrgId,
        id: MembershipId,
        link: &InviteLink,
        message: &Message,
        audit: &Audit,
    ) -> Result<MemberRecord, StoreError>;

    /// Refused with `last_owner`, naming the organization, when the account is the last active
    /// owner of one: it may not leave it ownerless by deleting itself.
    async fn ensure_not_last_owner(&self, account: AccountId) -> Result<(), StoreError>;

    /// Every membership of the account, with its organization.
    async fn account_memberships(
        &self,
        account: AccountId,
    ) -> Result<Vec<(Organization, MemberRecord)>, StoreError>;
}

/// The event log.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends one event to the organization's log (decisions: they change nothing else).
    async fn record_event(
        &self,
        org: OrgId,
        audit: &Audit,
        kind: EventKind,
        object: Option<(&str, Uuid)>,
        summary: serde_json::Value,
    ) -> Result<(), StoreError>;

    /// Up to `limit` of the organization's events with ids from `from` on (ids are ordered
    /// by time), oldest first; `kind` as in `EventFilter`.
    async fn events_from(
        &self,
        org: OrgId,
        kind: Option<&str>,
        from: Uuid,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError>;

    /// The organization's event log, newest first.
    async fn list_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<Event>, StoreError>;

    /// Door decisions counted per door and per period, from the log: `edges` are the
    /// periods' bounds, ascending (n + 1 edges make n periods, each from its edge inclusive
    /// to the next exclusive; at most 100). Only periods with a decision are returned.
    async fn decision_activity(
        &self,
        org: OrgId,
        edges: &[DateTime<Utc>],
    ) -> Result<DecisionActivity, StoreError>;
}

/// How many door decisions went which way, per door and period (`EventStore::decision_activity`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionActivity {
    pub counts: Vec<DecisionCount>,
    /// Different members granted entry over all the periods.
    pub members_granted: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionCount {
    pub door_id: Uuid,
    /// Index of the period: from `edges[period]` to `edges[period + 1]`.
    pub period: usize,
    pub granted: u64,
    pub denied: u64,
}

/// What the decision engine reads, and the versions of its changes.
#[async_trait]
pub trait RuleStore: Send + Sync {
    /// The version of the organization's rules: it changes with every change decisions read.
    async fn rules_version(&self, org: OrgId) -> Result<i64, StoreError>;

    /// Everything decisions read, at least as new as the version it carries.
    async fn load_rules(&self, org: OrgId) -> Result<RulesSnapshot, StoreError>;

    /// The changes after version `after`, oldest first, at most `limit`. Pruned changes are
    /// missing: the first one returned is then not `after + 1`.
    async fn rule_changes(
        &self,
        org: OrgId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RuleChange>, StoreError>;

    /// Reads the rules of some objects, at least as new as the changes that named them.
    async fn load_rule_objects(
        &self,
        org: OrgId,
        objects: &RuleObjects,
    ) -> Result<RulesDelta, StoreError>;

    /// Forgets changes made before `before`; returns how many.
    async fn prune_rule_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// Door controllers of a site, and the token each signs in with (kept as its SHA-256).
#[async_trait]
pub trait ControllerStore: Send + Sync {
    /// Creates a controller whose token hashes to `token_hash`. Its site must be one of the
    /// organization's (`site_id` is a missing reference otherwise).
    async fn create_controller(
        &self,
        org: OrgId,
        controller: &Controller,
        token_hash: &[u8],
        audit: &Audit,
    ) -> Result<(), StoreError>;

    async fn get_controller(&self, org: OrgId, id: ControllerId) -> Result<Controller, StoreError>;

    /// The organization's controllers, of one site when `site` is given.
    async fn list_controllers(
        &self,
        org: OrgId,
        site: Option<SiteId>,
        page: PageRequest,
    ) -> Result<Page<Controller>, StoreError>;

    /// Changes a controller's name or description; its site and token stay.
    async fn update_controller(
        &self,
        org: OrgId,
        id: ControllerId,
        change: Change<'_, Controller>,
        audit: &Audit,
    ) -> Result<Controller, StoreError>;

    /// Deletes a controller; refused with `controller_has_doors` while doors are wired to it.
    async fn delete_controller(
        &self,
        org: OrgId,
        id: ControllerId,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    /// Replaces the controller's token: from now on only `token_hash` finds it.
    async fn rotate_controller_token(
        &self,
        org: OrgId,
        id: ControllerId,
        token_hash: &[u8],
        at: DateTime<Utc>,
        audit: &Audit,
    ) -> Result<Controller, StoreError>;

    /// The controller whose current token hashes to `token_hash`, and its organization.
    async fn find_controller(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(OrgId, Controller)>, StoreError>;

    /// Writes what the controller last reported (`online`: its sync stream is open). An
    /// offline report whose `last_seen_at` is older than the one kept changes nothing: it is
    /// a stream ending after a newer one began.
    async fn set_controller_live(
        &self,
        org: OrgId,
        id: ControllerId,
        live: &ControllerLive,
    ) -> Result<(), StoreError>;

    /// Stores events a controller made, with their own ids and times, each once: an event
    /// whose id is stored already is skipped, so a batch sent again adds nothing. In the same
    /// transaction, the doors' states it reports replace those kept when they are not older
    /// (a door no longer there is skipped).
    async fn store_controller_events(
        &self,
        org: OrgId,
        events: &[Event],
        states: &[DoorState],
    ) -> Result<(), StoreError>;

    /// Each door's state as its controller last reported it (doors never reported are not
    /// listed), by door id.
    async fn list_door_states(&self, org: OrgId) -> Result<Vec<DoorState>, StoreError>;

    /// Keeps a pairing code's digest for the controller until `expires_at`, replacing the
    /// code it had; `NotFound` for a controller not of the organization.
    async fn create_pairing_code(
        &self,
        org: OrgId,
        id: ControllerId,
        code_digest: &[u8],
        expires_at: DateTime<Utc>,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    /// Spends the code whose digest is `code_digest`, once (of two at the same time, one
    /// wins): when it is still valid at `now`, the controller's token becomes `token_hash`
    /// (ending the old one's stream) and the controller is returned. A spent, expired or
    /// unknown code is `None` (an expired one is gone afterwards too).
    async fn pair_controller(
        &self,
        code_digest: &[u8],
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(OrgId, Controller)>, StoreError>;
}

/// API keys and the sessions of keys signed in with a token.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn create_api_key(&self, key: &ApiKey, audit: Option<&Audit>) -> Result<(), StoreError>;

    async fn get_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<ApiKey, StoreError>;

    /// The organization's keys, revoked ones included.
    async fn list_api_keys(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, StoreError>;

    /// Revokes one of the organization's keys; revoking a revoked key changes nothing.
    async fn revoke_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        audit: &Audit,
    ) -> Result<ApiKey, StoreError>;

    /// The key whose secret hashes to `secret_hash`, revoked or expired ones included.
    async fn find_api_key(&self, secret_hash: &[u8]) -> Result<Option<ApiKey>, StoreError>;

    /// Records that the key was used at `now`; writes at most once a minute per key.
    async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Starts a session of tokens traded for key `key`.
    async fn create_key_session(
        &self,
        id: Uuid,
        key: ApiKeyId,
        tokens: &FreshTokens,
    ) -> Result<(), StoreError>;

    /// The session whose auth token hashes to `auth_hash`, expired or revoked ones included.
    async fn find_key_session(&self, auth_hash: &[u8]) -> Result<Option<KeySession>, StoreError>;

    /// Trades a session's current reissue token (issued after `issued_after`) for `fresh`;
    /// a session whose key is revoked or expired (at `fresh.now`) is `Unknown`.
    async fn reissue_key_session(
        &self,
        presented: &[u8],
        issued_after: DateTime<Utc>,
        fresh: &FreshTokens,
    ) -> Result<KeyReissue, StoreError>;
}

/// Accounts and signing in.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn get_account(&self, id: AccountId) -> Result<AccountRecord, StoreError>;

    async fn find_account_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<AccountRecord>, StoreError>;

    async fn find_account_by_phone(
        &self,
        phone: &Phone,
    ) -> Result<Option<AccountRecord>, StoreError>;

    async fn update_account(
        &self,
        id: AccountId,
        change: Change<'_, Account>,
    ) -> Result<Account, StoreError>;

    /// Lifts a sign-in lock and forgets the wrong codes; `NotFound` for an unknown email.
    async fn unlock_account(&self, email: &Email) -> Result<(), StoreError>;

    /// Starts an attempt: stores it and queues its email.
    async fn create_sign_in(&self, sign_in: &SignIn, email: &Message) -> Result<(), StoreError>;

    async fn find_sign_in_by_email_token(&self, hash: &[u8]) -> Result<Option<SignIn>, StoreError>;

    async fn find_sign_in_by_session(&self, hash: &[u8]) -> Result<Option<SignIn>, StoreError>;

    /// Marks the email link used and queues the SMS code, once: `false` when the link was
    /// already used or the attempt has ended.
    async fn confirm_sign_in_email(
        &self,
        id: SignInId,
        confirmation: &EmailConfirmation,
        sms: &Message,
    ) -> Result<bool, StoreError>;

    /// Confirms a wrong code counted by `start_attempt` against the attempt (ending it at
    /// `max_failures`) and against the account (locking it until `lock_until` at `lock_after`
    /// in a row). Returns the attempt's failures so far.
    async fn fail_sign_in_code(
        &self,
        id: SignInId,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_after: u32,
        lock_until: DateTime<Utc>,
    ) -> Result<u32, StoreError>;

    /// Ends the attempt successfully: creates the account of a registration (`account`),
    /// resets the account's wrong-code count, gives the account the proven phone when the
    /// sign-in `adds_phone` (signing out its other devices, on record as
    /// `account.phone_recovered`), registers the device and queues the `notices`. Refused with
    /// the conflict `sign_in_ended` when the attempt was already finished (or the account has
    /// a phone again), `account_exists` or `email_taken` when it lost a race for its phone or
    /// email.
    async fn complete_sign_in(
        &self,
        id: SignInId,
        account: Option<&Account>,
        device: &NewDevice,
        notices: &[Message],
    ) -> Result<(), StoreError>;

    /// Deletes what `cutoffs` say has outlived its use; returns how many rows went.
    async fn purge(&self, cutoffs: &Purge) -> Result<u64, StoreError>;
}

/// The other ways to sign in: OpenID Connect providers and passkeys, and the ceremonies
/// between their requests.
#[async_trait]
pub trait SignInMethodStore: Send + Sync {
    /// Stores a ceremony to be taken once by `take_flow`.
    async fn create_flow(&self, flow: &AuthFlow) -> Result<(), StoreError>;

    /// Takes (deletes and returns) the ceremony of `kind` whose handle hashes to
    /// `handle_hash`, expired or not: once, however many ask at the same time.
    async fn take_flow(
        &self,
        kind: &'static str,
        handle_hash: &[u8],
    ) -> Result<Option<AuthFlow>, StoreError>;

    /// Starts a sign-in whose email a provider has proven: stored with its email already
    /// confirmed, and its SMS code queued, in one transaction. Without `sms` no code is
    /// needed (the account's organizations let the provider alone sign in): it is stored
    /// with no code hash, so that no code ever finishes it.
    async fn create_confirmed_sign_in(
        &self,
        sign_in: &SignIn,
        confirmation: &EmailConfirmation,
        sms: Option<&Message>,
    ) -> Result<(), StoreError>;

    /// The account a provider identity is linked to.
    async fn account_of_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<AccountId>, StoreError>;

    async fn list_identities(&self, account: AccountId) -> Result<Vec<LinkedIdentity>, StoreError>;

    /// Links a provider identity to the account, on record in its organizations. Refused
    /// with `identity_linked` when another account has it, `provider_linked` when the
    /// account has another identity at the same issuer.
    async fn link_identity(
        &self,
        account: AccountId,
        linked: &LinkedIdentity,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    /// Unlinks one of the account's identities; `NotFound` for another's.
    async fn unlink_identity(
        &self,
        account: AccountId,
        id: Uuid,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    /// Whether `email` has an invitation still pending (its account will be made at its
    /// first sign-in).
    async fn invited(&self, email: &Email, now: DateTime<Utc>) -> Result<bool, StoreError>;

    async fn list_passkeys(&self, account: AccountId) -> Result<Vec<PasskeyRecord>, StoreError>;

    async fn find_passkey(&self, credential_id: &[u8])
    -> Result<Option<PasskeyRecord>, StoreError>;

    /// Adds a passkey, on record in the account's organizations; `passkey_exists` when its
    /// credential is already registered.
    async fn add_passkey(&self, passkey: &PasskeyRecord, audit: &Audit) -> Result<(), StoreError>;

    /// Removes one of the account's passkeys; `NotFound` for another's.
    async fn remove_passkey(
        &self,
        account: AccountId,
        id: Uuid,
        audit: &Audit,
    ) -> Result<(), StoreError>;

    /// A passkey signed in: stores its new counter (`credential`), and registers the device
    /// with the sign-in on record, as a completed sign-in does. `NotFound` when the passkey
    /// was removed meanwhile.
    async fn passkey_sign_in(
        &self,
        passkey: Uuid,
        credential: &str,
        device: &NewDevice,
    ) -> Result<(), StoreError>;

    /// A passkey's user verification stood in for the device's app PIN: stores the
    /// passkey's counter and marks the PIN verified at `now`. `NotFound` when the passkey or
    /// the device is gone.
    async fn passkey_verified_device(
        &self,
        passkey: Uuid,
        credential: &str,
        device: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Codes that prove an address before a change, and the changes they unlock.
#[async_trait]
pub trait VerificationStore: Send + Sync {
    /// Stores a verification and queues its code (none: nothing is sent).
    async fn create_verification(
        &self,
        verification: &Verification,
        code: Option<&Message>,
    ) -> Result<(), StoreError>;

    async fn find_verification(
        &self,
        handle_hash: &[u8],
    ) -> Result<Option<Verification>, StoreError>;

    /// Confirms a wrong code counted by `start_attempt`, ending the verification at
    /// `max_failures`; returns the failures.
    async fn fail_verification(
        &self,
        id: VerificationId,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<u32, StoreError>;

    /// Finishes the verification (once: `verification_ended` otherwise) and applies what it
    /// proves, in one transaction: a new email or phone (every device is signed out; refused
    /// with `email_taken` or `account_exists` when another account has it), the erasure of
    /// the account, or detaching a recycled phone from the account that has it (whose
    /// devices are signed out). `notice` is queued with it.
    async fn complete_verification(
        &self,
        id: VerificationId,
        now: DateTime<Utc>,
        notice: Option<&Message>,
    ) -> Result<(), StoreError>;
}

/// Devices: a person's apps and browsers, their tokens and app PINs.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    async fn find_device_by_auth(&self, hash: &[u8]) -> Result<Option<DeviceRecord>, StoreError>;

    /// The device of an auth token (by hash) with, in the same statement, the organization
    /// named by `slug`, the device's account's membership of it and its rules version: all
    /// a device's request in an organization reads before it decides, as current as the
    /// database, in one round trip.
    async fn device_in_org(
        &self,
        hash: &[u8],
        slug: &str,
    ) -> Result<Option<DeviceInOrg>, StoreError>;

    /// One of the account's devices that is not revoked.
    async fn get_device(
        &self,
        account: AccountId,
        device: DeviceId,
    ) -> Result<DeviceRecord, StoreError>;

    /// Records that the device was seen at `now`, and moves a browser's session expiry to
    /// `browser_expires_at`; writes at most once a minute per device.
    async fn touch_device(
        &self,
        id: DeviceId,
        now: DateTime<Utc>,
        browser_expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Trades a reissue token (by hash) issued after `issued_after` for fresh tokens, or
    /// revokes its device on reuse. An older token is `Unknown`: it has simply expired.
    async fn reissue_device(
        &self,
        presented: &[u8],
        issued_after: DateTime<Utc>,
        fresh: &FreshTokens,
    ) -> Result<Reissue, StoreError>;

    /// The PIN of a started check (`start_attempt`) was right: verified now, failures forgotten. `NotFound`
    /// when the device was revoked meanwhile (by wrong PINs checked beside it).
    async fn app_pin_verified(
        &self,
        device: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The PIN of a started check (`start_attempt`) was wrong: revokes the device when `max_failures` are
    /// counted. Returns the failures; `NotFound` when the device is already revoked.
    async fn app_pin_wrong(
        &self,
        device: DeviceId,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<u32, StoreError>;

    /// The account's devices that are not revoked.
    async fn list_devices(&self, account: AccountId) -> Result<Vec<Device>, StoreError>;

    /// Unregisters one of the account's devices; `NotFound` for another's or a revoked one.
    async fn revoke_device(
        &self,
        account: AccountId,
        device: DeviceId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Rate limits: slots taken atomically, and single-use proofs.
#[async_trait]
pub trait LimitStore: Send + Sync {
    /// Counts a secret about to be compared (a sign-in code, a verification code, an app
    /// PIN) as wrong until it proves right, so that parallel guesses can never compare more
    /// than `max`: `false` when `max` are counted already (wrong in a row, or being compared
    /// now); `NotFound` when the attempt has ended (or the device is revoked).
    async fn start_attempt(&self, attempt: Attempt, max: u32) -> Result<bool, StoreError>;

    /// Takes one slot under each limit's key at `now`, all or none, atomically: `Full` (and
    /// nothing taken) when one of the windows of one of the limits has no slot left.
    async fn take_slots(
        &self,
        limits: &[Limit<'_>],
        now: DateTime<Utc>,
    ) -> Result<Slot, StoreError>;

    /// Gives back one slot taken under `key` at `at`: an attempt that turned out not to count.
    async fn give_back(&self, key: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Marks a single-use proof used: `false` when it already was.
    async fn spend_proof(&self, proof: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// When sends under `rate_key` happened since `since`, oldest first.
    async fn recent_sends(
        &self,
        rate_key: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError>;
}

/// The outbox: email and SMS waiting to be sent.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Takes up to `limit` messages due at `now`, hiding them from other takers until
    /// `lease_until` (so a crashed sender's messages are retried, and two nodes never send
    /// the same one at once).
    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;

    /// Queues a message that no change goes with (a warning).
    async fn queue_message(&self, message: &Message) -> Result<(), StoreError>;

    /// Marks a message delivered and erases its body (which may hold a link or a code): who
    /// it went to, what kind it was and when stay.
    async fn mark_message_sent(&self, id: MessageId, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Counts a failed delivery: retried at `retry_at`, or, with `None`, given up and its
    /// body erased like a delivered one's.
    async fn mark_message_failed(
        &self,
        id: MessageId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
}

/// Everything Lintel keeps. Each method is one atomic operation; every method on an
/// organization's objects takes the organization, and another organization's row is
/// simply `NotFound`.
#[async_trait]
pub trait Store:
    OrgStore
    + PlaceStore
    + ControllerStore
    + ScheduleStore
    + AccessStore
    + CredentialStore
    + LinkStore
    + MemberStore
    + EventStore
    + RuleStore
    + ApiKeyStore
    + AccountStore
    + SignInMethodStore
    + VerificationStore
    + DeviceStore
    + LimitStore
    + OutboxStore
    + Send
    + Sync
    + 'static
{
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Applies the migrations this database lacks; returns the names applied.
    async fn migrate(&self, now: DateTime<Utc>) -> Result<Vec<&'static str>, StoreError>;

    /// Which backend this is, for logs: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Remembers the public URL the server runs with (links in emails are built from it).
    async fn remember_public_url(&self, url: &str) -> Result<(), StoreError>;

    /// The public URL the server last ran with, for commands run beside it.
    async fn stored_public_url(&self) -> Result<Option<String>, StoreError>;

    /// The signals of every node sharing the database from now on (see `Signal`). Subscribe
    /// before reading what a signal would announce, so that nothing committed in between
    /// goes unheard.
    fn signals(&self) -> Receiver;

    /// Sends `signal` to every node sharing the database, this one included.
    async fn signal(&self, signal: Signal) -> Result<(), StoreError>;

    /// Whether other server nodes may share this database (PostgreSQL), so that a
    /// controller's stream may be held by another node.
    fn shared(&self) -> bool;
}

/// Creates a directory (and its parents) that only its owner may enter, for data that must
/// not be readable by other users of the machine. An existing directory is left as it is.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens the store a database URL names: `postgres://…` or `postgresql://…` for
/// PostgreSQL, `sqlite://PATH` or `sqlite:PATH` for a SQLite file (created if missing).
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else {
        Err(StoreError::Config(
            "database URL must start with postgres://, postgresql:// or sqlite://".into(),
        ))
    }
}
