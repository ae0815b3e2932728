//! Deciding and unlocking with each organization's rules held in memory (see `rules_cache`),
//! and every decision, granted or denied, on record with its reason.
//!
//! Long because every way a door opens (phone, card or code presented, remote, and the
//! guesses a keypad allows) shares the same answer, carrying out and record, kept together
//! so that no path can skip one of them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use lintel_domain::decision::{
    AuthType, CredentialKey, Decision, DenyReason, Direction, PhoneProof, Request, Rules,
};
use lintel_domain::reader;
use lintel_domain::{
    Area, ControllerId, Door, DoorId, EventKind, MembershipId, MembershipStatus, OrgId,
    ValidationError, credential,
};
use lintel_store::{Limit, MemberRecord, Slot};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::me::VerifyPin;
use super::{Actor, AppState, Error, Found, OrgCtx, enter_org};

/// Where the phone is.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    /// `in` (the default) or `out`.
    pub direction: Option<Direction>,
    /// The app PIN, when the organization's policy asks for it again (`pin_required`).
    pub pin: Option<String>,
    /// Where the phone is, for doors that require the site's geofence.
    pub location: Option<Location>,
    /// A proof of presence at the door's reader, for doors that require the reader.
    pub reader_proof: Option<String>,
}

/// The answer to an unlock: granted, or denied with the reason.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unlock {
    pub granted: bool,
    /// Why not, from the documented set.
    pub reason: Option<DenyReason>,
    /// The access that granted it.
    pub access_id: Option<Uuid>,
    pub door_id: Uuid,
    pub direction: Direction,
    pub at: DateTime<Utc>,
    /// The door's controller released its lock. False for a door no controller drives:
    /// there the grant is the whole answer.
    pub opened: bool,
}

/// The answer to an unlock, from the engine's decision.
pub(crate) fn unlock_answer(
    door: DoorId,
    direction: Direction,
    at: DateTime<Utc>,
    d: Decision,
) -> Unlock {
    let (granted, reason, access_id) = match d {
        Decision::Granted { access } => (true, None, Some(access.0)),
        Decision::Denied(reason) => (false, Some(reason), None),
    };
    Unlock {
        granted,
        reason,
        access_id,
        door_id: door.0,
        direction,
        at,
        opened: false,
    }
}

/// Carries out a grant at a door `controller` drives: its session, on this node or another,
/// releases the lock (`opened`), or the door is offline and nobody gets in (`door_offline`, answered
/// within `hub::ANSWER_WITHIN`). Denials and doors without a controller pass unchanged.
pub(crate) async fn carry_out(
    state: &AppState,
    org: OrgId,
    controller: Option<ControllerId>,
    mut u: Unlock,
) -> Unlock {
    if let (true, Some(controller)) = (u.granted, controller) {
        if state
            .controllers
            .open(&*state.store, org, controller, DoorId(u.door_id), u.at)
            .await
        {
            u.opened = true;
        } else {
            u.granted = false;
            u.reason = Some(DenyReason::DoorOffline);
            u.access_id = None;
        }
    }
    u
}

async fn record(
    state: &AppState,
    ctx: &OrgCtx,
    u: &Unlock,
    how: &str,
    member: Option<MembershipId>,
) -> Result<(), Error> {
    record_decision(state, ctx.org_id(), &ctx.audit(), u, how, member).await
}

/// Records a decision as an event of the door: `how` names the credential, `member` whom it
/// stood for.
pub(crate) async fn record_decision(
    state: &AppState,
    org: lintel_domain::OrgId,
    audit: &lintel_store::Audit,
    u: &Unlock,
    how: &str,
    member: Option<MembershipId>,
) -> Result<(), Error> {
    let kind = if u.granted {
        EventKind::DecisionGranted
    } else {
        EventKind::DecisionDenied
    };
    let summary = serde_json::json!({
        "credential": how,
        "direction": u.direction,
        "reason": u.reason,
        "access_id": u.access_id,
        "member_id": member,
    });
    state
        .store
        .record_event(org, audit, kind, Some(("door", u.door_id)), summary)
        .await?;
    Ok(())
}

