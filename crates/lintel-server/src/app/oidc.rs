//! Signing in with an OpenID Connect provider (Google, Apple, a company's own), matched to
//! the records the organizations keep (SPEC §2).
//!
//! The provider stands in for the emailed link, and by default not for the SMS code: the code
//! still goes to the account's phone, so a taken-over provider account alone opens no door.
//! Only when every organization of the account says so (`provider_sign_in_without_code`) is
//! the provider alone enough (`Outcome::Ready`). A provider
//! is believed only about an email it says is verified, and only when that email already has
//! an account or a pending invitation; anything else gets the answer an unknown email gets
//! at `/auth/login` (and the ordinary link, if the email has an account). Once linked, an
//! identity is found by issuer and subject, not by email.
//!
//! The flow is the authorization code flow with PKCE, `state` (the handle of the stored
//! flow, single use) and `nonce`; the ID token's signature, issuer, audience, expiry and
//! nonce are checked. Each provider's discovery document and keys are kept in memory and
//! fetched again after an hour, or at once when a token's signature does not verify (the
//! provider rotated its keys).

use std::net::IpAddr;
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use lintel_domain::account::person_name;
use lintel_domain::{AccountId, Email, Phone};
use lintel_store::{AuthFlow, LinkedIdentity, ProviderIdentity, Registration, SignIn};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use utoipa::ToSchema;

use super::auth::{self, CheckYourEmail, CodeSent};
use super::{AppState, Error, limits, secrets};
use crate::config::OidcProvider;
use crate::i18n::Lang;

/// How long a person has at the provider before the flow expires.
const FLOW_TTL: Duration = Duration::minutes(10);
/// How long after the provider answered a new account's phone may be given.
const REGISTRATION_TTL: Duration = Duration::minutes(15);
/// Discovery documents and keys are fetched again after this.
const METADATA_TTL: StdDuration = StdDuration::from_secs(3600);

const FLOW: &str = "oidc";
const REGISTRATION: &str = "oidc_registration";

/// The configured providers and what was discovered about them.
pub struct Providers {
    providers: Vec<Provider>,
    http: openidconnect::reqwest::Client,
    public_url: String,
}

struct Provider {
    config: OidcProvider,
    discovered: RwLock<Option<(CoreProviderMetadata, Instant)>>,
}

/// A provider as people see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderInfo {
    #[schema(example = "google")]
    pub id: String,
    #[schema(example = "Google")]
    pub name: String,
}

impl Default for Providers {
    fn default() -> Self {
        Providers::new(Vec::new(), "http://127.0.0.1:8080")
    }
}

impl Providers {
    pub fn new(configs: Vec<OidcProvider>, public_url: &str) -> Providers {
        let http = openidconnect::reqwest::ClientBuilder::new()
            // The token endpoint must not redirect: that would be a way to leak the code.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(StdDuration::from_secs(10))
            .build()
            .expect("a TLS backend is built in");
        Providers {
            providers: configs
                .into_iter()
                .map(|config| Provider {
                    config,
                    discovered: RwLock::new(None),
                })
                .collect(),
            http,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn list(&self) -> Vec<ProviderInfo> {
        self.providers
            .iter()
            .map(|p| ProviderInfo {
                id: p.config.id.clone(),
                name: p.config.name.clone(),
            })
            .collect()
    }

    fn get(&self, id: &str) -> Result<&Provider, Error> {
        self.providers
            .iter()
            .find(|p| p.config.id == id)
            .ok_or(Error::NotFound { what: "provider" })
    }

    /// The origins pages may send a browser to (the Content-Security-Policy's `form-action`):
    /// each issuer's, where the providers people use (Google, Apple, Microsoft, Okta,
    /// Keycloak) keep their authorization endpoint.
    pub fn origins(&self) -> Vec<String> {
        self.providers
            .iter()
            .filter_map(|p| origin(&p.config.issuer))
            .collect()
    }

    /// The provider's name, for pages.
    pub fn name(&self, id: &str) -> Option<&str> {
        self.get(id).ok().map(|p| p.config.name.as_str())
    }

    /// Whether the provider answers with a POST (Apple's `form_post`).
    pub fn posts_back(&self, id: &str) -> bool {
        self.get(id)
            .is_ok_and(|p| p.config.response_mode.as_deref() == Some("form_post"))
    }

    fn redirect_url(&self, id: &str) -> String {
        format!("{}/auth/oidc/{id}/callback", self.public_url)
    }

    /// The provider's discovery document and keys: the kept ones unless `fresh` or older
    /// than `METADATA_TTL`.
    async fn metadata(&self, p: &Provider, fresh: bool) -> Result<CoreProviderMetadata, Error> {
        if !fresh
            && let Some((metadata, at)) = p.discovered.read().await.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(p.config.issuer.clone()).map_err(|e| {
            tracing::error!(provider = %p.config.id, error = %e, "the provider's issuer is not a URL");
            unavailable(&p.config.name)
        })?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(provider = %p.config.id, error = %e, "provider discovery failed");
                unavailable(&p.config.name)
            })?;
        *p.discovered.write().await = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    let url = openidconnect::url::Url::parse(url).ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}

fn unavailable(name: &str) -> Error {
    Error::conflict(
        "provider_unavailable",
        None,
        format!("{name} cannot be reached just now; try again, or sign in with your email"),
    )
}

fn answer_invalid(name: &str) -> Error {
    Error::Invalid(lintel_domain::ValidationError::new(
        "code",
        "provider_answer_invalid",
        format!("{name}'s answer could not be verified; start again"),
    ))
}

fn flow_ended() -> Error {
    Error::conflict(
        "provider_flow_ended",
        None,
        "this sign-in with a provider has ended or was used already; start again",
    )
}

/// What a flow is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Sign in, or register when an invitation waits for the email.
    SignIn,
    /// Link the provider to the signed-in account (`AuthFlow::account_id`).
    Link,
}

