//! `AccessesService`: the Entryfy Access messages over the accesses use cases.

use std::collections::HashMap;

use lintel_domain::decision::AuthType;
use lintel_domain::{Access, AccessDoor, AccessId, AccessKind, AccessStatus, DoorId, ScheduleId};
use tonic::{Request, Response, Status};

use super::pb::access_body::{Kind, Status as PbStatus};
use super::pb::{self, accesses_service_server::AccessesService};
use super::{Api, invalid, parse_uuid, status, time_of, timestamp};
use crate::app::accesses::{self, AccessBody, AccessQuery, UpdateAccess};
use crate::app::{AppState, ListRequest, OrgCtx};

/// The fields of `AccessBody` an update mask may name.
const MASK_PATHS: [&str; 11] = [
    "name",
    "kind",
    "valid_from",
    "valid_to",
    "schedule",
    "doors",
    "users",
    "groups",
    "preferences",
    "description",
    "welcome_email_required",
];

/// `READ_PATHS`, the `AccessBody` fields a read mask may name, and `keep_only`, which clears
/// the others (the uuid always stays), from one list.
macro_rules! read_fields {
    ($($field:ident),+ $(,)?) => {
        const READ_PATHS: &[&str] = &[$(stringify!($field)),+];

        fn keep_only(mut b: pb::AccessBody, keep: &[String]) -> pb::AccessBody {
            $(
                if !keep.iter().any(|k| k == stringify!($field)) {
                    b.$field = Default::default();
                }
            )+
            b
        }
    };
}

read_fields!(
    name,
    kind,
    status,
    preferences,
    valid_from,
    valid_to,
    created_at,
    updated_at,
    schedule,
    doors,
    users,
    description,
    welcome_email_required,
    groups,
);

/// The paths of `mask` (none when absent), each one that `allowed` takes; else
/// INVALID_ARGUMENT naming `{field}.paths[j]`: "{path} is not {what}".
fn mask_paths(
    field: &str,
    mask: Option<prost_types::FieldMask>,
    allowed: impl Fn(&str) -> bool,
    what: &str,
) -> Result<Vec<String>, Status> {
    let paths = mask.map(|m| m.paths).unwrap_or_default();
    match paths.iter().enumerate().find(|(_, p)| !allowed(p)) {
        Some((j, path)) => Err(invalid(
            &format!("{field}.paths[{j}]"),
            "unknown_field",
            format!("{path} is not {what}"),
        )),
        None => Ok(paths),
    }
}

/// What an answer carries: `None` for whole bodies, else the fields named (`uuid` always).
/// Checked before anything is done.
fn read_mask(mask: Option<prost_types::FieldMask>) -> Result<Option<Vec<String>>, Status> {
    let paths = mask_paths(
        "read_mask",
        mask,
        |p| p == "uuid" || READ_PATHS.contains(&p),
        "a field of AccessBody",
    )?;
    Ok((!paths.is_empty()).then_some(paths))
}

/// The answer's bodies, as much of them as the read mask asks for.
async fn answer(
    state: &AppState,
    ctx: &OrgCtx,
    accesses: &[Access],
    mask: Option<Vec<String>>,
) -> Result<Vec<pb::AccessBody>, Status> {
    let whole = messages(state, ctx, accesses).await?;
    Ok(match mask {
        None => whole,
        Some(keep) => whole.into_iter().map(|b| keep_only(b, &keep)).collect(),
    })
}

