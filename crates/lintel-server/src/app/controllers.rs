//! Controllers: the boxes at a site that hold their doors' rules and drive the locks. Managing
//! them needs the `doors` area; the token a controller signs in with (`lct_…`) is shown once,
//! when it is made or rotated, and stored only as a hash (see `secrets`).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use lintel_domain::controller::{
    self, ControllerDoor, ControllerLive, ControllerRules, TOKEN_PREFIX,
};
use lintel_domain::credential::{self, KeyParts};
use lintel_domain::decision::{
    AccessRule, AuthType, CredentialKey, CredentialRule, DenyReason, Direction, MemberRule,
};
use lintel_domain::door::DoorState;
use lintel_domain::{
    AccessId, Area, Controller, ControllerId, DoorId, Event, EventActor, EventId, EventKind,
    GroupId, MembershipId, OrgId, ScheduleId, SiteId, validate,
};
use lintel_store::{Audit, DoorFilter, PageRequest, RuleObjects, StoreError};
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
        live: Default::default(),
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
    let controller = state
        .store
        .get_controller(ctx.org_id(), id)
        .await
        .found("controller")?;
    Ok(settled(controller, ctx.now))
}

/// The controller with `online` as of `now`.
fn settled(mut controller: Controller, now: DateTime<Utc>) -> Controller {
    controller.live = controller.live.as_of(now);
    controller
}

pub async fn list(
    state: &AppState,
    ctx: &OrgCtx,
    site: Option<SiteId>,
    req: &ListRequest,
) -> Result<Listed<Controller>, Error> {
    ctx.require_admin()?;
    let listed: Listed<Controller> = state
        .store
        .list_controllers(ctx.org_id(), site, req.page()?)
        .await?
        .into();
    Ok(listed.map(|c| settled(c, ctx.now)))
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

/// How long a pairing code is good for.
pub const PAIRING_VALID: chrono::Duration = chrono::Duration::minutes(15);
/// The letters of pairing codes (Crockford's base32: no I, L, O or U, which are misread).
const PAIRING_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Attempts to pair from one source (wrong codes included).
const PAIR_PER_SOURCE: [(chrono::Duration, usize); 1] = [(chrono::Duration::minutes(10), 30)];

/// A code to enrol a controller on site, shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PairingCode {
    /// Ten letters and digits (50 bits), in two groups: `lintel-controller pair` trades it,
    /// once, for the controller's new token.
    #[schema(example = "7KQ2M-XH4PD")]
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// A pairing code's trade, as `POST /api/v1/controllers/pair` asks for it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    #[schema(example = "7KQ2M-XH4PD")]
    pub code: String,
}

/// What a controller gets for its pairing code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Paired {
    /// The controller's new token (`lct_…`), shown this once; its old one stops working.
    pub token: String,
    #[schema(value_type = uuid::Uuid)]
    pub controller_id: ControllerId,
    pub name: String,
    pub organization_slug: String,
}

/// Makes a pairing code for the controller, good for `PAIRING_VALID` and once; a new one
/// replaces the last. Needs `doors`, as rotating its token does.
pub async fn pairing_code(
    state: &AppState,
    ctx: &OrgCtx,
    id: ControllerId,
) -> Result<PairingCode, Error> {
    ctx.require(Area::Doors)?;
    let mut random = [0u8; 10];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
    let letters: String = random
        .iter()
        .map(|b| char::from(PAIRING_ALPHABET[usize::from(b % 32)]))
        .collect();
    let code = format!("{}-{}", &letters[..5], &letters[5..]);
    let expires_at = ctx.now + PAIRING_VALID;
    let digest = state.key.pairing_digest(&letters);
    state
        .store
        .create_pairing_code(ctx.org_id(), id, &digest, expires_at, &ctx.audit())
        .await
        .found("controller")?;
    Ok(PairingCode { code, expires_at })
}

/// A pairing code as typed: its ten letters, upper case, without spaces or dashes, with the
/// letters people write for digits read as those digits; `None` when it cannot be one.
fn typed_code(text: &str) -> Option<String> {
    let letters: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (letters.len() == 10 && letters.bytes().all(|b| PAIRING_ALPHABET.contains(&b)))
        .then_some(letters)
}