#[derive(Serialize, Deserialize)]
struct FlowState {
    provider: String,
    intent: Intent,
    pkce_verifier: String,
    nonce: String,
}

#[derive(Serialize, Deserialize)]
struct RegistrationState {
    email: String,
    identity: (String, String, String),
}

/// Where to send the person, and the handle (`state`) the provider will hand back.
#[derive(Debug, Serialize, ToSchema)]
pub struct Started {
    /// Open this in a browser.
    pub authorization_url: String,
}

/// Begins a flow with provider `id`: `browser` is the secret of the cookie that binds the
/// flow to the browser that began it (`None` for an app, which presents the `state` itself).
pub async fn start(
    state: &AppState,
    id: &str,
    intent: Intent,
    account: Option<AccountId>,
    browser: Option<&str>,
) -> Result<Started, Error> {
    let providers = &state.oidc;
    let p = providers.get(id)?;
    let metadata = providers.metadata(p, false).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(p.config.client_id.clone()),
        Some(ClientSecret::new(p.config.client_secret.clone())),
    )
    .set_redirect_uri(
        RedirectUrl::new(providers.redirect_url(id))
            .map_err(|e| Error::Internal(anyhow::anyhow!("redirect URL: {e}")))?,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let handle = secrets::token("");
    let nonce = Nonce::new_random();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            {
                let handle = handle.clone();
                move || CsrfToken::new(handle)
            },
            {
                let nonce = nonce.clone();
                move || nonce
            },
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    if p.config.response_mode.as_deref() == Some("form_post") {
        request = request.add_extra_param("response_mode", "form_post");
    }
    let (url, _, _) = request.url();
    if browser.is_some() && origin(url.as_str()) != origin(&p.config.issuer) {
        // Pages may send a browser only to the issuers' origins (`origins`).
        tracing::error!(
            provider = %p.config.id,
            "the provider's authorization endpoint is not at its issuer's origin: \
             browsers cannot be sent there"
        );
        return Err(unavailable(&p.config.name));
    }
    let now = state.clock.now();
    let flow_state = FlowState {
        provider: id.to_owned(),
        intent,
        pkce_verifier: verifier.secret().clone(),
        nonce: nonce.secret().clone(),
    };
    state
        .store
        .create_flow(&AuthFlow {
            handle_hash: secrets::hash(&handle),
            kind: FLOW,
            account_id: account,
            browser_hash: browser.map(secrets::hash),
            state: serde_json::to_string(&flow_state)
                .map_err(|e| Error::Internal(anyhow::anyhow!("flow state: {e}")))?,
            expires_at: now + FLOW_TTL,
            created_at: now,
        })
        .await?;
    Ok(Started {
        authorization_url: url.to_string(),
    })
}

/// What a provider said about the person, checked.
pub struct Proven {
    pub provider: String,
    pub identity: ProviderIdentity,
    /// The email, when the provider gave one that parses.
    pub email: Option<Email>,
    pub email_verified: bool,
    pub first_name: String,
    pub last_name: String,
    pub intent: Intent,
    /// The account that began a `Link` flow.
    pub account: Option<AccountId>,
}

