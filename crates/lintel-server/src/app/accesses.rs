//! Accesses: the grants. Creating, changing and deleting them needs the `delegation` area; any
//! admin reads them. A batch is all or nothing and names the failing access. Users new to an
//! access with `welcome_email_required` are emailed the doors it opens.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
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
            id: AccessId::new(now),
            name: validate::text(&format!("{prefix}name"), &self.name, 1, 200)?,
            kind: self.kind.unwrap_or(AccessKind::Permanent),
            // Nothing is provisioned to controllers yet: a new access is ready at once.
            status: AccessStatus::Ready,
            preferences: self.preferences,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
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
        messages.push(Message {
            id: MessageId::new(ctx.now),
            channel: Channel::Email,
            recipient: person.email.to_string(),
            subject: format!("You can now open doors at {}", ctx.org.name),
            body: format!(
                "Hello {},\n\n{} has given you access \"{}\". It opens:\n\n{}\n\nOpen them with \
                 the Lintel app{}.\n",
                person.first_name,
                ctx.org.name,
                access.name,
                names
                    .iter()
                    .map(|n| format!("  - {n}\n"))
                    .collect::<String>(),
                match access.valid_to {
                    Some(to) => format!(", until {}", to.format("%Y-%m-%d %H:%M UTC")),
                    None => String::new(),
                }
            ),
            attempts: 0,
            created_at: ctx.now,
        });
    }
    Ok(messages)
}

pub async fn create(state: &AppState, ctx: &OrgCtx, body: AccessBody) -> Result<Access, Error> {
    ctx.require(Area::Delegation)?;
    let access = body.into_access(ctx.now, "")?;
    let messages = welcomes(state, ctx, &access, &access.users, &mut HashMap::new()).await?;
    state
        .store
        .create_accesses(
            ctx.org_id(),
            std::slice::from_ref(&access),
            false,
            &messages,
            &ctx.audit(),
        )
        .await?;
    Ok(access)
}

/// Creates every access of the batch, or none; a refusal names the access (`accesses[i]`).
pub async fn create_batch(
    state: &AppState,
    ctx: &OrgCtx,
    batch: AccessBatch,
) -> Result<Vec<Access>, Error> {
    ctx.require(Area::Delegation)?;
    if batch.accesses.is_empty() || batch.accesses.len() > MAX_BATCH {
        return Err(ValidationError::new(
            "accesses",
            "out_of_range",
            format!("a batch has 1 to {MAX_BATCH} accesses"),
        )
        .into());
    }
    let accesses = batch
        .accesses
        .into_iter()
        .enumerate()
        .map(|(i, body)| body.into_access(ctx.now, &format!("accesses[{i}].")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut messages = Vec::new();
    let mut door_names = HashMap::new();
    for a in &accesses {
        messages.extend(welcomes(state, ctx, a, &a.users, &mut door_names).await?);
    }
    state
        .store
        .create_accesses(ctx.org_id(), &accesses, true, &messages, &ctx.audit())
        .await?;
    Ok(accesses)
}

pub async fn get(state: &AppState, ctx: &OrgCtx, id: AccessId) -> Result<Access, Error> {
    ctx.require_admin()?;
    state
        .store
        .get_access(ctx.org_id(), id)
        .await
        .found("access")
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

pub async fn update(
    state: &AppState,
    ctx: &OrgCtx,
    id: AccessId,
    req: UpdateAccess,
) -> Result<Access, Error> {
    ctx.require(Area::Delegation)?;
    let name = req
        .name
        .as_deref()
        .map(|n| validate::text("name", n, 1, 200))
        .transpose()?;
    let description = req
        .description
        .as_deref()
        .map(|d| validate::text("description", d, 0, 2000))
        .transpose()?;
    // New users are welcomed: read what the access has now to know who is new.
    let current = state
        .store
        .get_access(ctx.org_id(), id)
        .await
        .found("access")?;
    let now = ctx.now;
    let apply = |a: &mut Access| -> Result<(), ValidationError> {
        if let Some(name) = &name {
            a.name.clone_from(name);
        }
        if let Some(kind) = req.kind {
            a.kind = kind;
        }
        if let Some(v) = req.valid_from {
            a.valid_from = v;
        }
        if let Some(v) = req.valid_to {
            a.valid_to = v;
        }
        if let Some(s) = req.schedule_id {
            a.schedule_id = s.map(ScheduleId);
        }
        if let Some(doors) = &req.doors {
            a.doors.clone_from(doors);
        }
        if let Some(users) = &req.users {
            a.users = users.iter().copied().map(MembershipId).collect();
        }
        if let Some(groups) = &req.groups {
            a.groups = groups.iter().copied().map(GroupId).collect();
        }
        if let Some(p) = &req.preferences {
            a.preferences.clone_from(p);
        }
        if let Some(d) = &description {
            a.description.clone_from(d);
        }
        if let Some(w) = req.welcome_email_required {
            a.welcome_email_required = w;
        }
        a.updated_at = now;
        a.check("")
    };
    let mut preview = current.clone();
    apply(&mut preview)?;
    let newcomers: Vec<MembershipId> = preview
        .users
        .iter()
        .filter(|u| !current.users.contains(u))
        .copied()
        .collect();
    let messages = welcomes(state, ctx, &preview, &newcomers, &mut HashMap::new()).await?;
    state
        .store
        .update_access(ctx.org_id(), id, &apply, &messages, &ctx.audit())
        .await
        .found("access")
}

pub async fn delete(state: &AppState, ctx: &OrgCtx, id: AccessId) -> Result<Access, Error> {
    ctx.require(Area::Delegation)?;
    state
        .store
        .delete_access(ctx.org_id(), id, &ctx.audit())
        .await
        .found("access")
}
