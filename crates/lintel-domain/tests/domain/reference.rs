//! A naive reference for decisions and schedules: everything in plain lists, scanned in full
//! and written without the engine's indexes or the timetable's day lookup, so that a
//! differential test can compare the two.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};
use lintel_domain::decision::{
    AccessRule, AuthType, CredentialRule, DenyReason, Direction, DoorRestrictions, MemberRule,
    PhoneProof,
};
use lintel_domain::{AccessId, DoorId, GroupId, MembershipId, ScheduleId};

/// A schedule as plain data: the zone's name, weekly windows and exceptions (`None`: closed).
#[derive(Debug, Clone)]
pub struct PlainSchedule {
    pub zone: chrono_tz::Tz,
    pub windows: Vec<(Weekday, u16, u16)>,
    pub exceptions: BTreeMap<NaiveDate, Option<Vec<(u16, u16)>>>,
}

impl PlainSchedule {
    /// Open when some run of a window contains the wall-clock time, and the time's day is not
    /// closed. A run starts on its day at `start` and lasts until `end`, the next day when
    /// `end` is not after `start`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local: NaiveDateTime = at.with_timezone(&self.zone).naive_local();
        if matches!(self.exceptions.get(&local.date()), Some(None)) {
            return false;
        }
        for back in [1, 0] {
            let day = local.date() - Duration::days(back);
            let spans: Vec<(u16, u16)> = match self.exceptions.get(&day) {
                Some(None) => continue,
                Some(Some(extra)) => self.weekly(day).chain(extra.iter().copied()).collect(),
                None => self.weekly(day).collect(),
            };
            for (start, end) in spans {
                let length = if end > start {
                    end - start
                } else {
                    end + 1440 - start
                };
                let from = day.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(start.into());
                let to = from + Duration::minutes(length.into());
                if from <= local && local < to {
                    return true;
                }
            }
        }
        false
    }

    fn weekly(&self, day: NaiveDate) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.windows
            .iter()
            .filter(move |(d, ..)| *d == day.weekday())
            .map(|&(_, s, e)| (s, e))
    }
}

/// Every rule in a list.
#[derive(Debug, Default, Clone)]
pub struct Reference {
    pub accesses: Vec<AccessRule>,
    pub members: HashMap<MembershipId, MemberRule>,
    pub credentials: HashMap<String, CredentialRule>,
    pub schedules: HashMap<ScheduleId, PlainSchedule>,
    pub doors: HashMap<DoorId, DoorRestrictions>,
}

/// What the reference decides: granted by any of these accesses, or denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Granted(Vec<AccessId>),
    Denied(DenyReason),
}

impl Reference {
    /// A card presented with a PIN code: both the same member's, neither revoked, then as the
    /// card alone by `card_and_pin`.
    pub fn decide_pair(
        &self,
        card: &str,
        pin: &str,
        door: DoorId,
        direction: Direction,
        at: DateTime<Utc>,
    ) -> Expected {
        match (self.credentials.get(card), self.credentials.get(pin)) {
            (Some(a), Some(b)) if a.member == b.member => {
                if b.revoked {
                    Expected::Denied(DenyReason::CredentialRevoked)
                } else {
                    self.decide(card, door, direction, AuthType::CardAndPin, at, None)
                }
            }
            _ => Expected::Denied(DenyReason::UnknownCredential),
        }
    }

    pub fn decide(
        &self,
        credential: &str,
        door: DoorId,
        direction: Direction,
        auth: AuthType,
        at: DateTime<Utc>,
        phone: Option<PhoneProof>,
    ) -> Expected {
        let Some(c) = self.credentials.get(credential) else {
            return Expected::Denied(DenyReason::UnknownCredential);
        };
        if c.revoked {
            return Expected::Denied(DenyReason::CredentialRevoked);
        }
        let Some(member) = self.members.get(&c.member) else {
            return Expected::Denied(DenyReason::UnknownCredential);
        };
        if !member.active {
            return Expected::Denied(DenyReason::MembershipSuspended);
        }
        self.decide_covered(
            |access| {
                access.members.contains(&member.id)
                    || access.groups.iter().any(|g| member.groups.contains(g))
            },
            door,
            direction,
            auth,
            at,
            phone,
        )
    }

    /// An access link of `group`: the group's own accesses, no phone restrictions.
    pub fn decide_group(
        &self,
        group: GroupId,
        door: DoorId,
        direction: Direction,
        at: DateTime<Utc>,
    ) -> Expected {
        self.decide_covered(
            |access| access.groups.contains(&group),
            door,
            direction,
            AuthType::Link,
            at,
            None,
        )
    }

    fn decide_covered(
        &self,
        covers: impl Fn(&AccessRule) -> bool,
        door: DoorId,
        direction: Direction,
        auth: AuthType,
        at: DateTime<Utc>,
        phone: Option<PhoneProof>,
    ) -> Expected {
        let mut granted = Vec::new();
        let mut failures = Vec::new();
        for access in &self.accesses {
            if !covers(access) {
                continue;
            }
            for d in access.doors.iter().filter(|d| d.door == door) {
                let types = match direction {
                    Direction::In => d.in_types,
                    Direction::Out => d.out_types,
                };
                let failure = if access.valid_to.is_some_and(|to| at >= to) {
                    Some(DenyReason::Expired)
                } else if access.valid_from.is_some_and(|from| at < from) {
                    Some(DenyReason::NotYetValid)
                } else if access
                    .schedule
                    .is_some_and(|s| !self.schedules.get(&s).is_some_and(|p| p.is_open(at)))
                {
                    Some(DenyReason::OutsideSchedule)
                } else if !(types.iter().count() == 0 || types.iter().any(|t| t == auth)) {
                    Some(DenyReason::AuthTypeNotAllowed)
                } else {
                    None
                };
                match failure {
                    None => granted.push(access.id),
                    Some(reason) => failures.push(reason),
                }
            }
        }
        if !granted.is_empty() {
            if let (Some(phone), AuthType::Mobile) = (phone, auth) {
                let restrictions = self.doors.get(&door);
                if !phone.pin_fresh {
                    return Expected::Denied(DenyReason::PinRequired);
                }
                if let Some(r) = restrictions.filter(|r| r.geofence_required) {
                    let inside = match (r.geofence, phone.location) {
                        (Some(f), Some((lat, lon))) => f.contains(lat, lon),
                        _ => false,
                    };
                    if !inside {
                        return Expected::Denied(DenyReason::OutsideGeofence);
                    }
                }
                if restrictions.is_some_and(|r| r.reader_required) && !phone.at_reader {
                    return Expected::Denied(DenyReason::ReaderRequired);
                }
            }
            granted.sort();
            return Expected::Granted(granted);
        }
        // The most specific failure: the one from the furthest check.
        let rank = |r: &DenyReason| match r {
            DenyReason::Expired => 1,
            DenyReason::NotYetValid => 2,
            DenyReason::OutsideSchedule => 3,
            DenyReason::AuthTypeNotAllowed => 4,
            _ => 0,
        };
        Expected::Denied(
            failures
                .into_iter()
                .max_by_key(rank)
                .unwrap_or(DenyReason::NoAccess),
        )
    }
}
