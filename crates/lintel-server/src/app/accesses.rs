//! Accesses: the grants. Creating, changing and deleting them needs the `delegation` area; any
//! admin reads them. A batch is all or nothing and names the failing access. Users new to an
//! access with `welcome_email_required` are emailed the doors it opens.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound as _, Utc};
use lintel_domain::{
    Access, AccessDoor, AccessId, AccessKind, AccessStatus, Area, DoorId, GroupId, MembershipId,
    MessageId, Preferences, ScheduleId, ValidationError, validate,
};
use lintel_store::{AccessFilter, Channel, Message, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppState, Error, Found, ListRequest, Listed, OrgCtx};

/// The most accesses one batch may create.
pub const MAX_BATCH: usize = 10_000;

/// An access as a client writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessBody {
    /// The access's id, when the client chooses it (a UUID). Creating again with the same id
    /// and body creates nothing and answers the stored access, so a retry is safe; the same id
    /// with another body is refused (`access_exists`).
    #[serde(default)]
    pub id: Option<Uuid>,
    #[schema(example = "Staff")]
    pub name: String,
    /// `permanent` (the default) or `temporary`, which needs `valid_to`.
    #[serde(default)]
    pub kind: Option<AccessKind>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    /// When the access applies; at any time when left out.
    pub schedule_id: Option<Uuid>,
    pub doors: Vec<AccessDoor>,
    /// Memberships granted directly.
    #[serde(default)]
    pub users: Vec<Uuid>,
    #[serde(default)]
    pub groups: Vec<Uuid>,
    #[serde(default)]
    #[schema(value_type = HashMap<String, String>)]
    pub preferences: Preferences,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub welcome_email_required: bool,
}

/// Several accesses, created together or not at all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessBatch {
    pub accesses: Vec<AccessBody>,
}

/// What to change; lists replace the access's when given.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccess {
    pub name: Option<String>,
    pub kind: Option<AccessKind>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable)]
    pub valid_from: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable)]
    pub valid_to: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub schedule_id: Option<Option<Uuid>>,
    pub doors: Option<Vec<AccessDoor>>,
    pub users: Option<Vec<Uuid>>,
    pub groups: Option<Vec<Uuid>>,
    #[schema(value_type = Option<HashMap<String, String>>)]
    pub preferences: Option<Preferences>,
    pub description: Option<String>,
    pub welcome_email_required: Option<bool>,
}

