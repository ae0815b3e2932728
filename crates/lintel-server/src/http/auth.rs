//! `/api/v1/auth`: registering and signing in without passwords.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::DeviceKind;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ClockChecked, Source};
use crate::app::auth::{
    CheckYourEmail, CodeSent, LoginRequest, PhoneReleased, RecoverRequest, RegisterRequest,
    ReissueRequest, ResetAccountRequest, SignedIn, Tokens, VerifyCodeRequest, VerifyEmailRequest,
};
use crate::app::verification::{CodeSentTo, ConfirmCode};
use crate::app::{self, AppState};
use crate::i18n::Lang;

/// Registers a person. A sign-in link goes to the email; the account is created once the
/// phone is proven too. An email that already has an account gets a sign-in link, with the
/// same answer. Refused with `account_exists` when the phone belongs to another account.
#[utoipa::path(post, path = "/api/v1/auth/register", operation_id = "register", tag = "sign-in",
    request_body = RegisterRequest,
    responses((status = 202, body = CheckYourEmail),
              (status = "4XX", body = ErrorBody, description = "see the error code; 429 carries Retry-After")))]
pub async fn register(
    State(state): State<AppState>,
    lang: Lang,
    _: ClockChecked,
    Source(source): Source,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<CheckYourEmail>), ApiError> {
    let answer = app::auth::register(&state, source, lang, req).await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// Starts a sign-in: a link goes to the email if it has an account. The answer is the same
/// either way.
#[utoipa::path(post, path = "/api/v1/auth/login", operation_id = "login", tag = "sign-in",
    request_body = LoginRequest,
    responses((status = 202, body = CheckYourEmail),
              (status = "4XX", body = ErrorBody, description = "see the error code; 429 carries Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    lang: Lang,
    _: ClockChecked,
    Source(source): Source,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<(StatusCode, Json<CheckYourEmail>), ApiError> {
    let answer = app::auth::login(&state, source, lang, req).await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// Proves the email with the link's token and sends a code by SMS. Links work once, for 15
/// minutes (`link_used`, `link_expired`, `link_not_found`).
#[utoipa::path(post, path = "/api/v1/auth/email/verify", operation_id = "verify_email", tag = "sign-in",
    request_body = VerifyEmailRequest,
    responses((status = 200, body = CodeSent),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn verify_email(
    State(state): State<AppState>,
    lang: Lang,
    _: ClockChecked,
    ApiJson(req): ApiJson<VerifyEmailRequest>,
) -> Result<Json<CodeSent>, ApiError> {
    Ok(Json(app::auth::verify_email(&state, lang, req).await?))
}

/// Proves the phone with the SMS code and registers this device with its app PIN. Five wrong
/// codes end the attempt (`sign_in_ended`); 100 in a row lock the account for 24 hours
/// (`account_locked`).
#[utoipa::path(post, path = "/api/v1/auth/sms/verify", operation_id = "verify_sms", tag = "sign-in",
    request_body = VerifyCodeRequest,
    responses((status = 200, body = SignedIn),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn verify_sms(
    State(state): State<AppState>,
    _: ClockChecked,
    ApiJson(req): ApiJson<VerifyCodeRequest>,
) -> Result<Json<SignedIn>, ApiError> {
    Ok(Json(
        app::auth::verify_code(&state, req, DeviceKind::App).await?,
    ))
}

/// Trades a reissue token for a new auth token and a new reissue token. Each reissue token
/// works once; presenting one again unregisters the device.
#[utoipa::path(post, path = "/api/v1/auth/reissue", operation_id = "reissue", tag = "sign-in",
    request_body = ReissueRequest,
    responses((status = 200, body = Tokens),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn reissue(
    State(state): State<AppState>,
    _: ClockChecked,
    ApiJson(req): ApiJson<ReissueRequest>,
) -> Result<Json<Tokens>, ApiError> {
    Ok(Json(app::auth::reissue(&state, req).await?))
}

/// The way back for an account whose phone number was taken over by its new owner: a link
/// goes to the account's email and the code to the new `phone`; finishing the sign-in adds
/// the phone, signs out the account's other devices and tells its organizations' admins. The
/// answer is the same for any email; `account_exists` when another account has the phone.
#[utoipa::path(post, path = "/api/v1/auth/recover", operation_id = "recover", tag = "sign-in",
    request_body = RecoverRequest,
    responses((status = 202, body = CheckYourEmail),
              (status = "4XX", body = ErrorBody, description = "see the error code; 429 carries Retry-After")))]
pub async fn recover(
    State(state): State<AppState>,
    lang: Lang,
    _: ClockChecked,
    Source(source): Source,
    ApiJson(req): ApiJson<RecoverRequest>,
) -> Result<(StatusCode, Json<CheckYourEmail>), ApiError> {
    let answer = app::auth::recover(&state, source, lang, req).await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// For a phone number that belonged to someone else: sends a code to it. The answer is the
/// same whether or not an account has the number.
#[utoipa::path(post, path = "/api/v1/auth/reset-account", operation_id = "reset_account", tag = "sign-in",
    request_body = ResetAccountRequest,
    responses((status = 202, body = CodeSentTo),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn reset_account(
    State(state): State<AppState>,
    lang: Lang,
    _: ClockChecked,
    Source(source): Source,
    ApiJson(req): ApiJson<ResetAccountRequest>,
) -> Result<(StatusCode, Json<CodeSentTo>), ApiError> {
    let sent = app::auth::reset_account(&state, source, lang, req).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Proves the phone of a reset: the account that had it loses it (its devices are signed
/// out), and the number is free to register with.
#[utoipa::path(post, path = "/api/v1/auth/reset-account/verify", operation_id = "verify_reset_account",
    tag = "sign-in", request_body = ConfirmCode,
    responses((status = 200, body = PhoneReleased),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn reset_account_verify(
    State(state): State<AppState>,
    _: ClockChecked,
    ApiJson(req): ApiJson<ConfirmCode>,
) -> Result<Json<PhoneReleased>, ApiError> {
    Ok(Json(app::auth::reset_account_verify(&state, req).await?))
}