/// A member's phone asks to open a door. The app PIN is asked again when the organization's
/// policy says it is due; a door that requires the reader is refused (`reader_required`)
/// until readers can prove presence.
pub async fn unlock_by_phone(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
    req: UnlockRequest,
) -> Result<Unlock, Error> {
    let (
        Actor::Device {
            device,
            pin_verified_at,
            ..
        },
        Some(member),
    ) = (&ctx.actor, &ctx.member)
    else {
        return Err(Error::DeviceOnly);
    };
    // The rules are current for this organization, so they know its doors.
    let rules = state.rules.of(state, ctx).await?;
    if !rules.read().rules.knows_door(door) {
        return Err(Error::NotFound { what: "door" });
    }
    let mut verified_at = *pin_verified_at;
    if let Some(pin) = req.pin {
        verified_at = super::me::verify_pin(state, &ctx.actor, *device, VerifyPin { pin })
            .await?
            .pin_verified_at;
    }
    let at_reader = match &req.reader_proof {
        Some(proof) => reader_proof_holds(state, ctx, door, proof).await?,
        None => false,
    };
    let max_age = Duration::hours(i64::from(ctx.org.settings.app_pin_max_age_hours));
    let direction = req.direction.unwrap_or(Direction::In);
    let credential = CredentialKey(format!("device:{device}"));
    let decision = rules.read().rules.decide_member(
        member.membership.id,
        &Request {
            credential: &credential,
            door,
            direction,
            auth: AuthType::Mobile,
            at: ctx.now,
            phone: Some(PhoneProof {
                pin_fresh: ctx.now - verified_at <= max_age,
                location: req.location.map(|l| (l.latitude, l.longitude)),
                at_reader,
            }),
        },
    );
    let controller = controller_of(&rules.read().rules, door);
    let answer = unlock_answer(door, direction, ctx.now, decision);
    let answer = carry_out(state, ctx.org_id(), controller, answer).await;
    record(state, ctx, &answer, "mobile", Some(member.membership.id)).await?;
    Ok(answer)
}

/// A card, as a reader reads it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresentedCard {
    pub number: String,
    pub facility_code: Option<i64>,
}

/// What a reader or keypad read at the door: a card, a PIN code, or both (`card_and_pin`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresentRequest {
    pub card: Option<PresentedCard>,
    pub pin: Option<String>,
    /// `in` (the default) or `out`.
    pub direction: Option<Direction>,
}

pub use lintel_domain::credential::GUESSES_PER_DOOR;
/// Unknown PIN codes from one source (a reader's key, later a controller) across its doors.
pub const GUESSES_PER_SOURCE: [(Duration, usize); 3] = [
    (Duration::minutes(10), 10),
    (Duration::hours(1), 30),
    (Duration::hours(24), 100),
];

/// Who presents codes, for the per-source limit.
fn source_key(actor: &Actor) -> String {
    match actor {
        Actor::ApiKey { key, .. } => format!("pin-guess-source:key:{key}"),
        Actor::Operator { key } => format!("pin-guess-source:operator:{key}"),
        Actor::Device { device, .. } => format!("pin-guess-source:device:{device}"),
        Actor::Console => "pin-guess-source:console".to_owned(),
    }
}

/// A card and/or PIN code presented at a door, as a reader integration or controller sends
/// it: decided by the rules like a phone, minus the phone's restrictions, and recorded. Needs
/// the `doors` area (the reader's key).
pub async fn present(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
    req: PresentRequest,
) -> Result<Unlock, Error> {
    ctx.require(Area::Doors)?;
    let site = state
        .store
        .get_door(ctx.org_id(), door)
        .await
        .found("door")?
        .site_id;
    let card = req
        .card
        .map(|c| -> Result<_, Error> {
            let number = credential::card_number("card.number", &c.number)?;
            let fc = c
                .facility_code
                .map(|fc| credential::facility_code("card.facility_code", fc))
                .transpose()?;
            Ok(credential::card_key(fc, &number))
        })
        .transpose()?;
    let pin = match req.pin {
        Some(code) => {
            credential::pin_digits("pin", &code)?;
            Some(credential::pin_key(
                site,
                &state.key.pin_digest(site, &code),
            ))
        }
        None => None,
    };
    let (auth, first) = match (&card, &pin) {
        (Some(card), None) => (AuthType::Card, card),
        (None, Some(pin)) => (AuthType::Pin, pin),
        (Some(card), Some(_)) => (AuthType::CardAndPin, card),
        (None, None) => {
            return Err(ValidationError::new(
                "card",
                "credential_required",
                "present a card, a pin, or both",
            )
            .into());
        }
    };
    let direction = req.direction.unwrap_or(Direction::In);
    let guesses = match &pin {
        Some(_) => match take_guess(state, ctx, door, direction, auth).await? {
            Ok(keys) => keys,
            Err(backing_off) => return Ok(backing_off),
        },
        None => Vec::new(),
    };
    let rules = state.rules.of(state, ctx).await?;
    let request = Request {
        credential: first,
        door,
        direction,
        auth,
        at: ctx.now,
        phone: None,
    };
    let (decision, member, unknown_pin) = {
        let loaded = rules.read();
        let decision = match (&card, &pin) {
            (Some(_), Some(pin)) => loaded.rules.decide_pair(&request, pin),
            _ => loaded.rules.decide(&request),
        };
        let member = loaded.rules.credential(first).map(|c| c.member);
        let unknown_pin = pin
            .as_ref()
            .is_some_and(|pin| loaded.rules.credential(pin).is_none());
        (decision, member, unknown_pin)
    };
    // A code somebody has at this site was no guess.
    if !unknown_pin {
        for key in &guesses {
            state.store.give_back(key, ctx.now).await?;
        }
    }
    let controller = controller_of(&rules.read().rules, door);
    let answer = unlock_answer(door, direction, ctx.now, decision);
    let answer = carry_out(state, ctx.org_id(), controller, answer).await;
    record(state, ctx, &answer, auth.as_str(), member).await?;
    Ok(answer)
}