impl AccessBody {
    fn into_access(self, now: DateTime<Utc>, prefix: &str) -> Result<Access, ValidationError> {
        let access = Access {
            id: self.id.map_or_else(|| AccessId::new(now), AccessId),
            name: validate::text(&format!("{prefix}name"), &self.name, 1, 200)?,
            kind: self.kind.unwrap_or(AccessKind::Permanent),
            // Nothing is provisioned to controllers yet: a new access is ready at once.
            status: AccessStatus::Ready,
            preferences: self.preferences,
            // Kept to the microsecond, as the stores keep times, so the answer is what is stored.
            valid_from: self.valid_from.map(|t| t.trunc_subsecs(6)),
            valid_to: self.valid_to.map(|t| t.trunc_subsecs(6)),
            schedule_id: self.schedule_id.map(ScheduleId),
            doors: self.doors,
            users: self.users.into_iter().map(MembershipId).collect(),
            groups: self.groups.into_iter().map(GroupId).collect(),
            description: validate::text(
                &format!("{prefix}description"),
                &self.description,
                0,
                2000,
            )?,
            welcome_email_required: self.welcome_email_required,
            waiting_for: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        access.check(prefix)?;
        Ok(access)
    }
}

/// Welcome emails for `users` of `access`, naming its doors: to members with an account.
async fn welcomes(
    state: &AppState,
    ctx: &OrgCtx,
    access: &Access,
    users: &[MembershipId],
    door_names: &mut HashMap<DoorId, String>,
) -> Result<Vec<Message>, Error> {
    if !access.welcome_email_required || users.is_empty() {
        return Ok(Vec::new());
    }
    let mut names = Vec::new();
    for d in &access.doors {
        let name = match door_names.get(&d.door_id) {
            Some(name) => name.clone(),
            None => match state.store.get_door(ctx.org_id(), d.door_id).await {
                Ok(door) => door_names.entry(d.door_id).or_insert(door.name).clone(),
                // A door that is not there is refused when the access is stored.
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            },
        };
        names.push(name);
    }
    let mut messages = Vec::new();
    for user in users {
        let Ok(member) = state.store.get_member(ctx.org_id(), *user).await else {
            continue;
        };
        let Some(person) = member.person else {
            continue;
        };
        // In the member's own language if they chose one, else the granting admin's.
        let lang = ctx
            .lang
            .preferred_by(state, member.membership.account_id)
            .await;
        let org = ctx.org.name.as_str();
        let doors: String = names.iter().map(|n| format!("  - {n}\n")).collect();
        let open = match access.valid_to {
            Some(to) => lang.text(
                "mail-access-open-until",
                &[("until", &format!("{} UTC", lang.date_time(to.naive_utc())))],
            ),
            None => lang.word("mail-access-open"),
        };
        messages.push(Message {
            id: MessageId::new(ctx.now),
            channel: Channel::Email,
            recipient: person.email.to_string(),
            subject: lang.text("mail-access-subject", &[("org", org)]),
            body: super::auth::paragraphs(&[
                &lang.text("mail-hello-name", &[("name", &person.first_name)]),
                &lang.text("mail-access", &[("org", org), ("access", &access.name)]),
                doors.trim_end(),
                &open,
            ]),
            attempts: 0,
            created_at: ctx.now,
        });
    }
    Ok(messages)
}

pub async fn create(state: &AppState, ctx: &OrgCtx, body: AccessBody) -> Result<Access, Error> {
    ctx.require(Area::Delegation)?;
    let access = body.into_access(ctx.now, "")?;
    let mut stored = store_new(state, ctx, vec![access], false).await?;
    stored
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the store answered no access").into())
}

/// Creates every access of the batch, or none; a refusal names the access (`accesses[i]`).
/// Accesses sent before with the same id and body are answered as stored.
pub async fn create_batch(
    state: &AppState,
    ctx: &OrgCtx,
    batch: AccessBatch,
) -> Result<Vec<Access>, Error> {
    ctx.require(Area::Delegation)?;
    batch_size("accesses", batch.accesses.len())?;
    let accesses = batch
        .accesses
        .into_iter()
        .enumerate()
        .map(|(i, body)| body.into_access(ctx.now, &format!("accesses[{i}].")))
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<AccessId> = accesses.iter().map(|a| a.id).collect();
    once(&ids, "accesses", ".id")?;
    store_new(state, ctx, accesses, true).await
}

/// Refuses an empty batch or one larger than `MAX_BATCH`.
fn batch_size(field: &str, len: usize) -> Result<(), Error> {
    if len == 0 || len > MAX_BATCH {
        return Err(ValidationError::new(
            field,
            "out_of_range",
            format!("a batch has 1 to {MAX_BATCH} accesses; this one has {len}"),
        )
        .into());
    }
    Ok(())
}

async fn store_new(
    state: &AppState,
    ctx: &OrgCtx,
    accesses: Vec<Access>,
    batch: bool,
) -> Result<Vec<Access>, Error> {
    let mut messages = Vec::new();
    let mut door_names = HashMap::new();
    for a in &accesses {
        let welcome = welcomes(state, ctx, a, &a.users, &mut door_names).await?;
        messages.extend(welcome.into_iter().map(|m| (a.id, m)));
    }
    Ok(state
        .store
        .create_accesses(ctx.org_id(), &accesses, batch, &messages, &ctx.audit())
        .await?)
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: AccessId) -> Result<Access, Error> {
    ctx.require_admin()?;
    state
        .store
        .get_access(ctx.org_id(), id)
        .await
        .found("access")
}

/// The most accesses one read by ids names.
pub const MAX_READ: usize = 1000;

/// The accesses with these ids, in order; each must be the organization's (a missing one is
/// named: `ids[i]`).
pub async fn get_many(
    state: &AppState,
    ctx: &OrgCtx,
    ids: &[AccessId],
) -> Result<Vec<Access>, Error> {
    ctx.require_admin()?;
    if ids.len() > MAX_READ {
        return Err(ValidationError::new(
            "ids",
            "out_of_range",
            format!("at most {MAX_READ} ids a read; list with pages for more"),
        )
        .into());
    }
    let found = existing(state, ctx, ids, "ids", "").await?;
    Ok(ids.iter().map(|id| found[id].clone()).collect())
}

/// The organization's accesses with these ids, by id; the first missing is
/// `access_not_found`, naming it (`{list}[i]{suffix}`).
async fn existing(
    state: &AppState,
    ctx: &OrgCtx,
    ids: &[AccessId],
    list: &str,
    suffix: &str,
) -> Result<HashMap<AccessId, Access>, Error> {
    let found: HashMap<AccessId, Access> = state
        .store
        .find_accesses(ctx.org_id(), ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    match ids.iter().position(|id| !found.contains_key(id)) {
        Some(i) => Err(Error::Missing {
            what: "access",
            field: format!("{list}[{i}]{suffix}"),
        }),
        None => Ok(found),
    }
}

/// Refuses an id named twice in a batch (`{list}[i]`, then `suffix`).
fn once(ids: &[AccessId], list: &str, suffix: &str) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    match ids.iter().position(|id| !seen.insert(*id)) {
        Some(i) => Err(ValidationError::new(
            format!("{list}[{i}]{suffix}"),
            "duplicate_id",
            "an access appears once in a batch",
        )
        .into()),
        None => Ok(()),
    }
}

/// How accesses are listed.
#[derive(Debug, Default, Clone)]
pub struct AccessQuery {
    pub status: Option<String>,
    pub door: Option<Uuid>,
    pub user: Option<Uuid>,
    pub group: Option<Uuid>,
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    query: &AccessQuery,
    req: &ListRequest,
) -> Result<Listed<Access>, Error> {
    ctx.require_admin()?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(AccessStatus::parse(s).ok_or_else(|| {
            ValidationError::new(
                "status",
                "unknown_status",
                "status must be one of initial, creating, ready, updating, deleting, deleted",
            )
        })?),
    };
    let filter = AccessFilter {
        status,
        door: query.door.map(DoorId),
        user: query.user.map(MembershipId),
        group: query.group.map(GroupId),
    };
    Ok(state
        .store
        .list_accesses(ctx.org_id(), &filter, req.page()?)
        .await?
        .into())
}

