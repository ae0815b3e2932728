//! Members, invitations and delegation. An admin with `members` invites, suspends, reinstates
//! and removes members; nobody grants or takes away an admin area they do not hold, nobody
//! acts on a member who holds an area they lack, and the last active owner stays.
//!
//! Long because inviting, changing and removing members share the delegation rules above,
//! which are read best in one place.

use chrono::{DateTime, Duration, Utc};
use lintel_domain::member::{outranked_by, ungrantable};
use lintel_domain::{
    AccountId, Area, Areas, Email, EventKind, GroupId, Invitation, InviteChannel, Membership,
    MembershipId, MembershipStatus, MessageId, Organization, Phone, ValidationError,
};
use lintel_store::{Channel, InviteLink, MemberFilter, MemberRecord, Message, NewMember, Person};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::i18n::Lang;

use super::secrets::{hash, token};
use super::{
    Actor, AppState, Error, Found, ListRequest, Listed, OrgCtx, enter_org, event_actor, limits,
};

/// How long an invitation's link works.
pub const INVITE_TTL: Duration = Duration::days(7);
/// Invitation links start with this.
const TOKEN_PREFIX: &str = "lni_";
/// Invitations an organization may send (or resend) per hour, against spam through Lintel.
const INVITES_PER_HOUR: (Duration, usize) = (Duration::hours(1), 100);

/// Admin areas as the API takes them.
pub fn parse_areas(field: &str, names: &[String]) -> Result<Areas, ValidationError> {
    names
        .iter()
        .map(|n| Area::parse(field, n))
        .collect::<Result<Vec<_>, _>>()
        .map(Areas::new)
}

fn parse_groups(ids: &[Uuid]) -> Vec<GroupId> {
    let mut groups: Vec<GroupId> = ids.iter().copied().map(GroupId).collect();
    groups.sort();
    groups.dedup();
    groups
}

/// Who to invite: exactly one of `email` and `phone`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
    /// E.164, e.g. `+46701234567`.
    pub phone: Option<String>,
    /// Admin areas the member will hold: members, delegation, doors, api, audit, owner.
    #[serde(default)]
    #[schema(example = json!(["members"]))]
    pub areas: Vec<String>,
    /// Groups the member will be in.
    #[serde(default)]
    pub groups: Vec<Uuid>,
}

/// Changes to a member; what is left out stays.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    pub areas: Option<Vec<String>>,
    pub groups: Option<Vec<Uuid>>,
    /// `active` (reinstate) or `suspended`.
    pub status: Option<String>,
}

/// The person behind a membership, as the organization's admins see them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberPerson {
    pub account_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// A member, or an invitation while `status` is `invited`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub id: Uuid,
    pub status: MembershipStatus,
    #[schema(value_type = Vec<String>, example = json!(["members"]))]
    pub areas: Areas,
    pub groups: Vec<Uuid>,
    /// Who holds the membership; `null` while invited.
    pub person: Option<MemberPerson>,
    /// Where the invitation went; `null` once accepted.
    pub invitation: Option<Invitation>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Member {
    /// How lists name the member: their name, or the invited address.
    pub fn display_name(&self) -> String {
        match (&self.person, &self.invitation) {
            (Some(p), _) => format!("{} {}", p.first_name, p.last_name),
            (None, Some(i)) => i.address.clone(),
            (None, None) => String::new(),
        }
    }
}

