//! `/api/v1/orgs/{org_slug}/controllers`: the boxes at a site that hold their doors' rules.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::door::DoorState;
use lintel_domain::{Controller, ControllerId, SiteId};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, InOrg, Source};
use super::list::List;
use super::orgs::OrgPath;
use crate::app::controllers::{
    ControllerWithToken, CreateController, Pair, Paired, PairingCode, UpdateController,
};
use crate::app::{self, AppState, ListRequest};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ControllerPath {
    pub controller_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ControllerListParams {
    /// Only the controllers of this site.
    pub site_id: Option<Uuid>,
    /// How many items to return, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists the organization's controllers, optionally of one site.
#[utoipa::path(operation_id = "list_controllers", get, path = "/api/v1/orgs/{org_slug}/controllers", tag = "controllers",
    params(OrgPath, ControllerListParams), security(("bearer" = [])),
    responses((status = 200, body = List<Controller>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(params): ApiQuery<ControllerListParams>,
) -> Result<Json<List<Controller>>, ApiError> {
    let page = ListRequest {
        limit: params.limit,
        cursor: params.cursor,
    };
    let site = params.site_id.map(SiteId);
    Ok(Json(
        app::controllers::list(&state, &ctx, site, &page)
            .await?
            .into(),
    ))
}

/// Creates a controller at one of the organization's sites, with its token (`lct_…`), shown
/// this once. Wire doors to it with the door's `controller_id`. Needs the `doors` area.
#[utoipa::path(operation_id = "create_controller", post, path = "/api/v1/orgs/{org_slug}/controllers", tag = "controllers",
    params(OrgPath), security(("bearer" = [])), request_body = CreateController,
    responses((status = 201, body = ControllerWithToken),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(req): ApiJson<CreateController>,
) -> Result<(StatusCode, Json<ControllerWithToken>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::controllers::create(&state, &ctx, req).await?),
    ))
}

/// Reads a controller.
#[utoipa::path(operation_id = "get_controller", get, path = "/api/v1/orgs/{org_slug}/controllers/{controller_id}", tag = "controllers",
    params(OrgPath, ControllerPath), security(("bearer" = [])),
    responses((status = 200, body = Controller),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<ControllerPath>,
) -> Result<Json<Controller>, ApiError> {
    let id = ControllerId(path.controller_id);
    Ok(Json(app::controllers::get(&state, &ctx, id).await?))
}

/// Renames a controller or changes its description. Needs the `doors` area.
#[utoipa::path(operation_id = "update_controller", patch, path = "/api/v1/orgs/{org_slug}/controllers/{controller_id}", tag = "controllers",
    params(OrgPath, ControllerPath), security(("bearer" = [])), request_body = UpdateController,
    responses((status = 200, body = Controller),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<ControllerPath>,
    ApiJson(req): ApiJson<UpdateController>,
) -> Result<Json<Controller>, ApiError> {
    let id = ControllerId(path.controller_id);
    Ok(Json(app::controllers::update(&state, &ctx, id, req).await?))
}

/// Deletes a controller. Refused with `controller_has_doors` while doors are wired to it.
/// Needs the `doors` area.
#[utoipa::path(operation_id = "delete_controller", delete, path = "/api/v1/orgs/{org_slug}/controllers/{controller_id}", tag = "controllers",
    params(OrgPath, ControllerPath), security(("bearer" = [])),
    responses((status = 204, description = "deleted"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn delete(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<ControllerPath>,
) -> Result<StatusCode, ApiError> {
    app::controllers::delete(&state, &ctx, ControllerId(path.controller_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the controller a new token, shown this once; the old one stops working at once.
/// Needs the `doors` area.
#[utoipa::path(operation_id = "rotate_controller_token", post, path = "/api/v1/orgs/{org_slug}/controllers/{controller_id}/rotate-token", tag = "controllers",
    params(OrgPath, ControllerPath), security(("bearer" = [])),
    responses((status = 200, body = ControllerWithToken),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn rotate_token(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<ControllerPath>,
) -> Result<Json<ControllerWithToken>, ApiError> {
    let id = ControllerId(path.controller_id);
    Ok(Json(
        app::controllers::rotate_token(&state, &ctx, id).await?,
    ))
}

/// Every door's state, as its controller last reported it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DoorStates {
    /// By door id; doors whose controller never reported a state are not listed.
    pub items: Vec<DoorState>,
}

/// Each door's live state as its controller last reported it: `locked`, `unlocked`, `open`,
/// `held_open` or `forced_open` (the last two are alarms), why and when. Every change is
/// also a `door.state_changed` event; gRPC's `DoorsService.WatchDoorStates` streams them.
/// Any admin may read them.
#[utoipa::path(operation_id = "list_door_states", get, path = "/api/v1/orgs/{org_slug}/door-states", tag = "controllers",
    params(OrgPath), security(("bearer" = [])),
    responses((status = 200, body = DoorStates),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn door_states(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
) -> Result<Json<DoorStates>, ApiError> {
    Ok(Json(DoorStates {
        items: app::controllers::door_states(&state, &ctx).await?,
    }))
}

/// Makes a pairing code for the controller: ten letters and digits, good for 15 minutes and
/// once, which `lintel-controller pair` trades on site for the controller's new token (so
/// nobody copies a long token by hand). A new code replaces the last. Needs the `doors` area.
#[utoipa::path(operation_id = "create_pairing_code", post, path = "/api/v1/orgs/{org_slug}/controllers/{controller_id}/pairing-code", tag = "controllers",
    params(OrgPath, ControllerPath), security(("bearer" = [])),
    responses((status = 201, body = PairingCode),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn pairing_code(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<ControllerPath>,
) -> Result<(StatusCode, Json<PairingCode>), ApiError> {
    let id = ControllerId(path.controller_id);
    Ok((
        StatusCode::CREATED,
        Json(app::controllers::pairing_code(&state, &ctx, id).await?),
    ))
}

/// Trades a pairing code for its controller's new token, once (the controller's old token
/// stops working). No credential: the code is one. A wrong, spent or expired code is
/// `pairing_code_not_found`; 30 attempts per 10 minutes per source.
#[utoipa::path(operation_id = "pair_controller", post, path = "/api/v1/controllers/pair", tag = "controllers",
    request_body = Pair,
    responses((status = 200, body = Paired),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn pair(
    State(state): State<AppState>,
    Source(source): Source,
    ApiJson(req): ApiJson<Pair>,
) -> Result<Json<Paired>, ApiError> {
    Ok(Json(app::controllers::pair(&state, req, source).await?))
}
