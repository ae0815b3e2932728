//! The decision engine against the naive reference: random organizations, random changes
//! applied to both, and at least 100,000 random requests per run with zero mismatches. Times
//! cluster around window edges, midnight and daylight-saving changes in several zones.
//!
//! The seed is printed; `LINTEL_DECISION_SEED=N` replays a run.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc, Weekday};
use lintel_domain::decision::{
    AccessRule, AuthType, AuthTypes, CredentialKey, CredentialRule, Decision, DenyReason,
    Direction, DoorRestrictions, DoorRule, MemberRule, PhoneProof, Request, Rules,
};
use lintel_domain::schedule::{Exception, Span, Timetable, Window};
use lintel_domain::{AccessId, DoorId, Geofence, GroupId, MembershipId, ScheduleId, TimeZone};
use uuid::Uuid;

use crate::reference::{Expected, PlainSchedule, Reference};

/// SplitMix64: small, fast, and the same on every machine for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const ZONES: [&str; 4] = [
    "Europe/Stockholm",
    "America/New_York",
    "Australia/Sydney",
    "UTC",
];

/// Days around which times cluster: daylight-saving changes in the zones above.
fn edge_days() -> Vec<NaiveDate> {
    [
        (2026, 3, 8),
        (2026, 3, 29),
        (2026, 4, 5),
        (2026, 10, 4),
        (2026, 10, 25),
        (2026, 11, 1),
        (2026, 6, 15),
    ]
    .into_iter()
    .map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
    .collect()
}

fn id(rng: &mut Rng) -> Uuid {
    Uuid::from_u64_pair(rng.next(), rng.next())
}

struct World {
    members: Vec<MembershipId>,
    groups: Vec<GroupId>,
    doors: Vec<DoorId>,
    schedules: Vec<ScheduleId>,
    accesses: Vec<AccessId>,
    credentials: Vec<String>,
    /// Instants that accesses start and end at, which requests also hit exactly.
    instants: Vec<DateTime<Utc>>,
}

fn minute(rng: &mut Rng) -> u16 {
    // Half-hour marks, so that request times meet window edges.
    (rng.below(48) * 30) as u16
}

fn random_schedule(rng: &mut Rng) -> PlainSchedule {
    let zone: chrono_tz::Tz = rng.pick(&ZONES).parse().unwrap();
    let mut windows = Vec::new();
    for _ in 0..rng.below(5) {
        let day = Weekday::try_from(rng.below(7) as u8).unwrap();
        let start = minute(rng);
        let mut end = minute(rng);
        if end == 0 {
            end = 1440;
        }
        if end != start {
            windows.push((day, start, end));
        }
    }
    let mut exceptions = BTreeMap::new();
    let days = edge_days();
    for _ in 0..rng.below(3) {
        let day = *rng.pick(&days) + Duration::days(rng.below(3) as i64 - 1);
        let kind = if rng.chance(50) {
            None
        } else {
            let (s, e) = (minute(rng), minute(rng).max(30));
            Some(if s == e { vec![] } else { vec![(s, e)] })
        };
        exceptions.insert(day, kind);
    }
    PlainSchedule {
        zone,
        windows,
        exceptions,
    }
}

fn timetable(plain: &PlainSchedule) -> Timetable {
    let windows: Vec<Window> = plain
        .windows
        .iter()
        .map(|&(day, start, end)| Window {
            day,
            span: Span::new("w", start, end).unwrap(),
        })
        .collect();
    let exceptions = plain
        .exceptions
        .iter()
        .map(|(day, kind)| {
            let kind = match kind {
                None => Exception::Closed,
                Some(spans) => Exception::Open(
                    spans
                        .iter()
                        .map(|&(s, e)| Span::new("x", s, e).unwrap())
                        .collect(),
                ),
            };
            (*day, kind)
        })
        .collect();
    Timetable::new(
        TimeZone::parse("tz", plain.zone.name()).unwrap(),
        &windows,
        exceptions,
    )
    .unwrap()
}

fn random_time(rng: &mut Rng) -> DateTime<Utc> {
    let days = edge_days();
    let day = *rng.pick(&days) + Duration::days(rng.below(5) as i64 - 2);
    let base = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap());
    // Whole half hours, give or take a minute, across two days in UTC.
    let halves = rng.below(96) as i64;
    let jitter = rng.below(3) as i64 - 1;
    base + Duration::minutes(halves * 30 + jitter)
}

fn random_types(rng: &mut Rng) -> AuthTypes {
    if rng.chance(40) {
        return AuthTypes::ANY;
    }
    AuthTypes::of(AuthType::ALL.into_iter().filter(|_| rng.chance(40)))
}