impl From<MemberRecord> for Member {
    fn from(r: MemberRecord) -> Self {
        let m = r.membership;
        Member {
            id: m.id.0,
            status: m.status,
            areas: m.areas,
            groups: m.groups.into_iter().map(|g| g.0).collect(),
            person: match (m.account_id, r.person) {
                (Some(account), Some(p)) => Some(person(account, p)),
                _ => None,
            },
            invitation: m.invitation,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

fn person(account: AccountId, p: Person) -> MemberPerson {
    MemberPerson {
        account_id: account.0,
        first_name: p.first_name,
        last_name: p.last_name,
        email: p.email.to_string(),
        phone: p.phone.map(|p| p.to_string()),
    }
}

/// A new invitation's secret link and message in `lang`, for `org` and `address`.
fn invitation_message(
    state: &AppState,
    lang: Lang,
    org: &Organization,
    invite: &Invitation,
    now: DateTime<Utc>,
) -> (InviteLink, Message, String) {
    let secret = token(TOKEN_PREFIX);
    let url = format!("{}/invitations/{secret}", state.public_url);
    let until = invite
        .expires_at
        .map(|at| format!("{} UTC", lang.date_time(at.naive_utc())));
    let org_name = org.name.as_str();
    let (channel, subject, body) = match invite.channel {
        InviteChannel::Email => (
            Channel::Email,
            lang.text("mail-invitation-subject", &[("org", org_name)]),
            super::auth::paragraphs(&[
                &lang.word("mail-hello"),
                &lang.text("mail-invitation", &[("org", org_name)]),
                &lang.word("mail-invitation-open"),
                &url,
                &match &until {
                    Some(until) => lang.text("mail-invitation-until", &[("until", until)]),
                    None => lang.word("mail-invitation-until-used"),
                },
            ]),
        ),
        InviteChannel::Sms => (
            Channel::Sms,
            String::new(),
            match &until {
                Some(until) => lang.text(
                    "sms-invitation",
                    &[("org", org_name), ("url", &url), ("until", until)],
                ),
                None => lang.text(
                    "sms-invitation-until-used",
                    &[("org", org_name), ("url", &url)],
                ),
            },
        ),
    };
    let link = InviteLink {
        token_hash: hash(&secret),
        expires_at: invite.expires_at,
    };
    let message = Message {
        id: MessageId::new(now),
        channel,
        recipient: invite.address.clone(),
        subject,
        body,
        attempts: 0,
        created_at: now,
    };
    (link, message, url)
}

/// Reads the address of an invitation: exactly one of email and phone, normalised.
fn invited_address(
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<(InviteChannel, String), ValidationError> {
    match (email, phone) {
        (Some(email), None) => Ok((
            InviteChannel::Email,
            Email::parse("email", email)?.to_string(),
        )),
        (None, Some(phone)) => Ok((
            InviteChannel::Sms,
            Phone::parse("phone", phone)?.to_string(),
        )),
        _ => Err(ValidationError::new(
            "email",
            "one_address_required",
            "give exactly one of email and phone",
        )),
    }
}

/// An invitation ready to store, and the link to show the inviter (for the command line).
pub struct NewInvitation {
    pub member: NewMember,
    pub url: String,
}

/// Builds an invitation to `org` for `address`, granting `areas` and `groups`, its message
/// in `lang`; `expires` false for a first owner, whose invitation waits for them however long
/// they take.
fn new_invitation(
    state: &AppState,
    (org, lang): (&Organization, Lang),
    (channel, address): (InviteChannel, String),
    (areas, groups): (Areas, Vec<GroupId>),
    now: DateTime<Utc>,
    expires: bool,
) -> NewInvitation {
    let invitation = Invitation {
        channel,
        address,
        expires_at: expires.then_some(now + INVITE_TTL),
    };
    let (link, message, url) = invitation_message(state, lang, org, &invitation, now);
    let membership = Membership {
        id: MembershipId::new(now),
        account_id: None,
        status: MembershipStatus::Invited,
        areas,
        groups,
        invitation: Some(invitation),
        created_at: now,
        updated_at: now,
    };
    NewInvitation {
        member: NewMember {
            membership,
            link: Some(link),
            message: Some(message),
        },
        url,
    }
}

async fn take_invite_slot(state: &AppState, ctx: &OrgCtx) -> Result<(), Error> {
    let key = format!("invite:{}", ctx.org_id());
    limits::take_one(state, ctx.now, &key, &[INVITES_PER_HOUR]).await
}

/// Putting someone into a group that opens doors, or taking them out, grants or takes away
/// access: beside `members` it needs `delegation`, which `members` alone does not give.
pub(crate) async fn require_delegation_for(
    state: &AppState,
    ctx: &OrgCtx,
    groups: &[GroupId],
) -> Result<(), Error> {
    if ctx.areas.allows(Area::Delegation) {
        return Ok(());
    }
    for group in groups {
        if state
            .store
            .group_grants_access(ctx.org_id(), *group)
            .await?
        {
            return Err(Error::Forbidden {
                area: Area::Delegation,
            });
        }
    }
    Ok(())
}

/// Invites someone by email or SMS. Needs `members`, every area granted, and `delegation`
/// for groups that open doors.
pub async fn invite(state: &AppState, ctx: &OrgCtx, req: Invite) -> Result<Member, Error> {
    ctx.require(Area::Members)?;
    let areas = parse_areas("areas", &req.areas)?;
    if let Some(area) = ungrantable(&ctx.areas, &Areas::default(), &areas) {
        return Err(Error::Forbidden { area });
    }
    let groups = parse_groups(&req.groups);
    require_delegation_for(state, ctx, &groups).await?;
    let invitation = new_invitation(
        state,
        (&ctx.org, ctx.lang),
        invited_address(req.email.as_deref(), req.phone.as_deref())?,
        (areas, groups),
        ctx.now,
        true,
    );
    take_invite_slot(state, ctx).await?;
    state
        .store
        .create_membership(ctx.org_id(), &invitation.member, &ctx.audit())
        .await?;
    get(state, ctx, invitation.member.membership.id).await
}

/// Sends a pending invitation again, with a new link and a fresh week.
pub async fn resend(state: &AppState, ctx: &OrgCtx, id: MembershipId) -> Result<Member, Error> {
    ctx.require(Area::Members)?;
    let record = invitation(state, ctx, id).await?;
    let Some(mut invite) = record.membership.invitation else {
        return Err(Error::NotFound { what: "invitation" });
    };
    invite.expires_at = Some(ctx.now + INVITE_TTL);
    let (link, message, _) = invitation_message(state, ctx.lang, &ctx.org, &invite, ctx.now);
    take_invite_slot(state, ctx).await?;
    let renewed = state
        .store
        .renew_invitation(ctx.org_id(), id, &link, &message, &ctx.audit())
        .await
        .found("invitation")?;
    Ok(renewed.into())
}

/// Withdraws a pending invitation.
pub async fn revoke(state: &AppState, ctx: &OrgCtx, id: MembershipId) -> Result<(), Error> {
    ctx.require(Area::Members)?;
    invitation(state, ctx, id).await?;
    state
        .store
        .delete_membership(
            ctx.org_id(),
            id,
            &ctx.audit(),
            EventKind::MemberInvitationRevoked,
        )
        .await
        .found("invitation")
}

async fn invitation(
    state: &AppState,
    ctx: &OrgCtx,
    id: MembershipId,
) -> Result<MemberRecord, Error> {
    let record = state
        .store
        .get_member(ctx.org_id(), id)
        .await
        .found("invitation")?;
    if record.membership.status != MembershipStatus::Invited {
        return Err(Error::NotFound { what: "invitation" });
    }
    Ok(record)
}

/// How members are listed.
#[derive(Debug, Default, Clone)]
pub struct MemberQuery {
    pub status: Option<String>,
    pub area: Option<String>,
    pub group: Option<Uuid>,
    pub q: Option<String>,
}

/// Lists members and invitations. Needs `members` or `delegation` (who grants access must
/// see whom to grant it to).
pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    query: &MemberQuery,
    req: &ListRequest,
) -> Result<Listed<Member>, Error> {
    ctx.require_any(&[Area::Members, Area::Delegation])?;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 200) {
        return Err(ValidationError::new("q", "too_long", "q is at most 200 characters").into());
    }
    let filter = MemberFilter {
        status: query
            .status
            .as_deref()
            .map(|s| MembershipStatus::parse("status", s))
            .transpose()?,
        area: query
            .area
            .as_deref()
            .map(|a| Area::parse("area", a))
            .transpose()?,
        group: query.group.map(GroupId),
        query: q.map(str::to_owned),
    };
    let page = state
        .store
        .list_members(ctx.org_id(), &filter, req.page()?)
        .await?;
    Ok(Listed::from(page).map(Member::from))
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: MembershipId) -> Result<Member, Error> {
    ctx.require_any(&[Area::Members, Area::Delegation])?;
    Ok(state
        .store
        .get_member(ctx.org_id(), id)
        .await
        .found("member")?
        .into())
}

/// Refuses acting on a member who holds an area the actor lacks.
fn check_outranks(ctx: &OrgCtx, target: &Membership) -> Result<(), Error> {
    match outranked_by(&ctx.areas, &target.areas) {
        Some(area) => Err(Error::Forbidden { area }),
        None => Ok(()),
    }
}

/// Changes a member's areas, groups or status. Needs `members`; changing areas needs each
/// area added or removed; changing groups that open doors needs `delegation`.
pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    id: MembershipId,
    req: UpdateMember,
) -> Result<Member, Error> {
    ctx.require(Area::Members)?;
    let areas = req
        .areas
        .as_deref()
        .map(|a| parse_areas("areas", a))
        .transpose()?;
    let status = match req.status.as_deref() {
        None => None,
        Some("active") => Some(MembershipStatus::Active),
        Some("suspended") => Some(MembershipStatus::Suspended),
        Some(other) => {
            return Err(ValidationError::new(
                "status",
                "invalid_status",
                format!("status must be active or suspended; got {other:?}"),
            )
            .into());
        }
    };
    let target = state
        .store
        .get_member(ctx.org_id(), id)
        .await
        .found("member")?
        .membership;
    check_outranks(ctx, &target)?;
    if let Some(areas) = &areas
        && let Some(area) = ungrantable(&ctx.areas, &target.areas, areas)
    {
        return Err(Error::Forbidden { area });
    }
    if status.is_some() && target.status == MembershipStatus::Invited {
        return Err(Error::conflict(
            "invitation_pending",
            Some("status"),
            "an invitation has no status to change until it is accepted",
        ));
    }
    let groups = req.groups.as_deref().map(parse_groups);
    if let Some(groups) = &groups {
        let changed: Vec<GroupId> = groups
            .iter()
            .filter(|g| !target.groups.contains(g))
            .chain(target.groups.iter().filter(|g| !groups.contains(g)))
            .copied()
            .collect();
        require_delegation_for(state, ctx, &changed).await?;
    }
    let now = ctx.now;
    let record = state
        .store
        .update_membership(
            ctx.org_id(),
            id,
            &|m| {
                // The checks above ran against what was read; a concurrent change of the
                // target's areas is caught here.
                if m.areas != target.areas {
                    return Err(ValidationError::new(
                        "areas",
                        "changed_meanwhile",
                        "the member's areas changed meanwhile; read the member and try again",
                    ));
                }
                if let Some(areas) = &areas {
                    m.areas = areas.clone();
                }
                if let Some(groups) = &groups {
                    // The groups changed were checked against what was read.
                    if m.groups != target.groups {
                        return Err(ValidationError::new(
                            "groups",
                            "changed_meanwhile",
                            "the member's groups changed meanwhile; read the member and try \
                             again",
                        ));
                    }
                    m.groups.clone_from(groups);
                }
                if let Some(status) = status {
                    m.status = status;
                }
                m.updated_at = now;
                Ok(())
            },
            &ctx.audit(),
        )
        .await
        .found("member")?;
    Ok(record.into())
}

/// Removes a member (or withdraws an invitation). Needs `members`.
pub async fn remove(state: &AppState, ctx: &OrgCtx, id: MembershipId) -> Result<(), Error> {
    ctx.require(Area::Members)?;
    let target = state
        .store
        .get_member(ctx.org_id(), id)
        .await
        .found("member")?
        .membership;
    check_outranks(ctx, &target)?;
    let kind = if target.status == MembershipStatus::Invited {
        EventKind::MemberInvitationRevoked
    } else {
        EventKind::MemberRemoved
    };
    state
        .store
        .delete_membership(ctx.org_id(), id, &ctx.audit(), kind)
        .await
        .found("member")
}

/// One of my organizations.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyMembership {
    pub org_slug: String,
    pub org_name: String,
    pub membership_id: Uuid,
    pub status: MembershipStatus,
    #[schema(value_type = Vec<String>)]
    pub areas: Areas,
    pub groups: Vec<Uuid>,
    pub since: DateTime<Utc>,
}

