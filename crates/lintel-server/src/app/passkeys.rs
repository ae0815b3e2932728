//! Passkeys (WebAuthn): a signed-in person adds them from the profile; signing in with one
//! is a complete sign-in on its own (the authenticator verified the person: PIN, fingerprint
//! or face), and its user verification can stand in for the app PIN before an unlock.
//!
//! Credentials are discoverable and user verification is required, both when adding and
//! when signing in. Each ceremony's challenge is kept server-side (`auth_flows`) between its
//! two requests and taken once. Only public keys are stored: a copy of the database signs
//! nobody in. Losing every passkey changes nothing else: the email link and SMS code still
//! sign the person in, and their memberships are untouched.

use chrono::Duration;
use lintel_domain::account::check_app_pin;
use lintel_domain::{AccountId, DeviceId, DeviceKind, ValidationError, validate};
use lintel_store::{AuthFlow, NewDevice, PasskeyRecord, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn,
    WebauthnBuilder,
};

use super::auth::{self, Minted, SignedIn};
use super::me::{PinVerified, me};
use super::{Actor, AppState, Error, Found as _, secrets};

/// How long the browser or app has to answer a challenge.
const CEREMONY_TTL: Duration = Duration::minutes(5);
const ADD: &str = "passkey_add";
const SIGN_IN: &str = "passkey_sign_in";
const VERIFY: &str = "passkey_verify";

/// The relying party: Lintel at its public URL. Passkeys need a domain name there (browsers
/// refuse IP addresses as relying party ids); `localhost` works for trying them out.
#[derive(Default)]
pub struct Passkeys {
    webauthn: Option<Webauthn>,
}

impl Passkeys {
    pub fn new(public_url: &str) -> Passkeys {
        let webauthn = Url::parse(public_url).ok().and_then(|url| {
            // `domain` is `None` for an IP address.
            let domain = url.domain()?.to_owned();
            WebauthnBuilder::new(&domain, &url)
                .ok()?
                .rp_name("Lintel")
                .build()
                .ok()
        });
        Passkeys { webauthn }
    }

    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn get(&self) -> Result<&Webauthn, Error> {
        self.webauthn.as_ref().ok_or_else(|| {
            Error::conflict(
                "passkeys_unavailable",
                None,
                "passkeys need Lintel's public_url to name a domain (such as \
                 https://access.example.com, or http://localhost:8080 to try them)",
            )
        })
    }
}

fn refused() -> Error {
    Error::Invalid(ValidationError::new(
        "credential",
        "passkey_refused",
        "the passkey's answer could not be verified; try again",
    ))
}

fn ceremony_ended() -> Error {
    Error::conflict(
        "ceremony_ended",
        None,
        "this passkey request has ended or was used already; start again",
    )
}

fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("{what}: {e}"))
}

