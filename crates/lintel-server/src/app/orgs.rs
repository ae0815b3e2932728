//! Organizations: created by operators, read by their members' keys, changed by owners.

use lintel_domain::{Area, OrgId, OrgName, OrgSettings, Organization, Slug, TimeZone};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Actor, AppState, Error, Found, ListRequest, Listed, OrgCtx};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    /// The organization's URL name: 3 to 63 characters of a-z, 0-9 and '-'.
    #[schema(example = "acme")]
    pub slug: String,
    #[schema(example = "Acme Offices")]
    pub name: String,
    /// IANA time zone; `UTC` when omitted.
    #[schema(example = "Europe/Stockholm")]
    pub time_zone: Option<String>,
    pub settings: Option<OrgSettings>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub settings: Option<UpdateSettings>,
}

/// Settings to change; those left out keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    pub guest_links_by_members: Option<bool>,
    pub app_pin_max_age_hours: Option<u32>,
}

fn operator_only(actor: &Actor) -> Result<(), Error> {
    match actor {
        Actor::Operator { .. } => Ok(()),
        // Creating and deleting tenants is the operator's, whatever areas a key holds.
        Actor::ApiKey { .. } | Actor::Device { .. } => Err(Error::OperatorOnly),
    }
}

/// Creates an organization: the operator's act, from the API or the command line.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    req: CreateOrganization,
) -> Result<Organization, Error> {
    operator_only(actor)?;
    create_unchecked(state, req).await
}

/// Creates an organization without an actor: the command line, run by the operator on the
/// server itself.
pub async fn create_unchecked(
    state: &AppState,
    req: CreateOrganization,
) -> Result<Organization, Error> {
    let now = state.clock.now();
    let settings = req.settings.unwrap_or_default();
    settings.validate()?;
    let org = Organization {
        id: OrgId::new(now),
        slug: Slug::parse("slug", &req.slug)?,
        name: OrgName::parse("name", &req.name)?,
        time_zone: match &req.time_zone {
            Some(tz) => TimeZone::parse("time_zone", tz)?,
            None => TimeZone::UTC,
        },
        settings,
        created_at: now,
        updated_at: now,
    };
    state.store.create_org(&org).await?;
    Ok(org)
}

/// The organizations the actor can see: all for an operator, its own for an API key.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    req: &ListRequest,
) -> Result<Listed<Organization>, Error> {
    let page = req.page()?;
    match actor {
        Actor::Operator { .. } => Ok(state.store.list_orgs(page).await?.into()),
        // Memberships, which list a person's organizations, are not built yet.
        Actor::Device { .. } => Ok(Listed {
            items: vec![],
            next_cursor: None,
        }),
        Actor::ApiKey { org, .. } => {
            let own = state.store.get_org(*org).await.found("organization")?;
            let visible = page.after.is_none_or(|after| own.id.0 > after);
            Ok(Listed {
                items: if visible { vec![own] } else { vec![] },
                next_cursor: None,
            })
        }
    }
}

pub fn get(ctx: &OrgCtx) -> Organization {
    ctx.org.clone()
}

pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    req: UpdateOrganization,
) -> Result<Organization, Error> {
    ctx.require(Area::Owner)?;
    let name = req
        .name
        .as_deref()
        .map(|n| OrgName::parse("name", n))
        .transpose()?;
    let time_zone = req
        .time_zone
        .as_deref()
        .map(|tz| TimeZone::parse("time_zone", tz))
        .transpose()?;
    let now = ctx.now;
    let org = state
        .store
        .update_org(ctx.org_id(), &|org| {
            if let Some(name) = &name {
                org.name.clone_from(name);
            }
            if let Some(tz) = time_zone {
                org.time_zone = tz;
            }
            if let Some(s) = &req.settings {
                if let Some(v) = s.guest_links_by_members {
                    org.settings.guest_links_by_members = v;
                }
                if let Some(v) = s.app_pin_max_age_hours {
                    org.settings.app_pin_max_age_hours = v;
                }
                org.settings.validate()?;
            }
            org.updated_at = now;
            Ok(())
        })
        .await
        .found("organization")?;
    Ok(org)
}

/// Deletes an organization and everything it owns: the operator's act.
pub async fn delete(state: &AppState, ctx: &OrgCtx) -> Result<(), Error> {
    operator_only(&ctx.actor)?;
    state
        .store
        .delete_org(ctx.org_id())
        .await
        .found("organization")
}
