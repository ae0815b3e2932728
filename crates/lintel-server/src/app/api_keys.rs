//! API keys: machine credentials. The secret is shown once and stored only as a hash
//! (see `secrets`).

use chrono::{DateTime, Utc};
use lintel_domain::{ApiKeyId, Areas, OrgId, ValidationError, validate};
use lintel_store::ApiKey;

use super::secrets::{hash, token};
use super::{Actor, AppState, Error};

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
    state.store.create_api_key(&key).await?;
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
            org,
            areas: key.areas,
        },
    })
}
