//! `/api/v1/orgs/{org_slug}/members` and `…/invitations`: people and their admin areas; the
//! invitee's side, `/api/v1/invitations/{token}`; and a member's own `/api/v1/me/memberships`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::MembershipId;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, Authenticated, InOrg};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::members::{
    AdminContact, InvitationPreview, Invite, Member, MemberQuery, MyMembership, UpdateMember,
};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberPath {
    pub member_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvitationPath {
    pub invitation_id: Uuid,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token from the invitation's link.
    pub token: String,
}

/// Narrows the member list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberParams {
    /// `invited`, `active` or `suspended`.
    pub status: Option<String>,
    /// Members holding this admin area.
    pub area: Option<String>,
    /// Members of this group.
    pub group: Option<Uuid>,
    /// Part of a name, email, phone or invited address.
    pub q: Option<String>,
}

impl From<MemberParams> for MemberQuery {
    fn from(p: MemberParams) -> Self {
        MemberQuery {
            status: p.status,
            area: p.area,
            group: p.group,
            q: p.q,
        }
    }
}

/// Lists members and pending invitations. Needs `members` or `delegation`.
#[utoipa::path(operation_id = "list_members", get, path = "/api/v1/orgs/{org_slug}/members", tag = "members",
    params(OrgPath, ListParams, MemberParams), security(("bearer" = [])),
    responses((status = 200, body = List<Member>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(page): ApiQuery<ListParams>,
    ApiQuery(filter): ApiQuery<MemberParams>,
) -> Result<Json<List<Member>>, ApiError> {
    let listed = app::members::list(&state, &ctx, &filter.into(), &page.into()).await?;
    Ok(Json(listed.into()))
}

/// Reads a member. Needs `members` or `delegation`.
#[utoipa::path(operation_id = "get_member", get, path = "/api/v1/orgs/{org_slug}/members/{member_id}", tag = "members",
    params(OrgPath, MemberPath), security(("bearer" = [])),
    responses((status = 200, body = Member),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn get(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<MemberPath>,
) -> Result<Json<Member>, ApiError> {
    let id = MembershipId(path.member_id);
    Ok(Json(app::members::get(&state, &ctx, id).await?))
}

/// Changes a member's admin areas, groups or status (`active`, `suspended`). Needs `members`,
/// every area added or removed, and every area the member holds.
#[utoipa::path(operation_id = "update_member", patch, path = "/api/v1/orgs/{org_slug}/members/{member_id}", tag = "members",
    params(OrgPath, MemberPath), security(("bearer" = [])), request_body = UpdateMember,
    responses((status = 200, body = Member),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn update(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<MemberPath>,
    ApiJson(req): ApiJson<UpdateMember>,
) -> Result<Json<Member>, ApiError> {
    let id = MembershipId(path.member_id);
    Ok(Json(app::members::update(&state, &ctx, id, req).await?))
}

/// Removes a member. Needs `members` and every area the member holds; the last active owner
/// cannot be removed (`last_owner`).
#[utoipa::path(operation_id = "remove_member", delete, path = "/api/v1/orgs/{org_slug}/members/{member_id}", tag = "members",
    params(OrgPath, MemberPath), security(("bearer" = [])),
    responses((status = 204, description = "removed"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn remove(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<MemberPath>,
) -> Result<StatusCode, ApiError> {
    app::members::remove(&state, &ctx, MembershipId(path.member_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invites someone by email or SMS, with admin areas and groups chosen up front. The link
/// works for 7 days. Needs `members` and every area granted; 100 invitations an hour.
#[utoipa::path(operation_id = "create_invitation", post, path = "/api/v1/orgs/{org_slug}/invitations", tag = "members",
    params(OrgPath), security(("bearer" = [])), request_body = Invite,
    responses((status = 201, body = Member),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn invite(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(req): ApiJson<Invite>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::members::invite(&state, &ctx, req).await?),
    ))
}

/// Lists pending invitations. Needs `members` or `delegation`.
#[utoipa::path(operation_id = "list_invitations", get, path = "/api/v1/orgs/{org_slug}/invitations", tag = "members",
    params(OrgPath, ListParams), security(("bearer" = [])),
    responses((status = 200, body = List<Member>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn invitations(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(page): ApiQuery<ListParams>,
) -> Result<Json<List<Member>>, ApiError> {
    let query = MemberQuery {
        status: Some("invited".into()),
        ..MemberQuery::default()
    };
    let listed = app::members::list(&state, &ctx, &query, &page.into()).await?;
    Ok(Json(listed.into()))
}

/// Sends a pending invitation again with a new link, valid for 7 more days. Needs `members`.
#[utoipa::path(operation_id = "resend_invitation", post, path = "/api/v1/orgs/{org_slug}/invitations/{invitation_id}/resend", tag = "members",
    params(OrgPath, InvitationPath), security(("bearer" = [])),
    responses((status = 200, body = Member),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn resend(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<InvitationPath>,
) -> Result<Json<Member>, ApiError> {
    let id = MembershipId(path.invitation_id);
    Ok(Json(app::members::resend(&state, &ctx, id).await?))
}

/// Withdraws a pending invitation; its link stops working. Needs `members`.
#[utoipa::path(operation_id = "revoke_invitation", delete, path = "/api/v1/orgs/{org_slug}/invitations/{invitation_id}", tag = "members",
    params(OrgPath, InvitationPath), security(("bearer" = [])),
    responses((status = 204, description = "revoked"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn revoke(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<InvitationPath>,
) -> Result<StatusCode, ApiError> {
    app::members::revoke(&state, &ctx, MembershipId(path.invitation_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who administers the organization, for a member who lacks access and wants to ask. Emails
/// and phones are shown as the organization's settings choose. Any member or key.
#[utoipa::path(operation_id = "list_admins", get, path = "/api/v1/orgs/{org_slug}/admins", tag = "members",
    params(OrgPath), security(("bearer" = [])),
    responses((status = 200, body = Vec<AdminContact>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn admins(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
) -> Result<Json<Vec<AdminContact>>, ApiError> {
    Ok(Json(app::members::admins(&state, &ctx).await?))
}

/// What an invitation link is for. Anyone holding the link may read it.
#[utoipa::path(operation_id = "get_invitation", get, path = "/api/v1/invitations/{token}", tag = "members",
    params(TokenPath),
    responses((status = 200, body = InvitationPreview),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn preview(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<TokenPath>,
) -> Result<Json<InvitationPreview>, ApiError> {
    Ok(Json(app::members::preview(&state, &path.token).await?))
}

/// Accepts an invitation as the signed-in person: the membership becomes active. Signing in
/// with the invited email or phone attaches it without this step.
#[utoipa::path(operation_id = "accept_invitation", post, path = "/api/v1/invitations/{token}/accept", tag = "members",
    params(TokenPath), security(("bearer" = [])),
    responses((status = 200, body = MyMembership),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn accept(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(path): ApiPath<TokenPath>,
) -> Result<Json<MyMembership>, ApiError> {
    Ok(Json(
        app::members::accept(&state, &actor, &path.token).await?,
    ))
}

/// My organizations.
#[utoipa::path(operation_id = "list_my_memberships", get, path = "/api/v1/me/memberships", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<MyMembership>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn mine(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Vec<MyMembership>>, ApiError> {
    Ok(Json(app::members::mine(&state, &actor).await?))
}

/// Leaves an organization. The last active owner cannot (`last_owner`).
#[utoipa::path(operation_id = "leave_membership", delete, path = "/api/v1/me/memberships/{org_slug}", tag = "me",
    params(OrgPath), security(("bearer" = [])),
    responses((status = 204, description = "left"),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn leave(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(path): ApiPath<OrgPath>,
) -> Result<StatusCode, ApiError> {
    app::members::leave(&state, actor, &path.org_slug).await?;
    Ok(StatusCode::NO_CONTENT)
}
