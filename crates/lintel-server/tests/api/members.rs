//! Members, invitations and delegation (SPEC §3): invitations by email and SMS that attach on
//! sign-in or by their link, expiry and reuse, the last-owner rule, escalation attempts, and
//! a member's own view.

use chrono::Duration;
use lintel_domain::Area;
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, assert_error};

on_both_backends!(
    an_invitee_who_registers_with_the_invited_email_becomes_an_active_member,
    an_invitation_by_sms_attaches_when_that_phone_signs_in,
    an_invitation_link_is_accepted_once_and_then_is_gone,
    an_invitation_expires_after_a_week_and_a_resend_revives_it,
    a_revoked_invitation_is_gone,
    inviting_twice_or_inviting_a_member_is_refused,
    the_last_owner_cannot_leave_be_suspended_demoted_or_removed,
    two_owners_demoting_each_other_at_once_leave_one_owner,
    nobody_grants_or_takes_away_an_area_they_do_not_hold,
    a_suspended_member_holds_nothing_and_a_reinstated_one_everything_again,
    members_are_listed_searched_and_filtered,
    a_member_sees_their_memberships_and_who_administers,
    an_operator_creates_an_organization_with_its_first_owner,
);

pub(crate) const OWNER: &str = "owner@example.com";
pub(crate) const OWNER_PHONE: &str = "+46701111111";
const ADA: &str = "ada@example.com";
const ADA_PHONE: &str = "+46702222222";

pub fn auth(signed_in: &Value) -> String {
    signed_in["auth_token"].as_str().unwrap().to_owned()
}

