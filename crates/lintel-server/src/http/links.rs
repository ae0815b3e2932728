//! `/api/v1/orgs/{org_slug}/access-links` (guest links, `delegation` or a member's own),
//! `…/quotas`, and the public `/api/v1/links/{secret}` a guest's page calls.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::{DoorId, LinkId, LinkQuotas};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, InOrg, Source};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::decisions::Unlock;
use crate::app::links::{CreateLink, CreatedLink, GuestView, LinkQuery, LinkView};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LinkPath {
    pub link_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SecretPath {
    /// The link's secret, the last part of its URL.
    pub secret: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SecretDoorPath {
    pub secret: String,
    pub door_id: Uuid,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkParams {
    /// Links of one group.
    pub group: Option<Uuid>,
    /// `active`, `scheduled`, `expired` or `revoked`, now.
    pub state: Option<String>,
    /// `created` (the default), `name`, `last_used` (most recent first) or `valid_until`
    /// (soonest first).
    pub sort: Option<String>,
}

/// Lists access links (never their secrets): all of them with `delegation`, otherwise the
/// member's own when the organization lets members send links.
#[utoipa::path(operation_id = "list_access_links", get, path = "/api/v1/orgs/{org_slug}/access-links", tag = "access links",
    params(OrgPath, ListParams, LinkParams), security(("bearer" = [])),
    responses((status = 200, body = List<LinkView>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(page): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<LinkParams>,
) -> Result<Json<List<LinkView>>, ApiError> {
    let query = LinkQuery {
        group: filter.group,
        state: filter.state,
        sort: filter.sort,
    };
    let listed = app::links::list(&state, &ctx, &query, &page.into()).await?;
    Ok(Json(listed.into()))
}

/// Sends an access link to a guest: by `email`, by `sms` (United States, Canada and Puerto
/// Rico only) or `manual` (the answer's `url`, shown this once). Quotas: `email_link_quota`,
/// `sms_link_quota`. Needs `delegation`, or a member sending to their own guest when the
/// organization allows it (doors they can open, no longer than their own access).
#[utoipa::path(operation_id = "create_access_link", post, path = "/api/v1/orgs/{org_slug}/access-links", tag = "access links",
    params(OrgPath), security(("bearer" = [])), request_body = CreateLink,
    responses((status = 201, body = CreatedLink),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(body): ApiJson<CreateLink>,
) -> Result<(StatusCode, Json<CreatedLink>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::links::create(&state, &ctx, body).await?),
    ))
}

/// Reads an access link (never its secret).
#[utoipa::path(operation_id = "get_access_link", get, path = "/api/v1/orgs/{org_slug}/access-links/{link_id}", tag = "access links",
    params(OrgPath, LinkPath), security(("bearer" = [])),
    responses((status = 200, body = LinkView),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<LinkPath>,
) -> Result<Json<LinkView>, ApiError> {
    Ok(Json(
        app::links::get(&state, &ctx, LinkId(path.link_id)).await?,
    ))
}

/// Revokes an access link: its page then says so and opens nothing.
#[utoipa::path(operation_id = "revoke_access_link", delete, path = "/api/v1/orgs/{org_slug}/access-links/{link_id}", tag = "access links",
    params(OrgPath, LinkPath), security(("bearer" = [])),
    responses((status = 200, body = LinkView),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn revoke(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<LinkPath>,
) -> Result<Json<LinkView>, ApiError> {
    Ok(Json(
        app::links::revoke(&state, &ctx, LinkId(path.link_id)).await?,
    ))
}

/// The organization's link quotas. Any admin area.
#[utoipa::path(operation_id = "get_quotas", get, path = "/api/v1/orgs/{org_slug}/quotas", tag = "access links",
    params(OrgPath), security(("bearer" = [])),
    responses((status = 200, body = LinkQuotas),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn quotas(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
) -> Result<Json<LinkQuotas>, ApiError> {
    Ok(Json(app::links::quotas(&state, &ctx).await?))
}

/// Sets the organization's link quotas. Only an operator key.
#[utoipa::path(operation_id = "set_quotas", put, path = "/api/v1/orgs/{org_slug}/quotas", tag = "access links",
    params(OrgPath), security(("bearer" = [])), request_body = LinkQuotas,
    responses((status = 200, body = LinkQuotas),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn set_quotas(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(body): ApiJson<LinkQuotas>,
) -> Result<Json<LinkQuotas>, ApiError> {
    Ok(Json(app::links::set_quotas(&state, &ctx, body).await?))
}

/// What a link opens and whether it is valid now. No key: the secret is the credential.
/// Limited to 120 requests in 10 minutes per source.
#[utoipa::path(operation_id = "view_link", get, path = "/api/v1/links/{secret}", tag = "access links",
    params(SecretPath),
    responses((status = 200, body = GuestView),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn view(
    State(state): State<AppState>,
    Source(source): Source,
    ApiPath(path): ApiPath<SecretPath>,
) -> Result<Json<GuestView>, ApiError> {
    Ok(Json(
        app::links::guest_view(&state, &path.secret, source).await?,
    ))
}

/// Opens a door with a link: decided for the link's group as credential `link` (no
/// geofence or reader restrictions) and recorded naming the link. Limited per link (30 in 10
/// minutes) and per source.
#[utoipa::path(operation_id = "unlock_with_link", post, path = "/api/v1/links/{secret}/doors/{door_id}/unlock", tag = "access links",
    params(SecretDoorPath),
    responses((status = 200, body = Unlock),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn unlock(
    State(state): State<AppState>,
    Source(source): Source,
    ApiPath(path): ApiPath<SecretDoorPath>,
) -> Result<Json<Unlock>, ApiError> {
    Ok(Json(
        app::links::unlock(&state, &path.secret, DoorId(path.door_id), source).await?,
    ))
}
