//! Access links (SPEC §5): sent by administrators with `delegation`, or by members for their
//! own guests when the organization allows it; opened by anyone holding the secret, through
//! the decision engine as credential `link`.

use std::net::IpAddr;

use chrono::{DateTime, Datelike as _, Duration, TimeZone as _, Utc};
use lintel_domain::account::person_name;
use lintel_domain::decision::{AuthType, CredentialKey, Decision, DenyReason, Direction, Request};
use lintel_domain::link::{check_validity, sms_allowed};
use lintel_domain::{
    AccessLink, Area, ControllerId, Delivery, Door, DoorId, Email, EventActor, GroupId, LinkId,
    LinkQuotas, LinkState, MembershipStatus, MessageId, Organization, Phone, ValidationError,
};
use lintel_store::{Audit, Channel, LinkFilter, LinkSort, Message, NewLink};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::decisions::Unlock;
use super::{AppState, Error, Found, ListRequest, Listed, OrgCtx, limits, secrets};
use crate::i18n::Lang;

const LINK_PREFIX: &str = "lnk_";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    /// The group whose doors the link opens.
    pub group_id: Uuid,
    pub recipient_name: String,
    pub delivery: Delivery,
    /// The recipient's email (`email`) or phone number (`sms`); none for `manual`.
    pub address: Option<String>,
    /// Blank: valid at once.
    pub valid_from: Option<DateTime<Utc>>,
    /// Blank: for ever.
    pub valid_until: Option<DateTime<Utc>>,
}

/// A new link. `url` holds the secret: it is in this answer only, and only for `manual`
/// links (the others went to their recipient).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedLink {
    #[serde(flatten)]
    pub link: AccessLink,
    pub state: LinkState,
    pub url: Option<String>,
}

/// A link as lists show it: with its state now.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    #[serde(flatten)]
    pub link: AccessLink,
    pub state: LinkState,
}

#[derive(Debug, Default, Clone)]
pub struct LinkQuery {
    pub group: Option<Uuid>,
    pub state: Option<String>,
    pub sort: Option<String>,
}

/// Administrators with `delegation` manage every link; other members, when the organization
/// allows guest links, their own. `None`: all links; `Some(member)`: that member's.
fn scope(ctx: &OrgCtx) -> Result<Option<lintel_domain::MembershipId>, Error> {
    if ctx.require(Area::Delegation).is_ok() {
        return Ok(None);
    }
    match &ctx.member {
        Some(m) if ctx.org.settings.guest_links_by_members => Ok(Some(m.membership.id)),
        _ => Err(Error::Forbidden {
            area: Area::Delegation,
        }),
    }
}

/// The first instant of the current month in the organization's time zone.
fn month_start(org: &Organization, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = org.time_zone.tz();
    let local = now.with_timezone(&tz);
    tz.with_ymd_and_hms(local.year(), local.month(), 1, 0, 0, 0)
        .earliest()
        .map_or(now, |t| t.with_timezone(&Utc))
}

/// When a link works, in `lang`, in the organization's time zone (as the sender chose the
/// times).
fn validity_text(lang: Lang, org: &Organization, link: &AccessLink) -> String {
    let tz = org.time_zone.tz();
    let at = |t: DateTime<Utc>| {
        format!(
            "{} ({})",
            lang.date_time(t.with_timezone(&tz).naive_local()),
            org.time_zone.name()
        )
    };
    match (link.valid_from, link.valid_until) {
        (None, None) => lang.word("validity-always"),
        (Some(f), None) => lang.text("validity-from", &[("from", &at(f))]),
        (None, Some(u)) => lang.text("validity-until", &[("until", &at(u))]),
        (Some(f), Some(u)) => lang.text(
            "validity-from-until",
            &[("from", &at(f)), ("until", &at(u))],
        ),
    }
}

fn message(
    lang: Lang,
    org: &Organization,
    link: &AccessLink,
    url: &str,
    now: DateTime<Utc>,
) -> Option<Message> {
    let validity = validity_text(lang, org, link);
    let org_name = org.name.as_str();
    let (channel, subject, body) = match link.delivery {
        Delivery::Manual => return None,
        Delivery::Email => (
            Channel::Email,
            lang.text("mail-link-subject", &[("org", org_name)]),
            super::auth::paragraphs(&[
                &lang.text("mail-hello-name", &[("name", &link.recipient_name)]),
                &lang.text("mail-link", &[("org", org_name), ("validity", &validity)]),
                url,
                &lang.word("mail-link-keep"),
            ]),
        ),
        Delivery::Sms => (
            Channel::Sms,
            String::new(),
            lang.text(
                "sms-link",
                &[("org", org_name), ("validity", &validity), ("url", url)],
            ),
        ),
    };
    Some(Message {
        id: MessageId::new(now),
        channel,
        recipient: link.address.clone().unwrap_or_default(),
        subject,
        body,
        attempts: 0,
        created_at: now,
    })
}