fn device_account(actor: &Actor) -> Result<AccountId, Error> {
    match actor {
        Actor::Device { account, .. } => Ok(*account),
        _ => Err(Error::DeviceOnly),
    }
}

/// The organizations the signed-in person belongs to.
pub async fn mine(state: &AppState, actor: &Actor) -> Result<Vec<MyMembership>, Error> {
    let account = device_account(actor)?;
    Ok(state
        .store
        .account_memberships(account)
        .await?
        .into_iter()
        .map(|(org, r)| MyMembership {
            org_slug: org.slug.to_string(),
            org_name: org.name,
            membership_id: r.membership.id.0,
            status: r.membership.status,
            areas: r.membership.areas,
            groups: r.membership.groups.into_iter().map(|g| g.0).collect(),
            since: r.membership.created_at,
        })
        .collect())
}

/// Leaves an organization. The last active owner cannot.
pub async fn leave(state: &AppState, actor: Actor, slug: &str) -> Result<(), Error> {
    device_account(&actor)?;
    let ctx = enter_org(state, actor, slug).await?;
    let Some(member) = &ctx.member else {
        return Err(Error::NotFound {
            what: "organization",
        });
    };
    state
        .store
        .delete_membership(
            ctx.org_id(),
            member.membership.id,
            &ctx.audit(),
            EventKind::MemberLeft,
        )
        .await
        .found("organization")
}

