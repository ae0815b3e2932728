//! A model organization for benchmarks: members in groups, doors, weekly schedules and
//! accesses, generated from a seed, with requests to decide against it. The same model feeds
//! Lintel's engine and, in the Cedar benchmark, Cedar.

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone as _, Utc, Weekday};
use lintel_domain::decision::{
    AccessRule, AuthType, AuthTypes, Direction, DoorRule, MemberRule, Request, Rules,
};
use lintel_domain::schedule::{Span, Timetable, Window};
use lintel_domain::{AccessId, DoorId, GroupId, MembershipId, ScheduleId, TimeZone};
use uuid::Uuid;

/// SplitMix64, so a seed gives the same model everywhere.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn id(&mut self) -> Uuid {
        Uuid::from_u64_pair(self.next_u64(), self.next_u64())
    }
}

/// How big a model to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub members: usize,
    pub groups: usize,
    pub doors: usize,
    pub schedules: usize,
    pub accesses: usize,
    /// Doors per access.
    pub doors_per_access: usize,
    /// Members named directly per access (besides one group).
    pub members_per_access: usize,
}

impl Size {
    /// A model with about `grants` (door, member or group) grants.
    pub fn with_grants(grants: usize) -> Size {
        // Four doors and four members plus one group per access: 20 grants each.
        let accesses = (grants / 20).max(1);
        Size {
            members: (accesses * 2).max(50),
            groups: (accesses / 20).max(5),
            doors: (accesses / 5).max(10),
            schedules: 20,
            accesses,
            doors_per_access: 4,
            members_per_access: 4,
        }
    }
}

/// A weekly window as plain numbers: day (0 = Monday), start and end minute.
pub type PlainWindow = (u8, u16, u16);

/// The model as plain data, for any engine to load.
pub struct Model {
    pub time_zone: &'static str,
    pub members: Vec<(MembershipId, bool, Vec<GroupId>)>,
    pub groups: Vec<GroupId>,
    pub doors: Vec<DoorId>,
    pub schedules: Vec<(ScheduleId, Vec<PlainWindow>)>,
    pub accesses: Vec<AccessRule>,
}

/// The week the requests fall in (Monday 2026-03-02, UTC).
pub fn week_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
}

fn types(rng: &mut Rng) -> AuthTypes {
    if rng.chance(50) {
        AuthTypes::ANY
    } else {
        AuthTypes::of(AuthType::ALL.into_iter().filter(|_| rng.chance(50)))
    }
}

impl Model {
    pub fn generate(size: Size, seed: u64) -> Model {
        let mut rng = Rng(seed);
        let groups: Vec<GroupId> = (0..size.groups).map(|_| GroupId(rng.id())).collect();
        let members = (0..size.members)
            .map(|_| {
                let g = groups[rng.below(groups.len())];
                (MembershipId(rng.id()), rng.chance(95), vec![g])
            })
            .collect::<Vec<_>>();
        let doors: Vec<DoorId> = (0..size.doors).map(|_| DoorId(rng.id())).collect();
        let schedules = (0..size.schedules)
            .map(|_| {
                let windows = (0..5)
                    .map(|day| {
                        // Office hours, or a night shift across midnight.
                        if rng.chance(70) {
                            (day, 7 * 60, 19 * 60)
                        } else {
                            (day, 22 * 60, 6 * 60)
                        }
                    })
                    .collect();
                (ScheduleId(rng.id()), windows)
            })
            .collect::<Vec<(ScheduleId, Vec<PlainWindow>)>>();
        let start = week_start();
        let accesses = (0..size.accesses)
            .map(|_| AccessRule {
                id: AccessId(rng.id()),
                valid_from: rng
                    .chance(20)
                    .then(|| start + Duration::hours(rng.below(72) as i64)),
                valid_to: rng
                    .chance(20)
                    .then(|| start + Duration::hours(96 + rng.below(72) as i64)),
                schedule: rng
                    .chance(80)
                    .then(|| schedules[rng.below(schedules.len())].0),
                doors: (0..size.doors_per_access)
                    .map(|_| DoorRule {
                        door: doors[rng.below(doors.len())],
                        in_types: types(&mut rng),
                        out_types: types(&mut rng),
                        held_open: false,
                    })
                    .collect(),
                members: (0..size.members_per_access)
                    .map(|_| members[rng.below(members.len())].0)
                    .collect(),
                groups: vec![groups[rng.below(groups.len())]],
            })
            .collect();
        Model {
            time_zone: "Europe/Stockholm",
            members,
            groups,
            doors,
            schedules,
            accesses,
        }
    }

