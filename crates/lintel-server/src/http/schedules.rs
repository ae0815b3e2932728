//! `/api/v1/orgs/{org_slug}/schedules`: weekly windows in a time zone.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::{Schedule, ScheduleId};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, InOrg};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::schedules::{CreateSchedule, UpdateSchedule};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SchedulePath {
    pub schedule_id: Uuid,
}

/// Lists the organization's schedules. Any admin area.
#[utoipa::path(operation_id = "list_schedules", get, path = "/api/v1/orgs/{org_slug}/schedules", tag = "schedules",
    params(OrgPath, ListParams), security(("bearer" = [])),
    responses((status = 200, body = List<Schedule>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<List<Schedule>>, ApiError> {
    Ok(Json(
        app::schedules::list(&state, &ctx, &params.into())
            .await?
            .into(),
    ))
}

/// Creates a schedule: weekly windows (a window may cross midnight) and dated exceptions, as
/// wall-clock times in its time zone. Names are unique within the organization. Needs `doors`.
#[utoipa::path(operation_id = "create_schedule", post, path = "/api/v1/orgs/{org_slug}/schedules", tag = "schedules",
    params(OrgPath), security(("bearer" = [])), request_body = CreateSchedule,
    responses((status = 201, body = Schedule),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(req): ApiJson<CreateSchedule>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::schedules::create(&state, &ctx, req).await?),
    ))
}

/// Reads a schedule. Any admin area.
#[utoipa::path(operation_id = "get_schedule", get, path = "/api/v1/orgs/{org_slug}/schedules/{schedule_id}", tag = "schedules",
    params(OrgPath, SchedulePath), security(("bearer" = [])),
    responses((status = 200, body = Schedule),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<SchedulePath>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(
        app::schedules::get(&state, &ctx, ScheduleId(path.schedule_id)).await?,
    ))
}

/// Changes a schedule; `windows` and `exceptions` replace the lists when given. Needs `doors`.
#[utoipa::path(operation_id = "update_schedule", patch, path = "/api/v1/orgs/{org_slug}/schedules/{schedule_id}", tag = "schedules",
    params(OrgPath, SchedulePath), security(("bearer" = [])), request_body = UpdateSchedule,
    responses((status = 200, body = Schedule),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<SchedulePath>,
    ApiJson(req): ApiJson<UpdateSchedule>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(
        app::schedules::update(&state, &ctx, ScheduleId(path.schedule_id), req).await?,
    ))
}

/// Deletes a schedule. Needs `doors`.
#[utoipa::path(operation_id = "delete_schedule", delete, path = "/api/v1/orgs/{org_slug}/schedules/{schedule_id}", tag = "schedules",
    params(OrgPath, SchedulePath), security(("bearer" = [])),
    responses((status = 204, description = "deleted"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn delete(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<SchedulePath>,
) -> Result<StatusCode, ApiError> {
    app::schedules::delete(&state, &ctx, ScheduleId(path.schedule_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
