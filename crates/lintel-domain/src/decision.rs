//! The decision engine: "may this credential open this door now, in this direction?"
//!
//! `Rules` is one organization's rules in memory, indexed by (door, member) and (door, group)
//! so that a decision looks at only the accesses that could grant it, whatever the number of
//! grants. It is changed incrementally (`upsert_*`, `remove_*`) as rules change, never rebuilt
//! per request. No IO: the time comes in with the request.
//!
//! A decision is denied with the most specific reason (SPEC §4): first the credential
//! (`unknown_credential`, `credential_revoked`), then the membership (`membership_suspended`),
//! then the accesses covering the door and person (`no_access` when none does). Each such
//! access is checked in order — validity (`not_yet_valid`, `expired`), schedule
//! (`outside_schedule`), authentication type for the direction (`auth_type_not_allowed`) — and
//! the reason reported is from the access that got furthest. Once an access grants, a phone
//! unlock must still meet the door's restrictions: a fresh app PIN (`pin_required`), the site's
//! geofence (`outside_geofence`) and the reader (`reader_required`). Access links are exempt
//! from geofence and reader.
//!
//! Long because the engine is one indexed structure: its index, the updates that keep the
//! index right and the decisions that read it must be read together to trust either.
//!
//! Long because the engine is one data structure: its compact indices and the updates that
//! keep them consistent are read together, with the decision that relies on them.

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::schedule::{Schedule, Timetable};
use crate::{
    AccessId, ControllerId, DoorId, Geofence, GroupId, MembershipId, ScheduleId, ValidationError,
};

/// Which way through the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

/// How a person proves who they are at a door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    /// A signed-in phone (or browser).
    Mobile,
    Card,
    Pin,
    CardAndPin,
    /// An access link.
    Link,
}

impl AuthType {
    pub const ALL: [AuthType; 5] = [
        AuthType::Mobile,
        AuthType::Card,
        AuthType::Pin,
        AuthType::CardAndPin,
        AuthType::Link,
    ];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Mobile => "mobile",
            AuthType::Card => "card",
            AuthType::Pin => "pin",
            AuthType::CardAndPin => "card_and_pin",
            AuthType::Link => "link",
        }
    }
}

/// A set of authentication types; the empty set allows any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuthTypes(u8);

impl AuthTypes {
    pub const ANY: AuthTypes = AuthTypes(0);

    pub fn of(types: impl IntoIterator<Item = AuthType>) -> AuthTypes {
        AuthTypes(types.into_iter().fold(0, |bits, t| bits | t.bit()))
    }

    pub fn allows(self, t: AuthType) -> bool {
        self.0 == 0 || self.0 & t.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = AuthType> {
        AuthType::ALL
            .into_iter()
            .filter(move |t| self.0 & t.bit() != 0)
    }
}

/// Why a decision was denied, from the fixed, documented set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    UnknownCredential,
    CredentialRevoked,
    MembershipSuspended,
    NoAccess,
    Expired,
    NotYetValid,
    OutsideSchedule,
    AuthTypeNotAllowed,
    PinRequired,
    OutsideGeofence,
    ReaderRequired,
    DoorOffline,
    /// The door's keypad backs off after too many unknown codes: nothing was decided.
    TooManyAttempts,
    /// The controller has not heard from the server for longer than its site allows: its
    /// rules may be out of date, so it opens nothing until it hears again.
    RulesStale,
}

impl DenyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::UnknownCredential => "unknown_credential",
            DenyReason::CredentialRevoked => "credential_revoked",
            DenyReason::MembershipSuspended => "membership_suspended",
            DenyReason::NoAccess => "no_access",
            DenyReason::Expired => "expired",
            DenyReason::NotYetValid => "not_yet_valid",
            DenyReason::OutsideSchedule => "outside_schedule",
            DenyReason::AuthTypeNotAllowed => "auth_type_not_allowed",
            DenyReason::PinRequired => "pin_required",
            DenyReason::OutsideGeofence => "outside_geofence",
            DenyReason::ReaderRequired => "reader_required",
            DenyReason::DoorOffline => "door_offline",
            DenyReason::TooManyAttempts => "too_many_attempts",
            DenyReason::RulesStale => "rules_stale",
        }
    }

    /// How far an access got before it failed; the furthest is the most specific.
    fn stage(self) -> u8 {
        match self {
            DenyReason::Expired => 1,
            DenyReason::NotYetValid => 2,
            DenyReason::OutsideSchedule => 3,
            DenyReason::AuthTypeNotAllowed => 4,
            _ => 0,
        }
    }
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Granted by this access.
    Granted {
        access: AccessId,
    },
    Denied(DenyReason),
}

