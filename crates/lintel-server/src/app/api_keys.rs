//! API keys: machine credentials. The secret is shown once and stored only as a hash
//! (see `secrets`).

use chrono::{DateTime, Utc};
use lintel_domain::member::{outranked_by, ungrantable};
use lintel_domain::{ApiKeyId, Area, Areas, OrgId, ValidationError, validate};
use lintel_store::{ApiKey, Audit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::members::parse_areas;
use super::secrets::{hash, token};
use super::{Actor, AppState, Error, Found, ListRequest, Listed, OrgCtx};

/// Every secret starts with this, so keys are recognisable in code, logs and secret scanners.
pub const SECRET_PREFIX: &str = "lnt_";
/// How many characters of the secret are kept, to tell keys apart in lists.
const SHOWN_PREFIX_LEN: usize = SECRET_PREFIX.len() + 8;

/// A new key: what is stored, and the secret to show once.
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: String,
}

/// Issues a key for `org` (`None`: an operator key) holding `areas`.
pub async fn issue(
    state: &AppState,
    org: Option<OrgId>,
    name: &str,
    areas: Areas,
    expires_at: Option<DateTime<Utc>>,
    audit: Option<&Audit>,
) -> Result<IssuedKey, Error> {
    let now = state.clock.now();
    let name = validate::text("name", name, 1, 200)?;
    if org.is_some() && areas.is_empty() {
        return Err(ValidationError::new(
            "areas",
            "required",
            "an organization's API key needs at least one admin area",
        )
        .into());
    }
    if expires_at.is_some_and(|at| at <= now) {
        return Err(ValidationError::new(
            "expires_at",
            "in_the_past",
            "expires_at must be in the future",
        )
        .into());
    }
    let secret = token(SECRET_PREFIX);
    let key = ApiKey {
        id: ApiKeyId::new(now),
        org_id: org,
        name,
        prefix: secret[..SHOWN_PREFIX_LEN].to_owned(),
        secret_hash: hash(&secret),
        areas,
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    state.store.create_api_key(&key, audit).await?;
    Ok(IssuedKey { key, secret })
}

/// The actor a bearer secret stands for. Unknown, revoked and expired keys all get the same
/// answer, so the answer says nothing about which keys exist.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Actor, Error> {
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
        return Err(Error::Unauthenticated);
    }
    let Some(key) = state.store.find_api_key(&hash(secret)).await? else {
        return Err(Error::Unauthenticated);
    };
    let now = state.clock.now();
    if key.revoked_at.is_some() || key.expires_at.is_some_and(|at| at <= now) {
        return Err(Error::Unauthenticated);
    }
    if let Err(err) = state.store.touch_api_key(key.id, now).await {
        // Recording use is bookkeeping: it must not turn a valid request away.
        tracing::warn!(error = %err, key = %key.id, "could not record API key use");
    }
    Ok(match key.org_id {
        None => Actor::Operator { key: key.id },
        Some(org) => Actor::ApiKey {
            key: key.id,
            name: key.name,
            org,
            areas: key.areas,
        },
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    #[schema(example = "door integration")]
    pub name: String,
    /// Admin areas the key may use; each must be one the creator holds.
    #[schema(example = json!(["doors"]))]
    pub areas: Vec<String>,
    /// When the key stops working; never when left out.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An API key as lists show it: never the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyInfo {
    pub id: Uuid,
    pub name: String,
    /// The secret's first characters, to recognise the key.
    #[schema(example = "lnt_AbCdEfGh")]
    pub prefix: String,
    #[schema(value_type = Vec<String>)]
    pub areas: Areas,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyInfo {
    fn from(k: ApiKey) -> Self {
        ApiKeyInfo {
            id: k.id.0,
            name: k.name,
            prefix: k.prefix,
            areas: k.areas,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    pub key: ApiKeyInfo,
    /// The bearer secret. It is not stored and cannot be shown again.
    pub secret: String,
}

/// Creates one of the organization's keys. Needs `api`, and every area the key gets.
pub async fn create(
    state: &AppState,
    ctx: &OrgCtx,
    req: CreateApiKey,
) -> Result<CreatedApiKey, Error> {
    ctx.require(Area::Api)?;
    let areas = parse_areas("areas", &req.areas)?;
    if let Some(area) = ungrantable(&ctx.areas, &Areas::default(), &areas) {
        return Err(Error::Forbidden { area });
    }
    let issued = issue(
        state,
        Some(ctx.org_id()),
        &req.name,
        areas,
        req.expires_at,
        Some(&ctx.audit()),
    )
    .await?;
    Ok(CreatedApiKey {
        key: issued.key.into(),
        secret: issued.secret,
    })
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    req: &ListRequest,
) -> Result<Listed<ApiKeyInfo>, Error> {
    ctx.require(Area::Api)?;
    let page = state.store.list_api_keys(ctx.org_id(), req.page()?).await?;
    Ok(Listed::from(page).map(ApiKeyInfo::from))
}

/// Revokes a key at once. Needs `api`, and every area the key holds.
pub async fn revoke(state: &AppState, ctx: &OrgCtx, id: ApiKeyId) -> Result<ApiKeyInfo, Error> {
    ctx.require(Area::Api)?;
    let target = state
        .store
        .get_api_key(ctx.org_id(), id)
        .await
        .found("api_key")?;
    if let Some(area) = outranked_by(&ctx.areas, &target.areas) {
        return Err(Error::Forbidden { area });
    }
    Ok(state
        .store
        .revoke_api_key(ctx.org_id(), id, &ctx.audit())
        .await
        .found("api_key")?
        .into())
}