/// Trades a pairing code for the controller's new token, once. Counted against the caller's
/// source; a wrong, spent or expired code gets the same answer.
pub async fn pair(state: &AppState, req: Pair, source: IpAddr) -> Result<Paired, Error> {
    let now = state.clock.now();
    let key = format!("pair-source:{}", super::limits::source(source));
    super::limits::take_one(state, now, &key, &PAIR_PER_SOURCE).await?;
    let unknown = Error::NotFound {
        what: "pairing_code",
    };
    let Some(letters) = typed_code(&req.code) else {
        return Err(unknown);
    };
    let token = token(TOKEN_PREFIX);
    let digest = state.key.pairing_digest(&letters);
    let Some((org, controller)) = state
        .store
        .pair_controller(&digest, &hash(&token), now)
        .await?
    else {
        return Err(unknown);
    };
    let org = state.store.get_org(org).await?;
    Ok(Paired {
        token,
        controller_id: controller.id,
        name: controller.name,
        organization_slug: org.slug.to_string(),
    })
}

/// The controller whose token `token` is, and its organization. Unknown, rotated-away and
/// malformed tokens get the same answer.
pub async fn authenticate(state: &AppState, token: &str) -> Result<(OrgId, Controller), Error> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
        return Err(Error::Unauthenticated);
    }
    state
        .store
        .find_controller(&hash(token))
        .await?
        .ok_or(Error::Unauthenticated)
}