pub async fn create(state: &AppState, ctx: &OrgCtx, req: CreateLink) -> Result<CreatedLink, Error> {
    let own = scope(ctx)?;
    let recipient_name = person_name("recipient_name", &req.recipient_name)?;
    check_validity(req.valid_from, req.valid_until, ctx.now)?;
    let address = match (req.delivery, req.address.as_deref()) {
        (Delivery::Manual, None) => None,
        (Delivery::Manual, Some(_)) => {
            return Err(ValidationError::new(
                "address",
                "address_not_allowed",
                "a manual link has no address: it is shown to you to hand over",
            )
            .into());
        }
        (_, None) => {
            return Err(ValidationError::new(
                "address",
                "required",
                "address is required for links sent by email or SMS",
            )
            .into());
        }
        (Delivery::Email, Some(a)) => Some(Email::parse("address", a)?.to_string()),
        (Delivery::Sms, Some(a)) => {
            let phone = Phone::parse("address", a)?;
            if !sms_allowed(&phone) {
                return Err(ValidationError::new(
                    "address",
                    "sms_region_not_allowed",
                    "SMS links go only to numbers of the United States, Canada and Puerto \
                     Rico; send this one by email or by hand",
                )
                .into());
            }
            Some(phone.to_string())
        }
    };
    // A group of another organization, or none, is refused by the store's foreign key.
    let group = GroupId(req.group_id);
    if let Some(member) = own {
        within_own_access(state, ctx, member, group, req.valid_until).await?;
    }
    let secret = secrets::token(LINK_PREFIX);
    let url = format!("{}/l/{secret}", state.public_url);
    let link = AccessLink {
        id: LinkId::new(ctx.now),
        group_id: group,
        recipient_name,
        delivery: req.delivery,
        address,
        valid_from: req.valid_from,
        valid_until: req.valid_until,
        created_by: ctx.member.as_ref().map(|m| m.membership.id),
        created_by_name: ctx.audit().actor.name().to_owned(),
        created_at: ctx.now,
        revoked_at: None,
        last_used_at: None,
    };
    let new = NewLink {
        message: message(ctx.lang, &ctx.org, &link, &url, ctx.now),
        secret_hash: secrets::hash(&secret),
        quotas: state.store.link_quotas(ctx.org_id()).await?,
        month_start: month_start(&ctx.org, ctx.now),
        link,
    };
    state
        .store
        .create_link(ctx.org_id(), &new, &ctx.audit())
        .await?;
    Ok(CreatedLink {
        state: new.link.state(ctx.now),
        url: (new.link.delivery == Delivery::Manual).then_some(url),
        link: new.link,
    })
}

/// A member's link may open only doors the member can open, and last no longer than the
/// member's own access to them.
async fn within_own_access(
    state: &AppState,
    ctx: &OrgCtx,
    member: lintel_domain::MembershipId,
    group: GroupId,
    valid_until: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let doors = state.store.group_doors(ctx.org_id(), group).await?;
    let rules = state.rules.of(state, ctx).await?;
    let rules = rules.read();
    let mut latest: Option<DateTime<Utc>> = None;
    for door in &doors {
        match rules.rules.access_until(member, door.id, ctx.now) {
            None => {
                return Err(ValidationError::new(
                    "group_id",
                    "not_your_door",
                    format!(
                        "this group opens {}, which you cannot open yourself",
                        door.name
                    ),
                )
                .into());
            }
            Some(Some(end)) => latest = Some(latest.map_or(end, |l| l.min(end))),
            Some(None) => {}
        }
    }
    if let Some(end) = latest
        && valid_until.is_none_or(|u| u > end)
    {
        return Err(ValidationError::new(
            "valid_until",
            "beyond_own_access",
            format!(
                "your own access ends at {}; the link must end by then",
                end.format("%Y-%m-%d %H:%M UTC")
            ),
        )
        .into());
    }
    Ok(())
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: LinkId) -> Result<LinkView, Error> {
    let own = scope(ctx)?;
    let link = state.store.get_link(ctx.org_id(), id).await.found("link")?;
    if own.is_some() && link.created_by != own {
        return Err(Error::NotFound { what: "link" });
    }
    Ok(LinkView {
        state: link.state(ctx.now),
        link,
    })
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    query: &LinkQuery,
    req: &ListRequest,
) -> Result<Listed<LinkView>, Error> {
    let own = scope(ctx)?;
    let link_state = match query.state.as_deref() {
        None => None,
        Some(s) => Some(LinkState::parse(s).ok_or_else(|| {
            ValidationError::new(
                "state",
                "unknown_state",
                "state must be active, scheduled, expired or revoked",
            )
        })?),
    };
    let sort = match query.sort.as_deref() {
        None | Some("created") => LinkSort::Created,
        Some("name") => LinkSort::Name,
        Some("last_used") => LinkSort::LastUsed,
        Some("valid_until") => LinkSort::ValidUntil,
        Some(_) => {
            return Err(ValidationError::new(
                "sort",
                "unknown_sort",
                "sort must be created, name, last_used or valid_until",
            )
            .into());
        }
    };
    let filter = LinkFilter {
        group: query.group.map(GroupId),
        state: link_state,
        created_by: own,
        sort,
        now: ctx.now,
    };
    let page = state
        .store
        .list_links(ctx.org_id(), filter, req.page()?)
        .await?;
    Ok(Listed::from(page).map(|link| LinkView {
        state: link.state(ctx.now),
        link,
    }))
}

