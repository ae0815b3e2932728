//! A signed-in person's own things: their account and their devices.

use lintel_domain::account::{check_app_pin, person_name};
use lintel_domain::{Account, AccountId, Device, DeviceId, Email, Phone, ValidationError};
use lintel_store::{Attempt, Purpose, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::pin_matches_off_workers;
use super::verification::{self, Address, CodeSentTo, ConfirmCode};
use super::{Actor, AppState, Error, Found};
use crate::i18n::Lang;

/// Wrong PINs in a row that unregister a device.
pub const MAX_PIN_FAILURES: u32 = 5;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The language of pages: `en`, `sv` or `fr`; `""` goes back to the browser's.
    pub language: Option<String>,
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
pub(crate) fn me(actor: &Actor) -> Result<(AccountId, DeviceId), Error> {
    match actor {
        Actor::Device {
            account, device, ..
        } => Ok((*account, *device)),
        _ => Err(Error::DeviceOnly),
    }
}

/// The account as the actor of a change to itself, for its organizations' logs.
pub(crate) async fn self_audit(
    state: &AppState,
    account: AccountId,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<lintel_store::Audit, Error> {
    let account = state.store.get_account(account).await.found("account")?;
    Ok(lintel_store::Audit {
        actor: lintel_domain::EventActor::Member {
            account_id: Some(account.account.id),
            name: format!(
                "{} {}",
                account.account.first_name, account.account.last_name
            ),
        },
        at,
    })
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
    let language = match req.language.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(tag) if lintel_domain::account::LANGUAGES.contains(&tag) => Some(Some(tag.to_owned())),
        Some(_) => {
            return Err(ValidationError::new(
                "language",
                "invalid_value",
                "language must be en, sv or fr, or empty for the browser's",
            )
            .into());
        }
    };
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
            if let Some(language) = &language {
                a.language.clone_from(language);
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
    // The attempt counts as wrong before it is checked, so that parallel guesses cannot
    // slip past the limit while Argon2 runs; a right PIN then clears the count.
    if !state
        .store
        .start_attempt(Attempt::Pin(device), MAX_PIN_FAILURES)
        .await
        .map_err(unregistered)?
    {
        return Err(Error::RateLimited {
            retry_after_secs: 1,
        });
    }
    let stored = state
        .store
        .get_device(account, device)
        .await
        .map_err(unregistered)?
        .pin_hash;
    if pin_matches_off_workers(&req.pin, &stored).await? {
        state
            .store
            .app_pin_verified(device, now)
            .await
            .map_err(unregistered)?;
        return Ok(PinVerified {
            pin_verified_at: now,
        });
    }
    let failures = state
        .store
        .app_pin_wrong(device, now, MAX_PIN_FAILURES)
        .await
        .map_err(unregistered)?;
    if failures >= MAX_PIN_FAILURES {
        tracing::warn!(%device, "too many wrong PINs; device unregistered");
        return Err(Error::DeviceUnregistered);
    }
    let left = MAX_PIN_FAILURES - failures;
    Err(ValidationError::new(
        "pin",
        "wrong_pin",
        format!(
            "the PIN is wrong; {} before this device is unregistered",
            super::tries_left(left)
        ),
    )
    .into())
}

/// A device revoked while its PIN was checked (by wrong PINs checked beside it) is
/// unregistered, whatever this PIN was.
fn unregistered(e: StoreError) -> Error {
    match e {
        StoreError::NotFound => Error::DeviceUnregistered,
        other => other.into(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmail {
    #[schema(example = "ada@lovelace.org")]
    pub email: String,
    /// This device's app PIN: a stolen session alone cannot take the account over.
    #[schema(example = "2580")]
    pub pin: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePhone {
    #[schema(example = "+46701234599")]
    pub phone: String,
    /// This device's app PIN: a stolen session alone cannot take the account over.
    #[schema(example = "2580")]
    pub pin: String,
}

fn unchanged(field: &str) -> Error {
    ValidationError::new(field, "unchanged", format!("this is already your {field}")).into()
}

/// Sends a code to a new email, once the device's app PIN is proven; proving the code
/// replaces the old email.
pub async fn change_email(
    state: &AppState,
    lang: Lang,
    actor: &Actor,
    req: ChangeEmail,
) -> Result<CodeSentTo, Error> {
    let (account, device) = me(actor)?;
    let email = Email::parse("email", &req.email)?;
    verify_pin(state, actor, device, VerifyPin { pin: req.pin }).await?;
    let current = state
        .store
        .get_account(account)
        .await
        .found("account")?
        .account;
    if current.email == email {
        return Err(unchanged("email"));
    }
    verification::start(
        state,
        lang.preferring(current.language.as_deref()),
        Some(account),
        Purpose::ChangeEmail,
        Address::Email(&email),
        &[],
        true,
    )
    .await
}

/// Proves the new email: it replaces the old one, every device is signed out, and the old
/// address is told.
pub async fn confirm_email(state: &AppState, actor: &Actor, req: ConfirmCode) -> Result<(), Error> {
    let (account, _) = me(actor)?;
    let v = verification::prove(state, Some(account), Purpose::ChangeEmail, &req).await?;
    let current = state
        .store
        .get_account(account)
        .await
        .found("account")?
        .account;
    let lang = Lang::En.preferring(current.language.as_deref());
    let text = lang.text(
        "notice-email-changed",
        &[("old", current.email.as_str()), ("new", &v.target)],
    );
    let notice = verification::notice(state, lang, Address::Email(&current.email), text);
    Ok(state
        .store
        .complete_verification(v.id, state.clock.now(), Some(&notice))
        .await?)
}

/// Sends a code by SMS to a new phone, once the device's app PIN is proven; proving the code
/// replaces the old phone.
pub async fn change_phone(
    state: &AppState,
    lang: Lang,
    actor: &Actor,
    req: ChangePhone,
) -> Result<CodeSentTo, Error> {
    let (account, device) = me(actor)?;
    let phone = Phone::parse("phone", &req.phone)?;
    verify_pin(state, actor, device, VerifyPin { pin: req.pin }).await?;
    let current = state
        .store
        .get_account(account)
        .await
        .found("account")?
        .account;
    if current.phone.as_ref() == Some(&phone) {
        return Err(unchanged("phone"));
    }
    super::limits::take_unproven_sms(state, state.clock.now(), "phone", &phone).await?;
    verification::start(
        state,
        lang.preferring(current.language.as_deref()),
        Some(account),
        Purpose::ChangePhone,
        Address::Phone(&phone),
        &[],
        true,
    )
    .await
}

/// Proves the new phone: it replaces the old one, every device is signed out, and the old
/// number is told.
pub async fn confirm_phone(state: &AppState, actor: &Actor, req: ConfirmCode) -> Result<(), Error> {
    let (account, _) = me(actor)?;
    let v = verification::prove(state, Some(account), Purpose::ChangePhone, &req).await?;
    let current = state
        .store
        .get_account(account)
        .await
        .found("account")?
        .account;
    let lang = Lang::En.preferring(current.language.as_deref());
    let notice = current.phone.as_ref().map(|old| {
        let text = lang.word("notice-phone-changed");
        verification::notice(state, lang, Address::Phone(old), text)
    });
    Ok(state
        .store
        .complete_verification(v.id, state.clock.now(), notice.as_ref())
        .await?)
}

/// Starts deleting my account: a code goes to my phone.
pub async fn delete(state: &AppState, lang: Lang, actor: &Actor) -> Result<CodeSentTo, Error> {
    let (account, _) = me(actor)?;
    let current = state
        .store
        .get_account(account)
        .await
        .found("account")?
        .account;
    let Some(phone) = current.phone else {
        return Err(Error::Internal(anyhow::anyhow!(
            "signed-in account {account} has no phone"
        )));
    };
    // Said before the code is sent; the store checks again when the account is erased.
    state.store.ensure_not_last_owner(account).await?;
    verification::start(
        state,
        lang.preferring(current.language.as_deref()),
        Some(account),
        Purpose::DeleteAccount,
        Address::Phone(&phone),
        &[],
        true,
    )
    .await
}

/// Deletes my account for good once my phone is proven: memberships, devices, sign-ins,
/// messages and the personal data Lintel keeps about me are erased; my events stay, with an
/// anonymous actor.
pub async fn confirm_delete(
    state: &AppState,
    actor: &Actor,
    req: ConfirmCode,
) -> Result<(), Error> {
    let (account, _) = me(actor)?;
    let v = verification::prove(state, Some(account), Purpose::DeleteAccount, &req).await?;
    state
        .store
        .complete_verification(v.id, state.clock.now(), None)
        .await?;
    tracing::info!(%account, "account deleted");
    Ok(())
}
