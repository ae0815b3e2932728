//! Sites: an organization's places. Changing them needs the `doors` area.

use lintel_domain::{Address, Area, Geofence, Site, SiteId, TimeZone, ValidationError, validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{AppState, Error, Found, ListRequest, Listed, OrgCtx, double_option};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSite {
    #[schema(example = "Headquarters")]
    pub name: String,
    #[serde(default)]
    #[schema(example = "Storgatan 1, 111 22 Stockholm")]
    pub address: String,
    /// IANA time zone; the organization's when omitted.
    pub time_zone: Option<String>,
    pub geofence: Option<Geofence>,
    /// Days its controllers keep deciding without hearing from the server (1 to 365; 30).
    pub offline_rules_max_days: Option<u16>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSite {
    pub name: Option<String>,
    pub address: Option<String>,
    pub time_zone: Option<String>,
    /// A new geofence, or `null` to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Geofence>, nullable)]
    pub geofence: Option<Option<Geofence>>,
    pub offline_rules_max_days: Option<u16>,
}

fn geofence(fence: Option<Geofence>) -> Result<Option<Geofence>, ValidationError> {
    if let Some(f) = &fence {
        f.validate().map_err(|e| e.within("geofence"))?;
    }
    Ok(fence)
}

pub async fn create(state: &AppState, ctx: &OrgCtx, req: CreateSite) -> Result<Site, Error> {
    ctx.require(Area::Doors)?;
    let site = Site {
        id: SiteId::new(ctx.now),
        name: validate::name(&req.name)?,
        address: Address::parse("address", &req.address)?,
        time_zone: match &req.time_zone {
            Some(tz) => TimeZone::parse("time_zone", tz)?,
            None => ctx.org.time_zone,
        },
        geofence: geofence(req.geofence)?,
        offline_rules_max_days: Site::offline_rules_max_days(
            "offline_rules_max_days",
            req.offline_rules_max_days
                .unwrap_or(Site::DEFAULT_OFFLINE_RULES_MAX_DAYS),
        )?,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    state
        .store
        .create_site(ctx.org_id(), &site, &ctx.audit())
        .await?;
    Ok(site)
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: SiteId) -> Result<Site, Error> {
    ctx.require_admin()?;
    state.store.get_site(ctx.org_id(), id).await.found("site")
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    req: &ListRequest,
) -> Result<Listed<Site>, Error> {
    ctx.require_admin()?;
    Ok(state
        .store
        .list_sites(ctx.org_id(), req.page()?)
        .await?
        .into())
}

pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    id: SiteId,
    req: UpdateSite,
) -> Result<Site, Error> {
    ctx.require(Area::Doors)?;
    let name = req.name.as_deref().map(validate::name).transpose()?;
    let address = req
        .address
        .as_deref()
        .map(|a| Address::parse("address", a))
        .transpose()?;
    let time_zone = req
        .time_zone
        .as_deref()
        .map(|tz| TimeZone::parse("time_zone", tz))
        .transpose()?;
    let fence = req.geofence.map(geofence).transpose()?;
    let offline_days = req
        .offline_rules_max_days
        .map(|d| Site::offline_rules_max_days("offline_rules_max_days", d))
        .transpose()?;
    let now = ctx.now;
    state
        .store
        .update_site(
            ctx.org_id(),
            id,
            &|site| {
                if let Some(name) = &name {
                    site.name.clone_from(name);
                }
                if let Some(address) = &address {
                    site.address.clone_from(address);
                }
                if let Some(tz) = time_zone {
                    site.time_zone = tz;
                }
                if let Some(fence) = fence {
                    site.geofence = fence;
                }
                if let Some(days) = offline_days {
                    site.offline_rules_max_days = days;
                }
                site.updated_at = now;
                Ok(())
            },
            &ctx.audit(),
        )
        .await
        .found("site")
}

pub async fn delete(state: &AppState, ctx: &OrgCtx, id: SiteId) -> Result<(), Error> {
    ctx.require(Area::Doors)?;
    state
        .store
        .delete_site(ctx.org_id(), id, &ctx.audit())
        .await
        .found("site")
}
