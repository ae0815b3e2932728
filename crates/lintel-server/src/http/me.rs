//! `/api/v1/me`: the signed-in person's account and devices. Device auth tokens only; apps
//! should send their clock as `X-Device-Time` to get `clock_skew` rather than baffling
//! expiries when it is wrong.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::{Account, DeviceId};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Authenticated};
use crate::app::me::{ChangeEmail, ChangePhone, MyDevice, PinVerified, UpdateMe, VerifyPin};
use crate::app::verification::{CodeSentTo, ConfirmCode};
use crate::app::{self, AppState};
use crate::i18n::Lang;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DevicePath {
    pub device_id: Uuid,
}

/// My account.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "get_me", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = Account),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(app::me::get(&state, &actor).await?))
}

/// Changes my names.
#[utoipa::path(patch, path = "/api/v1/me", operation_id = "update_me", tag = "me",
    security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = Account),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<UpdateMe>,
) -> Result<Json<Account>, ApiError> {
    Ok(Json(app::me::update(&state, &actor, req).await?))
}

/// My signed-in devices.
#[utoipa::path(get, path = "/api/v1/me/devices", operation_id = "list_my_devices", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<MyDevice>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn devices(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<MyDevice>>, ApiError> {
    Ok(Json(app::me::devices(&state, &actor).await?))
}

/// Unregisters one of my devices: the only way to sign out. My account and access stay.
#[utoipa::path(delete, path = "/api/v1/me/devices/{device_id}", operation_id = "unregister_device",
    tag = "me", params(DevicePath), security(("bearer" = [])),
    responses((status = 204, description = "unregistered"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn unregister(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(path): ApiPath<DevicePath>,
) -> Result<StatusCode, ApiError> {
    app::me::unregister(&state, &actor, DeviceId(path.device_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks this device's app PIN. Five wrong in a row unregister the device.
#[utoipa::path(post, path = "/api/v1/me/devices/{device_id}/pin", operation_id = "verify_pin",
    tag = "me", params(DevicePath), security(("bearer" = [])), request_body = VerifyPin,
    responses((status = 200, body = PinVerified),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn verify_pin(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(path): ApiPath<DevicePath>,
    ApiJson(req): ApiJson<VerifyPin>,
) -> Result<Json<PinVerified>, ApiError> {
    Ok(Json(
        app::me::verify_pin(&state, &actor, DeviceId(path.device_id), req).await?,
    ))
}

/// Starts changing my email: a code goes to the new address.
#[utoipa::path(post, path = "/api/v1/me/email", operation_id = "change_email", tag = "me",
    security(("bearer" = [])), request_body = ChangeEmail,
    responses((status = 202, body = CodeSentTo),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn change_email(
    State(state): State<AppState>,
    lang: Lang,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<ChangeEmail>,
) -> Result<(StatusCode, Json<CodeSentTo>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app::me::change_email(&state, lang, &actor, req).await?),
    ))
}

/// Proves the new email with its code. Every device is signed out and the old address is told.
#[utoipa::path(post, path = "/api/v1/me/email/verify", operation_id = "verify_new_email", tag = "me",
    security(("bearer" = [])), request_body = ConfirmCode,
    responses((status = 204, description = "changed; sign in again"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn confirm_email(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<ConfirmCode>,
) -> Result<StatusCode, ApiError> {
    app::me::confirm_email(&state, &actor, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts changing my phone: a code goes to the new number by SMS.
#[utoipa::path(post, path = "/api/v1/me/phone", operation_id = "change_phone", tag = "me",
    security(("bearer" = [])), request_body = ChangePhone,
    responses((status = 202, body = CodeSentTo),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn change_phone(
    State(state): State<AppState>,
    lang: Lang,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<ChangePhone>,
) -> Result<(StatusCode, Json<CodeSentTo>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app::me::change_phone(&state, lang, &actor, req).await?),
    ))
}

/// Proves the new phone with its code. Every device is signed out and the old number is told.
#[utoipa::path(post, path = "/api/v1/me/phone/verify", operation_id = "verify_new_phone", tag = "me",
    security(("bearer" = [])), request_body = ConfirmCode,
    responses((status = 204, description = "changed; sign in again"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn confirm_phone(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<ConfirmCode>,
) -> Result<StatusCode, ApiError> {
    app::me::confirm_phone(&state, &actor, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts deleting my account: a code goes to my phone.
#[utoipa::path(post, path = "/api/v1/me/delete", operation_id = "delete_me", tag = "me",
    security(("bearer" = [])),
    responses((status = 202, body = CodeSentTo),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn delete(
    State(state): State<AppState>,
    lang: Lang,
    Authenticated(actor): Authenticated,
) -> Result<(StatusCode, Json<CodeSentTo>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app::me::delete(&state, lang, &actor).await?),
    ))
}

/// Deletes my account for good, with the code sent to my phone.
#[utoipa::path(post, path = "/api/v1/me/delete/confirm", operation_id = "confirm_delete_me", tag = "me",
    security(("bearer" = [])), request_body = ConfirmCode,
    responses((status = 204, description = "deleted"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn confirm_delete(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<ConfirmCode>,
) -> Result<StatusCode, ApiError> {
    app::me::confirm_delete(&state, &actor, req).await?;
    Ok(StatusCode::NO_CONTENT)
}
