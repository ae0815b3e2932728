//! The use cases. Every front end (HTTP now, gRPC and web pages later) calls these and
//! nothing else, so validation, permissions and tenant scoping cannot drift between them.

pub mod api_keys;
pub mod auth;
pub mod doors;
pub mod groups;
pub mod housekeeping;
pub mod me;
pub mod orgs;
pub mod outbox;
mod patch;
pub(crate) mod secrets;
pub mod sites;
pub mod verification;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lintel_domain::{
    AccountId, ApiKeyId, Area, Areas, Clock, DeviceId, OrgId, Organization, ValidationError,
};
use lintel_store::{Page, PageRequest, Store, StoreError};
use uuid::Uuid;

pub use patch::double_option;

/// What every use case needs: the store, the clock, and the address people reach Lintel at
/// (for links in emails), without a trailing slash.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub public_url: Arc<str>,
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    /// An operator key: administers organizations themselves.
    Operator { key: ApiKeyId },
    /// An organization's API key, with the admin areas it may use.
    ApiKey {
        key: ApiKeyId,
        org: OrgId,
        areas: Areas,
    },
    /// A person's signed-in app or browser.
    Device {
        account: AccountId,
        device: DeviceId,
    },
}

/// A request inside one organization: the organization, who acts, and when.
#[derive(Debug, Clone)]
pub struct OrgCtx {
    pub org: Organization,
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

impl OrgCtx {
    /// Refuses unless the actor holds `area` (or `owner`) in this organization.
    pub fn require(&self, area: Area) -> Result<(), Error> {
        let allowed = match &self.actor {
            Actor::Operator { .. } => true,
            Actor::ApiKey { areas, .. } => areas.allows(area),
            // Members and their admin areas come with memberships.
            Actor::Device { .. } => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::Forbidden { area })
        }
    }

    pub fn org_id(&self) -> OrgId {
        self.org.id
    }
}

/// Enters organization `slug` as `actor`. An organization the actor may not see is
/// `organization_not_found`, exactly like one that does not exist.
pub async fn enter_org(state: &AppState, actor: Actor, slug: &str) -> Result<OrgCtx, Error> {
    let not_found = Error::NotFound {
        what: "organization",
    };
    let org = match state.store.get_org_by_slug(slug).await {
        Ok(org) => org,
        Err(StoreError::NotFound) => return Err(not_found),
        Err(e) => return Err(e.into()),
    };
    match &actor {
        Actor::Operator { .. } => {}
        Actor::ApiKey { org: key_org, .. } if *key_org == org.id => {}
        // A person belongs to organizations through memberships, which are not built yet.
        Actor::ApiKey { .. } | Actor::Device { .. } => return Err(not_found),
    }
    Ok(OrgCtx {
        org,
        actor,
        now: state.clock.now(),
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
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            // Callers that know what was looked up map NotFound themselves (see `found`).
            StoreError::NotFound => Error::NotFound { what: "object" },
            StoreError::Conflict {
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