fn random_access(rng: &mut Rng, w: &World, id: AccessId) -> AccessRule {
    let mut doors = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let door = *rng.pick(&w.doors);
        if doors.iter().all(|d: &DoorRule| d.door != door) || rng.chance(10) {
            doors.push(DoorRule {
                door,
                in_types: random_types(rng),
                out_types: random_types(rng),
                held_open: false,
            });
        }
    }
    let valid_from = rng.chance(30).then(|| *rng.pick(&w.instants));
    let valid_to = rng.chance(30).then(|| *rng.pick(&w.instants));
    AccessRule {
        id,
        valid_from,
        valid_to,
        schedule: if rng.chance(70) {
            Some(*rng.pick(&w.schedules))
        } else {
            None
        },
        doors,
        members: (0..rng.below(5)).map(|_| *rng.pick(&w.members)).collect(),
        groups: (0..rng.below(3)).map(|_| *rng.pick(&w.groups)).collect(),
    }
}

fn random_member(rng: &mut Rng, w: &World, id: MembershipId) -> MemberRule {
    let mut groups: Vec<GroupId> = w
        .groups
        .iter()
        .copied()
        .filter(|_| rng.chance(25))
        .collect();
    groups.dedup();
    MemberRule {
        id,
        active: rng.chance(85),
        groups,
    }
}

fn random_restrictions(rng: &mut Rng) -> DoorRestrictions {
    DoorRestrictions {
        geofence_required: rng.chance(30),
        reader_required: rng.chance(30),
        geofence: rng.chance(80).then_some(Geofence {
            latitude: 59.33,
            longitude: 18.06,
            radius_m: 200.0,
        }),
        controller: None,
    }
}

/// Builds both sides from the same random organization.
fn build(rng: &mut Rng) -> (World, Rules, Reference) {
    let mut w = World {
        members: (0..40).map(|_| MembershipId(id(rng))).collect(),
        groups: (0..8).map(|_| GroupId(id(rng))).collect(),
        doors: (0..25).map(|_| DoorId(id(rng))).collect(),
        schedules: (0..15).map(|_| ScheduleId(id(rng))).collect(),
        accesses: Vec::new(),
        credentials: Vec::new(),
        instants: (0..12).map(|_| random_time(rng)).collect(),
    };
    let mut rules = Rules::new();
    let mut reference = Reference::default();
    for &s in &w.schedules {
        let plain = random_schedule(rng);
        rules.upsert_schedule(s, timetable(&plain));
        reference.schedules.insert(s, plain);
    }
    for &m in &w.members.clone() {
        let rule = random_member(rng, &w, m);
        rules.upsert_member(rule.clone());
        reference.members.insert(m, rule);
    }
    for &d in &w.doors {
        let r = random_restrictions(rng);
        rules.upsert_door(d, r);
        reference.doors.insert(d, r);
    }
    for _ in 0..60 {
        let new_id = AccessId(id(rng));
        let access = random_access(rng, &w, new_id);
        w.accesses.push(access.id);
        rules.upsert_access(access.clone());
        reference.accesses.push(access);
    }
    for i in 0..60 {
        let key = format!("card:{i}");
        // Some cards belong to nobody the rules know.
        let member = if rng.chance(95) {
            *rng.pick(&w.members)
        } else {
            MembershipId(id(rng))
        };
        let rule = CredentialRule {
            member,
            revoked: rng.chance(10),
        };
        rules.upsert_credential(CredentialKey(key.clone()), rule);
        reference.credentials.insert(key.clone(), rule);
        w.credentials.push(key);
        // The same member's PIN code, for cards presented with one.
        let pin = CredentialRule {
            member,
            revoked: rng.chance(10),
        };
        rules.upsert_credential(CredentialKey(format!("pin:{i}")), pin);
        reference.credentials.insert(format!("pin:{i}"), pin);
    }
    (w, rules, reference)
}

/// One random change, applied to both sides.
fn change(rng: &mut Rng, w: &mut World, rules: &mut Rules, reference: &mut Reference) {
    match rng.below(6) {
        0 | 1 => {
            let target = *rng.pick(&w.accesses);
            let access = random_access(rng, w, target);
            rules.upsert_access(access.clone());
            reference.accesses.retain(|a| a.id != target);
            reference.accesses.push(access);
        }
        2 => {
            let target = *rng.pick(&w.accesses);
            rules.remove_access(target);
            reference.accesses.retain(|a| a.id != target);
            let new_id = AccessId(id(rng));
            let fresh = random_access(rng, w, new_id);
            w.accesses.retain(|a| *a != target);
            w.accesses.push(fresh.id);
            rules.upsert_access(fresh.clone());
            reference.accesses.push(fresh);
        }
        3 => {
            let m = *rng.pick(&w.members);
            let rule = random_member(rng, w, m);
            rules.upsert_member(rule.clone());
            reference.members.insert(m, rule);
        }
        4 => {
            let s = *rng.pick(&w.schedules);
            let plain = random_schedule(rng);
            rules.upsert_schedule(s, timetable(&plain));
            reference.schedules.insert(s, plain);
        }
        _ => {
            let key = rng.pick(&w.credentials).clone();
            let rule = CredentialRule {
                member: *rng.pick(&w.members),
                revoked: rng.chance(20),
            };
            rules.upsert_credential(CredentialKey(key.clone()), rule);
            reference.credentials.insert(key, rule);
        }
    }
}