/// The controller that drives `door`'s lock, as the rules know it.
pub(crate) fn controller_of(rules: &Rules, door: DoorId) -> Option<ControllerId> {
    rules.door_restrictions(door).and_then(|d| d.controller)
}

/// Takes a guess slot of the door and of the source for a PIN code about to be decided:
/// the slots' keys, or, when the keypad is backing off, the denial (`too_many_attempts`),
/// on record for the admins to see.
async fn take_guess(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
    direction: Direction,
    auth: AuthType,
) -> Result<Result<Vec<String>, Unlock>, Error> {
    let keys = vec![format!("pin-guess:{door}"), source_key(&ctx.actor)];
    let limits = [
        Limit {
            key: &keys[0],
            windows: &GUESSES_PER_DOOR,
        },
        Limit {
            key: &keys[1],
            windows: &GUESSES_PER_SOURCE,
        },
    ];
    match state.store.take_slots(&limits, ctx.now).await? {
        Slot::Taken => Ok(Ok(keys)),
        Slot::Full { .. } => {
            let answer = unlock_answer(
                door,
                direction,
                ctx.now,
                Decision::Denied(DenyReason::TooManyAttempts),
            );
            record(state, ctx, &answer, auth.as_str(), None).await?;
            Ok(Err(answer))
        }
    }
}

/// A proof of presence at a door's reader: `lrp_<expiry>.<nonce>.<signature>`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReaderProof {
    pub proof: String,
    pub expires_at: DateTime<Utc>,
}

/// A proof that the phone is at the door's reader, good once within 30 seconds
/// (`lintel_domain::reader`). A door's controller signs these with the door's key, which it
/// holds among its rules; for a door without one the server signs them for members who ask,
/// which exercises the protocol but proves nothing about presence.
pub async fn reader_proof(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
) -> Result<ReaderProof, Error> {
    if ctx.member.is_none() {
        return Err(Error::DeviceOnly);
    }
    state
        .store
        .get_door(ctx.org_id(), door)
        .await
        .found("door")?;
    let expires_at = ctx.now + reader::PROOF_TTL;
    let mut nonce = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
    Ok(ReaderProof {
        proof: reader::sign(&state.key.reader_key(door), door, expires_at, &nonce),
        expires_at,
    })
}

/// Whether `proof` was signed with the door's key, has not expired, and was not used before.
async fn reader_proof_holds(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
    proof: &str,
) -> Result<bool, Error> {
    let Some(nonce) = reader::check(proof, &state.key.reader_key(door), door, ctx.now) else {
        return Ok(false);
    };
    // Once: a second use is a replay, however close to the first.
    Ok(state
        .store
        .spend_proof(&format!("reader:{nonce}"), ctx.now)
        .await?)
}

/// A request to open a door from a client that may be any caller: a member's phone, an
/// integration typing a PIN code at the door's keypad, or an administrator.
#[derive(Debug, Default)]
pub struct OpenRequest {
    pub direction: Option<Direction>,
    /// A member's app PIN (from a phone), or a PIN code typed at the door (anyone else).
    pub pin: Option<String>,
    pub location: Option<Location>,
}

