//! The permission matrix: every route of an organization against each admin area, and against
//! a member who holds none. The table below is the documented rule of each route (README,
//! "Permissions"); a route the API serves but the table lacks fails the test, so a new route
//! cannot go unchecked.

use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::TestApp;
use crate::members::auth;

on_both_backends!(each_admin_area_opens_exactly_its_routes);

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Any member of the organization, with or without areas, and any of its keys.
    Anyone,
    /// Anyone holding at least one admin area.
    Admin,
    /// Holders of this area (or `owner`).
    Needs(Area),
    /// Holders of either area (or `owner`).
    Either(Area, Area),
    /// Holders of any of these areas (or `owner`).
    AnyOf(&'static [Area]),
    /// A person (a signed-in device), whatever their areas; never a key.
    Person,
    /// Only the operator.
    Operator,
}

impl Rule {
    fn allows(self, areas: &[Area], person: bool) -> bool {
        let holds = |a: Area| areas.contains(&a) || areas.contains(&Area::Owner);
        match self {
            Rule::Anyone => true,
            Rule::Admin => !areas.is_empty(),
            Rule::Needs(a) => holds(a),
            Rule::Either(a, b) => holds(a) || holds(b),
            Rule::AnyOf(list) => list.iter().any(|a| holds(*a)),
            Rule::Person => person,
            Rule::Operator => false,
        }
    }
}

/// The id placeholders of paths, filled with ids that exist nowhere: a permitted call then
/// answers `…_not_found`, a refused one `forbidden`, and nothing is changed.
const NOWHERE: &str = "0190f000-0000-7000-8000-00000000dead";

fn routes() -> Vec<(Method, &'static str, Option<Value>, Rule)> {
    use Rule::{Admin, AnyOf, Anyone, Either, Needs, Operator, Person};
    use lintel_domain::Area::{Api, Audit, Delegation, Doors, Members, Owner};
    vec![
        (Method::GET, "/api/v1/orgs", None, Anyone),
        (
            Method::POST,
            "/api/v1/orgs",
            Some(json!({ "slug": "new-org", "name": "New" })),
            Operator,
        ),
        (Method::GET, "/api/v1/orgs/{org_slug}", None, Anyone),
        (
            Method::PATCH,
            "/api/v1/orgs/{org_slug}",
            Some(json!({ "name": "Renamed" })),
            Needs(Owner),
        ),
        (Method::DELETE, "/api/v1/orgs/{org_slug}", None, Operator),
        (Method::GET, "/api/v1/orgs/{org_slug}/admins", None, Anyone),
        (Method::GET, "/api/v1/orgs/{org_slug}/sites", None, Admin),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/sites",
            Some(json!({ "name": "S" })),
            Needs(Doors),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/sites/{site_id}",
            None,
            Admin,
        ),
        (
            Method::PATCH,
            "/api/v1/orgs/{org_slug}/sites/{site_id}",
            Some(json!({ "name": "S" })),
            Needs(Doors),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/sites/{site_id}",
            None,
            Needs(Doors),
        ),
        (Method::GET, "/api/v1/orgs/{org_slug}/doors", None, Admin),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/doors",
            Some(json!({ "site_id": NOWHERE, "name": "D" })),
            Needs(Doors),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/doors/{door_id}",
            None,
            Admin,
        ),
        (
            Method::PATCH,
            "/api/v1/orgs/{org_slug}/doors/{door_id}",
            Some(json!({ "name": "D" })),
            Needs(Doors),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/doors/{door_id}",
            None,
            Needs(Doors),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/controllers",
            None,
            Admin,
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/controllers",
            Some(json!({ "site_id": NOWHERE, "name": "C" })),
            Needs(Doors),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/controllers/{controller_id}",
            None,
            Admin,
        ),
        (
            Method::PATCH,
            "/api/v1/orgs/{org_slug}/controllers/{controller_id}",
            Some(json!({ "name": "C" })),
            Needs(Doors),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/controllers/{controller_id}",
            None,
            Needs(Doors),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/controllers/{controller_id}/rotate-token",
            None,
            Needs(Doors),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/door-states",
            None,
            Admin,
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/controllers/{controller_id}/pairing-code",
            None,
            Needs(Doors),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/doors/{door_id}/unlock",
            Some(json!({})),
            Person,
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/doors/{door_id}/reader-proof",
            Some(json!({})),
            Person,
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/doors/{door_id}/remote-unlock",
            Some(json!({})),
            Needs(Doors),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/doors/{door_id}/who-can-open",
            None,
            AnyOf(&[Delegation, Members, Doors]),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/members/{member_id}/doors",
            None,
            Either(Delegation, Members),
        ),
        (Method::GET, "/api/v1/orgs/{org_slug}/accesses", None, Admin),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/accesses",
            Some(json!({ "name": "A", "doors": [{ "door_id": NOWHERE }] })),
            Needs(Delegation),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/accesses/batch",
            Some(json!({ "accesses": [{ "name": "A", "doors": [{ "door_id": NOWHERE }] }] })),
            Needs(Delegation),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/accesses/{access_id}",
            None,
            Admin,
        ),
        (
            Method::PATCH,
            "/api/v1/orgs/{org_slug}/accesses/{access_id}",
            Some(json!({ "name": "A" })),
            Needs(Delegation),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/accesses/{access_id}",
            None,
            Needs(Delegation),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/schedules",
            None,
            Admin,
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/schedules",
            Some(json!({ "name": "{unique}" })),
            Needs(Doors),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/schedules/{schedule_id}",
            None,
            Admin,
        ),
        (
            Method::PATCH,
            "/api/v1/orgs/{org_slug}/schedules/{schedule_id}",
            Some(json!({ "name": "S" })),
            Needs(Doors),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/schedules/{schedule_id}",
            None,
            Needs(Doors),
        ),
        (Method::GET, "/api/v1/orgs/{org_slug}/groups", None, Admin),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/groups",
            Some(json!({ "name": "G" })),
            Needs(Members),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/groups/{group_id}",
            None,
            Admin,
        ),
        (
            Method::PATCH,
            "/api/v1/orgs/{org_slug}/groups/{group_id}",
            Some(json!({ "name": "G" })),
            Needs(Members),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/groups/{group_id}",
            None,
            Needs(Members),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/members",
            None,
            Either(Members, Delegation),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/members/{member_id}",
            None,
            Either(Members, Delegation),
        ),
        (
            Method::PATCH,
            "/api/v1/orgs/{org_slug}/members/{member_id}",
            Some(json!({ "status": "active" })),
            Needs(Members),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/members/{member_id}",
            None,
            Needs(Members),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/invitations",
            None,
            Either(Members, Delegation),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/invitations",
            Some(json!({ "email": "{unique}@example.com" })),
            Needs(Members),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/invitations/{invitation_id}/resend",
            Some(json!({})),
            Needs(Members),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/invitations/{invitation_id}",
            None,
            Needs(Members),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/api-keys",
            None,
            Needs(Api),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/api-keys",
            Some(json!({ "name": "k", "areas": ["api"] })),
            Needs(Api),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/api-keys/{key_id}/revoke",
            Some(json!({})),
            Needs(Api),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/events",
            None,
            Needs(Audit),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/events.csv",
            None,
            Needs(Audit),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/cards",
            None,
            Needs(Delegation),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/cards",
            Some(json!({ "member_id": NOWHERE, "number": "1" })),
            Needs(Delegation),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/cards/{card_id}",
            None,
            Needs(Delegation),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/cards/{card_id}",
            None,
            Needs(Delegation),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/pins",
            None,
            Needs(Delegation),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/pins",
            Some(json!({ "member_id": NOWHERE, "site_id": NOWHERE })),
            Needs(Delegation),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/pins/{pin_id}",
            None,
            Needs(Delegation),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/pins/{pin_id}",
            None,
            Needs(Delegation),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/access-links",
            None,
            Needs(Delegation),
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/access-links",
            Some(json!({ "group_id": NOWHERE, "recipient_name": "G", "delivery": "manual" })),
            Needs(Delegation),
        ),
        (
            Method::GET,
            "/api/v1/orgs/{org_slug}/access-links/{link_id}",
            None,
            Needs(Delegation),
        ),
        (
            Method::DELETE,
            "/api/v1/orgs/{org_slug}/access-links/{link_id}",
            None,
            Needs(Delegation),
        ),
        (Method::GET, "/api/v1/orgs/{org_slug}/quotas", None, Admin),
        (
            Method::PUT,
            "/api/v1/orgs/{org_slug}/quotas",
            Some(json!({ "email_links": 5, "sms_links_per_month": 5 })),
            Operator,
        ),
        (
            Method::POST,
            "/api/v1/orgs/{org_slug}/doors/{door_id}/present",
            Some(json!({ "card": { "number": "1" } })),
            Needs(Doors),
        ),
    ]
}

