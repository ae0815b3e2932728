//! API keys: machine credentials. The secret is shown once and stored only as a hash
//! (see `secrets`).

use chrono::{DateTime, Utc};
use lintel_domain::member::{outranked_by, ungrantable};
use lintel_domain::{ApiKeyId, Area, Areas, MembershipId, OrgId, ValidationError, validate};
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
    created_by: Option<MembershipId>,
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
    lintel_domain::validate::instant("expires_at", expires_at)?;
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
        created_by,
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    state.store.create_api_key(&key, audit).await?;
    Ok(IssuedKey { key, secret })
}

/// The key `secret` belongs to, if it is usable at `now`. Unknown, revoked and expired keys all
/// get the same answer, so the answer says nothing about which keys exist.
async fn valid_key(state: &AppState, secret: &str, now: DateTime<Utc>) -> Result<ApiKey, Error> {
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
        return Err(Error::Unauthenticated);
    }
    match state.store.find_api_key(&hash(secret)).await? {
        Some(key) if usable(&key, now) => Ok(key),
        _ => Err(Error::Unauthenticated),
    }
}

fn usable(key: &ApiKey, now: DateTime<Utc>) -> bool {
    key.revoked_at.is_none() && key.expires_at.is_none_or(|at| at > now)
}

async fn actor_of(state: &AppState, key: ApiKey, now: DateTime<Utc>) -> Actor {
    if let Err(err) = state.store.touch_api_key(key.id, now).await {
        // Recording use is bookkeeping: it must not turn a valid request away.
        tracing::warn!(error = %err, key = %key.id, "could not record API key use");
    }
    match key.org_id {
        None => Actor::Operator { key: key.id },
        Some(org) => Actor::ApiKey {
            key: key.id,
            name: key.name,
            org,
            areas: key.areas,
        },
    }
}

/// Auth tokens traded for an API key start with this; their reissue tokens with the next.
pub(crate) const KEY_AUTH_PREFIX: &str = "lkt_";
const KEY_REISSUE_PREFIX: &str = "lkr_";

/// Tokens traded for an API key (gRPC `AuthService`).
#[derive(Debug, Clone)]
pub struct KeyTokens {
    pub auth_token: String,
    pub auth_expires_at: DateTime<Utc>,
    pub reissue_token: String,
    pub reissue_expires_at: DateTime<Utc>,
}

fn mint_key_tokens(now: DateTime<Utc>) -> (KeyTokens, lintel_store::FreshTokens) {
    let minted = super::auth::Minted::with_prefixes(
        now,
        super::auth::AUTH_TOKEN_TTL,
        KEY_AUTH_PREFIX,
        KEY_REISSUE_PREFIX,
    );
    let tokens = KeyTokens {
        auth_token: minted.auth_token,
        auth_expires_at: minted.fresh.auth_expires_at,
        reissue_token: minted.reissue_token,
        reissue_expires_at: now + super::auth::REISSUE_TOKEN_TTL,
    };
    (tokens, minted.fresh)
}

/// Trades an API key for an auth token (15 minutes) and a reissue token (90 days), so the
/// key itself need not travel with every call. The tokens act as the key, with its areas as
/// they are at each use: revoking the key ends them.
pub async fn trade(state: &AppState, secret: &str) -> Result<KeyTokens, Error> {
    let now = state.clock.now();
    let key = valid_key(state, secret.trim(), now).await?;
    let (tokens, fresh) = mint_key_tokens(now);
    state
        .store
        .create_key_session(Uuid::now_v7(), key.id, &fresh)
        .await?;
    Ok(tokens)
}

/// Trades a key session's reissue token for new tokens. A token already traded means it was
/// copied: the session is revoked, and the answer is the same as for an unknown token.
pub async fn reissue_key_tokens(state: &AppState, reissue_token: &str) -> Result<KeyTokens, Error> {
    let now = state.clock.now();
    let presented = reissue_token.trim();
    if !presented.starts_with(KEY_REISSUE_PREFIX) {
        return Err(Error::Unauthenticated);
    }
    let (tokens, fresh) = mint_key_tokens(now);
    match state
        .store
        .reissue_key_session(
            &hash(presented),
            now - super::auth::REISSUE_TOKEN_TTL,
            &fresh,
        )
        .await?
    {
        lintel_store::KeyReissue::Rotated => Ok(tokens),
        lintel_store::KeyReissue::Reused => {
            tracing::warn!("a rotated key reissue token was presented again; session revoked");
            Err(Error::Unauthenticated)
        }
        lintel_store::KeyReissue::Unknown => Err(Error::Unauthenticated),
    }
}

/// The key an auth token from `trade` stands for: unknown, revoked sessions and keys no
/// longer usable are `Unauthenticated`; an expired token is `TokenExpired`.
pub(crate) async fn authenticate_key_token(state: &AppState, token: &str) -> Result<Actor, Error> {
    let now = state.clock.now();
    let Some(session) = state.store.find_key_session(&hash(token)).await? else {
        return Err(Error::Unauthenticated);
    };
    if session.revoked || !usable(&session.key, now) {
        return Err(Error::Unauthenticated);
    }
    if now >= session.auth_expires_at {
        return Err(Error::TokenExpired);
    }
    Ok(actor_of(state, session.key, now).await)
}

/// The actor a bearer secret stands for. Unknown, revoked and expired keys all get the same
/// answer, so the answer says nothing about which keys exist.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Actor, Error> {
    let now = state.clock.now();
    let key = valid_key(state, secret, now).await?;
    Ok(actor_of(state, key, now).await)
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
        ctx.member.as_ref().map(|m| m.membership.id),
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