#[tonic::async_trait]
impl AccessesService for Api {
    async fn create_accesses(
        &self,
        req: Request<pb::CreateAccessesRequest>,
    ) -> Result<Response<pb::CreateAccessesResponse>, Status> {
        let ctx = self.enter(&req, &req.get_ref().organization_slug).await?;
        let req = req.into_inner();
        let mask = read_mask(req.read_mask)?;
        let bodies = req.access_bodies;
        let batch = accesses::AccessBatch {
            accesses: bodies
                .into_iter()
                .enumerate()
                .map(|(i, b)| body(b, &format!("access_bodies[{i}]")))
                .collect::<Result<_, _>>()?,
        };
        let created = accesses::create_batch(&self.state, &ctx, batch)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::CreateAccessesResponse {
            access_bodies: answer(&self.state, &ctx, &created, mask).await?,
        }))
    }

    async fn get_accesses(
        &self,
        req: Request<pb::GetAccessesRequest>,
    ) -> Result<Response<pb::GetAccessesResponse>, Status> {
        let ctx = self.enter(&req, &req.get_ref().organization_slug).await?;
        let req = req.into_inner();
        let mask = read_mask(req.read_mask)?;
        let (found, next) = if req.uuids.is_empty() {
            let listed = accesses::list(
                &self.state,
                &ctx,
                &AccessQuery::default(),
                &ListRequest {
                    limit: (req.page_size > 0).then_some(req.page_size),
                    cursor: (!req.page_token.is_empty()).then_some(req.page_token),
                },
            )
            .await
            .map_err(status)?;
            (listed.items, listed.next_cursor.unwrap_or_default())
        } else {
            let ids = ids(&req.uuids)?;
            let found = accesses::get_many(&self.state, &ctx, &ids)
                .await
                .map_err(status)?;
            (found, String::new())
        };
        Ok(Response::new(pb::GetAccessesResponse {
            access_bodies: answer(&self.state, &ctx, &found, mask).await?,
            next_page_token: next,
        }))
    }

    async fn update_accesses(
        &self,
        req: Request<pb::UpdateAccessesRequest>,
    ) -> Result<Response<pb::UpdateAccessesResponse>, Status> {
        let ctx = self.enter(&req, &req.get_ref().organization_slug).await?;
        let req = req.into_inner();
        let read = read_mask(req.read_mask)?;
        let mask = mask_paths(
            "update_mask",
            req.update_mask,
            |p| MASK_PATHS.contains(&p),
            &format!("a field an update can change; one of {MASK_PATHS:?}"),
        )?;
        let changes = req
            .access_bodies
            .into_iter()
            .enumerate()
            .map(|(i, b)| {
                let prefix = format!("access_bodies[{i}]");
                if b.uuid.trim().is_empty() {
                    return Err(invalid(
                        &format!("{prefix}.uuid"),
                        "required",
                        "an update names the access by its uuid".to_owned(),
                    ));
                }
                let id = AccessId(parse_uuid(&format!("{prefix}.uuid"), &b.uuid)?);
                Ok((id, update(body(b, &prefix)?, &mask)))
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let updated = accesses::update_batch(&self.state, &ctx, changes)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::UpdateAccessesResponse {
            access_bodies: answer(&self.state, &ctx, &updated, read).await?,
        }))
    }

    async fn delete_accesses(
        &self,
        req: Request<pb::DeleteAccessesRequest>,
    ) -> Result<Response<pb::DeleteAccessesResponse>, Status> {
        let ctx = self.enter(&req, &req.get_ref().organization_slug).await?;
        let req = req.into_inner();
        let mask = read_mask(req.read_mask)?;
        let ids = ids(&req.uuids)?;
        let deleted = accesses::delete_batch(&self.state, &ctx, &ids)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DeleteAccessesResponse {
            access_bodies: answer(&self.state, &ctx, &deleted, mask).await?,
        }))
    }
}

fn ids(uuids: &[String]) -> Result<Vec<AccessId>, Status> {
    uuids
        .iter()
        .enumerate()
        .map(|(i, u)| parse_uuid(&format!("uuids[{i}]"), u).map(AccessId))
        .collect()
}

/// An access as the client wrote it; `prefix` names it (`access_bodies[3]`).
fn body(b: pb::AccessBody, prefix: &str) -> Result<AccessBody, Status> {
    let field = |f: &str| format!("{prefix}.{f}");
    let id = match b.uuid.trim() {
        "" => None,
        u => Some(parse_uuid(&field("uuid"), u)?),
    };
    let kind = match Kind::try_from(b.kind) {
        Ok(Kind::Unspecified) => None,
        Ok(Kind::Permanent) => Some(AccessKind::Permanent),
        Ok(Kind::Temporary) => Some(AccessKind::Temporary),
        Err(_) => {
            return Err(invalid(
                &field("kind"),
                "unknown_kind",
                format!("{} must be KIND_PERMANENT or KIND_TEMPORARY", field("kind")),
            ));
        }
    };
    let schedule_id = match b.schedule.as_ref().map(|s| s.uuid.trim()) {
        None | Some("") => None,
        Some(u) => Some(parse_uuid(&field("schedule.uuid"), u)?),
    };
    let doors = b
        .doors
        .iter()
        .enumerate()
        .map(|(j, d)| {
            let at = |f: &str| format!("{prefix}.doors[{j}].{f}");
            Ok(AccessDoor {
                door_id: DoorId(parse_uuid(&at("door_uuid"), &d.door_uuid)?),
                lock_unlock_enabled: d.lock_unlock_enabled,
                in_auth_types: auth_types(&at("in_auth_types"), &d.in_auth_types)?,
                out_auth_types: auth_types(&at("out_auth_types"), &d.out_auth_types)?,
            })
        })
        .collect::<Result<_, Status>>()?;
    let users = b
        .users
        .iter()
        .enumerate()
        .map(|(j, u)| parse_uuid(&format!("{prefix}.users[{j}].user_uuid"), &u.user_uuid))
        .collect::<Result<_, _>>()?;
    let groups = b
        .groups
        .iter()
        .enumerate()
        .map(|(j, g)| parse_uuid(&format!("{prefix}.groups[{j}].group_uuid"), &g.group_uuid))
        .collect::<Result<_, _>>()?;
    Ok(AccessBody {
        id,
        name: b.name,
        kind,
        valid_from: time_of(&field("valid_from"), b.valid_from)?,
        valid_to: time_of(&field("valid_to"), b.valid_to)?,
        schedule_id,
        doors,
        users,
        groups,
        preferences: b.preferences.into_iter().collect(),
        description: b.description,
        welcome_email_required: b.welcome_email_required.unwrap_or(false),
    })
}