/// What a credential stands for. The key is the app's: a card's number, a PIN's digest per
/// site, a device id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CredentialKey(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRule {
    pub member: MembershipId,
    pub revoked: bool,
}

/// A member as decisions see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRule {
    pub id: MembershipId,
    /// Only an active membership opens anything.
    pub active: bool,
    pub groups: Vec<GroupId>,
}

/// One door of an access, with the authentication types allowed each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorRule {
    pub door: DoorId,
    pub in_types: AuthTypes,
    pub out_types: AuthTypes,
    /// The access keeps the door unlocked while its schedule is open (the access's
    /// `lock_unlock_enabled`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held_open: bool,
}

impl DoorRule {
    pub fn allows(&self, direction: Direction, auth: AuthType) -> bool {
        match direction {
            Direction::In => self.in_types.allows(auth),
            Direction::Out => self.out_types.allows(auth),
        }
    }
}

/// An access as decisions see it. Accesses being deleted are removed, not kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRule {
    pub id: AccessId,
    pub valid_from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub valid_to: Option<DateTime<Utc>>,
    /// `None`: at any time.
    pub schedule: Option<ScheduleId>,
    pub doors: Vec<DoorRule>,
    pub members: Vec<MembershipId>,
    pub groups: Vec<GroupId>,
}

/// A door's restrictions on phone unlocks, with its site's geofence; and the controller that
/// drives its lock, through which a grant is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DoorRestrictions {
    pub geofence_required: bool,
    pub reader_required: bool,
    pub geofence: Option<Geofence>,
    pub controller: Option<ControllerId>,
}

/// What a phone brings besides itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhoneProof {
    /// The app PIN was verified recently enough for the organization's policy.
    pub pin_fresh: bool,
    /// Where the phone says it is: latitude and longitude in degrees.
    pub location: Option<(f64, f64)>,
    /// A valid proof of presence at the door's reader came with the request.
    pub at_reader: bool,
}

/// One unlock request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request<'a> {
    pub credential: &'a CredentialKey,
    pub door: DoorId,
    pub direction: Direction,
    pub auth: AuthType,
    pub at: DateTime<Utc>,
    /// For phone unlocks (`auth` mobile): what the door's restrictions are checked against.
    pub phone: Option<PhoneProof>,
}

/// When an access applies, in a compact record per access slot: validity as microseconds
/// (open ends as the extremes) and the schedule's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct When {
    access: AccessId,
    valid: Validity,
}

/// When an access applies: validity as microseconds (open ends as the extremes) and the
/// schedule's slot. Kept per access slot and copied into each of its grants, so that a
/// decision reads it where it finds the grant, without another lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Validity {
    from: i64,
    /// Exclusive.
    to: i64,
    /// `NO_SCHEDULE`, or the slot of the access's schedule.
    schedule: u32,
}

const NO_SCHEDULE: u32 = u32::MAX;

/// An index entry: an access (by slot) opening the door of its key, with its validity and
/// the door's authentication types each way. 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Grant {
    slot: u32,
    valid: Validity,
    in_types: AuthTypes,
    out_types: AuthTypes,
}

impl Grant {
    fn allows(&self, direction: Direction, auth: AuthType) -> bool {
        match direction {
            Direction::In => self.in_types.allows(auth),
            Direction::Out => self.out_types.allows(auth),
        }
    }
}