/// Everything `controller` decides from, as of now: the accesses naming its doors (cut down
/// to them), the members they reach with their cards and the PIN codes of its site, and the
/// schedules they use. Sorted throughout, so the same rules always hash the same.
pub async fn rules_for(
    state: &AppState,
    org: OrgId,
    controller: &Controller,
) -> Result<ControllerRules, Error> {
    let mut doors = Vec::new();
    let mut page = PageRequest {
        limit: ListRequest::MAX_LIMIT,
        after: None,
    };
    let wired = DoorFilter {
        controller_id: Some(controller.id),
        ..DoorFilter::default()
    };
    loop {
        let found = state.store.list_doors(org, wired, page).await?;
        doors.extend(found.items.into_iter().map(|d| ControllerDoor {
            id: d.id,
            name: d.name,
            unlock_duration_secs: d.unlock_duration_secs,
            reader_key: controller::hex(&state.key.reader_key(d.id)),
        }));
        match found.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    doors.sort_by_key(|d| d.id);
    let site = state.store.get_site(org, controller.site_id).await?;
    // From this node's rules in memory, kept current from the rule-change log: a change
    // costs this controller's share of them, not a load of the whole organization.
    let cached = state.rules.current(state, org).await?;
    let ours: HashSet<DoorId> = doors.iter().map(|d| d.id).collect();
    let (version, mut accesses, mut members, mut credentials) = {
        let loaded = cached.read();
        let accesses: Vec<AccessRule> = loaded
            .rules
            .accesses()
            .filter(|a| a.doors.iter().any(|d| ours.contains(&d.door)))
            .cloned()
            .map(|mut a| {
                a.doors.retain(|d| ours.contains(&d.door));
                a.doors.sort_by_key(|d| d.door);
                a.members.sort();
                a.groups.sort();
                a
            })
            .collect();
        let direct: HashSet<MembershipId> =
            accesses.iter().flat_map(|a| a.members.clone()).collect();
        let groups: HashSet<GroupId> = accesses.iter().flat_map(|a| a.groups.clone()).collect();
        let members: Vec<MemberRule> = loaded
            .rules
            .members()
            .filter(|m| direct.contains(&m.id) || m.groups.iter().any(|g| groups.contains(g)))
            .map(|mut m| {
                m.groups.sort();
                m
            })
            .collect();
        let reached: HashSet<MembershipId> = members.iter().map(|m| m.id).collect();
        // One per key already: the engine keeps the credential that decides.
        let credentials: Vec<(CredentialKey, CredentialRule)> = loaded
            .rules
            .credentials()
            .filter(|(key, rule)| {
                reached.contains(&rule.member)
                    && match credential::key_parts(key) {
                        Some(KeyParts::Card { .. }) => true,
                        // Only its own site's codes: another site's digests are of no use here.
                        Some(KeyParts::Pin { site, .. }) => site == controller.site_id,
                        None => false,
                    }
            })
            .map(|(key, rule)| (key.clone(), *rule))
            .collect();
        (loaded.version, accesses, members, credentials)
    };
    accesses.sort_by_key(|a| a.id);
    members.sort_by_key(|m| m.id);
    credentials.sort_by(|a, b| a.0.cmp(&b.0));
    let mut used: Vec<ScheduleId> = accesses.iter().filter_map(|a| a.schedule).collect();
    used.sort();
    used.dedup();
    let mut schedules = if used.is_empty() {
        Vec::new()
    } else {
        let asked = RuleObjects {
            schedules: used,
            ..RuleObjects::default()
        };
        state.store.load_rule_objects(org, &asked).await?.schedules
    };
    schedules.sort_by_key(|s| s.id);
    Ok(ControllerRules {
        version,
        controller_id: controller.id,
        site_id: controller.site_id,
        pin_site_key: controller::hex(&state.key.pin_site_key(controller.site_id)),
        offline_max_age_secs: i64::from(site.offline_rules_max_days) * 24 * 3600,
        doors,
        schedules,
        members,
        accesses,
        credentials,
    })
}

/// What a controller reports of one of its doors: a decision it made there, or a change of
/// the door's state it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    /// The controller's own id for the event (a UUIDv7 of its clock).
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub door: DoorId,
    /// Made or seen while the server could not be reached.
    pub offline: bool,
    pub what: ReportedWhat,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReportedWhat {
    Decision {
        /// `None`: granted.
        denied: Option<DenyReason>,
        auth: AuthType,
        direction: Direction,
        member: Option<MembershipId>,
        access: Option<AccessId>,
    },
    /// One of `DoorState::STATES`, and one of `DoorState::CAUSES`.
    DoorState { state: String, cause: String },
    /// One of the door's readers: its name, one of `READER_STATES`, tamper.
    Reader {
        name: String,
        state: String,
        tamper: bool,
    },
}

/// The states a controller reports of a reader.
pub const READER_STATES: [&str; 4] = ["online", "offline", "refused", "install_mode"];

/// Stores what the controller reported, each once (by its id), in its organization's log as
/// the controller's, and the doors' states it saw: a batch sent again adds nothing. A
/// controller speaks only for doors of its own site: what it reports anywhere else is not
/// stored, only logged, and is acknowledged all the same (keeping it would jam the
/// controller's journal). Returns the ids the controller may forget.
pub async fn store_reported(
    state: &AppState,
    org: OrgId,
    controller: &Controller,
    reported: &[Reported],
) -> Result<Vec<Uuid>, Error> {
    let mut at_its_site: HashMap<DoorId, bool> = HashMap::new();
    for r in reported {
        if let std::collections::hash_map::Entry::Vacant(unknown) = at_its_site.entry(r.door) {
            unknown.insert(match state.store.get_door(org, r.door).await {
                Ok(door) => door.site_id == controller.site_id,
                Err(StoreError::NotFound) => false,
                Err(other) => return Err(other.into()),
            });
        }
    }
    let (kept, refused): (Vec<&Reported>, Vec<&Reported>) =
        reported.iter().partition(|r| at_its_site[&r.door]);
    if !refused.is_empty() {
        tracing::warn!(
            controller = %controller.id,
            refused = refused.len(),
            "a controller reported events at doors not of its site; they were not stored"
        );
    }
    let actor = actor(controller);
    let events: Vec<Event> = kept
        .iter()
        .map(|r| {
            let (kind, summary) = match &r.what {
                ReportedWhat::Decision {
                    denied,
                    auth,
                    direction,
                    member,
                    access,
                } => (
                    match denied {
                        None => EventKind::DecisionGranted,
                        Some(_) => EventKind::DecisionDenied,
                    },
                    serde_json::json!({
                        "credential": auth.as_str(),
                        "direction": direction,
                        "reason": denied,
                        "access_id": access,
                        "member_id": member,
                        "offline": r.offline,
                    }),
                ),
                ReportedWhat::DoorState { state, cause } => (
                    EventKind::DoorStateChanged,
                    serde_json::json!({ "state": state, "cause": cause, "offline": r.offline }),
                ),
                ReportedWhat::Reader {
                    name,
                    state,
                    tamper,
                } => (
                    EventKind::ReaderStateChanged,
                    serde_json::json!({
                        "reader": name, "state": state, "tamper": tamper, "offline": r.offline,
                    }),
                ),
            };
            Event {
                id: EventId(r.id),
                at: r.at,
                kind: kind.as_str().to_owned(),
                actor: actor.clone(),
                object_kind: Some("door".to_owned()),
                object_id: Some(r.door.0),
                summary,
            }
        })
        .collect();
    let states: Vec<DoorState> = kept
        .iter()
        .filter_map(|r| match &r.what {
            ReportedWhat::DoorState { state, cause } => Some(DoorState {
                door_id: r.door,
                state: state.clone(),
                cause: cause.clone(),
                at: r.at,
            }),
            ReportedWhat::Decision { .. } | ReportedWhat::Reader { .. } => None,
        })
        .collect();
    state
        .store
        .store_controller_events(org, &events, &states)
        .await?;
    Ok(reported.iter().map(|r| r.id).collect())
}

/// A reader as its controller last reported it (from the newest `reader.state_changed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderState {
    pub door_id: DoorId,
    pub reader: String,
    pub state: String,
    pub tamper: bool,
    pub at: DateTime<Utc>,
}