/// Someone to ask for access.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminContact {
    pub first_name: String,
    pub last_name: String,
    #[schema(value_type = Vec<String>)]
    pub areas: Areas,
    /// Shown when the organization chooses to show admins' emails.
    pub email: Option<String>,
    /// Shown when the organization chooses to show admins' phones.
    pub phone: Option<String>,
}

impl AdminContact {
    /// Their name, with the email and phone the organization shows: "Ada Lovelace
    /// (ada@example.com)".
    pub fn reach(&self) -> String {
        let ways: Vec<&str> = [self.email.as_deref(), self.phone.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if ways.is_empty() {
            format!("{} {}", self.first_name, self.last_name)
        } else {
            format!(
                "{} {} ({})",
                self.first_name,
                self.last_name,
                ways.join(", ")
            )
        }
    }
}

/// Who administers the organization, for members who lack access and want to ask. Any
/// member (suspended ones too) and any key of the organization may read it.
pub async fn admins(state: &AppState, ctx: &OrgCtx) -> Result<Vec<AdminContact>, Error> {
    let settings = &ctx.org.settings;
    Ok(state
        .store
        .list_admins(ctx.org_id())
        .await?
        .into_iter()
        .filter_map(|r| {
            let p = r.person?;
            Some(AdminContact {
                first_name: p.first_name,
                last_name: p.last_name,
                areas: r.membership.areas,
                email: settings.show_admin_email.then(|| p.email.to_string()),
                phone: settings
                    .show_admin_phone
                    .then_some(p.phone)
                    .flatten()
                    .map(|p| p.to_string()),
            })
        })
        .collect())
}

/// What an invitation link shows before it is accepted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationPreview {
    pub org_slug: String,
    pub org_name: String,
    pub channel: InviteChannel,
    /// The address the invitation went to.
    pub address: String,
    pub expires_at: Option<DateTime<Utc>>,
}