#[test]
fn the_engine_agrees_with_the_naive_reference_on_100k_random_requests() {
    let seed = std::env::var("LINTEL_DECISION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::UNIX_EPOCH
                .elapsed()
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("LINTEL_DECISION_SEED={seed}");
    let mut rng = Rng(seed);
    let mut granted = 0;
    let mut reasons: BTreeMap<&str, u32> = BTreeMap::new();
    const CASES: u32 = 100_000;
    let mut cases = 0;
    while cases < CASES {
        let (mut w, mut rules, mut reference) = build(&mut rng);
        for step in 0..20_000 {
            if step % 500 == 0 {
                change(&mut rng, &mut w, &mut rules, &mut reference);
            }
            let credential = if rng.chance(3) {
                "card:unknown".to_owned()
            } else {
                rng.pick(&w.credentials).clone()
            };
            let door = *rng.pick(&w.doors);
            let direction = if rng.chance(50) {
                Direction::In
            } else {
                Direction::Out
            };
            let auth = *rng.pick(&AuthType::ALL);
            let at = if rng.chance(30) {
                *rng.pick(&w.instants) + Duration::minutes(rng.below(3) as i64 - 1)
            } else {
                random_time(&mut rng)
            };
            let phone = (auth == AuthType::Mobile).then(|| PhoneProof {
                pin_fresh: rng.chance(90),
                location: match rng.below(3) {
                    0 => None,
                    1 => Some((59.3301, 18.0601)),
                    _ => Some((59.40, 18.10)),
                },
                at_reader: rng.chance(60),
            });
            let key = CredentialKey(credential.clone());
            let req = Request {
                credential: &key,
                door,
                direction,
                auth,
                at,
                phone,
            };
            // A card and a PIN code together: mostly the card's own code, sometimes another
            // card's or one nobody has.
            let pin = (auth == AuthType::CardAndPin).then(|| match rng.below(10) {
                0 => "pin:unknown".to_owned(),
                1 | 2 => format!("pin:{}", rng.below(60)),
                _ => credential.replacen("card:", "pin:", 1),
            });
            // An access link stands for one group.
            let link_group = (auth == AuthType::Link).then(|| *rng.pick(&w.groups));
            let (got, expected) = match (&pin, link_group) {
                (_, Some(group)) => (
                    rules.decide_group(group, &Request { phone: None, ..req }),
                    reference.decide_group(group, door, direction, at),
                ),
                (Some(pin), None) => (
                    rules.decide_pair(&req, &CredentialKey(pin.clone())),
                    reference.decide_pair(&credential, pin, door, direction, at),
                ),
                (None, None) => (
                    rules.decide(&req),
                    reference.decide(&credential, door, direction, auth, at, phone),
                ),
            };
            let agree = match (&got, &expected) {
                (Decision::Granted { access }, Expected::Granted(ids)) => ids.contains(access),
                (Decision::Denied(a), Expected::Denied(b)) => a == b,
                _ => false,
            };
            assert!(
                agree,
                "seed {seed}, case {cases}: engine {got:?}, reference {expected:?} for \
                 {credential} (PIN {pin:?}) at door {door} {direction:?} by {auth:?} at {at}, \
                 phone {phone:?}"
            );
            match got {
                Decision::Granted { .. } => granted += 1,
                Decision::Denied(r) => *reasons.entry(r.as_str()).or_default() += 1,
            }
            cases += 1;
        }
    }
    // The cases must exercise every outcome, or the comparison proves little.
    println!("granted {granted}, denied {reasons:?}");
    assert!(granted > 1000, "too few grants: {granted}");
    for reason in [
        DenyReason::UnknownCredential,
        DenyReason::CredentialRevoked,
        DenyReason::MembershipSuspended,
        DenyReason::NoAccess,
        DenyReason::Expired,
        DenyReason::NotYetValid,
        DenyReason::OutsideSchedule,
        DenyReason::AuthTypeNotAllowed,
        DenyReason::PinRequired,
        DenyReason::OutsideGeofence,
        DenyReason::ReaderRequired,
    ] {
        assert!(
            reasons.get(reason.as_str()).copied().unwrap_or(0) > 20,
            "{} was hardly ever decided: {reasons:?}",
            reason.as_str()
        );
    }
}

#[test]
fn who_can_open_and_my_doors_agree_with_single_decisions() {
    let mut rng = Rng(7);
    let (w, rules, _) = build(&mut rng);
    for _ in 0..200 {
        let at = random_time(&mut rng);
        let door = *rng.pick(&w.doors);
        let who = rules.who_can_open(door, at);
        for &m in &w.members {
            // Someone can open a door when some authentication type gets them in.
            let some_way = AuthType::ALL.into_iter().any(|auth| {
                matches!(
                    rules.decide_member(
                        m,
                        &Request {
                            credential: &CredentialKey(String::new()),
                            door,
                            direction: Direction::In,
                            auth,
                            at,
                            phone: None,
                        }
                    ),
                    Decision::Granted { .. }
                )
            });
            assert_eq!(
                who.contains(&m),
                some_way,
                "member {m} at door {door} at {at}"
            );
            assert_eq!(rules.doors_of(m, at).contains(&door), some_way);
        }
    }
}
