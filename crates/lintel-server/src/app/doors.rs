//! Doors: anything that can be unlocked. Changing them needs the `doors` area.

use lintel_domain::{
    Area, ControllerId, Door, DoorId, DoorKind, Preferences, SiteId, door, validate,
};
use lintel_store::DoorFilter;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, Error, Found, ListRequest, Listed, OrgCtx, double_option};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDoor {
    /// The site the door belongs to.
    pub site_id: Uuid,
    #[schema(example = "Front door")]
    pub name: String,
    /// `door` when omitted.
    pub kind: Option<DoorKind>,
    #[serde(default)]
    pub geofence_required: bool,
    #[serde(default)]
    pub reader_required: bool,
    /// Seconds the lock stays released after an unlock, 1 to 600; 5 when omitted.
    #[schema(minimum = 1, maximum = 600)]
    pub unlock_duration_secs: Option<u32>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub preferences: Preferences,
    /// The controller (of the door's site) it is wired to.
    pub controller_id: Option<Uuid>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDoor {
    /// Moves the door to another site of the organization.
    pub site_id: Option<Uuid>,
    pub name: Option<String>,
    pub kind: Option<DoorKind>,
    pub geofence_required: Option<bool>,
    pub reader_required: Option<bool>,
    /// Seconds the lock stays released after an unlock, 1 to 600.
    #[schema(minimum = 1, maximum = 600)]
    pub unlock_duration_secs: Option<u32>,
    pub description: Option<String>,
    /// Replaces the whole map.
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub preferences: Option<Preferences>,
    /// Wires the door to a controller of its site, or `null` to unwire it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub controller_id: Option<Option<Uuid>>,
}

pub async fn create(state: &AppState, ctx: &OrgCtx, req: CreateDoor) -> Result<Door, Error> {
    ctx.require(Area::Doors)?;
    door::validate_preferences("preferences", &req.preferences)?;
    let door = Door {
        id: DoorId::new(ctx.now),
        site_id: SiteId(req.site_id),
        name: validate::name(&req.name)?,
        kind: req.kind.unwrap_or(DoorKind::Door),
        geofence_required: req.geofence_required,
        reader_required: req.reader_required,
        unlock_duration_secs: Door::validate_unlock_duration(
            req.unlock_duration_secs
                .unwrap_or(Door::DEFAULT_UNLOCK_SECS),
        )?,
        description: validate::description(&req.description)?,
        preferences: req.preferences,
        controller_id: req.controller_id.map(ControllerId),
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    state
        .store
        .create_door(ctx.org_id(), &door, &ctx.audit())
        .await?;
    Ok(door)
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: DoorId) -> Result<Door, Error> {
    ctx.require_admin()?;
    state.store.get_door(ctx.org_id(), id).await.found("door")
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    filter: DoorFilter,
    req: &ListRequest,
) -> Result<Listed<Door>, Error> {
    ctx.require_admin()?;
    Ok(state
        .store
        .list_doors(ctx.org_id(), filter, req.page()?)
        .await?
        .into())
}

pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    id: DoorId,
    req: UpdateDoor,
) -> Result<Door, Error> {
    ctx.require(Area::Doors)?;
    let name = req.name.as_deref().map(validate::name).transpose()?;
    let description = req
        .description
        .as_deref()
        .map(validate::description)
        .transpose()?;
    let unlock = req
        .unlock_duration_secs
        .map(Door::validate_unlock_duration)
        .transpose()?;
    if let Some(prefs) = &req.preferences {
        door::validate_preferences("preferences", prefs)?;
    }
    let now = ctx.now;
    state
        .store
        .update_door(
            ctx.org_id(),
            id,
            &|door| {
                if let Some(site) = req.site_id {
                    door.site_id = SiteId(site);
                }
                if let Some(name) = &name {
                    door.name.clone_from(name);
                }
                if let Some(kind) = req.kind {
                    door.kind = kind;
                }
                if let Some(v) = req.geofence_required {
                    door.geofence_required = v;
                }
                if let Some(v) = req.reader_required {
                    door.reader_required = v;
                }
                if let Some(secs) = unlock {
                    door.unlock_duration_secs = secs;
                }
                if let Some(d) = &description {
                    door.description.clone_from(d);
                }
                if let Some(p) = &req.preferences {
                    door.preferences.clone_from(p);
                }
                if let Some(controller) = req.controller_id {
                    door.controller_id = controller.map(ControllerId);
                }
                door.updated_at = now;
                Ok(())
            },
            &ctx.audit(),
        )
        .await
        .found("door")
}

pub async fn delete(state: &AppState, ctx: &OrgCtx, id: DoorId) -> Result<(), Error> {
    ctx.require(Area::Doors)?;
    state
        .store
        .delete_door(ctx.org_id(), id, &ctx.audit())
        .await
        .found("door")
}
