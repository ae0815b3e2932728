//! The use cases. Every front end (HTTP and the web pages now, gRPC later) calls these and
//! nothing else, so validation, permissions and tenant scoping cannot drift between them.

pub mod accesses;
pub mod api_keys;
pub mod auth;
pub mod bearer;
pub mod controllers;
pub mod credentials;
pub mod decisions;
pub mod doors;
pub mod events;
pub mod groups;
pub mod housekeeping;
pub mod hub;
pub mod limits;
pub mod links;
pub mod me;
pub mod members;
pub mod oidc;
pub mod orgs;
pub mod outbox;
pub mod passkeys;
mod patch;
pub mod rules_cache;
pub mod schedules;
pub(crate) mod secrets;
pub mod server_key;
pub mod sites;
pub mod verification;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lintel_domain::{
    AccountId, ApiKeyId, Area, Areas, Clock, DeviceId, EventActor, OrgId, Organization,
    ValidationError,
};
use lintel_store::{Audit, ConflictKind, MemberRecord, Page, PageRequest, Store, StoreError};
use uuid::Uuid;

use crate::i18n::Lang;

pub use patch::double_option;

/// What every use case needs: the store, the clock, and the address people reach Lintel at
/// (for links in emails), without a trailing slash.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub public_url: Arc<str>,
    /// Each organization's rules in memory, for decisions.
    pub rules: Arc<rules_cache::RulesCache>,
    /// The server key, which protects members' PIN codes.
    pub key: Arc<server_key::ServerKey>,
    /// Where SMS to numbers not yet proven may go, and how many.
    pub sms: Arc<limits::SmsPolicy>,
    /// The controllers connected to this node, to carry out what it decides.
    pub controllers: Arc<hub::Hub>,
    /// The OpenID Connect providers people may sign in with.
    pub oidc: Arc<oidc::Providers>,
    /// Passkeys, for Lintel at its public URL.
    pub passkeys: Arc<passkeys::Passkeys>,
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    /// An operator key: administers organizations themselves.
    Operator { key: ApiKeyId },
    /// An organization's API key, with the admin areas it may use.
    ApiKey {
        key: ApiKeyId,
        name: String,
        org: OrgId,
        areas: Areas,
    },
    /// A person's signed-in app or browser.
    Device {
        account: AccountId,
        device: DeviceId,
        /// When the device's app PIN was last verified, as read when it authenticated.
        pin_verified_at: DateTime<Utc>,
    },
    /// The operator at the server's command line (`lintel admin …`).
    Console,
}

/// A request inside one organization: the organization, who acts, with which admin areas,
/// and when. Only `enter_org` makes one, so every use case sees the actor's real areas.
#[derive(Debug, Clone)]
pub struct OrgCtx {
    pub org: Organization,
    pub actor: Actor,
    pub now: DateTime<Utc>,
    /// What the actor may do here: a key's areas, an active membership's areas, nothing for
    /// a suspended member, everything for the operator.
    pub areas: Areas,
    /// The person's membership, when a person acts.
    pub member: Option<MemberRecord>,
    /// The organization's rules version, when it was read with the context (a device's
    /// request): the rules need not ask again.
    pub rules_version: Option<i64>,
    /// The language the caller asked for (`Accept-Language`): what is sent on their behalf
    /// to someone who has not chosen one (an invitation, a guest's link) is written in it.
    pub lang: Lang,
}

impl OrgCtx {
    /// Refuses unless the actor holds `area` (or `owner`) in this organization.
    pub fn require(&self, area: Area) -> Result<(), Error> {
        if self.areas.allows(area) {
            Ok(())
        } else {
            Err(Error::Forbidden { area })
        }
    }

    /// Refuses unless the actor holds at least one of `areas`; names the first.
    pub fn require_any(&self, areas: &[Area]) -> Result<(), Error> {
        match areas.iter().find(|a| self.areas.allows(**a)) {
            Some(_) => Ok(()),
            None => Err(Error::Forbidden { area: areas[0] }),
        }
    }

    /// Refuses a member who holds no admin area: reading the organization's setup (sites,
    /// doors, groups) is for its administrators.
    pub fn require_admin(&self) -> Result<(), Error> {
        self.require_any(&Area::ALL)
    }

    pub fn org_id(&self) -> OrgId {
        self.org.id
    }

    /// Who is acting, as the event log records it.
    pub fn audit(&self) -> Audit {
        Audit {
            actor: event_actor(&self.actor, self.member.as_ref()),
            at: self.now,
        }
    }
}