/// Ends the flow whose handle is `handle` (the `state` the provider handed back): trades the
/// code for tokens (with the PKCE verifier) and checks the ID token (signature, issuer,
/// audience, expiry, nonce). Every flow is taken once, whatever happens next.
pub async fn finish(
    state: &AppState,
    id: &str,
    handle: &str,
    code: &str,
    browser: Option<&str>,
) -> Result<Proven, Error> {
    let providers = &state.oidc;
    let p = providers.get(id)?;
    let Some(flow) = state
        .store
        .take_flow(FLOW, &secrets::hash(handle.trim()))
        .await?
    else {
        return Err(flow_ended());
    };
    if state.clock.now() >= flow.expires_at {
        return Err(Error::Expired {
            what: "provider_flow",
        });
    }
    // A browser's flow ends only in the browser that began it (no one can hand theirs to
    // someone else to sign them in), and an app's flow only through the API.
    match (&flow.browser_hash, browser) {
        (None, None) => {}
        (Some(expected), Some(cookie)) if secrets::same(expected, &secrets::hash(cookie)) => {}
        _ => return Err(flow_ended()),
    }
    let flow_state: FlowState = serde_json::from_str(&flow.state)
        .map_err(|e| Error::Internal(anyhow::anyhow!("flow state: {e}")))?;
    if flow_state.provider != id {
        return Err(flow_ended());
    }
    let name = p.config.name.as_str();
    let mut metadata = providers.metadata(p, false).await?;
    let client = |metadata: CoreProviderMetadata| {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.config.client_id.clone()),
            Some(ClientSecret::new(p.config.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(providers.redirect_url(id)).expect("checked at start"))
    };
    let tokens = client(metadata.clone())
        .exchange_code(AuthorizationCode::new(code.trim().to_owned()))
        .map_err(|_| unavailable(name))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow_state.pkce_verifier))
        .request_async(&providers.http)
        .await
        .map_err(|e| {
            tracing::warn!(provider = %id, error = %e, "the provider refused the code");
            answer_invalid(name)
        })?;
    let Some(id_token) = tokens.id_token() else {
        tracing::warn!(provider = %id, "the provider's answer has no ID token");
        return Err(answer_invalid(name));
    };
    let nonce = Nonce::new(flow_state.nonce);
    let mut checked = {
        let c = client(metadata.clone());
        id_token.claims(&c.id_token_verifier(), &nonce).cloned()
    };
    if let Err(ClaimsVerificationError::SignatureVerification(_)) = &checked {
        // Perhaps the provider rotated its keys: fetch them once more, and check again.
        // Reaching this took a code the provider issued to this flow, so it cannot be
        // used to make Lintel fetch at will.
        metadata = providers.metadata(p, true).await?;
        let c = client(metadata);
        checked = id_token.claims(&c.id_token_verifier(), &nonce).cloned();
    }
    let claims: CoreIdTokenClaims = checked.map_err(|e| {
        tracing::warn!(provider = %id, error = %e, "the provider's ID token was refused");
        answer_invalid(name)
    })?;
    let first_name = claims
        .given_name()
        .and_then(|c| c.get(None))
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default();
    let last_name = claims
        .family_name()
        .and_then(|c| c.get(None))
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default();
    Ok(Proven {
        provider: id.to_owned(),
        identity: ProviderIdentity {
            provider: id.to_owned(),
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
        },
        email: claims
            .email()
            .and_then(|e| Email::parse("email", e.as_str()).ok()),
        email_verified: claims.email_verified() == Some(true),
        first_name,
        last_name,
        intent: flow_state.intent,
        account: flow.account_id,
    })
}

