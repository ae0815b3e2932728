//! Lintel's engine beside Cedar on the same model: the same members, groups, doors, weekly
//! schedules and 1,000 accesses, written as Cedar policies (one per access and door), with
//! Cedar given the whole policy set or only the door's slice. Ratios come from one run on one
//! machine. The two must also agree on every request they both decide.
//!
//! `cargo bench -p lintel-bench --features cedar --bench cedar`

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, PolicySet, Request, RestrictedExpression,
};
use chrono::{Datelike, Timelike};
use lintel_bench::{Ask, Latencies, Model, Size};
use lintel_domain::decision::{AccessRule, AuthTypes, CredentialKey, Decision, Direction};
use lintel_domain::{DoorId, MembershipId};

fn uid(kind: &str, id: impl std::fmt::Display) -> EntityUid {
    EntityUid::from_str(&format!("{kind}::\"{id}\"")).unwrap()
}

fn auth_condition(types: AuthTypes) -> String {
    let names: Vec<String> = types
        .iter()
        .map(|t| format!("\"{}\"", t.as_str()))
        .collect();
    if names.is_empty() {
        "true".into()
    } else {
        format!("[{}].contains(context.auth)", names.join(", "))
    }
}

/// One policy per access and door.
fn policies(model: &Model, access: &AccessRule, out: &mut HashMap<DoorId, String>) {
    let mut who: Vec<String> = access
        .members
        .iter()
        .map(|m| format!("principal == User::\"{m}\""))
        .collect();
    who.extend(
        access
            .groups
            .iter()
            .map(|g| format!("principal in Group::\"{g}\"")),
    );
    let mut when = vec![format!("({})", who.join(" || ")), "principal.active".into()];
    if let Some(from) = access.valid_from {
        when.push(format!("context.now >= {}", from.timestamp()));
    }
    if let Some(to) = access.valid_to {
        when.push(format!("context.now < {}", to.timestamp()));
    }
    if let Some(schedule) = access.schedule {
        let windows = &model
            .schedules
            .iter()
            .find(|(id, _)| *id == schedule)
            .unwrap()
            .1;
        let parts: Vec<String> = windows
            .iter()
            .map(|&(day, start, end)| {
                if end > start {
                    format!(
                        "(context.day == {day} && context.minute >= {start} && context.minute < {end})"
                    )
                } else {
                    format!(
                        "(context.day == {day} && context.minute >= {start}) || \
                         (context.day == {} && context.minute < {end})",
                        (day + 1) % 7
                    )
                }
            })
            .collect();
        when.push(format!("({})", parts.join(" || ")));
    }
    for door in &access.doors {
        let text = format!(
            "permit(principal, action == Action::\"open\", resource == Door::\"{}\") when {{ {} && \
             ((context.direction == \"in\" && {}) || (context.direction == \"out\" && {})) }};\n",
            door.door,
            when.join(" && "),
            auth_condition(door.in_types),
            auth_condition(door.out_types),
        );
        out.entry(door.door).or_default().push_str(&text);
    }
}

struct CedarModel {
    all: PolicySet,
    by_door: HashMap<DoorId, PolicySet>,
    entities: Entities,
    users: HashMap<MembershipId, EntityUid>,
    doors: HashMap<DoorId, EntityUid>,
    open: EntityUid,
    zone: chrono_tz::Tz,
}

impl CedarModel {
    fn new(model: &Model) -> CedarModel {
        let mut texts: HashMap<DoorId, String> = HashMap::new();
        for access in &model.accesses {
            policies(model, access, &mut texts);
        }
        let mut all_text = String::new();
        for text in texts.values() {
            let _ = write!(all_text, "{text}");
        }
        let all = PolicySet::from_str(&all_text).expect("the policies parse");
        let by_door = texts
            .iter()
            .map(|(door, text)| (*door, PolicySet::from_str(text).unwrap()))
            .collect();
        let mut entities = Vec::new();
        for g in &model.groups {
            entities.push(Entity::new_no_attrs(uid("Group", g), HashSet::new()));
        }
        for (m, active, groups) in &model.members {
            let attrs =
                HashMap::from([("active".to_owned(), RestrictedExpression::new_bool(*active))]);
            let parents = groups.iter().map(|g| uid("Group", g)).collect();
            entities.push(Entity::new(uid("User", m), attrs, parents).unwrap());
        }
        for d in &model.doors {
            entities.push(Entity::new_no_attrs(uid("Door", d), HashSet::new()));
        }
        CedarModel {
            all,
            by_door,
            entities: Entities::from_entities(entities, None).unwrap(),
            users: model
                .members
                .iter()
                .map(|(m, ..)| (*m, uid("User", m)))
                .collect(),
            doors: model.doors.iter().map(|d| (*d, uid("Door", d))).collect(),
            open: uid("Action", "open"),
            zone: model.time_zone.parse().unwrap(),
        }
    }

