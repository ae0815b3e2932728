//! `/api/v1/orgs/{org_slug}/cards` and `…/pins`: members' cards and PIN codes (`delegation`);
//! `…/doors/{door_id}/present`, where a reader says what it read; `/api/v1/me/pins`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::{Card, CardId, DoorId, Pin, PinId};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::doors::DoorPath;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Authenticated, InOrg};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::credentials::{CreateCard, CreatePin, CredentialQuery, IssuedPin, MyPin};
use crate::app::decisions::{PresentRequest, Unlock};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CardPath {
    pub card_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PinPath {
    pub pin_id: Uuid,
}

/// Narrows a list of cards or PIN codes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CredentialParams {
    /// One member's.
    pub member: Option<Uuid>,
    /// `active` or `revoked`.
    pub status: Option<String>,
    /// PIN codes of one site.
    pub site: Option<Uuid>,
}

impl From<CredentialParams> for CredentialQuery {
    fn from(p: CredentialParams) -> Self {
        CredentialQuery {
            member: p.member,
            status: p.status,
            site: p.site,
        }
    }
}

/// Lists cards, revoked ones included. Needs `delegation`.
#[utoipa::path(operation_id = "list_cards", get, path = "/api/v1/orgs/{org_slug}/cards", tag = "credentials",
    params(OrgPath, ListParams, CredentialParams), security(("bearer" = [])),
    responses((status = 200, body = List<Card>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list_cards(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(page): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<CredentialParams>,
) -> Result<Json<List<Card>>, ApiError> {
    let listed = app::credentials::list_cards(&state, &ctx, &filter.into(), &page.into()).await?;
    Ok(Json(listed.into()))
}

/// Gives a member a card. The number and facility code must not be on another active card
/// of the organization (`card_taken`). Needs `delegation`.
#[utoipa::path(operation_id = "create_card", post, path = "/api/v1/orgs/{org_slug}/cards", tag = "credentials",
    params(OrgPath), security(("bearer" = [])), request_body = CreateCard,
    responses((status = 201, body = Card),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create_card(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(body): ApiJson<CreateCard>,
) -> Result<(StatusCode, Json<Card>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::credentials::create_card(&state, &ctx, body).await?),
    ))
}

/// Reads a card. Needs `delegation`.
#[utoipa::path(operation_id = "get_card", get, path = "/api/v1/orgs/{org_slug}/cards/{card_id}", tag = "credentials",
    params(OrgPath, CardPath), security(("bearer" = [])),
    responses((status = 200, body = Card),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get_card(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<CardPath>,
) -> Result<Json<Card>, ApiError> {
    Ok(Json(
        app::credentials::get_card(&state, &ctx, CardId(path.card_id)).await?,
    ))
}

/// Revokes a card; it stays listed as `revoked`, and presenting it is answered
/// `credential_revoked`. Needs `delegation`.
#[utoipa::path(operation_id = "revoke_card", delete, path = "/api/v1/orgs/{org_slug}/cards/{card_id}", tag = "credentials",
    params(OrgPath, CardPath), security(("bearer" = [])),
    responses((status = 200, body = Card),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn revoke_card(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<CardPath>,
) -> Result<Json<Card>, ApiError> {
    Ok(Json(
        app::credentials::revoke_card(&state, &ctx, CardId(path.card_id)).await?,
    ))
}

/// Lists PIN codes (never the codes). Needs `delegation`.
#[utoipa::path(operation_id = "list_pins", get, path = "/api/v1/orgs/{org_slug}/pins", tag = "credentials",
    params(OrgPath, ListParams, CredentialParams), security(("bearer" = [])),
    responses((status = 200, body = List<Pin>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list_pins(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(page): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<CredentialParams>,
) -> Result<Json<List<Pin>>, ApiError> {
    let listed = app::credentials::list_pins(&state, &ctx, &filter.into(), &page.into()).await?;
    Ok(Json(listed.into()))
}

/// Gives a member a PIN code for a site's doors: a random one, or `code`. The code is in this
/// answer only: afterwards its owner reads it in the member app (`/api/v1/me/pins`), and
/// nobody else can. Codes are unique per site (`pin_taken`; refused codes are rationed,
/// since each says a code is in use) and each length's codes stay at most a thousandth of
/// the possible ones (`pin_space_exhausted`). Needs `delegation`.
#[utoipa::path(operation_id = "create_pin", post, path = "/api/v1/orgs/{org_slug}/pins", tag = "credentials",
    params(OrgPath), security(("bearer" = [])), request_body = CreatePin,
    responses((status = 201, body = IssuedPin),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create_pin(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(body): ApiJson<CreatePin>,
) -> Result<(StatusCode, Json<IssuedPin>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::credentials::create_pin(&state, &ctx, body).await?),
    ))
}

/// Reads a PIN code's record (never the code). Needs `delegation`.
#[utoipa::path(operation_id = "get_pin", get, path = "/api/v1/orgs/{org_slug}/pins/{pin_id}", tag = "credentials",
    params(OrgPath, PinPath), security(("bearer" = [])),
    responses((status = 200, body = Pin),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get_pin(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<PinPath>,
) -> Result<Json<Pin>, ApiError> {
    Ok(Json(
        app::credentials::get_pin(&state, &ctx, PinId(path.pin_id)).await?,
    ))
}

/// Revokes a PIN code. Needs `delegation`.
#[utoipa::path(operation_id = "revoke_pin", delete, path = "/api/v1/orgs/{org_slug}/pins/{pin_id}", tag = "credentials",
    params(OrgPath, PinPath), security(("bearer" = [])),
    responses((status = 200, body = Pin),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn revoke_pin(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<PinPath>,
) -> Result<Json<Pin>, ApiError> {
    Ok(Json(
        app::credentials::revoke_pin(&state, &ctx, PinId(path.pin_id)).await?,
    ))
}

/// What a reader read at the door: a card, a PIN code, or both. Decided by the rules (a PIN
/// code counts at its site only) and recorded as an event. Unknown PIN codes at a site are
/// limited to 20 in 10 minutes. For reader integrations: needs `doors`.
#[utoipa::path(operation_id = "present_credential", post, path = "/api/v1/orgs/{org_slug}/doors/{door_id}/present", tag = "unlocking",
    params(OrgPath, DoorPath), security(("bearer" = [])), request_body = PresentRequest,
    responses((status = 200, body = Unlock),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn present(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<DoorPath>,
    ApiJson(req): ApiJson<PresentRequest>,
) -> Result<Json<Unlock>, ApiError> {
    Ok(Json(
        app::decisions::present(&state, &ctx, DoorId(path.door_id), req).await?,
    ))
}

/// My PIN codes, with the sites they open, in the organizations I am an active member of.
#[utoipa::path(operation_id = "my_pins", get, path = "/api/v1/me/pins", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<MyPin>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn my_pins(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<MyPin>>, ApiError> {
    Ok(Json(app::credentials::my_pins(&state, &actor).await?))
}