/// The grants behind one (door, member) or (door, group) pair. Most pairs have one, so it
/// is kept inline in the map.
#[derive(Debug, Clone)]
enum Grants {
    One(Grant),
    Many(Vec<Grant>),
}

impl Grants {
    fn as_slice(&self) -> &[Grant] {
        match self {
            Grants::One(g) => std::slice::from_ref(g),
            Grants::Many(v) => v,
        }
    }

    fn push(&mut self, grant: Grant) {
        match self {
            Grants::One(g) => *self = Grants::Many(vec![*g, grant]),
            Grants::Many(v) => v.push(grant),
        }
    }

    /// Removes the grants of `slot`; `true` when none remain.
    fn remove_slot(&mut self, slot: u32) -> bool {
        match self {
            Grants::One(g) => g.slot == slot,
            Grants::Many(v) => {
                v.retain(|g| g.slot != slot);
                match v.as_slice() {
                    [] => true,
                    [one] => {
                        *self = Grants::One(*one);
                        false
                    }
                    _ => false,
                }
            }
        }
    }
}

/// A member's groups, kept inline for the usual few.
#[derive(Debug, Clone)]
enum GroupIds {
    Inline(u8, [GroupId; 2]),
    Heap(Vec<GroupId>),
}

impl GroupIds {
    fn of(groups: &[GroupId]) -> GroupIds {
        let none = GroupId(uuid::Uuid::nil());
        match groups {
            [] => GroupIds::Inline(0, [none, none]),
            [a] => GroupIds::Inline(1, [*a, none]),
            [a, b] => GroupIds::Inline(2, [*a, *b]),
            more => GroupIds::Heap(more.to_vec()),
        }
    }

    fn as_slice(&self) -> &[GroupId] {
        match self {
            GroupIds::Inline(n, ids) => &ids[..usize::from(*n)],
            GroupIds::Heap(ids) => ids,
        }
    }
}

/// A member as decisions read them: one map entry, groups inline.
#[derive(Debug, Clone)]
struct MemberEntry {
    active: bool,
    groups: GroupIds,
}

/// One organization's rules, indexed for decisions.
#[derive(Debug, Default)]
pub struct Rules {
    /// The whole access of each slot, for changes and queries.
    accesses: Vec<Option<AccessRule>>,
    /// When each slot's access applies, what a decision reads.
    whens: Vec<Option<When>>,
    free: Vec<u32>,
    slots: FxHashMap<AccessId, u32>,
    by_member: FxHashMap<(DoorId, MembershipId), Grants>,
    by_group: FxHashMap<(DoorId, GroupId), Grants>,
    /// The accesses (by slot) naming each door, for "who can open".
    by_door: FxHashMap<DoorId, FxHashSet<u32>>,
    members: FxHashMap<MembershipId, MemberEntry>,
    group_members: FxHashMap<GroupId, FxHashSet<MembershipId>>,
    credentials: FxHashMap<CredentialKey, CredentialRule>,
    /// Timetables by slot; a slot stays with its schedule id for good, empty once removed.
    timetables: Vec<Option<Timetable>>,
    schedule_slots: FxHashMap<ScheduleId, u32>,
    doors: FxHashMap<DoorId, DoorRestrictions>,
}

/// The last wall-clock conversion of a decision: most accesses share their zone.
type LocalCache = Option<(crate::TimeZone, chrono::NaiveDateTime)>;

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

impl Rules {
    pub fn new() -> Rules {
        Rules::default()
    }

