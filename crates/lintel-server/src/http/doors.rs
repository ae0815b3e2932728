//! `/api/v1/orgs/{org_slug}/doors`: doors, gates, lockers, storage units and relays.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::{ControllerId, Door, DoorId, SiteId};
use lintel_store::DoorFilter;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, InOrg};
use super::list::List;
use super::orgs::OrgPath;
use crate::app::doors::{CreateDoor, UpdateDoor};
use crate::app::{self, AppState, ListRequest};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DoorPath {
    pub door_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoorListParams {
    /// Only the doors of this site.
    pub site_id: Option<Uuid>,
    /// Only the doors wired to this controller.
    pub controller_id: Option<Uuid>,
    /// How many items to return, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists the organization's doors, optionally of one site or of one controller.
#[utoipa::path(operation_id = "list_doors", get, path = "/api/v1/orgs/{org_slug}/doors", tag = "doors",
    params(OrgPath, DoorListParams), security(("bearer" = [])),
    responses((status = 200, body = List<Door>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(params): ApiQuery<DoorListParams>,
) -> Result<Json<List<Door>>, ApiError> {
    let page = ListRequest {
        limit: params.limit,
        cursor: params.cursor,
    };
    let filter = DoorFilter {
        site_id: params.site_id.map(SiteId),
        controller_id: params.controller_id.map(ControllerId),
    };
    Ok(Json(
        app::doors::list(&state, &ctx, filter, &page).await?.into(),
    ))
}

/// Creates a door at one of the organization's sites. Needs the `doors` area.
#[utoipa::path(operation_id = "create_door", post, path = "/api/v1/orgs/{org_slug}/doors", tag = "doors",
    params(OrgPath), security(("bearer" = [])), request_body = CreateDoor,
    responses((status = 201, body = Door),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(req): ApiJson<CreateDoor>,
) -> Result<(StatusCode, Json<Door>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::doors::create(&state, &ctx, req).await?),
    ))
}

/// Reads a door.
#[utoipa::path(operation_id = "get_door", get, path = "/api/v1/orgs/{org_slug}/doors/{door_id}", tag = "doors",
    params(OrgPath, DoorPath), security(("bearer" = [])),
    responses((status = 200, body = Door),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<DoorPath>,
) -> Result<Json<Door>, ApiError> {
    Ok(Json(
        app::doors::get(&state, &ctx, DoorId(path.door_id)).await?,
    ))
}

/// Changes a door, or moves it to another site. Needs the `doors` area.
#[utoipa::path(operation_id = "update_door", patch, path = "/api/v1/orgs/{org_slug}/doors/{door_id}", tag = "doors",
    params(OrgPath, DoorPath), security(("bearer" = [])), request_body = UpdateDoor,
    responses((status = 200, body = Door),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<DoorPath>,
    ApiJson(req): ApiJson<UpdateDoor>,
) -> Result<Json<Door>, ApiError> {
    Ok(Json(
        app::doors::update(&state, &ctx, DoorId(path.door_id), req).await?,
    ))
}

/// Deletes a door. Needs the `doors` area.
#[utoipa::path(operation_id = "delete_door", delete, path = "/api/v1/orgs/{org_slug}/doors/{door_id}", tag = "doors",
    params(OrgPath, DoorPath), security(("bearer" = [])),
    responses((status = 204, description = "deleted"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn delete(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<DoorPath>,
) -> Result<StatusCode, ApiError> {
    app::doors::delete(&state, &ctx, DoorId(path.door_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