/// The event log's name for an actor.
pub(crate) fn event_actor(actor: &Actor, member: Option<&MemberRecord>) -> EventActor {
    match actor {
        Actor::Operator { key } => EventActor::Operator { key_id: *key },
        Actor::ApiKey { key, name, .. } => EventActor::ApiKey {
            key_id: *key,
            name: name.clone(),
        },
        Actor::Device { account, .. } => EventActor::Member {
            account_id: Some(*account),
            name: member
                .and_then(|m| m.person.as_ref())
                .map(|p| format!("{} {}", p.first_name, p.last_name))
                .unwrap_or_default(),
        },
        Actor::Console => EventActor::Console,
    }
}

/// "1 try left", "3 tries left".
pub(crate) fn tries_left(left: u32) -> String {
    format!("{left} {} left", if left == 1 { "try" } else { "tries" })
}

/// Enters organization `slug` as `actor`. An organization the actor may not see (another
/// tenant's, or one the person is no member of) is `organization_not_found`, exactly like one
/// that does not exist.
pub async fn enter_org(state: &AppState, actor: Actor, slug: &str) -> Result<OrgCtx, Error> {
    let not_found = Error::NotFound {
        what: "organization",
    };
    let org = match state.store.get_org_by_slug(slug).await {
        Ok(org) => org,
        Err(StoreError::NotFound) => return Err(not_found),
        Err(e) => return Err(e.into()),
    };
    let (areas, member) = match &actor {
        // An operator key administers tenants (create, list, delete, quotas, first owner),
        // not what is inside them: it holds no area there, so it opens no door and makes no
        // key. The console (`lintel admin`) runs where the database and the server key are,
        // with the power that access gives anyway.
        Actor::Operator { .. } => (Areas::default(), None),
        Actor::Console => (Areas::new([Area::Owner]), None),
        Actor::ApiKey {
            org: key_org,
            areas,
            ..
        } if *key_org == org.id => (areas.clone(), None),
        Actor::ApiKey { .. } => return Err(not_found),
        Actor::Device { account, .. } => {
            match state.store.find_membership(org.id, *account).await? {
                Some(member) => (member.membership.effective_areas(), Some(member)),
                None => return Err(not_found),
            }
        }
    };
    Ok(OrgCtx {
        org,
        actor,
        now: state.clock.now(),
        areas,
        member,
        rules_version: None,
        lang: Lang::En,
    })
}

/// Enters `slug` as the holder of a bearer secret: a device's auth token in one read of the
/// store (`enter_org_by_device`), a key by authenticating and then entering.
pub async fn enter_org_by_bearer(
    state: &AppState,
    secret: &str,
    device_time: Option<DateTime<Utc>>,
    slug: &str,
) -> Result<OrgCtx, Error> {
    if bearer::is_auth_token(secret) {
        return enter_org_by_device(state, secret, device_time, slug).await;
    }
    let actor = bearer::authenticate_bearer(state, secret, device_time).await?;
    enter_org(state, actor, slug).await
}

/// `enter_org` for a device's auth token, in one read of the store (`bearer::device_in_org`).
async fn enter_org_by_device(
    state: &AppState,
    token: &str,
    device_time: Option<DateTime<Utc>>,
    slug: &str,
) -> Result<OrgCtx, Error> {
    let (actor, found) = bearer::device_in_org(state, token, device_time, slug).await?;
    let Some(lintel_store::OrgOfDevice {
        org,
        member: Some(member),
        rules_version,
    }) = found
    else {
        return Err(Error::NotFound {
            what: "organization",
        });
    };
    Ok(OrgCtx {
        org,
        actor,
        now: state.clock.now(),
        areas: member.membership.effective_areas(),
        member: Some(member),
        rules_version: Some(rules_version),
        lang: Lang::En,
    })
}