impl UpdateAccess {
    /// Applies the change to `a` at `now`; `prefix` names the access in a batch.
    fn apply(
        &self,
        a: &mut Access,
        now: DateTime<Utc>,
        prefix: &str,
    ) -> Result<(), ValidationError> {
        if let Some(name) = &self.name {
            a.name = validate::text(&format!("{prefix}name"), name, 1, 200)?;
        }
        if let Some(kind) = self.kind {
            a.kind = kind;
        }
        if let Some(v) = self.valid_from {
            a.valid_from = v.map(|t| t.trunc_subsecs(6));
        }
        if let Some(v) = self.valid_to {
            a.valid_to = v.map(|t| t.trunc_subsecs(6));
        }
        if let Some(s) = self.schedule_id {
            a.schedule_id = s.map(ScheduleId);
        }
        if let Some(doors) = &self.doors {
            a.doors.clone_from(doors);
        }
        if let Some(users) = &self.users {
            a.users = users.iter().copied().map(MembershipId).collect();
        }
        if let Some(groups) = &self.groups {
            a.groups = groups.iter().copied().map(GroupId).collect();
        }
        if let Some(p) = &self.preferences {
            a.preferences.clone_from(p);
        }
        if let Some(d) = &self.description {
            a.description = validate::text(&format!("{prefix}description"), d, 0, 2000)?;
        }
        if let Some(w) = self.welcome_email_required {
            a.welcome_email_required = w;
        }
        a.updated_at = now;
        a.check(prefix)
    }
}

pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    id: AccessId,
    req: UpdateAccess,
) -> Result<Access, Error> {
    ctx.require(Area::Delegation)?;
    let current = state
        .store
        .get_access(ctx.org_id(), id)
        .await
        .found("access")?;
    let mut updated = change(state, ctx, vec![(current, req)], false).await?;
    updated
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the store answered no access").into())
}

/// Changes every access of the batch, or none; a refusal names the access (`accesses[i]`).
pub async fn update_batch(
    state: &AppState,
    ctx: &OrgCtx,
    changes: Vec<(AccessId, UpdateAccess)>,
) -> Result<Vec<Access>, Error> {
    ctx.require(Area::Delegation)?;
    batch_size("accesses", changes.len())?;
    let ids: Vec<AccessId> = changes.iter().map(|(id, _)| *id).collect();
    once(&ids, "accesses", ".id")?;
    let mut found = existing(state, ctx, &ids, "accesses", ".id").await?;
    let current = changes
        .into_iter()
        .filter_map(|(id, req)| Some((found.remove(&id)?, req)))
        .collect();
    change(state, ctx, current, true).await
}

/// Applies each change to its access as read now, welcoming users new to an access.
async fn change(
    state: &AppState,
    ctx: &OrgCtx,
    changes: Vec<(Access, UpdateAccess)>,
    batch: bool,
) -> Result<Vec<Access>, Error> {
    let now = ctx.now;
    let mut messages = Vec::new();
    let mut door_names = HashMap::new();
    let mut prefixes = Vec::with_capacity(changes.len());
    for (i, (current, req)) in changes.iter().enumerate() {
        let prefix = if batch {
            format!("accesses[{i}].")
        } else {
            String::new()
        };
        let mut preview = current.clone();
        req.apply(&mut preview, now, &prefix)?;
        let newcomers: Vec<MembershipId> = preview
            .users
            .iter()
            .filter(|u| !current.users.contains(u))
            .copied()
            .collect();
        messages.extend(welcomes(state, ctx, &preview, &newcomers, &mut door_names).await?);
        prefixes.push(prefix);
    }
    let closures: Vec<_> = changes
        .iter()
        .zip(&prefixes)
        .map(|((current, req), prefix)| {
            (current.id, move |a: &mut Access| req.apply(a, now, prefix))
        })
        .collect();
    let refs: Vec<(AccessId, lintel_store::Change<'_, Access>)> = closures
        .iter()
        .map(|(id, f)| (*id, f as lintel_store::Change<'_, Access>))
        .collect();
    state
        .store
        .update_accesses(ctx.org_id(), &refs, batch, &messages, &ctx.audit())
        .await
        .found("access")
}

pub async fn delete(state: &AppState, ctx: &OrgCtx, id: AccessId) -> Result<Access, Error> {
    ctx.require(Area::Delegation)?;
    let mut deleted = state
        .store
        .delete_accesses(ctx.org_id(), &[id], &ctx.audit())
        .await
        .found("access")?;
    deleted
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the store answered no access").into())
}

/// Deletes every access named, or none; a missing one is named (`ids[i]`).
pub async fn delete_batch(
    state: &AppState,
    ctx: &OrgCtx,
    ids: &[AccessId],
) -> Result<Vec<Access>, Error> {
    ctx.require(Area::Delegation)?;
    batch_size("ids", ids.len())?;
    once(ids, "ids", "")?;
    existing(state, ctx, ids, "ids", "").await?;
    Ok(state
        .store
        .delete_accesses(ctx.org_id(), ids, &ctx.audit())
        .await?)
}
