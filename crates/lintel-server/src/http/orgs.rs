//! `/api/v1/orgs`: organizations.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::Organization;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Authenticated, InOrg};
use super::list::{List, ListParams};
use crate::app::orgs::{CreateOrganization, UpdateOrganization};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // documents the path; `InOrg` reads it
pub struct OrgPath {
    /// The organization's slug.
    pub org_slug: String,
}

/// Lists organizations: every one for an operator key, its own for an organization's key.
#[utoipa::path(operation_id = "list_organizations", get, path = "/api/v1/orgs", tag = "organizations", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = List<Organization>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<List<Organization>>, ApiError> {
    Ok(Json(
        app::orgs::list(&state, &actor, &params.into())
            .await?
            .into(),
    ))
}

/// Creates an organization. Operator keys only.
#[utoipa::path(operation_id = "create_organization", post, path = "/api/v1/orgs", tag = "organizations",
    security(("bearer" = [])), request_body = CreateOrganization,
    responses((status = 201, body = Organization),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(req): ApiJson<CreateOrganization>,
) -> Result<(StatusCode, Json<Organization>), ApiError> {
    let org = app::orgs::create(&state, &actor, req).await?;
    Ok((StatusCode::CREATED, Json(org.org)))
}

/// Reads an organization.
#[utoipa::path(operation_id = "get_organization", get, path = "/api/v1/orgs/{org_slug}", tag = "organizations", params(OrgPath),
    security(("bearer" = [])),
    responses((status = 200, body = Organization),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(InOrg(ctx): InOrg) -> Json<Organization> {
    Json(app::orgs::get(&ctx))
}

/// Changes an organization's name, time zone or settings. Needs the `owner` area.
#[utoipa::path(operation_id = "update_organization", patch, path = "/api/v1/orgs/{org_slug}", tag = "organizations", params(OrgPath),
    security(("bearer" = [])), request_body = UpdateOrganization,
    responses((status = 200, body = Organization),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(req): ApiJson<UpdateOrganization>,
) -> Result<Json<Organization>, ApiError> {
    Ok(Json(app::orgs::update(&state, &ctx, req).await?))
}

/// Deletes an organization and everything it owns. Operator keys only.
#[utoipa::path(operation_id = "delete_organization", delete, path = "/api/v1/orgs/{org_slug}", tag = "organizations", params(OrgPath),
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn delete(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
) -> Result<StatusCode, ApiError> {
    app::orgs::delete(&state, &ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}
