//! A signed-in person's own things: their account and their devices.

use lintel_domain::account::{check_app_pin, person_name};
use lintel_domain::{Account, AccountId, Device, DeviceId, ValidationError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::pin_matches;
use super::{Actor, AppState, Error, Found};

/// Wrong PINs in a row that unregister a device.
pub const MAX_PIN_FAILURES: u32 = 5;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// One of my devices.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyDevice {
    #[serde(flatten)]
    pub device: Device,
    /// Whether this is the device making the request.
    pub current: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyPin {
    pub pin: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PinVerified {
    pub pin_verified_at: chrono::DateTime<chrono::Utc>,
}

/// The signed-in device and its account, or `unauthenticated` for any other actor.
fn me(actor: &Actor) -> Result<(AccountId, DeviceId), Error> {
    match actor {
        Actor::Device { account, device } => Ok((*account, *device)),
        _ => Err(Error::DeviceOnly),
    }
}

pub async fn get(state: &AppState, actor: &Actor) -> Result<Account, Error> {
    let (account, _) = me(actor)?;
    Ok(state
        .store
        .get_account(account)
        .await
        .found("account")?
        .account)
}

pub async fn update(state: &AppState, actor: &Actor, req: UpdateMe) -> Result<Account, Error> {
    let (account, _) = me(actor)?;
    let first = req
        .first_name
        .as_deref()
        .map(|n| person_name("first_name", n))
        .transpose()?;
    let last = req
        .last_name
        .as_deref()
        .map(|n| person_name("last_name", n))
        .transpose()?;
    let now = state.clock.now();
    state
        .store
        .update_account(account, &|a| {
            if let Some(first) = &first {
                a.first_name.clone_from(first);
            }
            if let Some(last) = &last {
                a.last_name.clone_from(last);
            }
            a.updated_at = now;
            Ok(())
        })
        .await
        .found("account")
}

pub async fn devices(state: &AppState, actor: &Actor) -> Result<Vec<MyDevice>, Error> {
    let (account, current) = me(actor)?;
    Ok(state
        .store
        .list_devices(account)
        .await?
        .into_iter()
        .map(|device| MyDevice {
            current: device.id == current,
            device,
        })
        .collect())
}

/// Unregisters one of my devices: the only way to sign out. The account and its access stay.
pub async fn unregister(state: &AppState, actor: &Actor, device: DeviceId) -> Result<(), Error> {
    let (account, _) = me(actor)?;
    state
        .store
        .revoke_device(account, device, state.clock.now())
        .await
        .found("device")
}

/// Checks this device's app PIN. Five wrong in a row unregister the device.
pub async fn verify_pin(
    state: &AppState,
    actor: &Actor,
    device: DeviceId,
    req: VerifyPin,
) -> Result<PinVerified, Error> {
    let (account, current) = me(actor)?;
    if device != current {
        // A PIN belongs to the device it was set on; it is checked only from that device.
        return Err(Error::NotFound { what: "device" });
    }
    check_app_pin("pin", &req.pin).map_err(|_| {
        ValidationError::new(
            "pin",
            "invalid_pin",
            "pin must be the 4 to 8 digits set on this device",
        )
    })?;
    let now = state.clock.now();
    let stored = state
        .store
        .get_device(account, device)
        .await
        .found("device")?
        .pin_hash;
    if pin_matches(&req.pin, &stored) {
        state.store.pin_verified(device, now).await?;
        return Ok(PinVerified {
            pin_verified_at: now,
        });
    }
    let failures = state
        .store
        .pin_failed(device, now, MAX_PIN_FAILURES)
        .await
        .found("device")?;
    if failures >= MAX_PIN_FAILURES {
        tracing::warn!(%device, "too many wrong PINs; device unregistered");
        return Err(Error::DeviceUnregistered);
    }
    Err(ValidationError::new(
        "pin",
        "wrong_pin",
        format!(
            "the PIN is wrong; {} tries left before this device is unregistered",
            MAX_PIN_FAILURES - failures
        ),
    )
    .into())
}