/// A challenge for the browser or app, and the handle to send back with its answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ceremony {
    /// Send back with the answer (single use, 5 minutes).
    pub ceremony: String,
    /// `navigator.credentials.create()` / `get()` options, as WebAuthn's JSON
    /// (`{"publicKey": …}`).
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// A passkey as its account sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyInfo {
    pub id: uuid::Uuid,
    #[schema(example = "Ada's phone")]
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<PasskeyRecord> for PasskeyInfo {
    fn from(p: PasskeyRecord) -> Self {
        PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

async fn begin(
    state: &AppState,
    kind: &'static str,
    account: Option<AccountId>,
    ceremony_state: String,
    options: serde_json::Value,
) -> Result<Ceremony, Error> {
    let now = state.clock.now();
    let handle = secrets::token("");
    state
        .store
        .create_flow(&AuthFlow {
            handle_hash: secrets::hash(&handle),
            kind,
            account_id: account,
            browser_hash: None,
            state: ceremony_state,
            expires_at: now + CEREMONY_TTL,
            created_at: now,
        })
        .await?;
    Ok(Ceremony {
        ceremony: handle,
        options,
    })
}

/// Takes a ceremony of `kind` begun by `account` (or by anyone, for `None`), once.
async fn take<T: serde::de::DeserializeOwned>(
    state: &AppState,
    kind: &'static str,
    handle: &str,
    account: Option<AccountId>,
) -> Result<T, Error> {
    let flow = state
        .store
        .take_flow(kind, &secrets::hash(handle.trim()))
        .await?
        .ok_or_else(ceremony_ended)?;
    if state.clock.now() >= flow.expires_at || flow.account_id != account {
        return Err(ceremony_ended());
    }
    serde_json::from_str(&flow.state).map_err(|e| internal("ceremony state", e))
}

fn stored(p: &PasskeyRecord) -> Result<Passkey, Error> {
    serde_json::from_str(&p.credential).map_err(|e| internal("stored passkey", e))
}

/// Options to create a passkey for the signed-in person's account.
pub async fn add_options(state: &AppState, actor: &Actor) -> Result<Ceremony, Error> {
    let webauthn = state.passkeys.get()?;
    let (account_id, _) = me(actor)?;
    let account = state
        .store
        .get_account(account_id)
        .await
        .found("account")?
        .account;
    let mut exclude = Vec::new();
    for p in state.store.list_passkeys(account_id).await? {
        exclude.push(stored(&p)?.cred_id().clone());
    }
    let (options, registration) = webauthn
        .start_passkey_registration(
            account_id.0,
            account.email.as_str(),
            &format!("{} {}", account.first_name, account.last_name),
            Some(exclude),
        )
        .map_err(|e| internal("starting a passkey registration", e))?;
    let mut options = serde_json::to_value(&options).map_err(|e| internal("options", e))?;
    // Discoverable, so that signing in needs no email first. The registration state does
    // not depend on it: it checks the answer, not what the authenticator stored.
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = "required".into();
        selection["requireResidentKey"] = true.into();
    }
    begin(
        state,
        ADD,
        Some(account_id),
        serde_json::to_string(&registration).map_err(|e| internal("ceremony", e))?,
        options,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddPasskey {
    pub ceremony: String,
    /// A name to tell it apart in the list: 1 to 60 characters.
    #[schema(example = "Ada's phone")]
    pub name: String,
    /// What `navigator.credentials.create()` answered, as JSON (`credential.toJSON()`).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

pub async fn add(state: &AppState, actor: &Actor, req: AddPasskey) -> Result<PasskeyInfo, Error> {
    let webauthn = state.passkeys.get()?;
    let (account, _) = me(actor)?;
    let name = validate::text("name", &req.name, 1, 60)?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(req.credential).map_err(|_| refused())?;
    let registration: PasskeyRegistration = take(state, ADD, &req.ceremony, Some(account)).await?;
    let passkey = webauthn
        .finish_passkey_registration(&credential, &registration)
        .map_err(|e| {
            tracing::info!(%account, error = %e, "a passkey was refused");
            refused()
        })?;
    let now = state.clock.now();
    let record = PasskeyRecord {
        id: uuid::Uuid::now_v7(),
        account_id: account,
        name,
        credential_id: passkey.cred_id().to_vec(),
        credential: serde_json::to_string(&passkey).map_err(|e| internal("passkey", e))?,
        created_at: now,
        last_used_at: None,
    };
    let audit = super::me::self_audit(state, account, now).await?;
    state.store.add_passkey(&record, &audit).await?;
    Ok(record.into())
}

pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<PasskeyInfo>, Error> {
    let (account, _) = me(actor)?;
    Ok(state
        .store
        .list_passkeys(account)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn remove(state: &AppState, actor: &Actor, id: uuid::Uuid) -> Result<(), Error> {
    let (account, _) = me(actor)?;
    let audit = super::me::self_audit(state, account, state.clock.now()).await?;
    state
        .store
        .remove_passkey(account, id, &audit)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => Error::NotFound { what: "passkey" },
            other => other.into(),
        })
}

/// Options to sign in with any passkey of this site (the authenticator offers its own).
pub async fn sign_in_options(state: &AppState) -> Result<Ceremony, Error> {
    let webauthn = state.passkeys.get()?;
    let (mut options, authentication) = webauthn
        .start_discoverable_authentication()
        .map_err(|e| internal("starting a passkey sign-in", e))?;
    // Asked for by a button, not offered in an email field's autofill.
    options.mediation = None;
    begin(
        state,
        SIGN_IN,
        None,
        serde_json::to_string(&authentication).map_err(|e| internal("ceremony", e))?,
        serde_json::to_value(&options).map_err(|e| internal("options", e))?,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeySignIn {
    pub ceremony: String,
    /// What `navigator.credentials.get()` answered, as JSON (`credential.toJSON()`).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// A name for this device, shown in the device list.
    #[schema(example = "Ada's phone")]
    pub device_name: String,
    /// The app PIN for this device: 4 to 8 digits, not trivial.
    #[schema(example = "2580")]
    pub pin: String,
}

/// Whom a passkey check asked: anyone (signing in) or one account's passkeys.
enum Asked {
    Anyone(DiscoverableAuthentication),
    Account(PasskeyAuthentication),
}

/// Checks a passkey's answer against a taken ceremony: the passkey and its new counter.
fn check_answer(
    webauthn: &Webauthn,
    credential: &PublicKeyCredential,
    record: &PasskeyRecord,
    asked: Asked,
) -> Result<String, Error> {
    let mut passkey = stored(record)?;
    let result = match asked {
        Asked::Anyone(discoverable) => webauthn.finish_discoverable_authentication(
            credential,
            discoverable,
            &[DiscoverableKey::from(&passkey)],
        ),
        Asked::Account(known) => webauthn.finish_passkey_authentication(credential, &known),
    }
    .map_err(|e| {
        tracing::info!(passkey = %record.id, error = %e, "a passkey's answer was refused");
        refused()
    })?;
    if !result.user_verified() {
        return Err(refused());
    }
    passkey.update_credential(&result);
    serde_json::to_string(&passkey).map_err(|e| internal("passkey", e))
}

/// Signs in with a passkey: a new device (an app, or a browser whose session cookie is the
/// auth token) with its app PIN, like the last step of the email and SMS sign-in.
pub async fn sign_in(
    state: &AppState,
    req: PasskeySignIn,
    kind: DeviceKind,
) -> Result<SignedIn, Error> {
    let webauthn = state.passkeys.get()?;
    let device_name = validate::text("device_name", &req.device_name, 1, 100)?;
    check_app_pin("pin", &req.pin)?;
    let credential: PublicKeyCredential =
        serde_json::from_value(req.credential).map_err(|_| refused())?;
    let authentication: DiscoverableAuthentication =
        take(state, SIGN_IN, &req.ceremony, None).await?;
    let (user, credential_id) = webauthn
        .identify_discoverable_authentication(&credential)
        .map_err(|_| refused())?;
    // An unknown passkey, or one whose user handle is not its account's, is refused alike.
    let record = state
        .store
        .find_passkey(credential_id)
        .await?
        .filter(|p| p.account_id.0 == user)
        .ok_or_else(refused)?;
    let updated = check_answer(
        webauthn,
        &credential,
        &record,
        Asked::Anyone(authentication),
    )?;
    let now = state.clock.now();
    let ttl = match kind {
        DeviceKind::App => auth::AUTH_TOKEN_TTL,
        DeviceKind::Browser => auth::BROWSER_IDLE_TTL,
    };
    let minted = Minted::new(now, ttl);
    let device = NewDevice {
        id: DeviceId::new(now),
        account_id: record.account_id,
        kind,
        name: device_name,
        pin_hash: auth::hash_pin_off_workers(&req.pin).await?,
        tokens: minted.fresh.clone(),
    };
    state
        .store
        .passkey_sign_in(record.id, &updated, &device)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => refused(),
            other => other.into(),
        })?;
    let account = state.store.get_account(record.account_id).await?.account;
    tracing::info!(account = %account.id, device = %device.id, "signed in with a passkey");
    Ok(SignedIn {
        account,
        tokens: minted.for_device(device.id),
    })
}

/// Options to verify the signed-in person with one of their passkeys, in place of the app
/// PIN.
pub async fn verify_options(state: &AppState, actor: &Actor) -> Result<Ceremony, Error> {
    let webauthn = state.passkeys.get()?;
    let (account, _) = me(actor)?;
    let mut keys = Vec::new();
    for p in state.store.list_passkeys(account).await? {
        keys.push(stored(&p)?);
    }
    if keys.is_empty() {
        return Err(Error::conflict(
            "no_passkey",
            None,
            "this account has no passkey; enter the app PIN instead",
        ));
    }
    let (options, authentication) = webauthn
        .start_passkey_authentication(&keys)
        .map_err(|e| internal("starting a passkey check", e))?;
    begin(
        state,
        VERIFY,
        Some(account),
        serde_json::to_string(&authentication).map_err(|e| internal("ceremony", e))?,
        serde_json::to_value(&options).map_err(|e| internal("options", e))?,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyVerify {
    pub ceremony: String,
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// The passkey's user verification stands in for the app PIN: the device's PIN counts as
/// verified now, as `POST /api/v1/me/pin` would make it.
pub async fn verify(
    state: &AppState,
    actor: &Actor,
    req: PasskeyVerify,
) -> Result<PinVerified, Error> {
    let webauthn = state.passkeys.get()?;
    let (account, device) = me(actor)?;
    let credential: PublicKeyCredential =
        serde_json::from_value(req.credential).map_err(|_| refused())?;
    let authentication: PasskeyAuthentication =
        take(state, VERIFY, &req.ceremony, Some(account)).await?;
    let record = state
        .store
        .find_passkey(credential.get_credential_id())
        .await?
        .filter(|p| p.account_id == account)
        .ok_or_else(refused)?;
    let updated = check_answer(
        webauthn,
        &credential,
        &record,
        Asked::Account(authentication),
    )?;
    let now = state.clock.now();
    state
        .store
        .passkey_verified_device(record.id, &updated, device, now)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => refused(),
            other => other.into(),
        })?;
    Ok(PinVerified {
        pin_verified_at: now,
    })
}