/// Why a use case refused. Each front end maps these to its own statuses in one place.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("a valid API key is required")]
    Unauthenticated,
    #[error("this action needs the {area} admin area")]
    Forbidden { area: Area },
    #[error("only an operator key may create, delete or list all organizations")]
    OperatorOnly,
    #[error("this is for a signed-in device, not an API key")]
    DeviceOnly,
    #[error("the auth token has expired; trade the reissue token for new tokens")]
    TokenExpired,
    #[error("too many wrong PINs: this device is unregistered; sign in again")]
    DeviceUnregistered,
    #[error("too many requests; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("this {what} has expired")]
    Expired { what: &'static str },
    #[error("too many wrong codes: sign-in is locked until {until}")]
    Locked { until: DateTime<Utc> },
    #[error("the device's clock is off by {skew_secs} seconds; set it to the right time")]
    ClockSkew {
        server_time: DateTime<Utc>,
        skew_secs: i64,
    },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// A batch names something that is not there: `field` says which item.
    #[error("{field}: {what} not found")]
    Missing { what: &'static str, field: String },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Another object already holds the value (a name, a slug, a number, an id).
    #[error("{message}")]
    Exists {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// The object's state forbids the change (used, ended, in use, the last owner, a quota).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The kind of a refusal: what every transport maps, each once (HTTP statuses in
/// `http::error`, gRPC codes in `grpc::error`, pages through HTTP's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unauthenticated,
    Forbidden,
    NotFound,
    Invalid,
    Exists,
    Conflict,
    Gone,
    RateLimited,
    Internal,
}

impl Error {
    pub fn kind(&self) -> Kind {
        match self {
            Error::Unauthenticated | Error::TokenExpired | Error::DeviceUnregistered => {
                Kind::Unauthenticated
            }
            Error::Forbidden { .. } | Error::OperatorOnly | Error::DeviceOnly => Kind::Forbidden,
            Error::NotFound { .. } | Error::Missing { .. } => Kind::NotFound,
            Error::Invalid(_) | Error::ClockSkew { .. } => Kind::Invalid,
            Error::Exists { .. } => Kind::Exists,
            Error::Conflict { .. } => Kind::Conflict,
            Error::Expired { .. } => Kind::Gone,
            Error::RateLimited { .. } | Error::Locked { .. } => Kind::RateLimited,
            Error::Internal(_) => Kind::Internal,
        }
    }

    /// Another object already holds what `field` names.
    pub(crate) fn exists(
        code: &'static str,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Exists {
            code,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    /// The object's current state forbids the change.
    pub(crate) fn conflict(
        code: &'static str,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Conflict {
            code,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            // Callers that know what was looked up map NotFound themselves (see `found`).
            StoreError::NotFound => Error::NotFound { what: "object" },
            StoreError::Conflict {
                kind: ConflictKind::Exists,
                code,
                field,
                message,
            } => Error::Exists {
                code,
                field,
                message,
            },
            StoreError::Conflict {
                kind: ConflictKind::State,
                code,
                field,
                message,
            } => Error::Conflict {
                code,
                field,
                message,
            },
            StoreError::MissingReference { field } => Error::Invalid(ValidationError::new(
                field,
                "reference_not_found",
                format!("{field} does not name an existing object of this organization"),
            )),
            StoreError::Invalid(e) => Error::Invalid(e),
            other => Error::Internal(other.into()),
        }
    }
}

/// Names what was not found, for results of store lookups.
pub(crate) trait Found<T> {
    fn found(self, what: &'static str) -> Result<T, Error>;
}

impl<T> Found<T> for Result<T, StoreError> {
    fn found(self, what: &'static str) -> Result<T, Error> {
        self.map_err(|e| match e {
            StoreError::NotFound => Error::NotFound { what },
            other => other.into(),
        })
    }
}

/// A list request as callers give it: how many, and the opaque cursor of a previous page.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// One page of results and the cursor that continues it.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl ListRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    pub(crate) fn page(&self) -> Result<PageRequest, Error> {
        let limit = self.limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(ValidationError::new(
                "limit",
                "out_of_range",
                format!("limit must be between 1 and {}", Self::MAX_LIMIT),
            )
            .into());
        }
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

impl<T> Listed<T> {
    /// The same page with each item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        Listed {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

impl<T> From<Page<T>> for Listed<T> {
    fn from(page: Page<T>) -> Self {
        Listed {
            items: page.items,
            next_cursor: page.next_after.map(encode_cursor),
        }
    }
}

fn encode_cursor(after: Uuid) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(after.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<Uuid, Error> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ValidationError::new(
                "cursor",
                "invalid_cursor",
                "cursor must be a next_cursor value returned by a previous page",
            )
            .into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
        for bad in ["", "not a cursor", "AAAA"] {
            assert!(matches!(
                decode_cursor(bad),
                Err(Error::Invalid(e)) if e.code == "invalid_cursor"
            ));
        }
    }

    #[test]
    fn limits_outside_the_range_are_refused() {
        let page = |limit| {
            ListRequest {
                limit: Some(limit),
                cursor: None,
            }
            .page()
        };
        assert_eq!(page(1).unwrap().limit, 1);
        assert_eq!(page(200).unwrap().limit, 200);
        assert!(page(0).is_err());
        assert!(page(201).is_err());
        assert_eq!(ListRequest::default().page().unwrap().limit, 50);
    }
}
