//! Groups: named sets of members that accesses and access links target. Changing them needs
//! the `members` area.

use lintel_domain::{Area, Group, GroupId, validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{AppState, Error, Found, ListRequest, Listed, OrgCtx};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// Unique within the organization.
    #[schema(example = "Staff")]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    pub name: Option<String>,
    pub description: Option<String>,
}

pub async fn create(state: &AppState, ctx: &OrgCtx, req: CreateGroup) -> Result<Group, Error> {
    ctx.require(Area::Members)?;
    let group = Group {
        id: GroupId::new(ctx.now),
        name: validate::name(&req.name)?,
        description: validate::description(&req.description)?,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    state
        .store
        .create_group(ctx.org_id(), &group, &ctx.audit())
        .await?;
    Ok(group)
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: GroupId) -> Result<Group, Error> {
    ctx.require_admin()?;
    state.store.get_group(ctx.org_id(), id).await.found("group")
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    req: &ListRequest,
) -> Result<Listed<Group>, Error> {
    ctx.require_admin()?;
    Ok(state
        .store
        .list_groups(ctx.org_id(), req.page()?)
        .await?
        .into())
}

pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    id: GroupId,
    req: UpdateGroup,
) -> Result<Group, Error> {
    ctx.require(Area::Members)?;
    let name = req.name.as_deref().map(validate::name).transpose()?;
    let description = req
        .description
        .as_deref()
        .map(validate::description)
        .transpose()?;
    let now = ctx.now;
    state
        .store
        .update_group(
            ctx.org_id(),
            id,
            &|group| {
                if let Some(name) = &name {
                    group.name.clone_from(name);
                }
                if let Some(d) = &description {
                    group.description.clone_from(d);
                }
                group.updated_at = now;
                Ok(())
            },
            &ctx.audit(),
        )
        .await
        .found("group")
}

/// Deletes a group. Needs `members`, and `delegation` when the group opens doors (its
/// members would lose that access).
pub async fn delete(state: &AppState, ctx: &OrgCtx, id: GroupId) -> Result<(), Error> {
    ctx.require(Area::Members)?;
    super::members::require_delegation_for(state, ctx, &[id]).await?;
    state
        .store
        .delete_group(ctx.org_id(), id, &ctx.audit())
        .await
        .found("group")
}
