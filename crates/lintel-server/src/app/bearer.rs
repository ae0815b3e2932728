//! Bearer authentication, in one place: the secret in `Authorization: Bearer …` (or a
//! browser's session cookie) is a device's auth token, an API key's auth token (from a
//! trade), or an API key, and stands for one `Actor`.

use chrono::{DateTime, Utc};
use lintel_domain::DeviceKind;

use super::{Actor, AppState, Error, api_keys, auth, secrets};

/// The actor a bearer secret stands for: a device's auth token, an API key's auth token, or
/// an API key.
pub async fn authenticate_bearer(
    state: &AppState,
    secret: &str,
    device_time: Option<DateTime<Utc>>,
) -> Result<Actor, Error> {
    if is_auth_token(secret) {
        authenticate_device(state, secret, device_time).await
    } else if secret.starts_with(api_keys::KEY_AUTH_PREFIX) {
        api_keys::authenticate_key_token(state, secret).await
    } else {
        api_keys::authenticate(state, secret).await
    }
}

/// The device an auth token stands for. `device_time`, the device's own clock, is checked
/// first so that a wrong clock gets a clear answer instead of baffling expiries.
pub async fn authenticate_device(
    state: &AppState,
    token: &str,
    device_time: Option<DateTime<Utc>>,
) -> Result<Actor, Error> {
    let now = state.clock.now();
    auth::check_clock(now, device_time)?;
    let device = state
        .store
        .find_device_by_auth(&secrets::hash(token))
        .await?;
    admit_device(state, device.as_ref(), now).await
}

/// A device's request in the organization `slug`: the device, the organization, the
/// account's membership and the rules version in one read (`device_in_org`), so that a
/// phone's unlock costs one round trip before it decides. Nothing of it is cached: a revoked
/// device, a suspended member or a changed organization counts at the next request, on
/// every node.
pub async fn device_in_org(
    state: &AppState,
    token: &str,
    device_time: Option<DateTime<Utc>>,
    slug: &str,
) -> Result<(Actor, Option<lintel_store::OrgOfDevice>), Error> {
    let now = state.clock.now();
    auth::check_clock(now, device_time)?;
    let found = state
        .store
        .device_in_org(&secrets::hash(token), slug)
        .await?;
    let actor = admit_device(state, found.as_ref().map(|f| &f.device), now).await?;
    Ok((actor, found.and_then(|f| f.org)))
}

/// The actor a device found by its auth token stands for, if it may act now: not revoked,
/// not expired, a browser session not past its age. Notes the device's use (at most once a
/// minute).
async fn admit_device(
    state: &AppState,
    device: Option<&lintel_store::DeviceRecord>,
    now: DateTime<Utc>,
) -> Result<Actor, Error> {
    let Some(device) = device else {
        return Err(Error::Unauthenticated);
    };
    if device.revoked_at.is_some() {
        return Err(Error::Unauthenticated);
    }
    if now >= device.auth_expires_at {
        return Err(Error::TokenExpired);
    }
    if device.device.kind == DeviceKind::Browser
        && now >= device.device.created_at + auth::BROWSER_MAX_AGE
    {
        return Err(Error::Unauthenticated);
    }
    // The store writes `last_seen_at` at most once a minute; within it, not even the statement.
    let seen_lately = now - device.device.last_seen_at < lintel_store::DEVICE_TOUCH_EVERY;
    if !seen_lately
        && let Err(err) = state
            .store
            .touch_device(device.device.id, now, now + auth::BROWSER_IDLE_TTL)
            .await
    {
        tracing::warn!(error = %err, device = %device.device.id, "could not record device use");
    }
    Ok(Actor::Device {
        account: device.account_id,
        device: device.device.id,
        pin_verified_at: device.device.pin_verified_at,
    })
}

/// Whether a bearer secret is a device's auth token (rather than an API key).
pub fn is_auth_token(secret: &str) -> bool {
    secret.starts_with(auth::AUTH_PREFIX)
}