    /// The index of whole rule sets, as a node or a controller loads them. Also returns the
    /// schedules whose stored text no longer reads: they open nothing.
    pub fn build<'a>(
        schedules: impl IntoIterator<Item = &'a Schedule>,
        members: impl IntoIterator<Item = MemberRule>,
        doors: impl IntoIterator<Item = (DoorId, DoorRestrictions)>,
        accesses: impl IntoIterator<Item = AccessRule>,
        credentials: impl IntoIterator<Item = (CredentialKey, CredentialRule)>,
    ) -> (Rules, Vec<(ScheduleId, ValidationError)>) {
        let mut rules = Rules::new();
        let mut unreadable = Vec::new();
        for s in schedules {
            match s.timetable() {
                Ok(t) => rules.upsert_schedule(s.id, t),
                Err(err) => unreadable.push((s.id, err)),
            }
        }
        for m in members {
            rules.upsert_member(m);
        }
        for (id, restrictions) in doors {
            rules.upsert_door(id, restrictions);
        }
        for a in accesses {
            rules.upsert_access(a);
        }
        for (key, rule) in credentials {
            rules.upsert_credential(key, rule);
        }
        (rules, unreadable)
    }

    /// Every access indexed, as given.
    pub fn accesses(&self) -> impl Iterator<Item = &AccessRule> {
        self.accesses.iter().flatten()
    }

    /// Every member indexed.
    pub fn members(&self) -> impl Iterator<Item = MemberRule> + '_ {
        self.members.iter().map(|(&id, m)| MemberRule {
            id,
            active: m.active,
            groups: m.groups.as_slice().to_vec(),
        })
    }

    /// Every credential indexed: one per key, the one that decides.
    pub fn credentials(&self) -> impl Iterator<Item = (&CredentialKey, &CredentialRule)> {
        self.credentials.iter()
    }

    /// How many (access, door, member or group) grants are indexed.
    pub fn grant_count(&self) -> usize {
        self.by_member
            .values()
            .chain(self.by_group.values())
            .map(|g| g.as_slice().len())
            .sum()
    }

    fn schedule_slot(&mut self, id: ScheduleId) -> u32 {
        if let Some(&slot) = self.schedule_slots.get(&id) {
            return slot;
        }
        self.timetables.push(None);
        let slot =
            u32::try_from(self.timetables.len() - 1).expect("fewer than 4 billion schedules");
        self.schedule_slots.insert(id, slot);
        slot
    }

    /// Adds an access, or replaces the one with its id.
    pub fn upsert_access(&mut self, rule: AccessRule) {
        self.remove_access(rule.id);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.accesses.push(None);
                self.whens.push(None);
                u32::try_from(self.accesses.len() - 1).expect("fewer than 4 billion accesses")
            }
        };
        let valid = Validity {
            from: rule.valid_from.map_or(i64::MIN, micros),
            to: rule.valid_to.map_or(i64::MAX, micros),
            schedule: rule.schedule.map_or(NO_SCHEDULE, |s| self.schedule_slot(s)),
        };
        for d in &rule.doors {
            self.by_door.entry(d.door).or_default().insert(slot);
            let grant = Grant {
                slot,
                valid,
                in_types: d.in_types,
                out_types: d.out_types,
            };
            for &m in &rule.members {
                add(&mut self.by_member, (d.door, m), grant);
            }
            for &g in &rule.groups {
                add(&mut self.by_group, (d.door, g), grant);
            }
        }
        self.whens[slot as usize] = Some(When {
            access: rule.id,
            valid,
        });
        self.slots.insert(rule.id, slot);
        self.accesses[slot as usize] = Some(rule);
    }

    pub fn remove_access(&mut self, id: AccessId) {
        let Some(slot) = self.slots.remove(&id) else {
            return;
        };
        self.whens[slot as usize] = None;
        let Some(rule) = self.accesses[slot as usize].take() else {
            return;
        };
        for d in &rule.doors {
            if let Some(slots) = self.by_door.get_mut(&d.door) {
                slots.remove(&slot);
                if slots.is_empty() {
                    self.by_door.remove(&d.door);
                }
            }
            for &m in &rule.members {
                drop_grant(&mut self.by_member, (d.door, m), slot);
            }
            for &g in &rule.groups {
                drop_grant(&mut self.by_group, (d.door, g), slot);
            }
        }
        self.free.push(slot);
    }

    pub fn upsert_member(&mut self, member: MemberRule) {
        self.remove_member(member.id);
        for g in &member.groups {
            self.group_members.entry(*g).or_default().insert(member.id);
        }
        self.members.insert(
            member.id,
            MemberEntry {
                active: member.active,
                groups: GroupIds::of(&member.groups),
            },
        );
    }

    pub fn remove_member(&mut self, id: MembershipId) {
        let Some(old) = self.members.remove(&id) else {
            return;
        };
        for g in old.groups.as_slice() {
            if let Some(set) = self.group_members.get_mut(g) {
                set.remove(&id);
                if set.is_empty() {
                    self.group_members.remove(g);
                }
            }
        }
    }

    pub fn upsert_credential(&mut self, key: CredentialKey, rule: CredentialRule) {
        self.credentials.insert(key, rule);
    }

    pub fn remove_credential(&mut self, key: &CredentialKey) {
        self.credentials.remove(key);
    }

    pub fn upsert_schedule(&mut self, id: ScheduleId, timetable: Timetable) {
        let slot = self.schedule_slot(id);
        self.timetables[slot as usize] = Some(timetable);
    }

    pub fn remove_schedule(&mut self, id: ScheduleId) {
        if let Some(&slot) = self.schedule_slots.get(&id) {
            self.timetables[slot as usize] = None;
        }
    }

    pub fn upsert_door(&mut self, id: DoorId, restrictions: DoorRestrictions) {
        self.doors.insert(id, restrictions);
    }

    /// Whether the door is one of the organization's.
    pub fn knows_door(&self, id: DoorId) -> bool {
        self.doors.contains_key(&id)
    }

    /// A door's restrictions on phones, when the door is known.
    pub fn door_restrictions(&self, id: DoorId) -> Option<DoorRestrictions> {
        self.doors.get(&id).copied()
    }

    pub fn remove_door(&mut self, id: DoorId) {
        self.doors.remove(&id);
    }

    /// Whether an access keeps `door` unlocked at `at`: one whose door is `held_open`, valid
    /// then, with a schedule open then. An access without a schedule holds nothing: a door
    /// left unlocked for good is not something a checkbox should do.
    pub fn held_open(&self, door: DoorId, at: DateTime<Utc>) -> bool {
        let Some(slots) = self.by_door.get(&door) else {
            return false;
        };
        let now = micros(at);
        let mut local: LocalCache = None;
        slots.iter().any(|&slot| {
            let holds = self.accesses[slot as usize].as_ref().is_some_and(|a| {
                a.schedule.is_some() && a.doors.iter().any(|d| d.door == door && d.held_open)
            });
            holds && self.open_at(slot, at, now, &mut local).is_ok()
        })
    }

    /// Decides one request.
    pub fn decide(&self, req: &Request<'_>) -> Decision {
        let Some(credential) = self.credentials.get(req.credential) else {
            return Decision::Denied(DenyReason::UnknownCredential);
        };
        if credential.revoked {
            return Decision::Denied(DenyReason::CredentialRevoked);
        }
        self.decide_member(credential.member, req)
    }

    /// Decides a card presented together with a PIN code (`req.credential` is the card): both
    /// must be known, unrevoked and the same member's, or the pair is an unknown credential.
    pub fn decide_pair(&self, req: &Request<'_>, pin: &CredentialKey) -> Decision {
        let (Some(card), Some(code)) = (
            self.credentials.get(req.credential),
            self.credentials.get(pin),
        ) else {
            return Decision::Denied(DenyReason::UnknownCredential);
        };
        if card.member != code.member {
            return Decision::Denied(DenyReason::UnknownCredential);
        }
        if card.revoked || code.revoked {
            return Decision::Denied(DenyReason::CredentialRevoked);
        }
        self.decide_member(card.member, req)
    }

    /// The keys of the credentials that stand for `member`. Scans every credential: for the
    /// rare removal of a member.
    pub fn credential_keys_of(&self, member: MembershipId) -> Vec<CredentialKey> {
        self.credentials
            .iter()
            .filter(|(_, c)| c.member == member)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The member a credential stands for, revoked or not.
    pub fn credential(&self, key: &CredentialKey) -> Option<CredentialRule> {
        self.credentials.get(key).copied()
    }

    /// Decides a request whose credential is already known to stand for `member`.
    pub fn decide_member(&self, member: MembershipId, req: &Request<'_>) -> Decision {
        // Both lookups first: they do not depend on each other, so their cache misses overlap.
        let entry = self.members.get(&member);
        let direct = self.by_member.get(&(req.door, member));
        let Some(entry) = entry else {
            return Decision::Denied(DenyReason::UnknownCredential);
        };
        if !entry.active {
            return Decision::Denied(DenyReason::MembershipSuspended);
        }
        let via_groups = entry
            .groups
            .as_slice()
            .iter()
            .filter_map(|g| self.by_group.get(&(req.door, *g)));
        self.first_open(direct.into_iter().chain(via_groups), req)
    }

    /// Decides for a group itself, as an access link of the group asks: what its accesses
    /// allow at the door, with no member behind it and no phone restrictions.
    pub fn decide_group(&self, group: GroupId, req: &Request<'_>) -> Decision {
        self.first_open(self.by_group.get(&(req.door, group)).into_iter(), req)
    }

    /// Until when an active member's accesses to `door` that are valid at `at` last
    /// (schedules and authentication types aside): `None` when none is valid, `Some(None)`
    /// when one never ends. What a member may pass on to a guest.
    pub fn access_until(
        &self,
        member: MembershipId,
        door: DoorId,
        at: DateTime<Utc>,
    ) -> Option<Option<DateTime<Utc>>> {
        let entry = self.members.get(&member).filter(|e| e.active)?;
        let direct = self.by_member.get(&(door, member));
        let via_groups = entry
            .groups
            .as_slice()
            .iter()
            .filter_map(|g| self.by_group.get(&(door, *g)));
        let now = micros(at);
        let end = direct
            .into_iter()
            .chain(via_groups)
            .flat_map(Grants::as_slice)
            .map(|g| g.valid)
            .filter(|w| w.from <= now && now < w.to)
            .map(|w| w.to)
            .max()?;
        Some(
            (end != i64::MAX)
                .then(|| DateTime::from_timestamp_micros(end))
                .flatten(),
        )
    }

    /// The first grant among `candidates` that is open and allows the request, or the most
    /// specific reason none does.
    fn first_open<'g>(
        &self,
        candidates: impl Iterator<Item = &'g Grants>,
        req: &Request<'_>,
    ) -> Decision {
        let now = micros(req.at);
        let mut best: Option<DenyReason> = None;
        let mut local: LocalCache = None;
        for grants in candidates {
            for grant in grants.as_slice() {
                let checked = self
                    .open_when(grant.valid, req.at, now, &mut local)
                    .and_then(|()| {
                        if grant.allows(req.direction, req.auth) {
                            Ok(())
                        } else {
                            Err(DenyReason::AuthTypeNotAllowed)
                        }
                    });
                match checked {
                    Ok(()) => {
                        let access = self.whens[grant.slot as usize]
                            .expect("a grant's slot holds its access")
                            .access;
                        return self.restrictions(access, req);
                    }
                    Err(reason) => {
                        if best.is_none_or(|b| reason.stage() > b.stage()) {
                            best = Some(reason);
                        }
                    }
                }
            }
        }
        Decision::Denied(best.unwrap_or(DenyReason::NoAccess))
    }

    /// Whether the access in `slot` is valid and its schedule open at `at` (`now` is the
    /// same instant in microseconds).
    fn open_at(
        &self,
        slot: u32,
        at: DateTime<Utc>,
        now: i64,
        local: &mut LocalCache,
    ) -> Result<AccessId, DenyReason> {
        let Some(when) = self.whens.get(slot as usize).copied().flatten() else {
            return Err(DenyReason::NoAccess);
        };
        self.open_when(when.valid, at, now, local)?;
        Ok(when.access)
    }

    /// Whether an access so valid and scheduled is open at `at` (`now` is the same instant in
    /// microseconds).
    fn open_when(
        &self,
        when: Validity,
        at: DateTime<Utc>,
        now: i64,
        local: &mut LocalCache,
    ) -> Result<(), DenyReason> {
        if now >= when.to {
            return Err(DenyReason::Expired);
        }
        if now < when.from {
            return Err(DenyReason::NotYetValid);
        }
        if when.schedule != NO_SCHEDULE {
            // An access naming a schedule that is gone opens nothing rather than always.
            let Some(timetable) = self.timetables[when.schedule as usize].as_ref() else {
                return Err(DenyReason::OutsideSchedule);
            };
            let zone = *timetable.time_zone();
            let wall = match *local {
                Some((z, wall)) if z == zone => wall,
                _ => {
                    let wall = timetable.local(at);
                    *local = Some((zone, wall));
                    wall
                }
            };
            if !timetable.is_open_local(wall) {
                return Err(DenyReason::OutsideSchedule);
            }
        }
        Ok(())
    }

    /// The door's restrictions on a phone, once an access grants.
    fn restrictions(&self, access: AccessId, req: &Request<'_>) -> Decision {
        let (Some(phone), AuthType::Mobile) = (req.phone, req.auth) else {
            return Decision::Granted { access };
        };
        if !phone.pin_fresh {
            return Decision::Denied(DenyReason::PinRequired);
        }
        let door = self.doors.get(&req.door).copied().unwrap_or_default();
        if door.geofence_required {
            let inside = match (door.geofence, phone.location) {
                (Some(fence), Some((lat, lon))) => fence.contains(lat, lon),
                _ => false,
            };
            if !inside {
                return Decision::Denied(DenyReason::OutsideGeofence);
            }
        }
        if door.reader_required && !phone.at_reader {
            return Decision::Denied(DenyReason::ReaderRequired);
        }
        Decision::Granted { access }
    }

    /// Who can open `door` at `at` going in, by any authentication type the door allows
    /// (phone restrictions aside): active members with an access that is valid and open.
    pub fn who_can_open(&self, door: DoorId, at: DateTime<Utc>) -> Vec<MembershipId> {
        let mut found: FxHashSet<MembershipId> = FxHashSet::default();
        let mut local = None;
        for &slot in self.by_door.get(&door).into_iter().flatten() {
            let Some(rule) = self.accesses[slot as usize].as_ref() else {
                continue;
            };
            if self.open_at(slot, at, micros(at), &mut local).is_err() {
                continue;
            }
            found.extend(rule.members.iter().copied());
            for g in &rule.groups {
                if let Some(members) = self.group_members.get(g) {
                    found.extend(members.iter().copied());
                }
            }
        }
        let mut members: Vec<_> = found
            .into_iter()
            .filter(|m| self.members.get(m).is_some_and(|e| e.active))
            .collect();
        members.sort();
        members
    }

    /// The doors `member` can open at `at` going in, by some authentication type. Scans the
    /// accesses: a question for a page, not for a door.
    pub fn doors_of(&self, member: MembershipId, at: DateTime<Utc>) -> Vec<DoorId> {
        let Some(entry) = self.members.get(&member).filter(|e| e.active) else {
            return Vec::new();
        };
        let groups = entry.groups.as_slice();
        let mut local = None;
        let mut doors = Vec::new();
        for (slot, rule) in self.accesses.iter().enumerate() {
            let Some(rule) = rule else { continue };
            let covers =
                rule.members.contains(&member) || rule.groups.iter().any(|g| groups.contains(g));
            let slot = u32::try_from(slot).unwrap_or(u32::MAX);
            if covers && self.open_at(slot, at, micros(at), &mut local).is_ok() {
                doors.extend(rule.doors.iter().map(|d| d.door));
            }
        }
        doors.sort();
        doors.dedup();
        doors
    }
}

fn add<K: std::hash::Hash + Eq>(map: &mut FxHashMap<K, Grants>, key: K, grant: Grant) {
    match map.get_mut(&key) {
        Some(grants) => grants.push(grant),
        None => {
            map.insert(key, Grants::One(grant));
        }
    }
}

fn drop_grant<K: std::hash::Hash + Eq>(map: &mut FxHashMap<K, Grants>, key: K, slot: u32) {
    if let Some(grants) = map.get_mut(&key)
        && grants.remove_slot(slot)
    {
        map.remove(&key);
    }
}