/// Where a provider sign-in leads.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The provider proved the email of an account: a code is on its way to its phone;
    /// finish at `/api/v1/auth/sms/verify`.
    CodeSent(CodeSent),
    /// The email has a pending invitation but no account: give a phone (and names) at
    /// `/api/v1/auth/oidc/register`.
    PhoneNeeded(PhoneNeeded),
    /// Every organization of the account lets the provider alone sign in: name the device
    /// and choose its PIN at `/api/v1/auth/oidc/complete`.
    Ready(Ready),
    /// What an unknown email gets at `/api/v1/auth/login`: nothing says whether it is known.
    CheckYourEmail(CheckYourEmail),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNeeded {
    /// Pass back to `/api/v1/auth/oidc/register` (single use, 15 minutes).
    pub registration: String,
    pub email: String,
    /// As the provider gave them, to prefill.
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// Pass back to `/api/v1/auth/oidc/complete` (single use, 10 minutes).
    pub sign_in: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Whether signing this account in needs no SMS code: it belongs to at least one
/// organization, every one of them allows it (`provider_sign_in_without_code`), and no
/// invitation waits for its email (signing in would accept it, joining an organization
/// that was not asked).
async fn code_waived(
    state: &AppState,
    account: AccountId,
    email: &Email,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, Error> {
    let memberships = state.store.account_memberships(account).await?;
    if memberships.is_empty() || state.store.invited(email, now).await? {
        return Ok(false);
    }
    Ok(memberships
        .iter()
        .all(|(org, _)| org.settings.provider_sign_in_without_code))
}

/// Decides where a checked `Proven` sign-in leads.
pub async fn sign_in(
    state: &AppState,
    source: IpAddr,
    lang: Lang,
    proven: Proven,
) -> Result<Outcome, Error> {
    let now = state.clock.now();
    let linked = state
        .store
        .account_of_identity(&proven.identity.issuer, &proven.identity.subject)
        .await?;
    let account = match linked {
        Some(id) => Some(state.store.get_account(id).await?.account),
        None => match (&proven.email, proven.email_verified) {
            (Some(email), true) => state
                .store
                .find_account_by_email(email)
                .await?
                .map(|r| r.account),
            _ => None,
        },
    };
    let email = account
        .as_ref()
        .map(|a| a.email.clone())
        .or(proven.email.clone());
    let Some(email) = email else {
        // No email to answer about: the same answer, nothing sent.
        return Ok(Outcome::CheckYourEmail(auth::CHECK_YOUR_EMAIL));
    };
    auth::take_sign_in_slots(state, now, &email, source).await?;
    // Refused, it is a login with that email: the account's link (proving the mailbox
    // again) if it has one, nothing otherwise, and the same answer either way.
    let refused = || async {
        let by_email = state.store.find_account_by_email(&email).await?;
        auth::link_or_nothing(state, lang, by_email.as_ref().map(|r| &r.account), now).await?;
        Ok::<_, Error>(Outcome::CheckYourEmail(auth::CHECK_YOUR_EMAIL))
    };
    if let Some(account) = &account {
        if linked.is_none() {
            // Not linked yet: refused when the account trusts another identity at this
            // issuer (the email alone does not make a new one the same person).
            let other = state.store.list_identities(account.id).await?;
            if other
                .iter()
                .any(|l| l.identity.issuer == proven.identity.issuer)
            {
                return refused().await;
            }
        }
        let Some(phone) = account.phone.clone() else {
            // The number was taken over: the ordinary way back (`/recover`) applies.
            return refused().await;
        };
        let sign_in = SignIn {
            account_id: Some(account.id),
            via: Some(proven.identity),
            ..auth::unsent_sign_in(now, account.email.clone(), phone)
        };
        if code_waived(state, account.id, &account.email, now).await? {
            let ready = auth::send_code(state, lang, sign_in, false).await?;
            return Ok(Outcome::Ready(Ready {
                sign_in: ready.sign_in,
                expires_at: ready.code_expires_at,
            }));
        }
        return Ok(Outcome::CodeSent(
            auth::send_code(
                state,
                lang.preferring(account.language.as_deref()),
                sign_in,
                true,
            )
            .await?,
        ));
    }
    if proven.email_verified && state.store.invited(&email, now).await? {
        let handle = secrets::token("");
        let id = proven.identity;
        let registration = RegistrationState {
            email: email.to_string(),
            identity: (id.provider, id.issuer, id.subject),
        };
        state
            .store
            .create_flow(&AuthFlow {
                handle_hash: secrets::hash(&handle),
                kind: REGISTRATION,
                account_id: None,
                browser_hash: None,
                state: serde_json::to_string(&registration)
                    .map_err(|e| Error::Internal(anyhow::anyhow!("registration: {e}")))?,
                expires_at: now + REGISTRATION_TTL,
                created_at: now,
            })
            .await?;
        return Ok(Outcome::PhoneNeeded(PhoneNeeded {
            registration: handle,
            email: email.to_string(),
            first_name: proven.first_name,
            last_name: proven.last_name,
        }));
    }
    refused().await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcRegisterRequest {
    /// The `registration` of the provider's answer.
    pub registration: String,
    #[schema(example = "Ada")]
    pub first_name: String,
    #[schema(example = "Lovelace")]
    pub last_name: String,
    /// International format; the sign-in code goes to it.
    #[schema(example = "+46701234567")]
    pub phone: String,
}

/// Gives the account a provider is creating its names and phone: the code goes to the
/// phone, and the account exists once it is proven (`/api/v1/auth/sms/verify`).
pub async fn register(
    state: &AppState,
    source: IpAddr,
    lang: Lang,
    req: OidcRegisterRequest,
) -> Result<CodeSent, Error> {
    let now = state.clock.now();
    let first_name = person_name("first_name", &req.first_name)?;
    let last_name = person_name("last_name", &req.last_name)?;
    let phone = Phone::parse("phone", &req.phone)?;
    let source_key = format!("ip:{}", limits::source(source));
    limits::take(
        state,
        now,
        &[lintel_store::Limit {
            key: &source_key,
            windows: auth::PER_SOURCE,
        }],
    )
    .await?;
    limits::take_unproven_sms(state, now, "phone", &phone).await?;
    if state.store.find_account_by_phone(&phone).await?.is_some() {
        return Err(auth::phone_taken());
    }
    // Taken only now, so that a phone to correct does not end it.
    let Some(flow) = state
        .store
        .take_flow(REGISTRATION, &secrets::hash(req.registration.trim()))
        .await?
    else {
        return Err(flow_ended());
    };
    if now >= flow.expires_at {
        return Err(Error::Expired {
            what: "registration",
        });
    }
    let registration: RegistrationState = serde_json::from_str(&flow.state)
        .map_err(|e| Error::Internal(anyhow::anyhow!("registration: {e}")))?;
    let email = Email::parse("email", &registration.email)?;
    let (provider, issuer, subject) = registration.identity;
    let sign_in = SignIn {
        registration: Some(Registration {
            first_name,
            last_name,
        }),
        via: Some(ProviderIdentity {
            provider,
            issuer,
            subject,
        }),
        ..auth::unsent_sign_in(now, email, phone)
    };
    auth::send_code(state, lang, sign_in, true).await
}

/// A linked provider, as its account sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedProvider {
    pub id: uuid::Uuid,
    #[schema(example = "google")]
    pub provider: String,
    /// The email the provider gave when it was linked.
    pub email: String,
    pub linked_at: chrono::DateTime<chrono::Utc>,
}

impl From<LinkedIdentity> for LinkedProvider {
    fn from(l: LinkedIdentity) -> Self {
        LinkedProvider {
            id: l.id,
            provider: l.identity.provider,
            email: l.email,
            linked_at: l.created_at,
        }
    }
}

pub async fn linked(state: &AppState, account: AccountId) -> Result<Vec<LinkedProvider>, Error> {
    Ok(state
        .store
        .list_identities(account)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Links the identity of a `Link` flow to `account`, the account that began it.
pub async fn link(
    state: &AppState,
    account: AccountId,
    proven: Proven,
) -> Result<LinkedProvider, Error> {
    if proven.intent != Intent::Link || proven.account != Some(account) {
        return Err(flow_ended());
    }
    let now = state.clock.now();
    let linked = LinkedIdentity {
        id: uuid::Uuid::now_v7(),
        identity: proven.identity,
        email: proven.email.map(|e| e.to_string()).unwrap_or_default(),
        created_at: now,
    };
    let audit = super::me::self_audit(state, account, now).await?;
    state.store.link_identity(account, &linked, &audit).await?;
    Ok(linked.into())
}

/// Unlinks the account's identity at `provider`.
pub async fn unlink(state: &AppState, account: AccountId, provider: &str) -> Result<(), Error> {
    let not_linked = Error::NotFound {
        what: "linked_provider",
    };
    let Some(linked) = state
        .store
        .list_identities(account)
        .await?
        .into_iter()
        .find(|l| l.identity.provider == provider)
    else {
        return Err(not_linked);
    };
    let now = state.clock.now();
    let audit = super::me::self_audit(state, account, now).await?;
    state
        .store
        .unlink_identity(account, linked.id, &audit)
        .await
        .map_err(|e| match e {
            lintel_store::StoreError::NotFound => Error::NotFound {
                what: "linked_provider",
            },
            other => other.into(),
        })
}