/// How many of the newest reader events `reader_states` reads.
const READER_EVENTS_READ: u32 = 500;

/// Each reader's newest state as its controller reported it, from the newest
/// `READER_EVENTS_READ` reader events (a reader silent for longer than those is not listed);
/// any admin may read them.
pub async fn reader_states(state: &AppState, ctx: &OrgCtx) -> Result<Vec<ReaderState>, Error> {
    ctx.require_admin()?;
    let filter = lintel_store::EventFilter {
        kind: Some(EventKind::ReaderStateChanged.as_str().to_owned()),
        ..lintel_store::EventFilter::default()
    };
    let page = PageRequest {
        limit: READER_EVENTS_READ,
        after: None,
    };
    let events = state.store.list_events(ctx.org_id(), &filter, page).await?;
    let mut newest: Vec<ReaderState> = Vec::new();
    // Newest first: the first seen of each reader is its state now.
    for e in events.items {
        let (Some(door), Some(reader)) = (e.object_id, e.summary["reader"].as_str()) else {
            continue;
        };
        let door_id = DoorId(door);
        if newest
            .iter()
            .any(|r| r.door_id == door_id && r.reader == reader)
        {
            continue;
        }
        newest.push(ReaderState {
            door_id,
            reader: reader.to_owned(),
            state: e.summary["state"].as_str().unwrap_or_default().to_owned(),
            tamper: e.summary["tamper"] == true,
            at: e.at,
        });
    }
    newest.sort_by(|a, b| (a.door_id, &a.reader).cmp(&(b.door_id, &b.reader)));
    Ok(newest)
}

/// Each door's state as its controller last reported it; any admin may read them.
pub async fn door_states(state: &AppState, ctx: &OrgCtx) -> Result<Vec<DoorState>, Error> {
    ctx.require_admin()?;
    Ok(state.store.list_door_states(ctx.org_id()).await?)
}

/// Records the controller's sync stream opening or closing (`controller.connected` or
/// `controller.disconnected`), by the controller, and writes its live state.
pub async fn connection(
    state: &AppState,
    org: OrgId,
    controller: &Controller,
    live: &ControllerLive,
) -> Result<(), Error> {
    state
        .store
        .set_controller_live(org, controller.id, live)
        .await?;
    let kind = if live.online {
        EventKind::ControllerConnected
    } else {
        EventKind::ControllerDisconnected
    };
    let audit = Audit {
        actor: actor(controller),
        at: state.clock.now(),
    };
    let summary = serde_json::json!({
        "rules_version": live.rules_version,
        "software_version": live.software_version,
    });
    state
        .store
        .record_event(
            org,
            &audit,
            kind,
            Some(("controller", controller.id.0)),
            summary,
        )
        .await?;
    Ok(())
}

/// The accesses that waited for the rules `controller` now holds (and for no other
/// controller) become `ready` or `deleted`, by the controller.
pub async fn settle(state: &AppState, org: OrgId, controller: &Controller) -> Result<u64, Error> {
    let audit = Audit {
        actor: actor(controller),
        at: state.clock.now(),
    };
    Ok(state.store.settle_accesses(org, &audit).await?)
}

/// The controller as the actor of what it does.
fn actor(controller: &Controller) -> EventActor {
    EventActor::Controller {
        controller_id: controller.id,
        name: controller.name.clone(),
    }
}
