//! Organizations: created by operators, read by their members' keys, changed by owners.

use lintel_domain::{Area, OrgId, OrgName, OrgSettings, Organization, Slug, TimeZone};
use serde::Deserialize;
use utoipa::ToSchema;

use lintel_store::Audit;

use super::{Actor, AppState, Error, Found, ListRequest, Listed, OrgCtx, event_actor, members};

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
    /// The first owner, invited by email or SMS. Their invitation does not expire, and it
    /// attaches itself when they sign in or register with that address.
    pub owner: Option<FirstOwner>,
}

/// Where to invite an organization's first owner: exactly one of `email` and `phone`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirstOwner {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A new organization and, when an owner was named, where their invitation went and its link.
pub struct Created {
    pub org: Organization,
    pub owner_invited: Option<(String, String)>,
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
    pub show_admin_email: Option<bool>,
    pub show_admin_phone: Option<bool>,
    pub provider_sign_in_without_code: Option<bool>,
}

pub(crate) fn operator_only(actor: &Actor) -> Result<(), Error> {
    match actor {
        Actor::Operator { .. } | Actor::Console => Ok(()),
        // Creating and deleting tenants is the operator's, whatever areas a key holds.
        Actor::ApiKey { .. } | Actor::Device { .. } => Err(Error::OperatorOnly),
    }
}

/// Creates an organization, with its first owner's invitation: the operator's act, from the
/// API or the command line.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    req: CreateOrganization,
) -> Result<Created, Error> {
    operator_only(actor)?;
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
    let owner = req
        .owner
        .map(|o| members::owner_invitation(state, &org, o.email.as_deref(), o.phone.as_deref()))
        .transpose()?;
    let audit = Audit {
        actor: event_actor(actor, None),
        at: now,
    };
    state
        .store
        .create_org(&org, owner.as_ref().map(|o| &o.member), &audit)
        .await?;
    Ok(Created {
        org,
        owner_invited: owner.map(|o| {
            let address = o
                .member
                .membership
                .invitation
                .map(|i| i.address)
                .unwrap_or_default();
            (address, o.url)
        }),
    })
}

/// The organizations the actor can see: all for an operator, its own for an API key.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    req: &ListRequest,
) -> Result<Listed<Organization>, Error> {
    let page = req.page()?;
    match actor {
        Actor::Operator { .. } | Actor::Console => Ok(state.store.list_orgs(page).await?.into()),
        // A person's organizations are few: all of them, in one page.
        Actor::Device { account, .. } => Ok(Listed {
            items: state
                .store
                .account_memberships(*account)
                .await?
                .into_iter()
                .map(|(org, _)| org)
                .filter(|org| page.after.is_none_or(|after| org.id.0 > after))
                .collect(),
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
        .update_org(
            ctx.org_id(),
            &|org| {
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
                    if let Some(v) = s.show_admin_email {
                        org.settings.show_admin_email = v;
                    }
                    if let Some(v) = s.show_admin_phone {
                        org.settings.show_admin_phone = v;
                    }
                    if let Some(v) = s.provider_sign_in_without_code {
                        org.settings.provider_sign_in_without_code = v;
                    }
                    org.settings.validate()?;
                }
                org.updated_at = now;
                Ok(())
            },
            &ctx.audit(),
        )
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