pub async fn revoke(state: &AppState, ctx: &OrgCtx, id: LinkId) -> Result<LinkView, Error> {
    get(state, ctx, id).await?;
    let link = state
        .store
        .revoke_link(ctx.org_id(), id, &ctx.audit())
        .await
        .found("link")?;
    Ok(LinkView {
        state: link.state(ctx.now),
        link,
    })
}

/// The organization's quotas: for its administrators, and the operator who sets them.
pub async fn quotas(state: &AppState, ctx: &OrgCtx) -> Result<LinkQuotas, Error> {
    if super::orgs::operator_only(&ctx.actor).is_err() {
        ctx.require_admin()?;
    }
    Ok(state.store.link_quotas(ctx.org_id()).await?)
}

/// Sets the organization's quotas: for the operator only.
pub async fn set_quotas(
    state: &AppState,
    ctx: &OrgCtx,
    quotas: LinkQuotas,
) -> Result<LinkQuotas, Error> {
    super::orgs::operator_only(&ctx.actor)?;
    quotas.validate()?;
    state
        .store
        .set_link_quotas(ctx.org_id(), &quotas, &ctx.audit())
        .await?;
    Ok(quotas)
}

/// What the link's page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuestView {
    pub org_name: String,
    /// The organization's time zone, to show the validity in.
    pub time_zone: String,
    pub recipient_name: String,
    /// Who sent the link: whom the guest asks when it does not open a door.
    pub sent_by: String,
    pub state: LinkState,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub doors: Vec<GuestDoor>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuestDoor {
    pub id: Uuid,
    pub name: String,
}

/// Requests for links from one source, wrong secrets included (a page view and an unlock are
/// one each; an office behind one address may hold several guests), and unlocks through one
/// link.
const PER_SOURCE: [(Duration, usize); 1] = [(Duration::minutes(10), 120)];
const PER_LINK: [(Duration, usize); 1] = [(Duration::minutes(10), 30)];

/// The link behind `secret`, counting the request against its source; an unknown secret is
/// "not found", like any other.
async fn open(
    state: &AppState,
    secret: &str,
    source: IpAddr,
    now: DateTime<Utc>,
) -> Result<(Organization, AccessLink), Error> {
    let source_key = format!("link-source:{}", limits::source(source));
    limits::take_one(state, now, &source_key, &PER_SOURCE).await?;
    let found = if secret.starts_with(LINK_PREFIX) {
        state.store.find_link(&secrets::hash(secret)).await?
    } else {
        None
    };
    found.ok_or(Error::NotFound { what: "link" })
}

pub async fn guest_view(
    state: &AppState,
    secret: &str,
    source: IpAddr,
) -> Result<GuestView, Error> {
    let now = state.clock.now();
    let (org, link) = open(state, secret, source, now).await?;
    let link_state = link.state(now);
    let doors = if link_state == LinkState::Revoked {
        Vec::new()
    } else {
        state.store.group_doors(org.id, link.group_id).await?
    };
    Ok(GuestView {
        time_zone: org.time_zone.name().to_owned(),
        org_name: org.name,
        recipient_name: link.recipient_name,
        sent_by: link.created_by_name,
        state: link_state,
        valid_from: link.valid_from,
        valid_until: link.valid_until,
        doors: doors
            .into_iter()
            .map(|d: Door| GuestDoor {
                id: d.id.0,
                name: d.name,
            })
            .collect(),
    })
}

