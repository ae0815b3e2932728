//! Controllers: the boxes at a site that hold their doors' rules and drive the locks. Managing
//! them needs the `doors` area; the token a controller signs in with (`lct_…`) is shown once,
//! when it is made or rotated, and stored only as a hash (see `secrets`).

use lintel_domain::controller::TOKEN_PREFIX;
use lintel_domain::{Area, Controller, ControllerId, SiteId, validate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::secrets::{hash, token};
use super::{AppState, Error, Found, ListRequest, Listed, OrgCtx};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateController {
    /// The site whose doors it will hold.
    pub site_id: Uuid,
    #[schema(example = "Main entrance cabinet")]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateController {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A controller and the token it signs in with, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControllerWithToken {
    pub controller: Controller,
    /// `lct_…`: give it to the controller (`lintel-controller --token-file`); it is not shown
    /// again. Rotating makes a new one and ends the old one at once.
    pub token: String,
}

pub async fn create(
    state: &AppState,
    ctx: &OrgCtx,
    req: CreateController,
) -> Result<ControllerWithToken, Error> {
    ctx.require(Area::Doors)?;
    let controller = Controller {
        id: ControllerId::new(ctx.now),
        site_id: SiteId(req.site_id),
        name: validate::name(&req.name)?,
        description: validate::description(&req.description)?,
        token_issued_at: ctx.now,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let token = token(TOKEN_PREFIX);
    state
        .store
        .create_controller(ctx.org_id(), &controller, &hash(&token), &ctx.audit())
        .await?;
    Ok(ControllerWithToken { controller, token })
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: ControllerId) -> Result<Controller, Error> {
    ctx.require_admin()?;
    state
        .store
        .get_controller(ctx.org_id(), id)
        .await
        .found("controller")
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    site: Option<SiteId>,
    req: &ListRequest,
) -> Result<Listed<Controller>, Error> {
    ctx.require_admin()?;
    Ok(state
        .store
        .list_controllers(ctx.org_id(), site, req.page()?)
        .await?
        .into())
}

pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    id: ControllerId,
    req: UpdateController,
) -> Result<Controller, Error> {
    ctx.require(Area::Doors)?;
    let name = req.name.as_deref().map(validate::name).transpose()?;
    let description = req
        .description
        .as_deref()
        .map(validate::description)
        .transpose()?;
    let now = ctx.now;
    state
        .store
        .update_controller(
            ctx.org_id(),
            id,
            &|controller| {
                if let Some(name) = &name {
                    controller.name.clone_from(name);
                }
                if let Some(d) = &description {
                    controller.description.clone_from(d);
                }
                controller.updated_at = now;
                Ok(())
            },
            &ctx.audit(),
        )
        .await
        .found("controller")
}

/// Deletes a controller; refused with `controller_has_doors` while doors are wired to it.
pub async fn delete(state: &AppState, ctx: &OrgCtx, id: ControllerId) -> Result<(), Error> {
    ctx.require(Area::Doors)?;
    state
        .store
        .delete_controller(ctx.org_id(), id, &ctx.audit())
        .await
        .found("controller")
}

/// Gives the controller a new token; the old one stops working at once.
pub async fn rotate_token(
    state: &AppState,
    ctx: &OrgCtx,
    id: ControllerId,
) -> Result<ControllerWithToken, Error> {
    ctx.require(Area::Doors)?;
    let token = token(TOKEN_PREFIX);
    let controller = state
        .store
        .rotate_controller_token(ctx.org_id(), id, &hash(&token), ctx.now, &ctx.audit())
        .await
        .found("controller")?;
    Ok(ControllerWithToken { controller, token })
}
