//! `/api/v1/orgs/{org_slug}/sites`: an organization's places.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::{Site, SiteId};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, InOrg};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::sites::{CreateSite, UpdateSite};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SitePath {
    pub site_id: Uuid,
}

/// Lists the organization's sites.
#[utoipa::path(operation_id = "list_sites", get, path = "/api/v1/orgs/{org_slug}/sites", tag = "sites",
    params(OrgPath, ListParams), security(("bearer" = [])),
    responses((status = 200, body = List<Site>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<List<Site>>, ApiError> {
    Ok(Json(
        app::sites::list(&state, &ctx, &params.into()).await?.into(),
    ))
}

/// Creates a site. Needs the `doors` area.
#[utoipa::path(operation_id = "create_site", post, path = "/api/v1/orgs/{org_slug}/sites", tag = "sites",
    params(OrgPath), security(("bearer" = [])), request_body = CreateSite,
    responses((status = 201, body = Site),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(req): ApiJson<CreateSite>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::sites::create(&state, &ctx, req).await?),
    ))
}

/// Reads a site.
#[utoipa::path(operation_id = "get_site", get, path = "/api/v1/orgs/{org_slug}/sites/{site_id}", tag = "sites",
    params(OrgPath, SitePath), security(("bearer" = [])),
    responses((status = 200, body = Site),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<SitePath>,
) -> Result<Json<Site>, ApiError> {
    Ok(Json(
        app::sites::get(&state, &ctx, SiteId(path.site_id)).await?,
    ))
}

/// Changes a site; `"geofence": null` removes its geofence. Needs the `doors` area.
#[utoipa::path(operation_id = "update_site", patch, path = "/api/v1/orgs/{org_slug}/sites/{site_id}", tag = "sites",
    params(OrgPath, SitePath), security(("bearer" = [])), request_body = UpdateSite,
    responses((status = 200, body = Site),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<SitePath>,
    ApiJson(req): ApiJson<UpdateSite>,
) -> Result<Json<Site>, ApiError> {
    Ok(Json(
        app::sites::update(&state, &ctx, SiteId(path.site_id), req).await?,
    ))
}

/// Deletes a site. Refused with `site_has_doors` while doors remain. Needs the `doors` area.
#[utoipa::path(operation_id = "delete_site", delete, path = "/api/v1/orgs/{org_slug}/sites/{site_id}", tag = "sites",
    params(OrgPath, SitePath), security(("bearer" = [])),
    responses((status = 204, description = "deleted"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn delete(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<SitePath>,
) -> Result<StatusCode, ApiError> {
    app::sites::delete(&state, &ctx, SiteId(path.site_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