/// A guest opens a door with the link: decided for the link's group by credential `link`,
/// without geofence or reader restrictions, and recorded naming the link.
pub async fn unlock(
    state: &AppState,
    secret: &str,
    door: DoorId,
    source: IpAddr,
) -> Result<Unlock, Error> {
    let now = state.clock.now();
    let (org, link) = open(state, secret, source, now).await?;
    let link_key = format!("link:{}", link.id);
    limits::take_one(state, now, &link_key, &PER_LINK).await?;
    let denied = |reason| (Decision::Denied(reason), None);
    let (decision, controller) = match link.state(now) {
        LinkState::Revoked => denied(DenyReason::CredentialRevoked),
        LinkState::Scheduled => denied(DenyReason::NotYetValid),
        LinkState::Expired => denied(DenyReason::Expired),
        LinkState::Active => decide(state, &org, &link, door, now).await?,
    };
    let answer = super::decisions::unlock_answer(door, Direction::In, now, decision);
    let answer = super::decisions::carry_out(state, org.id, controller, answer).await;
    let audit = Audit {
        actor: EventActor::Guest {
            link_id: link.id,
            name: link.recipient_name.clone(),
        },
        at: now,
    };
    super::decisions::record_decision(state, org.id, &audit, &answer, "link", None).await?;
    if answer.granted {
        state.store.touch_link(org.id, link.id, now).await?;
    }
    Ok(answer)
}

/// Decides a guest's unlock at `door` now: what the link's group opens, and, for a link a
/// member made, no more than that member could open at this moment. The member must be
/// active; without `delegation` now (a member's own guest link, or an administrator's who
/// lost it) the member's own accesses must open the door now, by link or by phone: the same
/// door, schedule and validity, so the link never outlives or outreaches them. With the
/// decision comes the controller that drives the door, if one does.
async fn decide(
    state: &AppState,
    org: &Organization,
    link: &AccessLink,
    door: DoorId,
    now: DateTime<Utc>,
) -> Result<(Decision, Option<ControllerId>), Error> {
    let creator = match link.created_by {
        Some(id) => match state.store.get_member(org.id, id).await {
            Ok(record) => Some(record.membership),
            // Removing a member revokes their links; one that slipped past is no better.
            Err(lintel_store::StoreError::NotFound) => {
                return Ok((Decision::Denied(DenyReason::CredentialRevoked), None));
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let rules = state.rules.current(state, org.id).await?;
    let loaded = rules.read();
    if !loaded.rules.knows_door(door) {
        return Err(Error::NotFound { what: "door" });
    }
    let controller = super::decisions::controller_of(&loaded.rules, door);
    let credential = CredentialKey(format!("link:{}", link.id));
    let request = Request {
        credential: &credential,
        door,
        direction: Direction::In,
        auth: AuthType::Link,
        at: now,
        phone: None,
    };
    let decision = loaded.rules.decide_group(link.group_id, &request);
    let Some(creator) = creator else {
        return Ok((decision, controller));
    };
    if creator.status != MembershipStatus::Active {
        return Ok((Decision::Denied(DenyReason::MembershipSuspended), None));
    }
    if creator.effective_areas().allows(Area::Delegation)
        || !matches!(decision, Decision::Granted { .. })
    {
        return Ok((decision, controller));
    }
    // The member passes a link on as they would open the door from afar: an access that
    // allows links, or phones (whose geofence and reader rules links are exempt from).
    let creator_may = match loaded.rules.decide_member(creator.id, &request) {
        Decision::Denied(DenyReason::AuthTypeNotAllowed) => loaded.rules.decide_member(
            creator.id,
            &Request {
                auth: AuthType::Mobile,
                ..request
            },
        ),
        other => other,
    };
    Ok(match creator_may {
        Decision::Granted { .. } => (decision, controller),
        denied => (denied, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lintel_domain::{OrgId, OrgSettings, Slug, TimeZone};

    #[test]
    fn the_sms_month_begins_in_the_organizations_time_zone() {
        let now = Utc.with_ymd_and_hms(2026, 2, 28, 23, 30, 0).unwrap();
        let org = Organization {
            id: OrgId::new(now),
            slug: Slug::parse("slug", "acme").unwrap(),
            name: "Acme".into(),
            time_zone: TimeZone::parse("tz", "Europe/Stockholm").unwrap(),
            settings: OrgSettings::default(),
            created_at: now,
            updated_at: now,
        };
        // 00:30 on 1 March in Stockholm: March began half an hour ago.
        assert_eq!(
            month_start(&org, now),
            Utc.with_ymd_and_hms(2026, 2, 28, 23, 0, 0).unwrap()
        );
    }
}