    /// The request as Cedar takes it: the local day and minute worked out by the caller.
    fn request(&self, ask: &Ask) -> Request {
        let local = ask.at.with_timezone(&self.zone);
        let context = Context::from_pairs([
            (
                "now".to_owned(),
                RestrictedExpression::new_long(ask.at.timestamp()),
            ),
            (
                "day".to_owned(),
                RestrictedExpression::new_long(i64::from(local.weekday().num_days_from_monday())),
            ),
            (
                "minute".to_owned(),
                RestrictedExpression::new_long(i64::from(local.hour() * 60 + local.minute())),
            ),
            (
                "direction".to_owned(),
                RestrictedExpression::new_string(
                    match ask.direction {
                        Direction::In => "in",
                        Direction::Out => "out",
                    }
                    .to_owned(),
                ),
            ),
            (
                "auth".to_owned(),
                RestrictedExpression::new_string(ask.auth.as_str().to_owned()),
            ),
        ])
        .unwrap();
        Request::new(
            self.users[&ask.member].clone(),
            self.open.clone(),
            self.doors[&ask.door].clone(),
            context,
            None,
        )
        .unwrap()
    }

    fn allows(&self, authorizer: &Authorizer, ask: &Ask, sliced: bool) -> bool {
        let empty = PolicySet::new();
        let policies = if sliced {
            self.by_door.get(&ask.door).unwrap_or(&empty)
        } else {
            &self.all
        };
        let answer = authorizer.is_authorized(&self.request(ask), policies, &self.entities);
        answer.decision() == cedar_policy::Decision::Allow
    }
}

fn main() {
    let size = Size {
        members: 2_000,
        groups: 50,
        doors: 200,
        schedules: 20,
        accesses: 1_000,
        doors_per_access: 2,
        members_per_access: 3,
    };
    let model = Model::generate(size, 42);
    let rules = model.rules();
    let cedar = CedarModel::new(&model);
    let authorizer = Authorizer::new();
    let key = CredentialKey(String::new());
    let grants = |ask: &Ask| {
        matches!(
            rules.decide_member(ask.member, &ask.request(&key)),
            Decision::Granted { .. }
        )
    };

    // The two must decide alike before their speed means anything.
    let check = model.requests(20_000, 11);
    let disagree = check
        .iter()
        .filter(|ask| grants(ask) != cedar.allows(&authorizer, ask, true))
        .count();
    let full_disagree = check
        .iter()
        .take(500)
        .filter(|ask| grants(ask) != cedar.allows(&authorizer, ask, false))
        .count();
    let allowed = check.iter().filter(|ask| grants(ask)).count();
    println!(
        "model: {} accesses, {} grants, {} Cedar policies; {} of {} requests granted; \
         disagreements: {disagree} (sliced), {full_disagree} of 500 (whole set)",
        model.accesses.len(),
        rules.grant_count(),
        cedar.all.policies().count(),
        allowed,
        check.len()
    );
    assert_eq!(
        disagree + full_disagree,
        0,
        "Cedar and the engine must agree"
    );

    let asks = model.requests(200_000, 7);
    let engine = Latencies::measure(&asks, |ask| {
        std::hint::black_box(rules.decide_member(ask.member, &ask.request(&key)));
    });
    let sliced = Latencies::measure(&asks[..50_000], |ask| {
        std::hint::black_box(cedar.allows(&authorizer, ask, true));
    });
    let whole = Latencies::measure(&asks[..2_000], |ask| {
        std::hint::black_box(cedar.allows(&authorizer, ask, false));
    });
    println!("                      p50 ns     p99 ns    mean ns   mean vs engine");
    for (name, l) in [
        ("Lintel engine", &engine),
        ("Cedar, door slice", &sliced),
        ("Cedar, whole set", &whole),
    ] {
        println!(
            "{name:<18} {:>10.0} {:>10.0} {:>10.0} {:>12.0}x",
            l.percentile(0.5),
            l.percentile(0.99),
            l.mean(),
            l.mean() / engine.mean()
        );
    }
}
