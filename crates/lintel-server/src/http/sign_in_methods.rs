//! The other ways to sign in: OpenID Connect providers (`/api/v1/auth/oidc/…`, linked from
//! `/api/v1/me/providers`) and passkeys (`/api/v1/auth/passkey/…`, `/api/v1/me/passkeys`).
//!
//! An app using a provider opens `authorization_url` in a browser and catches the redirect
//! to `<public_url>/auth/oidc/<provider>/callback` (as an app link), then hands its `code`
//! and `state` to `…/finish`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::DeviceKind;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Authenticated, ClockChecked, Source};
use crate::app::auth::{CodeSent, CompleteRequest, SignedIn};
use crate::app::me::{PinVerified, me};
use crate::app::oidc::{
    Intent, LinkedProvider, OidcRegisterRequest, Outcome, ProviderInfo, Started,
};
use crate::app::passkeys::{AddPasskey, Ceremony, PasskeyInfo, PasskeySignIn, PasskeyVerify};
use crate::app::{self, AppState};
use crate::i18n::Lang;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProviderPath {
    /// The provider's id, as `/api/v1/auth/oidc/providers` lists it.
    pub provider: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    pub id: Uuid,
}

/// The provider's answer, as it came back to the redirect URI.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderAnswer {
    pub state: String,
    pub code: String,
}

/// The providers people may sign in with.
#[utoipa::path(get, path = "/api/v1/auth/oidc/providers", operation_id = "list_oidc_providers",
    tag = "sign-in", responses((status = 200, body = Vec<ProviderInfo>)))]
pub async fn providers(State(state): State<AppState>) -> Json<Vec<ProviderInfo>> {
    Json(state.oidc.list())
}