async fn find_by_token(
    state: &AppState,
    token: &str,
) -> Result<(Organization, MemberRecord), Error> {
    let not_found = Error::NotFound { what: "invitation" };
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Err(not_found);
    }
    let (org, record) = state
        .store
        .find_invitation(&hash(token))
        .await?
        .ok_or(not_found)?;
    let expires_at = record
        .membership
        .invitation
        .as_ref()
        .and_then(|i| i.expires_at);
    if expires_at.is_some_and(|at| at <= state.clock.now()) {
        return Err(Error::Expired { what: "invitation" });
    }
    Ok((org, record))
}

/// Reads a pending invitation by its link's token: anyone holding the link may.
pub async fn preview(state: &AppState, token: &str) -> Result<InvitationPreview, Error> {
    let (org, record) = find_by_token(state, token).await?;
    let invitation = record
        .membership
        .invitation
        .ok_or(Error::NotFound { what: "invitation" })?;
    Ok(InvitationPreview {
        org_slug: org.slug.to_string(),
        org_name: org.name,
        channel: invitation.channel,
        address: invitation.address,
        expires_at: invitation.expires_at,
    })
}

/// Accepts an invitation as the signed-in person: the link proves they received it.
pub async fn accept(state: &AppState, actor: &Actor, token: &str) -> Result<MyMembership, Error> {
    let account = device_account(actor)?;
    let (org, record) = find_by_token(state, token).await?;
    let who = state.store.get_account(account).await.found("account")?;
    let me = MemberRecord {
        membership: record.membership.clone(),
        person: Some(Person {
            first_name: who.account.first_name,
            last_name: who.account.last_name,
            email: who.account.email,
            phone: who.account.phone,
        }),
    };
    let audit = lintel_store::Audit {
        actor: event_actor(actor, Some(&me)),
        at: state.clock.now(),
    };
    let joined = state
        .store
        .accept_invitation(org.id, record.membership.id, account, &audit)
        .await?;
    Ok(MyMembership {
        org_slug: org.slug.to_string(),
        org_name: org.name,
        membership_id: joined.membership.id.0,
        status: joined.membership.status,
        areas: joined.membership.areas,
        groups: joined.membership.groups.into_iter().map(|g| g.0).collect(),
        since: joined.membership.created_at,
    })
}

/// Creates an organization's first owner's invitation as part of creating it (in English:
/// the operator who creates organizations speaks for nobody in them).
pub fn owner_invitation(
    state: &AppState,
    org: &Organization,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<NewInvitation, Error> {
    Ok(new_invitation(
        state,
        (org, Lang::En),
        invited_address(email, phone)?,
        (Areas::new([Area::Owner]), vec![]),
        org.created_at,
        false,
    ))
}
