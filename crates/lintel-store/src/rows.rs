//! Rows as the database returns them, and their checked conversion into the model.
//!
//! Long only by count: one short, checked conversion per stored type.

use chrono::{DateTime, Utc};
use lintel_domain::controller::ControllerLive;
use lintel_domain::decision::AuthType;
use lintel_domain::schedule::{ExceptionText, WindowText};
use lintel_domain::{Access, AccessDoor, AccessKind, AccessStatus, MembershipId};
use lintel_domain::{AccessLink, Card, Controller, CredentialStatus, Delivery, Pin};
use lintel_domain::{
    Account, ApiKeyId, Areas, Device, DeviceKind, Door, DoorKind, Email, Event, EventActor,
    Geofence, Group, GroupId, Invitation, InviteChannel, Membership, MembershipStatus, OrgSettings,
    Organization, Phone, Preferences, Schedule, Site, Slug, TimeZone,
};
use sqlx::FromRow;
use sqlx::types::Json;
use uuid::Uuid;

use crate::{
    AccountRecord, ApiKey, Channel, DeviceRecord, MemberRecord, Message, Person, Purpose,
    Registration, SignIn, StoreError, Verification,
};

/// Numbers the model keeps unsigned are stored as signed 32-bit integers, which both
/// backends have; the model's bounds keep them far below the limit.
pub(crate) fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

fn time_zone(value: &str) -> Result<TimeZone, StoreError> {
    TimeZone::parse("time_zone", value).map_err(|e| corrupt("time zone", e))
}