/// Begins signing in with a provider: open `authorization_url` in a browser.
#[utoipa::path(post, path = "/api/v1/auth/oidc/{provider}/start", operation_id = "start_oidc",
    tag = "sign-in", params(ProviderPath),
    responses((status = 200, body = Started),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn start(
    State(state): State<AppState>,
    _: ClockChecked,
    ApiPath(path): ApiPath<ProviderPath>,
) -> Result<Json<Started>, ApiError> {
    Ok(Json(
        app::oidc::start(&state, &path.provider, Intent::SignIn, None, None).await?,
    ))
}

/// Ends signing in with a provider. An email the provider has verified that belongs to an
/// account leads to the SMS code (`code_sent`), or, when every organization of the account
/// lets the provider alone sign in, straight to naming the device (`ready`); one with a pending invitation and no account
/// yet asks for a phone (`phone_needed`); anything else gets the answer an unknown email gets
/// at `/api/v1/auth/login` (`check_your_email`). A code or ID token that does not verify is
/// `provider_answer_invalid`; a used or unknown `state` is `provider_flow_ended`.
#[utoipa::path(post, path = "/api/v1/auth/oidc/{provider}/finish", operation_id = "finish_oidc",
    tag = "sign-in", params(ProviderPath), request_body = ProviderAnswer,
    responses((status = 200, body = Outcome),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn finish(
    State(state): State<AppState>,
    lang: Lang,
    _: ClockChecked,
    Source(source): Source,
    ApiPath(path): ApiPath<ProviderPath>,
    ApiJson(answer): ApiJson<ProviderAnswer>,
) -> Result<Json<Outcome>, ApiError> {
    let proven =
        app::oidc::finish(&state, &path.provider, &answer.state, &answer.code, None).await?;
    if proven.intent != Intent::SignIn {
        return Err(app::Error::NotFound { what: "sign_in" }.into());
    }
    Ok(Json(
        app::oidc::sign_in(&state, source, lang, proven).await?,
    ))
}

/// Gives the account a provider is creating (an invitation waits for its email) a phone and
/// names: the SMS code goes to the phone; finish at `/api/v1/auth/sms/verify`.
#[utoipa::path(post, path = "/api/v1/auth/oidc/register", operation_id = "register_with_oidc",
    tag = "sign-in", request_body = OidcRegisterRequest,
    responses((status = 200, body = CodeSent),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn register(
    State(state): State<AppState>,
    lang: Lang,
    _: ClockChecked,
    Source(source): Source,
    ApiJson(req): ApiJson<OidcRegisterRequest>,
) -> Result<Json<CodeSent>, ApiError> {
    Ok(Json(app::oidc::register(&state, source, lang, req).await?))
}

/// Finishes a provider sign-in that needs no SMS code (`ready`: every organization of the
/// account allows it) and registers this device with its app PIN. A sign-in that needs the
/// code is `code_needed`.
#[utoipa::path(post, path = "/api/v1/auth/oidc/complete", operation_id = "complete_oidc",
    tag = "sign-in", request_body = CompleteRequest,
    responses((status = 200, body = SignedIn),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn complete(
    State(state): State<AppState>,
    _: ClockChecked,
    ApiJson(req): ApiJson<CompleteRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    Ok(Json(
        app::auth::complete_without_code(&state, req, DeviceKind::App).await?,
    ))
}

/// The providers linked to my account.
#[utoipa::path(get, path = "/api/v1/me/providers", operation_id = "list_my_providers",
    tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<LinkedProvider>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn my_providers(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<LinkedProvider>>, ApiError> {
    let (account, _) = me(&actor)?;
    Ok(Json(app::oidc::linked(&state, account).await?))
}

/// Begins linking a provider to my account: open `authorization_url` in a browser.
#[utoipa::path(post, path = "/api/v1/me/providers/{provider}/start",
    operation_id = "start_linking_provider", tag = "me", params(ProviderPath),
    security(("bearer" = [])),
    responses((status = 200, body = Started),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn start_link(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(path): ApiPath<ProviderPath>,
) -> Result<Json<Started>, ApiError> {
    let (account, _) = me(&actor)?;
    Ok(Json(
        app::oidc::start(&state, &path.provider, Intent::Link, Some(account), None).await?,
    ))
}

/// Links the provider identity of the answer to my account: from then on it signs in to
/// this account by its issuer and subject, whatever its email. `identity_linked` when
/// another account has it, `provider_linked` when I have another at that provider.
#[utoipa::path(post, path = "/api/v1/me/providers/{provider}/finish",
    operation_id = "link_provider", tag = "me", params(ProviderPath),
    security(("bearer" = [])), request_body = ProviderAnswer,
    responses((status = 201, body = LinkedProvider),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn link(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(path): ApiPath<ProviderPath>,
    ApiJson(answer): ApiJson<ProviderAnswer>,
) -> Result<(StatusCode, Json<LinkedProvider>), ApiError> {
    let (account, _) = me(&actor)?;
    let proven =
        app::oidc::finish(&state, &path.provider, &answer.state, &answer.code, None).await?;
    let linked = app::oidc::link(&state, account, proven).await?;
    Ok((StatusCode::CREATED, Json(linked)))
}

/// Unlinks a provider from my account.
#[utoipa::path(delete, path = "/api/v1/me/providers/{provider}", operation_id = "unlink_provider",
    tag = "me", params(ProviderPath), security(("bearer" = [])),
    responses((status = 204, description = "unlinked"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn unlink(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(path): ApiPath<ProviderPath>,
) -> Result<StatusCode, ApiError> {
    let (account, _) = me(&actor)?;
    app::oidc::unlink(&state, account, &path.provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Options for `navigator.credentials.get()` to sign in with a passkey.
#[utoipa::path(post, path = "/api/v1/auth/passkey/options",
    operation_id = "passkey_sign_in_options", tag = "sign-in",
    responses((status = 200, body = Ceremony),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn sign_in_options(
    State(state): State<AppState>,
    _: ClockChecked,
) -> Result<Json<Ceremony>, ApiError> {
    Ok(Json(app::passkeys::sign_in_options(&state).await?))
}

/// Signs in with a passkey's answer and registers this device with its app PIN: a complete
/// sign-in on its own. `passkey_refused` for an answer that does not verify (an unknown or
/// removed passkey included).
#[utoipa::path(post, path = "/api/v1/auth/passkey/finish", operation_id = "sign_in_with_passkey",
    tag = "sign-in", request_body = PasskeySignIn,
    responses((status = 200, body = SignedIn),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn sign_in(
    State(state): State<AppState>,
    _: ClockChecked,
    ApiJson(req): ApiJson<PasskeySignIn>,
) -> Result<Json<SignedIn>, ApiError> {
    Ok(Json(
        app::passkeys::sign_in(&state, req, DeviceKind::App).await?,
    ))
}

/// My passkeys.
#[utoipa::path(get, path = "/api/v1/me/passkeys", operation_id = "list_my_passkeys",
    tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<PasskeyInfo>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn passkeys(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<PasskeyInfo>>, ApiError> {
    Ok(Json(app::passkeys::list(&state, &actor).await?))
}

/// Options for `navigator.credentials.create()` to add a passkey to my account.
#[utoipa::path(post, path = "/api/v1/me/passkeys/options", operation_id = "add_passkey_options",
    tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Ceremony),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn add_options(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Ceremony>, ApiError> {
    Ok(Json(app::passkeys::add_options(&state, &actor).await?))
}

/// Adds the passkey `navigator.credentials.create()` made. `passkey_refused` for an answer
/// that does not verify (no user verification included).
#[utoipa::path(post, path = "/api/v1/me/passkeys", operation_id = "add_passkey", tag = "me",
    security(("bearer" = [])), request_body = AddPasskey,
    responses((status = 201, body = PasskeyInfo),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn add(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<AddPasskey>,
) -> Result<(StatusCode, Json<PasskeyInfo>), ApiError> {
    let added = app::passkeys::add(&state, &actor, req).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Removes one of my passkeys.
#[utoipa::path(delete, path = "/api/v1/me/passkeys/{id}", operation_id = "remove_passkey",
    tag = "me", params(IdPath), security(("bearer" = [])),
    responses((status = 204, description = "removed"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn remove(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(path): ApiPath<IdPath>,
) -> Result<StatusCode, ApiError> {
    app::passkeys::remove(&state, &actor, path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Options for `navigator.credentials.get()` to verify me with a passkey instead of the app
/// PIN. `no_passkey` when my account has none.
#[utoipa::path(post, path = "/api/v1/me/passkeys/verify/options",
    operation_id = "passkey_verify_options", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Ceremony),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn verify_options(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Ceremony>, ApiError> {
    Ok(Json(app::passkeys::verify_options(&state, &actor).await?))
}

/// A passkey's user verification in place of this device's app PIN: the PIN counts as
/// verified now, as after `/api/v1/me/devices/{device_id}/pin`.
#[utoipa::path(post, path = "/api/v1/me/passkeys/verify", operation_id = "verify_with_passkey",
    tag = "me", security(("bearer" = [])), request_body = PasskeyVerify,
    responses((status = 200, body = PinVerified),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn verify(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<PasskeyVerify>,
) -> Result<Json<PinVerified>, ApiError> {
    Ok(Json(app::passkeys::verify(&state, &actor, req).await?))
}
