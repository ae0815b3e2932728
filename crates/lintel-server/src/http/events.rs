//! `/api/v1/orgs/{org_slug}/events`: the event log, as JSON pages or a CSV export.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use lintel_domain::Event;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, InOrg};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::events::EventQuery;
use crate::app::{self, AppState};

/// Narrows the log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// An exact kind (`door.created`) or an object (`door`: every door event).
    pub kind: Option<String>,
    /// The account or API key that acted.
    pub actor_id: Option<Uuid>,
    /// The object concerned (a door's id, a member's id, …).
    pub object_id: Option<Uuid>,
    /// From this time, inclusive (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Up to this time, exclusive (RFC 3339).
    pub until: Option<DateTime<Utc>>,
}

impl From<EventParams> for EventQuery {
    fn from(p: EventParams) -> Self {
        EventQuery {
            kind: p.kind,
            actor_id: p.actor_id,
            object_id: p.object_id,
            from: p.from,
            until: p.until,
        }
    }
}

/// The event log, newest first. Needs `audit`.
#[utoipa::path(operation_id = "list_events", get, path = "/api/v1/orgs/{org_slug}/events", tag = "events",
    params(OrgPath, ListParams, EventParams), security(("bearer" = [])),
    responses((status = 200, body = List<Event>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(page): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<EventParams>,
) -> Result<Json<List<Event>>, ApiError> {
    let listed = app::events::list(&state, &ctx, &filter.into(), &page.into()).await?;
    Ok(Json(listed.into()))
}

/// The matching events as CSV (at most 100,000 rows, newest first). Needs `audit`.
#[utoipa::path(operation_id = "export_events", get, path = "/api/v1/orgs/{org_slug}/events.csv", tag = "events",
    params(OrgPath, EventParams), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn export(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(filter): ApiQuery<EventParams>,
) -> Result<impl IntoResponse, ApiError> {
    let csv = app::events::export_csv(&state, &ctx, &filter.into()).await?;
    let name = format!("attachment; filename=\"{}-events.csv\"", ctx.org.slug);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        csv,
    ))
}
