//! Unlocking and the questions around it: `…/doors/{door_id}/unlock` (a member's phone),
//! `…/doors/{door_id}/remote-unlock` (an administrator), "who can open this door",
//! "which doors can this member open", and `/api/v1/me/doors`.

use axum::Json;
use axum::extract::State;
use lintel_domain::{Door, DoorId, MembershipId};

use super::doors::DoorPath;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Authenticated, InOrg};
use super::members::MemberPath;
use super::orgs::OrgPath;
use crate::app::decisions::{MyDoor, Opener, ReaderProof, Unlock, UnlockRequest};
use crate::app::{self, AppState};

/// Opens a door with the signed-in member's phone. The answer is the decision: `granted`, or
/// the `reason` it was denied (`outside_schedule`, `pin_required`, …). Every decision is an
/// event.
#[utoipa::path(operation_id = "unlock_door", post, path = "/api/v1/orgs/{org_slug}/doors/{door_id}/unlock", tag = "unlocking",
    params(OrgPath, DoorPath), security(("bearer" = [])), request_body = UnlockRequest,
    responses((status = 200, body = Unlock),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn unlock(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<DoorPath>,
    ApiJson(req): ApiJson<UnlockRequest>,
) -> Result<Json<Unlock>, ApiError> {
    Ok(Json(
        app::decisions::unlock_by_phone(&state, &ctx, DoorId(path.door_id), req).await?,
    ))
}

/// A proof of presence at the door's reader, good for 30 seconds, to send with an unlock of a
/// door that requires the reader. Readers will issue these; until then the server does, for a
/// signed-in member.
#[utoipa::path(operation_id = "reader_proof", post, path = "/api/v1/orgs/{org_slug}/doors/{door_id}/reader-proof", tag = "unlocking",
    params(OrgPath, DoorPath), security(("bearer" = [])),
    responses((status = 200, body = ReaderProof),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn reader_proof(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<DoorPath>,
) -> Result<Json<ReaderProof>, ApiError> {
    Ok(Json(
        app::decisions::reader_proof(&state, &ctx, DoorId(path.door_id)).await?,
    ))
}

/// Opens a door from afar, without an access: needs the `doors` area, recorded as remote.
#[utoipa::path(operation_id = "remote_unlock_door", post, path = "/api/v1/orgs/{org_slug}/doors/{door_id}/remote-unlock", tag = "unlocking",
    params(OrgPath, DoorPath), security(("bearer" = [])),
    responses((status = 200, body = Unlock),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn remote_unlock(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<DoorPath>,
) -> Result<Json<Unlock>, ApiError> {
    Ok(Json(
        app::decisions::remote_unlock(&state, &ctx, DoorId(path.door_id)).await?,
    ))
}

/// Who can open the door now (by some authentication type). Needs `delegation`, `members`
/// or `doors`.
#[utoipa::path(operation_id = "who_can_open", get, path = "/api/v1/orgs/{org_slug}/doors/{door_id}/who-can-open", tag = "unlocking",
    params(OrgPath, DoorPath), security(("bearer" = [])),
    responses((status = 200, body = Vec<Opener>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn who_can_open(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<DoorPath>,
) -> Result<Json<Vec<Opener>>, ApiError> {
    Ok(Json(
        app::decisions::who_can_open(&state, &ctx, DoorId(path.door_id)).await?,
    ))
}

/// The doors a member can open now. Needs `delegation` or `members`.
#[utoipa::path(operation_id = "member_doors", get, path = "/api/v1/orgs/{org_slug}/members/{member_id}/doors", tag = "unlocking",
    params(OrgPath, MemberPath), security(("bearer" = [])),
    responses((status = 200, body = Vec<Door>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn member_doors(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<MemberPath>,
) -> Result<Json<Vec<Door>>, ApiError> {
    Ok(Json(
        app::decisions::member_doors(&state, &ctx, MembershipId(path.member_id)).await?,
    ))
}

/// The doors I can open now, in every organization I belong to.
#[utoipa::path(operation_id = "my_doors", get, path = "/api/v1/me/doors", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<MyDoor>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn my_doors(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<MyDoor>>, ApiError> {
    Ok(Json(app::decisions::my_doors(&state, &actor).await?))
}
