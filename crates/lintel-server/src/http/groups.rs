//! `/api/v1/orgs/{org_slug}/groups`: named sets of members.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::{Group, GroupId};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, InOrg};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::groups::{CreateGroup, UpdateGroup};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupPath {
    pub group_id: Uuid,
}

/// Lists the organization's groups.
#[utoipa::path(operation_id = "list_groups", get, path = "/api/v1/orgs/{org_slug}/groups", tag = "groups",
    params(OrgPath, ListParams), security(("bearer" = [])),
    responses((status = 200, body = List<Group>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<List<Group>>, ApiError> {
    Ok(Json(
        app::groups::list(&state, &ctx, &params.into())
            .await?
            .into(),
    ))
}

/// Creates a group; names are unique within the organization. Needs the `members` area.
#[utoipa::path(operation_id = "create_group", post, path = "/api/v1/orgs/{org_slug}/groups", tag = "groups",
    params(OrgPath), security(("bearer" = [])), request_body = CreateGroup,
    responses((status = 201, body = Group),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(req): ApiJson<CreateGroup>,
) -> Result<(StatusCode, Json<Group>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::groups::create(&state, &ctx, req).await?),
    ))
}

/// Reads a group.
#[utoipa::path(operation_id = "get_group", get, path = "/api/v1/orgs/{org_slug}/groups/{group_id}", tag = "groups",
    params(OrgPath, GroupPath), security(("bearer" = [])),
    responses((status = 200, body = Group),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<GroupPath>,
) -> Result<Json<Group>, ApiError> {
    Ok(Json(
        app::groups::get(&state, &ctx, GroupId(path.group_id)).await?,
    ))
}

/// Renames a group or changes its description. Needs the `members` area.
#[utoipa::path(operation_id = "update_group", patch, path = "/api/v1/orgs/{org_slug}/groups/{group_id}", tag = "groups",
    params(OrgPath, GroupPath), security(("bearer" = [])), request_body = UpdateGroup,
    responses((status = 200, body = Group),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<GroupPath>,
    ApiJson(req): ApiJson<UpdateGroup>,
) -> Result<Json<Group>, ApiError> {
    Ok(Json(
        app::groups::update(&state, &ctx, GroupId(path.group_id), req).await?,
    ))
}

/// Deletes a group. Needs the `members` area.
#[utoipa::path(operation_id = "delete_group", delete, path = "/api/v1/orgs/{org_slug}/groups/{group_id}", tag = "groups",
    params(OrgPath, GroupPath), security(("bearer" = [])),
    responses((status = 204, description = "deleted"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn delete(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<GroupPath>,
) -> Result<StatusCode, ApiError> {
    app::groups::delete(&state, &ctx, GroupId(path.group_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