    /// The model loaded into Lintel's engine.
    pub fn rules(&self) -> Rules {
        let mut rules = Rules::new();
        let tz = TimeZone::parse("tz", self.time_zone).unwrap();
        for (id, windows) in &self.schedules {
            let windows: Vec<Window> = windows
                .iter()
                .map(|&(day, start, end)| Window {
                    day: Weekday::try_from(day).unwrap(),
                    span: Span::new("w", start, end).unwrap(),
                })
                .collect();
            rules.upsert_schedule(
                *id,
                Timetable::new(tz, &windows, Default::default()).unwrap(),
            );
        }
        for (id, active, groups) in &self.members {
            rules.upsert_member(MemberRule {
                id: *id,
                active: *active,
                groups: groups.clone(),
            });
        }
        for access in &self.accesses {
            rules.upsert_access(access.clone());
        }
        rules
    }

    /// Requests a door sees: mostly people with an access to it, some without, at random
    /// times of the week, either way, by any means.
    pub fn requests(&self, count: usize, seed: u64) -> Vec<Ask> {
        let mut rng = Rng(seed);
        (0..count)
            .map(|_| {
                let (member, door) = if rng.chance(70) {
                    let a = &self.accesses[rng.below(self.accesses.len())];
                    let m = if a.members.is_empty() || rng.chance(30) {
                        self.members[rng.below(self.members.len())].0
                    } else {
                        a.members[rng.below(a.members.len())]
                    };
                    (m, a.doors[rng.below(a.doors.len())].door)
                } else {
                    (
                        self.members[rng.below(self.members.len())].0,
                        self.doors[rng.below(self.doors.len())],
                    )
                };
                Ask {
                    member,
                    door,
                    direction: if rng.chance(50) {
                        Direction::In
                    } else {
                        Direction::Out
                    },
                    auth: AuthType::ALL[rng.below(4)],
                    at: week_start() + Duration::minutes(rng.below(7 * 1440) as i64),
                }
            })
            .collect()
    }
}

/// One request of a benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    pub member: MembershipId,
    pub door: DoorId,
    pub direction: Direction,
    pub auth: AuthType,
    pub at: DateTime<Utc>,
}

impl Ask {
    pub fn request<'a>(
        &self,
        credential: &'a lintel_domain::decision::CredentialKey,
    ) -> Request<'a> {
        Request {
            credential,
            door: self.door,
            direction: self.direction,
            auth: self.auth,
            at: self.at,
            phone: None,
        }
    }
}

/// Latencies of single calls, in nanoseconds, less the cost of reading the clock.
pub struct Latencies(Vec<f64>);

impl Latencies {
    /// Times `f` on each item, one call at a time, after a warm-up pass.
    pub fn measure<T>(items: &[T], mut f: impl FnMut(&T)) -> Latencies {
        for item in items.iter().take(items.len().min(10_000)) {
            f(item);
        }
        let overhead = clock_overhead();
        let mut samples = Vec::with_capacity(items.len());
        for item in items {
            let start = Instant::now();
            f(item);
            let ns = start.elapsed().as_nanos() as f64;
            samples.push((ns - overhead).max(0.0));
        }
        samples.sort_by(f64::total_cmp);
        Latencies(samples)
    }

    pub fn percentile(&self, p: f64) -> f64 {
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i]
    }

    pub fn mean(&self) -> f64 {
        self.0.iter().sum::<f64>() / self.0.len() as f64
    }
}

/// What timing nothing costs on this machine, in nanoseconds (the median of many).
fn clock_overhead() -> f64 {
    let mut samples: Vec<u128> = (0..100_000)
        .map(|_| {
            let start = Instant::now();
            start.elapsed().as_nanos()
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2] as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_has_about_the_grants_asked_for() {
        let model = Model::generate(Size::with_grants(10_000), 1);
        let rules = model.rules();
        let grants = rules.grant_count();
        assert!((9_000..=10_000).contains(&grants), "{grants}");
        assert_eq!(model.requests(100, 2).len(), 100);
    }
}