impl TestApp {
    /// Invites `body` to `slug` and returns the new member (an invitation).
    pub async fn invite(&self, key: &str, slug: &str, body: Value) -> Value {
        let (status, member) = self
            .post(key, &format!("/api/v1/orgs/{slug}/invitations"), body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{member}");
        member
    }

    /// The token of the invitation link last sent to `to`.
    pub async fn invitation_token(&self, to: &str) -> String {
        let sent = self.deliver().await;
        let message = sent
            .iter()
            .rev()
            .find(|m| m.recipient == to && m.body.contains("/invitations/"))
            .unwrap_or_else(|| panic!("no invitation to {to}: {sent:?}"));
        let start = message.body.find("/invitations/").unwrap() + "/invitations/".len();
        message.body[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    /// An organization whose owner is a signed-in person; returns the owner's auth token.
    pub async fn org_with_owner(&self, slug: &str) -> String {
        let (_, key) = self.org(slug).await;
        self.invite(&key, slug, json!({ "email": OWNER, "areas": ["owner"] }))
            .await;
        auth(&self.sign_up(OWNER, OWNER_PHONE).await)
    }
}

async fn an_invitee_who_registers_with_the_invited_email_becomes_an_active_member(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    let (_, staff) = app
        .post(
            &owner,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Staff" }),
        )
        .await;
    let invited = app
        .invite(
            &owner,
            "acme",
            json!({ "email": "Ada@Example.com", "areas": ["members"], "groups": [staff["id"]] }),
        )
        .await;
    assert_eq!(invited["status"], "invited");
    assert_eq!(invited["invitation"]["address"], ADA);
    assert_eq!(invited["invitation"]["channel"], "email");
    assert!(invited["person"].is_null());

    let token = app.invitation_token(ADA).await;
    let (status, preview) = app.get("", &format!("/api/v1/invitations/{token}")).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["org_name"], "Org acme");

    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    let (_, member) = app
        .get(
            &owner,
            &format!(
                "/api/v1/orgs/acme/members/{}",
                invited["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(member["status"], "active", "{member}");
    assert_eq!(member["areas"], json!(["members"]));
    assert_eq!(member["groups"], json!([staff["id"]]));
    assert_eq!(member["person"]["email"], ADA);
    assert!(member["invitation"].is_null());

    // Her areas work: `members` lets her list members, but not create sites.
    assert_eq!(
        app.get(&ada, "/api/v1/orgs/acme/members").await.0,
        StatusCode::OK
    );
    let got = app
        .post(&ada, "/api/v1/orgs/acme/sites", json!({ "name": "HQ" }))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(got.1["error"]["details"]["area"], "doors");

    // The link is used up by the sign-in.
    assert_error(
        &app.get("", &format!("/api/v1/invitations/{token}")).await,
        StatusCode::NOT_FOUND,
        "invitation_not_found",
        None,
    );
}

async fn an_invitation_by_sms_attaches_when_that_phone_signs_in(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    let invited = app
        .invite(&owner, "acme", json!({ "phone": "+46 70 222 22 22" }))
        .await;
    assert_eq!(invited["invitation"]["address"], ADA_PHONE);
    assert_eq!(invited["invitation"]["channel"], "sms");
    let token = app.invitation_token(ADA_PHONE).await;
    assert!(token.starts_with("lni_"));

    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    let (_, mine) = app.get(&ada, "/api/v1/me/memberships").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["org_slug"], "acme");
    assert_eq!(mine[0]["status"], "active");
}

async fn an_invitation_link_is_accepted_once_and_then_is_gone(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    // Invited at a work address, accepted by an account with another email.
    app.invite(
        &owner,
        "acme",
        json!({ "email": "ada@work.example", "areas": ["audit"] }),
    )
    .await;
    let token = app.invitation_token("ada@work.example").await;
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    assert!(
        app.get(&ada, "/api/v1/me/memberships")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );

    let accept = format!("/api/v1/invitations/{token}/accept");
    let (status, joined) = app.post(&ada, &accept, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["org_slug"], "acme");
    assert_eq!(joined["areas"], json!(["audit"]));
    assert_eq!(
        app.get(&ada, "/api/v1/orgs/acme/events").await.0,
        StatusCode::OK
    );

    assert_error(
        &app.post(&ada, &accept, json!({})).await,
        StatusCode::NOT_FOUND,
        "invitation_not_found",
        None,
    );
    // Accepting needs a signed-in person, not a key.
    let (_, key) = app.org("other").await;
    assert_error(
        &app.post(&key, &accept, json!({})).await,
        StatusCode::FORBIDDEN,
        "device_only",
        None,
    );
}

async fn an_invitation_expires_after_a_week_and_a_resend_revives_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let invited = app.invite(&key, "acme", json!({ "email": ADA })).await;
    let token = app.invitation_token(ADA).await;
    app.clock.advance(Duration::days(7));
    assert_error(
        &app.get("", &format!("/api/v1/invitations/{token}")).await,
        StatusCode::GONE,
        "invitation_expired",
        None,
    );
    // An expired invitation does not attach on sign-in either.
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    assert_error(
        &app.post(
            &ada,
            &format!("/api/v1/invitations/{token}/accept"),
            json!({}),
        )
        .await,
        StatusCode::GONE,
        "invitation_expired",
        None,
    );
    assert!(
        app.get(&ada, "/api/v1/me/memberships")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );

    let id = invited["id"].as_str().unwrap();
    let (status, resent) = app
        .post(
            &key,
            &format!("/api/v1/orgs/acme/invitations/{id}/resend"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    let fresh = app.invitation_token(ADA).await;
    assert_ne!(fresh, token);
    // The old link stays dead; the new one works.
    assert_error(
        &app.get("", &format!("/api/v1/invitations/{token}")).await,
        StatusCode::NOT_FOUND,
        "invitation_not_found",
        None,
    );
    let (status, joined) = app
        .post(
            &ada,
            &format!("/api/v1/invitations/{fresh}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
}

async fn a_revoked_invitation_is_gone(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = app.org("acme").await;
    let invited = app.invite(&key, "acme", json!({ "email": ADA })).await;
    let token = app.invitation_token(ADA).await;
    let id = invited["id"].as_str().unwrap();
    let (_, pending) = app.get(&key, "/api/v1/orgs/acme/invitations").await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.delete(&key, &format!("/api/v1/orgs/acme/invitations/{id}"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &app.get("", &format!("/api/v1/invitations/{token}")).await,
        StatusCode::NOT_FOUND,
        "invitation_not_found",
        None,
    );
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    assert!(
        app.get(&ada, "/api/v1/me/memberships")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_error(
        &app.delete(&key, &format!("/api/v1/orgs/acme/invitations/{id}"))
            .await,
        StatusCode::NOT_FOUND,
        "invitation_not_found",
        None,
    );
}

async fn inviting_twice_or_inviting_a_member_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    app.invite(&owner, "acme", json!({ "email": ADA })).await;
    assert_error(
        &app.post(
            &owner,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": ADA }),
        )
        .await,
        StatusCode::CONFLICT,
        "already_invited",
        Some("address"),
    );
    assert_error(
        &app.post(
            &owner,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": OWNER }),
        )
        .await,
        StatusCode::CONFLICT,
        "already_member",
        Some("address"),
    );
    for (body, code, field) in [
        (json!({}), "one_address_required", "email"),
        (
            json!({ "email": ADA, "phone": ADA_PHONE }),
            "one_address_required",
            "email",
        ),
        (json!({ "email": "not an email" }), "invalid_email", "email"),
        (
            json!({ "email": "b@example.com", "areas": ["root"] }),
            "unknown_area",
            "areas",
        ),
    ] {
        let got = app
            .post(&owner, "/api/v1/orgs/acme/invitations", body.clone())
            .await;
        assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", got.1);
        assert_eq!(got.1["error"]["code"], code, "{body}: {}", got.1);
        assert_eq!(got.1["error"]["field"], field, "{body}");
    }
    let (_, other) = app.org("other").await;
    let (_, their_group) = app
        .post(
            &other,
            "/api/v1/orgs/other/groups",
            json!({ "name": "Theirs" }),
        )
        .await;
    assert_error(
        &app.post(
            &owner,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": "b@example.com", "groups": [their_group["id"]] }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reference_not_found",
        Some("groups"),
    );
}

async fn the_last_owner_cannot_leave_be_suspended_demoted_or_removed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    let (_, members) = app.get(&owner, "/api/v1/orgs/acme/members").await;
    let me = members["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/orgs/acme/members/{me}");
    for body in [
        json!({ "status": "suspended" }),
        json!({ "areas": ["members"] }),
    ] {
        assert_error(
            &app.patch(&owner, &path, body).await,
            StatusCode::CONFLICT,
            "last_owner",
            None,
        );
    }
    assert_error(
        &app.delete(&owner, &path).await,
        StatusCode::CONFLICT,
        "last_owner",
        None,
    );
    assert_error(
        &app.delete(&owner, "/api/v1/me/memberships/acme").await,
        StatusCode::CONFLICT,
        "last_owner",
        None,
    );
    // Deleting the account is refused too, naming the organization.
    let (status, body) = app.post(&owner, "/api/v1/me/delete", json!({})).await;
    assert_error(&(status, body), StatusCode::CONFLICT, "last_owner", None);

    // With a second owner, the first may go.
    app.invite(&owner, "acme", json!({ "email": ADA, "areas": ["owner"] }))
        .await;
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    assert_eq!(
        app.delete(&owner, "/api/v1/me/memberships/acme").await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &app.get(&owner, "/api/v1/orgs/acme").await,
        StatusCode::NOT_FOUND,
        "organization_not_found",
        None,
    );
    assert_eq!(app.get(&ada, "/api/v1/orgs/acme").await.0, StatusCode::OK);
}

async fn nobody_grants_or_takes_away_an_area_they_do_not_hold(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    app.invite(
        &owner,
        "acme",
        json!({ "email": ADA, "areas": ["members"] }),
    )
    .await;
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    let forbidden = |got: &(StatusCode, Value), area: &str| {
        assert_error(got, StatusCode::FORBIDDEN, "forbidden", None);
        assert_eq!(got.1["error"]["details"]["area"], area, "{}", got.1);
    };

    // Inviting with areas she lacks.
    let got = app
        .post(
            &ada,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": "b@example.com", "areas": ["owner"] }),
        )
        .await;
    forbidden(&got, "owner");
    let got = app
        .post(
            &ada,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": "b@example.com", "areas": ["members", "api"] }),
        )
        .await;
    forbidden(&got, "api");
    // Granting herself more.
    let (_, list) = app.get(&ada, "/api/v1/orgs/acme/members?q=ada").await;
    let her = list["items"][0]["id"].as_str().unwrap().to_owned();
    let got = app
        .patch(
            &ada,
            &format!("/api/v1/orgs/acme/members/{her}"),
            json!({ "areas": ["members", "owner"] }),
        )
        .await;
    forbidden(&got, "owner");
    // Acting on the owner, who outranks her.
    let (_, list) = app.get(&ada, "/api/v1/orgs/acme/members?area=owner").await;
    let boss = list["items"][0]["id"].as_str().unwrap().to_owned();
    let boss_path = format!("/api/v1/orgs/acme/members/{boss}");
    forbidden(
        &app.patch(&ada, &boss_path, json!({ "status": "suspended" }))
            .await,
        "owner",
    );
    forbidden(&app.delete(&ada, &boss_path).await, "owner");
    // What she holds she may hand out.
    let got = app
        .post(
            &ada,
            "/api/v1/orgs/acme/invitations",
            json!({ "email": "b@example.com", "areas": ["members"] }),
        )
        .await;
    assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);

    // Keys: a key with `api` and `doors` cannot mint an owner key, nor revoke one.
    let (_, key) = app.org("keys").await;
    let limited = app.key_for("keys", &[Area::Api, Area::Doors]).await;
    let got = app
        .post(
            &limited,
            "/api/v1/orgs/keys/api-keys",
            json!({ "name": "x", "areas": ["owner"] }),
        )
        .await;
    forbidden(&got, "owner");
    let (_, keys) = app.get(&limited, "/api/v1/orgs/keys/api-keys").await;
    let owner_key = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["areas"] == json!(["owner"]))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    forbidden(
        &app.post(
            &limited,
            &format!("/api/v1/orgs/keys/api-keys/{owner_key}/revoke"),
            json!({}),
        )
        .await,
        "owner",
    );
    assert_eq!(app.get(&key, "/api/v1/orgs/keys").await.0, StatusCode::OK);
}

async fn a_suspended_member_holds_nothing_and_a_reinstated_one_everything_again(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    let invited = app
        .invite(&owner, "acme", json!({ "email": ADA, "areas": ["doors"] }))
        .await;
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    let path = format!(
        "/api/v1/orgs/acme/members/{}",
        invited["id"].as_str().unwrap()
    );
    assert_eq!(
        app.get(&ada, "/api/v1/orgs/acme/sites").await.0,
        StatusCode::OK
    );

    let (status, suspended) = app
        .patch(&owner, &path, json!({ "status": "suspended" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{suspended}");
    assert_eq!(suspended["status"], "suspended");
    assert_error(
        &app.get(&ada, "/api/v1/orgs/acme/sites").await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    // She still sees whom to ask.
    assert_eq!(
        app.get(&ada, "/api/v1/orgs/acme/admins").await.0,
        StatusCode::OK
    );

    app.patch(&owner, &path, json!({ "status": "active" }))
        .await;
    assert_eq!(
        app.get(&ada, "/api/v1/orgs/acme/sites").await.0,
        StatusCode::OK
    );
    assert_error(
        &app.patch(&owner, &path, json!({ "status": "invited" }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_status",
        Some("status"),
    );

    assert_eq!(app.delete(&owner, &path).await.0, StatusCode::NO_CONTENT);
    assert_error(
        &app.get(&ada, "/api/v1/orgs/acme/sites").await,
        StatusCode::NOT_FOUND,
        "organization_not_found",
        None,
    );
}

async fn members_are_listed_searched_and_filtered(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    let (_, staff) = app
        .post(
            &owner,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Staff" }),
        )
        .await;
    app.invite(
        &owner,
        "acme",
        json!({ "email": ADA, "groups": [staff["id"]] }),
    )
    .await;
    app.invite(
        &owner,
        "acme",
        json!({ "email": "grace_100%@example.com", "areas": ["audit"] }),
    )
    .await;
    app.sign_up(ADA, ADA_PHONE).await;

    let count = |query: &'static str| {
        let app = &app;
        let owner = owner.clone();
        async move {
            let (status, page) = app
                .get(&owner, &format!("/api/v1/orgs/acme/members{query}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            page["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("").await, 3);
    assert_eq!(count("?status=invited").await, 1);
    assert_eq!(count("?status=active").await, 2);
    assert_eq!(count("?area=audit").await, 1);
    assert_eq!(count("?area=owner").await, 1);
    assert_eq!(
        count("?q=LOVELACE").await,
        2,
        "both signed-up people are named Ada Lovelace"
    );
    assert_eq!(count("?q=ada@").await, 1);
    assert_eq!(count("?q=100%25").await, 1, "% is matched literally");
    assert_eq!(count("?q=_").await, 1, "_ is matched literally");
    let by_group = format!("?group={}", staff["id"].as_str().unwrap());
    let (_, page) = app
        .get(&owner, &format!("/api/v1/orgs/acme/members{by_group}"))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["person"]["email"], ADA);

    let (_, first) = app.get(&owner, "/api/v1/orgs/acme/members?limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .get(
            &owner,
            &format!("/api/v1/orgs/acme/members?limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());

    for (query, code, field) in [
        ("?status=gone", "unknown_status", "status"),
        ("?area=root", "unknown_area", "area"),
    ] {
        let got = app
            .get(&owner, &format!("/api/v1/orgs/acme/members{query}"))
            .await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, code, Some(field));
    }
}

async fn a_member_sees_their_memberships_and_who_administers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let owner = app.org_with_owner("acme").await;
    app.invite(&owner, "acme", json!({ "email": ADA })).await;
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);

    let (_, mine) = app.get(&ada, "/api/v1/me/memberships").await;
    assert_eq!(mine[0]["org_slug"], "acme");
    assert_eq!(mine[0]["areas"], json!([]));
    let (_, orgs) = app.get(&ada, "/api/v1/orgs").await;
    assert_eq!(orgs["items"][0]["slug"], "acme");

    // A member without areas reads the organization and its admins, nothing else.
    assert_eq!(app.get(&ada, "/api/v1/orgs/acme").await.0, StatusCode::OK);
    assert_error(
        &app.get(&ada, "/api/v1/orgs/acme/doors").await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    let (status, admins) = app.get(&ada, "/api/v1/orgs/acme/admins").await;
    assert_eq!(status, StatusCode::OK, "{admins}");
    assert_eq!(admins.as_array().unwrap().len(), 1);
    assert_eq!(admins[0]["email"], OWNER);
    assert!(admins[0]["phone"].is_null(), "phones are hidden by default");
    app.patch(
        &owner,
        "/api/v1/orgs/acme",
        json!({ "settings": { "show_admin_email": false, "show_admin_phone": true } }),
    )
    .await;
    let (_, admins) = app.get(&ada, "/api/v1/orgs/acme/admins").await;
    assert!(admins[0]["email"].is_null());
    assert_eq!(admins[0]["phone"], OWNER_PHONE);

    assert_eq!(
        app.delete(&ada, "/api/v1/me/memberships/acme").await.0,
        StatusCode::NO_CONTENT
    );
    assert!(
        app.get(&ada, "/api/v1/me/memberships")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_error(
        &app.delete(&ada, "/api/v1/me/memberships/acme").await,
        StatusCode::NOT_FOUND,
        "organization_not_found",
        None,
    );
}

async fn an_operator_creates_an_organization_with_its_first_owner(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let operator = app.key(None, &[]).await;
    let (status, org) = app
        .post(
            &operator,
            "/api/v1/orgs",
            json!({ "slug": "acme", "name": "Acme", "owner": { "email": OWNER } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    // The owner's invitation waits however long it takes.
    app.clock.advance(Duration::days(30));
    let owner = auth(&app.sign_up(OWNER, OWNER_PHONE).await);
    let (_, mine) = app.get(&owner, "/api/v1/me/memberships").await;
    assert_eq!(mine[0]["areas"], json!(["owner"]), "{mine}");
    assert_eq!(
        app.post(&owner, "/api/v1/orgs/acme/sites", json!({ "name": "HQ" }))
            .await
            .0,
        StatusCode::CREATED
    );
    let got = app
        .post(
            &operator,
            "/api/v1/orgs",
            json!({ "slug": "beta", "name": "Beta", "owner": { "email": "nope" } }),
        )
        .await;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_email",
        Some("email"),
    );
    assert_error(
        &app.get(&operator, "/api/v1/orgs/beta").await,
        StatusCode::NOT_FOUND,
        "organization_not_found",
        None,
    );
}

async fn two_owners_demoting_each_other_at_once_leave_one_owner(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let olive = app.org_with_owner("acme").await;
    app.invite(&olive, "acme", json!({ "email": ADA, "areas": ["owner"] }))
        .await;
    let ada = auth(&app.sign_up(ADA, ADA_PHONE).await);
    let (_, list) = app
        .get(&olive, "/api/v1/orgs/acme/members?area=owner")
        .await;
    let id_of = |email: &str| {
        let items = list["items"].as_array().unwrap();
        let m = items
            .iter()
            .find(|m| m["person"]["email"] == email)
            .unwrap();
        format!("/api/v1/orgs/acme/members/{}", m["id"].as_str().unwrap())
    };
    let (olive_path, ada_path) = (id_of(OWNER), id_of(ADA));
    let demote = json!({ "areas": ["members"] });
    for round in 0..10 {
        let (a, b) = tokio::join!(
            app.patch(&olive, &ada_path, demote.clone()),
            app.patch(&ada, &olive_path, demote.clone()),
        );
        let won: Vec<_> = [&a, &b]
            .iter()
            .filter(|r| r.0 == StatusCode::OK)
            .map(|r| r.0)
            .collect();
        assert_eq!(won.len(), 1, "round {round}: exactly one wins: {a:?} {b:?}");
        for lost in [&a, &b].into_iter().filter(|r| r.0 != StatusCode::OK) {
            assert!(
                [StatusCode::CONFLICT, StatusCode::FORBIDDEN].contains(&lost.0),
                "round {round}: {lost:?}"
            );
        }
        // The winner, still an owner, makes the other an owner again.
        let (winner, loser_path) = if a.0 == StatusCode::OK {
            (&olive, &ada_path)
        } else {
            (&ada, &olive_path)
        };
        let back = app
            .patch(winner, loser_path, json!({ "areas": ["owner"] }))
            .await;
        assert_eq!(back.0, StatusCode::OK, "{}", back.1);
    }
}
