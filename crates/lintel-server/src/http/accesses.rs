//! `/api/v1/orgs/{org_slug}/accesses`: the grants, one at a time or in batches.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::{Access, AccessId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, InOrg};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::accesses::{AccessBatch, AccessBody, AccessQuery, UpdateAccess};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AccessPath {
    pub access_id: Uuid,
}

/// Narrows the list; deleted accesses only with `status=deleted`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessParams {
    pub status: Option<String>,
    /// Accesses that open this door.
    pub door: Option<Uuid>,
    /// Accesses naming this member directly.
    pub user: Option<Uuid>,
    /// Accesses naming this group.
    pub group: Option<Uuid>,
}

/// The accesses a batch created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccesses {
    pub accesses: Vec<Access>,
}

/// Lists accesses. Any admin area.
#[utoipa::path(operation_id = "list_accesses", get, path = "/api/v1/orgs/{org_slug}/accesses", tag = "accesses",
    params(OrgPath, ListParams, AccessParams), security(("bearer" = [])),
    responses((status = 200, body = List<Access>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(page): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<AccessParams>,
) -> Result<Json<List<Access>>, ApiError> {
    let query = AccessQuery {
        status: filter.status,
        door: filter.door,
        user: filter.user,
        group: filter.group,
    };
    let listed = app::accesses::list(&state, &ctx, &query, &page.into()).await?;
    Ok(Json(listed.into()))
}

/// Creates an access. A `temporary` one needs `valid_to`. Everything it names must be the
/// organization's. Needs `delegation`.
#[utoipa::path(operation_id = "create_access", post, path = "/api/v1/orgs/{org_slug}/accesses", tag = "accesses",
    params(OrgPath), security(("bearer" = [])), request_body = AccessBody,
    responses((status = 201, body = Access),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(body): ApiJson<AccessBody>,
) -> Result<(StatusCode, Json<Access>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::accesses::create(&state, &ctx, body).await?),
    ))
}

/// Creates up to 10,000 accesses at once, all or none: a refusal names the access
/// (`accesses[i].…`). Needs `delegation`.
#[utoipa::path(operation_id = "create_accesses", post, path = "/api/v1/orgs/{org_slug}/accesses/batch", tag = "accesses",
    params(OrgPath), security(("bearer" = [])), request_body = AccessBatch,
    responses((status = 201, body = CreatedAccesses),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create_batch(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(batch): ApiJson<AccessBatch>,
) -> Result<(StatusCode, Json<CreatedAccesses>), ApiError> {
    let accesses = app::accesses::create_batch(&state, &ctx, batch).await?;
    Ok((StatusCode::CREATED, Json(CreatedAccesses { accesses })))
}

/// Reads an access, deleted ones too. Any admin area.
#[utoipa::path(operation_id = "get_access", get, path = "/api/v1/orgs/{org_slug}/accesses/{access_id}", tag = "accesses",
    params(OrgPath, AccessPath), security(("bearer" = [])),
    responses((status = 200, body = Access),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<AccessPath>,
) -> Result<Json<Access>, ApiError> {
    Ok(Json(
        app::accesses::get(&state, &ctx, AccessId(path.access_id)).await?,
    ))
}

/// Changes an access; lists replace the access's when given, `null` clears validity or
/// schedule. Needs `delegation`.
#[utoipa::path(operation_id = "update_access", patch, path = "/api/v1/orgs/{org_slug}/accesses/{access_id}", tag = "accesses",
    params(OrgPath, AccessPath), security(("bearer" = [])), request_body = UpdateAccess,
    responses((status = 200, body = Access),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<AccessPath>,
    ApiJson(req): ApiJson<UpdateAccess>,
) -> Result<Json<Access>, ApiError> {
    Ok(Json(
        app::accesses::update(&state, &ctx, AccessId(path.access_id), req).await?,
    ))
}

/// Deletes an access: it grants nothing from now on and stays on record with status
/// `deleted`. Needs `delegation`.
#[utoipa::path(operation_id = "delete_access", delete, path = "/api/v1/orgs/{org_slug}/accesses/{access_id}", tag = "accesses",
    params(OrgPath, AccessPath), security(("bearer" = [])),
    responses((status = 200, body = Access),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn delete(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<AccessPath>,
) -> Result<Json<Access>, ApiError> {
    Ok(Json(
        app::accesses::delete(&state, &ctx, AccessId(path.access_id)).await?,
    ))
}