#[derive(FromRow)]
pub(crate) struct OrgRow {
    id: Uuid,
    slug: String,
    name: String,
    time_zone: String,
    settings: Json<OrgSettings>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Organization {
    type Error = StoreError;
    fn try_from(row: OrgRow) -> Result<Self, StoreError> {
        Ok(Organization {
            id: row.id.into(),
            slug: Slug::parse("slug", &row.slug).map_err(|e| corrupt("slug", e))?,
            name: row.name,
            time_zone: time_zone(&row.time_zone)?,
            settings: row.settings.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct SiteRow {
    id: Uuid,
    name: String,
    address: String,
    time_zone: String,
    geofence_latitude: Option<f64>,
    geofence_longitude: Option<f64>,
    geofence_radius_m: Option<f64>,
    offline_rules_max_days: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SiteRow> for Site {
    type Error = StoreError;
    fn try_from(row: SiteRow) -> Result<Self, StoreError> {
        let geofence = match (
            row.geofence_latitude,
            row.geofence_longitude,
            row.geofence_radius_m,
        ) {
            (Some(latitude), Some(longitude), Some(radius_m)) => Some(Geofence {
                latitude,
                longitude,
                radius_m,
            }),
            _ => None,
        };
        Ok(Site {
            id: row.id.into(),
            name: row.name,
            address: row.address,
            time_zone: time_zone(&row.time_zone)?,
            geofence,
            offline_rules_max_days: u16::try_from(row.offline_rules_max_days).map_err(|_| {
                corrupt(
                    "site offline_rules_max_days",
                    row.offline_rules_max_days.to_string(),
                )
            })?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct DoorRow {
    id: Uuid,
    site_id: Uuid,
    name: String,
    kind: String,
    geofence_required: bool,
    reader_required: bool,
    unlock_duration_secs: i32,
    description: String,
    preferences: Json<Preferences>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    controller_id: Option<Uuid>,
}

impl TryFrom<DoorRow> for Door {
    type Error = StoreError;
    fn try_from(row: DoorRow) -> Result<Self, StoreError> {
        Ok(Door {
            id: row.id.into(),
            site_id: row.site_id.into(),
            name: row.name,
            kind: DoorKind::parse(&row.kind).ok_or_else(|| corrupt("door kind", &row.kind))?,
            geofence_required: row.geofence_required,
            reader_required: row.reader_required,
            unlock_duration_secs: u32::try_from(row.unlock_duration_secs)
                .map_err(|e| corrupt("unlock duration", e))?,
            controller_id: row.controller_id.map(Into::into),
            description: row.description,
            preferences: row.preferences.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ControllerRow {
    id: Uuid,
    site_id: Uuid,
    name: String,
    description: String,
    token_issued_at: DateTime<Utc>,
    connected: bool,
    last_seen_at: Option<DateTime<Utc>>,
    rules_version: Option<i64>,
    rules_in_sync: bool,
    events_waiting: Option<i64>,
    clock_skew_ms: Option<i64>,
    software_version: Option<String>,
    rules_confirmed_at: Option<DateTime<Utc>>,
    offline_rules_max_days: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ControllerRow> for Controller {
    type Error = StoreError;
    fn try_from(row: ControllerRow) -> Result<Self, StoreError> {
        Ok(Controller {
            id: row.id.into(),
            site_id: row.site_id.into(),
            name: row.name,
            description: row.description,
            token_issued_at: row.token_issued_at,
            live: ControllerLive {
                online: row.connected,
                last_seen_at: row.last_seen_at,
                rules_version: row.rules_version,
                rules_in_sync: row.rules_in_sync,
                events_waiting: row.events_waiting,
                clock_skew_ms: row.clock_skew_ms,
                software_version: row.software_version,
                rules_confirmed_at: row.rules_confirmed_at,
                rules_stale_at: row
                    .rules_confirmed_at
                    .map(|at| at + chrono::Duration::days(row.offline_rules_max_days)),
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct GroupRow {
    id: Uuid,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<GroupRow> for Group {
    type Error = StoreError;
    fn try_from(row: GroupRow) -> Result<Self, StoreError> {
        Ok(Group {
            id: row.id.into(),
            name: row.name,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ApiKeyRow {
    id: Uuid,
    org_id: Option<Uuid>,
    name: String,
    prefix: String,
    secret_hash: Vec<u8>,
    areas: Json<Areas>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: row.id.into(),
            org_id: row.org_id.map(Into::into),
            name: row.name,
            prefix: row.prefix,
            secret_hash: row.secret_hash,
            areas: row.areas.0,
            created_by: row.created_by.map(Into::into),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
    }
}

fn email(value: &str) -> Result<Email, StoreError> {
    Email::parse("email", value).map_err(|e| corrupt("email", e))
}

fn phone(value: &str) -> Result<Phone, StoreError> {
    Phone::parse("phone", value).map_err(|e| corrupt("phone", e))
}

fn count(value: i32, what: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|e| corrupt(what, e))
}

#[derive(FromRow)]
pub(crate) struct AccountRow {
    id: Uuid,
    first_name: String,
    last_name: String,
    email: String,
    phone: Option<String>,
    failed_codes: i32,
    locked_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    language: Option<String>,
}

impl TryFrom<AccountRow> for AccountRecord {
    type Error = StoreError;
    fn try_from(row: AccountRow) -> Result<Self, StoreError> {
        Ok(AccountRecord {
            account: Account {
                id: row.id.into(),
                first_name: row.first_name,
                last_name: row.last_name,
                email: email(&row.email)?,
                phone: row.phone.as_deref().map(phone).transpose()?,
                created_at: row.created_at,
                updated_at: row.updated_at,
                language: row.language,
            },
            failed_codes: count(row.failed_codes, "failed codes")?,
            locked_until: row.locked_until,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct SignInRow {
    id: Uuid,
    account_id: Option<Uuid>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: String,
    phone: String,
    adds_phone: bool,
    email_token_hash: Vec<u8>,
    email_expires_at: DateTime<Utc>,
    email_confirmed_at: Option<DateTime<Utc>>,
    code_hash: Option<Vec<u8>>,
    code_expires_at: Option<DateTime<Utc>>,
    code_failures: i32,
    finished_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    oidc_provider: Option<String>,
    oidc_issuer: Option<String>,
    oidc_subject: Option<String>,
}

impl TryFrom<SignInRow> for SignIn {
    type Error = StoreError;
    fn try_from(row: SignInRow) -> Result<Self, StoreError> {
        let registration = match (row.first_name, row.last_name) {
            (Some(first_name), Some(last_name)) => Some(Registration {
                first_name,
                last_name,
            }),
            _ => None,
        };
        Ok(SignIn {
            id: row.id.into(),
            account_id: row.account_id.map(Into::into),
            registration,
            email: email(&row.email)?,
            phone: phone(&row.phone)?,
            adds_phone: row.adds_phone,
            email_token_hash: row.email_token_hash,
            email_expires_at: row.email_expires_at,
            email_confirmed_at: row.email_confirmed_at,
            code_hash: row.code_hash,
            code_expires_at: row.code_expires_at,
            code_failures: count(row.code_failures, "code failures")?,
            finished_at: row.finished_at,
            created_at: row.created_at,
            via: match (row.oidc_provider, row.oidc_issuer, row.oidc_subject) {
                (Some(provider), Some(issuer), Some(subject)) => Some(crate::ProviderIdentity {
                    provider,
                    issuer,
                    subject,
                }),
                _ => None,
            },
        })
    }
}

#[derive(FromRow)]
pub(crate) struct DeviceRow {
    id: Uuid,
    account_id: Uuid,
    kind: String,
    name: String,
    pin_hash: String,
    pin_verified_at: DateTime<Utc>,
    pin_failures: i32,
    auth_expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<DeviceRow> for DeviceRecord {
    type Error = StoreError;
    fn try_from(row: DeviceRow) -> Result<Self, StoreError> {
        Ok(DeviceRecord {
            device: Device {
                id: row.id.into(),
                kind: DeviceKind::parse(&row.kind)
                    .ok_or_else(|| corrupt("device kind", &row.kind))?,
                name: row.name,
                created_at: row.created_at,
                last_seen_at: row.last_seen_at,
                pin_verified_at: row.pin_verified_at,
            },
            account_id: row.account_id.into(),
            auth_expires_at: row.auth_expires_at,
            revoked_at: row.revoked_at,
            pin_hash: row.pin_hash,
            pin_failures: count(row.pin_failures, "PIN failures")?,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct MessageRow {
    id: Uuid,
    channel: String,
    recipient: String,
    subject: String,
    body: String,
    attempts: i32,
    created_at: DateTime<Utc>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(row: MessageRow) -> Result<Self, StoreError> {
        let channel = match row.channel.as_str() {
            "email" => Channel::Email,
            "sms" => Channel::Sms,
            other => return Err(corrupt("message channel", other)),
        };
        Ok(Message {
            id: row.id.into(),
            channel,
            recipient: row.recipient,
            subject: row.subject,
            body: row.body,
            attempts: count(row.attempts, "attempts")?,
            created_at: row.created_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct VerificationRow {
    id: Uuid,
    account_id: Option<Uuid>,
    purpose: String,
    target: String,
    handle_hash: Vec<u8>,
    code_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
    failures: i32,
    finished_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<VerificationRow> for Verification {
    type Error = StoreError;
    fn try_from(row: VerificationRow) -> Result<Self, StoreError> {
        Ok(Verification {
            id: row.id.into(),
            account_id: row.account_id.map(Into::into),
            purpose: Purpose::parse(&row.purpose)
                .ok_or_else(|| corrupt("verification purpose", &row.purpose))?,
            target: row.target,
            handle_hash: row.handle_hash,
            code_hash: row.code_hash,
            expires_at: row.expires_at,
            failures: count(row.failures, "failures")?,
            finished_at: row.finished_at,
            created_at: row.created_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct MemberRow {
    id: Uuid,
    account_id: Option<Uuid>,
    status: String,
    areas: Json<Areas>,
    invite_channel: Option<String>,
    invite_address: Option<String>,
    invite_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

impl MemberRow {
    pub(crate) fn id(&self) -> Uuid {
        self.id
    }

    /// The record, with the groups found for it.
    pub(crate) fn into_record(self, groups: Vec<GroupId>) -> Result<MemberRecord, StoreError> {
        let status = MembershipStatus::parse("status", &self.status)
            .map_err(|e| corrupt("membership status", e))?;
        let invitation = match (self.invite_channel, self.invite_address) {
            (Some(channel), Some(address)) => Some(Invitation {
                channel: InviteChannel::parse(&channel)
                    .ok_or_else(|| corrupt("invite channel", channel))?,
                address,
                expires_at: self.invite_expires_at,
            }),
            _ => None,
        };
        let person = match (self.first_name, self.last_name, self.email) {
            (Some(first_name), Some(last_name), Some(address)) => Some(Person {
                first_name,
                last_name,
                email: email(&address)?,
                phone: self.phone.as_deref().map(phone).transpose()?,
            }),
            _ => None,
        };
        Ok(MemberRecord {
            membership: Membership {
                id: self.id.into(),
                account_id: self.account_id.map(Into::into),
                status,
                areas: self.areas.0,
                groups,
                invitation,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            person,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct EventRow {
    id: Uuid,
    at: DateTime<Utc>,
    kind: String,
    actor_kind: String,
    actor_id: Option<Uuid>,
    actor_name: String,
    object_kind: Option<String>,
    object_id: Option<Uuid>,
    summary: Json<serde_json::Value>,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let key = || {
            row.actor_id
                .map(ApiKeyId::from)
                .ok_or_else(|| corrupt("event actor", "a key without an id"))
        };
        let actor = match row.actor_kind.as_str() {
            "member" => EventActor::Member {
                account_id: row.actor_id.map(Into::into),
                name: row.actor_name,
            },
            "api_key" => EventActor::ApiKey {
                key_id: key()?,
                name: row.actor_name,
            },
            "operator" => EventActor::Operator { key_id: key()? },
            "guest" => EventActor::Guest {
                link_id: row
                    .actor_id
                    .map(Into::into)
                    .ok_or_else(|| corrupt("event actor", "a guest without a link"))?,
                name: row.actor_name,
            },
            "controller" => EventActor::Controller {
                controller_id: row
                    .actor_id
                    .map(Into::into)
                    .ok_or_else(|| corrupt("event actor", "a controller without an id"))?,
                name: row.actor_name,
            },
            "console" => EventActor::Console,
            "system" => EventActor::System,
            other => return Err(corrupt("event actor", other)),
        };
        Ok(Event {
            id: row.id.into(),
            at: row.at,
            kind: row.kind,
            actor,
            object_kind: row.object_kind,
            object_id: row.object_id,
            summary: row.summary.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ScheduleRow {
    id: Uuid,
    name: String,
    time_zone: String,
    windows: Json<Vec<WindowText>>,
    exceptions: Json<Vec<ExceptionText>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ScheduleRow> for Schedule {
    type Error = StoreError;
    fn try_from(row: ScheduleRow) -> Result<Self, StoreError> {
        Ok(Schedule {
            id: row.id.into(),
            name: row.name,
            time_zone: time_zone(&row.time_zone)?,
            windows: row.windows.0,
            exceptions: row.exceptions.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct AccessRow {
    pub(crate) id: Uuid,
    name: String,
    kind: String,
    pub(crate) status: String,
    preferences: Json<Preferences>,
    valid_from: Option<DateTime<Utc>>,
    valid_to: Option<DateTime<Utc>>,
    schedule_id: Option<Uuid>,
    description: String,
    welcome_email_required: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
pub(crate) struct AccessDoorRow {
    pub(crate) access_id: Uuid,
    door_id: Uuid,
    lock_unlock_enabled: bool,
    in_auth_types: Json<Vec<AuthType>>,
    out_auth_types: Json<Vec<AuthType>>,
}

impl AccessDoorRow {
    pub(crate) fn into_door(self) -> AccessDoor {
        AccessDoor {
            door_id: self.door_id.into(),
            lock_unlock_enabled: self.lock_unlock_enabled,
            in_auth_types: self.in_auth_types.0,
            out_auth_types: self.out_auth_types.0,
        }
    }
}

impl AccessRow {
    /// The access, with its lists.
    pub(crate) fn into_access(
        self,
        doors: Vec<AccessDoor>,
        users: Vec<MembershipId>,
        groups: Vec<GroupId>,
    ) -> Result<Access, StoreError> {
        Ok(Access {
            id: self.id.into(),
            name: self.name,
            kind: AccessKind::parse(&self.kind)
                .ok_or_else(|| corrupt("access kind", &self.kind))?,
            status: AccessStatus::parse(&self.status)
                .ok_or_else(|| corrupt("access status", &self.status))?,
            preferences: self.preferences.0,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            schedule_id: self.schedule_id.map(Into::into),
            doors,
            users,
            groups,
            description: self.description,
            welcome_email_required: self.welcome_email_required,
            waiting_for: Vec::new(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn credential_status(value: &str) -> Result<CredentialStatus, StoreError> {
    CredentialStatus::parse(value).ok_or_else(|| corrupt("credential status", value))
}

#[derive(FromRow)]
pub(crate) struct CardRow {
    id: Uuid,
    membership_id: Uuid,
    number: String,
    facility_code: Option<i32>,
    description: String,
    status: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<CardRow> for Card {
    type Error = StoreError;
    fn try_from(row: CardRow) -> Result<Self, StoreError> {
        Ok(Card {
            id: row.id.into(),
            member_id: row.membership_id.into(),
            number: row.number,
            facility_code: row
                .facility_code
                .map(|fc| u32::try_from(fc).map_err(|e| corrupt("facility code", e)))
                .transpose()?,
            description: row.description,
            status: credential_status(&row.status)?,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct PinRow {
    id: Uuid,
    membership_id: Uuid,
    site_id: Uuid,
    length: i32,
    status: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<PinRow> for Pin {
    type Error = StoreError;
    fn try_from(row: PinRow) -> Result<Self, StoreError> {
        Ok(Pin {
            id: row.id.into(),
            member_id: row.membership_id.into(),
            site_id: row.site_id.into(),
            length: u8::try_from(row.length).map_err(|e| corrupt("PIN length", e))?,
            status: credential_status(&row.status)?,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct LinkRow {
    id: Uuid,
    group_id: Uuid,
    recipient_name: String,
    delivery: String,
    address: Option<String>,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    created_by: Option<Uuid>,
    created_by_name: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

impl TryFrom<LinkRow> for AccessLink {
    type Error = StoreError;
    fn try_from(row: LinkRow) -> Result<Self, StoreError> {
        Ok(AccessLink {
            id: row.id.into(),
            group_id: row.group_id.into(),
            recipient_name: row.recipient_name,
            delivery: Delivery::parse(&row.delivery)
                .ok_or_else(|| corrupt("link delivery", &row.delivery))?,
            address: row.address,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            created_by: row.created_by.map(Into::into),
            created_by_name: row.created_by_name,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            last_used_at: row.last_used_at,
        })
    }
}

/// One row of `DeviceStore::device_in_org`: the device, the organization named by the slug
/// (`o_`), the account's membership of it (`m_`, with its person), its rules version, and
/// one of the membership's groups; a membership in several groups comes as several rows.
#[derive(FromRow)]
pub(crate) struct DeviceInOrgRow {
    #[sqlx(flatten)]
    device: DeviceRow,
    o_id: Option<Uuid>,
    o_slug: Option<String>,
    o_name: Option<String>,
    o_time_zone: Option<String>,
    o_settings: Option<Json<OrgSettings>>,
    o_created_at: Option<DateTime<Utc>>,
    o_updated_at: Option<DateTime<Utc>>,
    rules_version: Option<i64>,
    m_id: Option<Uuid>,
    m_account_id: Option<Uuid>,
    m_status: Option<String>,
    m_areas: Option<Json<Areas>>,
    m_invite_channel: Option<String>,
    m_invite_address: Option<String>,
    m_invite_expires_at: Option<DateTime<Utc>>,
    m_created_at: Option<DateTime<Utc>>,
    m_updated_at: Option<DateTime<Utc>>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    group_id: Option<Uuid>,
}

/// The rows of one `device_in_org` read as the record; `None` without rows.
pub(crate) fn device_in_org(
    rows: Vec<DeviceInOrgRow>,
) -> Result<Option<crate::DeviceInOrg>, StoreError> {
    let groups: Vec<GroupId> = rows
        .iter()
        .filter_map(|r| r.group_id)
        .map(GroupId)
        .collect();
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let missing = || corrupt("organization", "a column is null");
    let org = match row.o_id {
        None => None,
        Some(id) => {
            let org = Organization::try_from(OrgRow {
                id,
                slug: row.o_slug.ok_or_else(missing)?,
                name: row.o_name.ok_or_else(missing)?,
                time_zone: row.o_time_zone.ok_or_else(missing)?,
                settings: row.o_settings.ok_or_else(missing)?,
                created_at: row.o_created_at.ok_or_else(missing)?,
                updated_at: row.o_updated_at.ok_or_else(missing)?,
            })?;
            let member = match row.m_id {
                None => None,
                Some(id) => Some(
                    MemberRow {
                        id,
                        account_id: row.m_account_id,
                        status: row.m_status.ok_or_else(missing)?,
                        areas: row.m_areas.ok_or_else(missing)?,
                        invite_channel: row.m_invite_channel,
                        invite_address: row.m_invite_address,
                        invite_expires_at: row.m_invite_expires_at,
                        created_at: row.m_created_at.ok_or_else(missing)?,
                        updated_at: row.m_updated_at.ok_or_else(missing)?,
                        first_name: row.first_name,
                        last_name: row.last_name,
                        email: row.email,
                        phone: row.phone,
                    }
                    .into_record(groups)?,
                ),
            };
            Some(crate::OrgOfDevice {
                org,
                member,
                rules_version: row.rules_version.unwrap_or(0),
            })
        }
    };
    Ok(Some(crate::DeviceInOrg {
        device: row.device.try_into()?,
        org,
    }))
}