fn auth_types(field: &str, names: &[String]) -> Result<Vec<AuthType>, Status> {
    names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            AuthType::ALL
                .into_iter()
                .find(|t| t.as_str() == name.trim())
                .ok_or_else(|| {
                    invalid(
                        &format!("{field}[{k}]"),
                        "unknown_auth_type",
                        format!(
                            "an authentication type is one of mobile, card, pin, card_and_pin, \
                             link; got {name:?}"
                        ),
                    )
                })
        })
        .collect()
}

/// The change an update body makes: every field, or those `mask` names.
fn update(b: AccessBody, mask: &[String]) -> UpdateAccess {
    let wanted = |path: &str| mask.is_empty() || mask.iter().any(|p| p == path);
    UpdateAccess {
        name: wanted("name").then_some(b.name),
        kind: wanted("kind").then(|| b.kind.unwrap_or(AccessKind::Permanent)),
        valid_from: wanted("valid_from").then_some(b.valid_from),
        valid_to: wanted("valid_to").then_some(b.valid_to),
        schedule_id: wanted("schedule").then_some(b.schedule_id),
        doors: wanted("doors").then_some(b.doors),
        users: wanted("users").then_some(b.users),
        groups: wanted("groups").then_some(b.groups),
        preferences: wanted("preferences").then_some(b.preferences),
        description: wanted("description").then_some(b.description),
        welcome_email_required: wanted("welcome_email_required")
            .then_some(b.welcome_email_required),
    }
}

/// The accesses as messages, with their schedules' names.
async fn messages(
    state: &AppState,
    ctx: &OrgCtx,
    list: &[Access],
) -> Result<Vec<pb::AccessBody>, Status> {
    let mut names: HashMap<ScheduleId, String> = HashMap::new();
    for id in list.iter().filter_map(|a| a.schedule_id) {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
            slot.insert(match state.store.get_schedule(ctx.org_id(), id).await {
                Ok(s) => s.name,
                Err(lintel_store::StoreError::NotFound) => String::new(),
                Err(e) => return Err(status(e.into())),
            });
        }
    }
    Ok(list.iter().map(|a| message(a, &names)).collect())
}

fn message(a: &Access, schedules: &HashMap<ScheduleId, String>) -> pb::AccessBody {
    let access_uuid = a.id.0.to_string();
    let (created, updated) = (Some(timestamp(a.created_at)), Some(timestamp(a.updated_at)));
    let names = |types: &[AuthType]| types.iter().map(|t| t.as_str().to_owned()).collect();
    pb::AccessBody {
        uuid: access_uuid.clone(),
        name: a.name.clone(),
        kind: match a.kind {
            AccessKind::Permanent => Kind::Permanent,
            AccessKind::Temporary => Kind::Temporary,
        } as i32,
        status: match a.status {
            AccessStatus::Initial => PbStatus::Initial,
            AccessStatus::Ready => PbStatus::Ready,
            AccessStatus::Creating => PbStatus::Creating,
            AccessStatus::Updating => PbStatus::Updating,
            AccessStatus::Deleting => PbStatus::Deleting,
            AccessStatus::Deleted => PbStatus::Deleted,
        } as i32,
        preferences: a
            .preferences
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        valid_from: a.valid_from.map(timestamp),
        valid_to: a.valid_to.map(timestamp),
        created_at: created,
        updated_at: updated,
        schedule: a.schedule_id.map(|s| pb::Schedule {
            uuid: s.0.to_string(),
            name: schedules.get(&s).cloned().unwrap_or_default(),
        }),
        doors: a
            .doors
            .iter()
            .map(|d| pb::AccessDoor {
                uuid: String::new(),
                access_uuid: access_uuid.clone(),
                door_uuid: d.door_id.0.to_string(),
                lock_unlock_enabled: d.lock_unlock_enabled,
                in_auth_types: names(&d.in_auth_types),
                out_auth_types: names(&d.out_auth_types),
                created_at: created,
                updated_at: updated,
            })
            .collect(),
        users: a
            .users
            .iter()
            .map(|u| pb::AccessUser {
                uuid: String::new(),
                access_uuid: access_uuid.clone(),
                user_uuid: u.0.to_string(),
                created_at: created,
                updated_at: updated,
            })
            .collect(),
        description: a.description.clone(),
        welcome_email_required: Some(a.welcome_email_required),
        groups: a
            .groups
            .iter()
            .map(|g| pb::AccessGroup {
                access_uuid: access_uuid.clone(),
                group_uuid: g.0.to_string(),
            })
            .collect(),
    }
}