/// Opens a door for whoever asks, each by the one path that decides for them: a member's
/// phone by the member's accesses (as the app's unlock), a PIN code by its holder's (as a
/// keypad), and anyone else by a remote open, which needs `doors`.
pub async fn open(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
    req: OpenRequest,
) -> Result<Unlock, Error> {
    match (&ctx.actor, req.pin) {
        (Actor::Device { .. }, pin) => {
            let unlock = UnlockRequest {
                direction: req.direction,
                pin,
                location: req.location,
                reader_proof: None,
            };
            unlock_by_phone(state, ctx, door, unlock).await
        }
        (_, Some(pin)) => {
            let presented = PresentRequest {
                card: None,
                pin: Some(pin),
                direction: req.direction,
            };
            present(state, ctx, door, presented).await
        }
        (_, None) => remote_unlock(state, ctx, door).await,
    }
}

/// An administrator opens a door from afar: no access needed, the `doors` area is, and it is
/// recorded as such.
pub async fn remote_unlock(state: &AppState, ctx: &OrgCtx, door: DoorId) -> Result<Unlock, Error> {
    ctx.require(Area::Doors)?;
    let wired = state
        .store
        .get_door(ctx.org_id(), door)
        .await
        .found("door")?
        .controller_id;
    let answer = Unlock {
        granted: true,
        reason: None,
        access_id: None,
        door_id: door.0,
        direction: Direction::In,
        at: ctx.now,
        opened: false,
    };
    let answer = carry_out(state, ctx.org_id(), wired, answer).await;
    let admin = ctx.member.as_ref().map(|m| m.membership.id);
    record(state, ctx, &answer, "remote", admin).await?;
    Ok(answer)
}

/// Someone who can open a door now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Opener {
    pub member_id: Uuid,
    pub name: String,
}

/// Who can open the door now, by some authentication type. Needs `delegation`, `members` or
/// `doors`.
pub async fn who_can_open(
    state: &AppState,
    ctx: &OrgCtx,
    door: DoorId,
) -> Result<Vec<Opener>, Error> {
    ctx.require_any(&[Area::Delegation, Area::Members, Area::Doors])?;
    state
        .store
        .get_door(ctx.org_id(), door)
        .await
        .found("door")?;
    let rules = state.rules.of(state, ctx).await?;
    let ids = rules.read().rules.who_can_open(door, ctx.now);
    let mut found: HashMap<MembershipId, MemberRecord> = state
        .store
        .find_members(ctx.org_id(), &ids)
        .await?
        .into_iter()
        .map(|r| (r.membership.id, r))
        .collect();
    // In the engine's order; a member gone meanwhile is left out.
    Ok(ids
        .iter()
        .filter_map(|m| found.remove(m))
        .filter_map(|record| {
            let p = record.person?;
            Some(Opener {
                member_id: record.membership.id.0,
                name: format!("{} {}", p.first_name, p.last_name),
            })
        })
        .collect())
}

/// The doors a member can open now. Needs `delegation` or `members`.
pub async fn member_doors(
    state: &AppState,
    ctx: &OrgCtx,
    member: MembershipId,
) -> Result<Vec<Door>, Error> {
    ctx.require_any(&[Area::Delegation, Area::Members])?;
    state
        .store
        .get_member(ctx.org_id(), member)
        .await
        .found("member")?;
    doors_of(state, ctx, member).await
}

async fn doors_of(
    state: &AppState,
    ctx: &OrgCtx,
    member: MembershipId,
) -> Result<Vec<Door>, Error> {
    let rules = state.rules.of(state, ctx).await?;
    let ids = rules.read().rules.doors_of(member, ctx.now);
    let mut found: HashMap<DoorId, Door> = state
        .store
        .find_doors(ctx.org_id(), &ids)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    // In the engine's order; a door deleted meanwhile is left out.
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// A door I can open, with its organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyDoor {
    pub org_slug: String,
    pub org_name: String,
    pub door: Door,
}

/// The doors I can open now, in every organization I am an active member of.
pub async fn my_doors(state: &AppState, actor: &Actor) -> Result<Vec<MyDoor>, Error> {
    let Actor::Device { account, .. } = actor else {
        return Err(Error::DeviceOnly);
    };
    let mut mine = Vec::new();
    for (org, record) in state.store.account_memberships(*account).await? {
        if record.membership.status != MembershipStatus::Active {
            continue;
        }
        let ctx = enter_org(state, actor.clone(), org.slug.as_str()).await?;
        for door in doors_of(state, &ctx, record.membership.id).await? {
            mine.push(MyDoor {
                org_slug: org.slug.to_string(),
                org_name: org.name.clone(),
                door,
            });
        }
    }
    Ok(mine)
}