/// Fills a route's placeholders.
fn concrete(template: &str, who: &str) -> String {
    let mut path = template.replace("{org_slug}", "acme");
    for id in [
        "schedule_id",
        "access_id",
        "site_id",
        "door_id",
        "controller_id",
        "group_id",
        "member_id",
        "invitation_id",
        "key_id",
        "card_id",
        "pin_id",
        "link_id",
    ] {
        path = path.replace(&format!("{{{id}}}"), NOWHERE);
    }
    path.replace("{unique}", who)
}

async fn each_admin_area_opens_exactly_its_routes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, owner_key) = app.org("acme").await;
    // Every organization route the API serves is in the table.
    let doc = serde_json::to_value(lintel_server::http::openapi()).unwrap();
    let table = routes();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/orgs") {
            continue;
        }
        for method in item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "parameters")
        {
            assert!(
                table
                    .iter()
                    .any(|(m, p, ..)| *p == path && m.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} has no row in the permission matrix"
            );
        }
    }

    // One key per area, and a member holding no area.
    let mut actors: Vec<(String, Vec<Area>, String)> = Vec::new();
    for area in Area::ALL {
        let key = app.key_for("acme", &[area]).await;
        actors.push((format!("{area} key"), vec![area], key));
    }
    app.invite(&owner_key, "acme", json!({ "email": "plain@example.com" }))
        .await;
    let plain = auth(&app.sign_up("plain@example.com", "+46703333333").await);
    actors.push(("member without areas".into(), vec![], plain));

    for (method, template, body, rule) in &table {
        for (who, areas, secret) in &actors {
            let path = concrete(template, &who.replace(' ', "-"));
            let body = body.as_ref().map(|b| {
                serde_json::from_str(&concrete(&b.to_string(), &who.replace(' ', "-"))).unwrap()
            });
            let (status, answer) = app.call(method.clone(), secret, &path, body).await;
            if rule.allows(areas, !who.ends_with(" key")) {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{who} must be allowed {method} {template}: {status} {answer}"
                );
                assert!(status.as_u16() < 500, "{method} {template}: {answer}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{who} must be refused {method} {template}: {answer}"
                );
                let code = answer["error"]["code"].as_str().unwrap_or_default();
                assert!(["forbidden", "device_only"].contains(&code), "{answer}");
            }
        }
    }
}
