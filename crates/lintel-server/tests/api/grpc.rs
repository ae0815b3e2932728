//! The gRPC API through a client generated from the repository's `.proto` files: every RPC,
//! the error mapping, tenant isolation, idempotent creates, token rotation and the event
//! stream. The server is the same in-process one as the HTTP tests'; gRPC shares its port.

use chrono::Duration;
use lintel_domain::Area;
use lintel_server::grpc::pb::access_body::{Kind, Status as PbStatus};
use lintel_server::grpc::pb::accesses_service_client::AccessesServiceClient;
use lintel_server::grpc::pb::auth_service_client::AuthServiceClient;
use lintel_server::grpc::pb::doors_service_client::DoorsServiceClient;
use lintel_server::grpc::pb::{self, AccessBody, AccessDoor, AccessGroup, AccessUser};
use lintel_testkit::{Backend, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

use crate::TestApp;
use crate::unlocking::{Place, acme};

on_both_backends!(
    tokens_rotate_and_a_reused_reissue_token_ends_the_session,
    accesses_keep_the_reference_fields_through_every_rpc,
    a_repeated_create_with_the_same_uuid_creates_nothing,
    a_batch_is_all_or_nothing_and_names_the_failing_item,
    refusals_map_to_grpc_codes,
    other_organizations_are_invisible,
    remote_open_decides_and_the_event_stream_follows,
    every_rpc_needs_the_area_its_http_twin_needs,
    controllers_and_their_live_state_are_read_by_uuid_or_by_page,
);

async fn channel(app: &TestApp) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// `msg` with `authorization: Bearer <token>`.
fn authed<T>(token: &str, msg: T) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req
}

/// Asserts a refusal: its code, its rule (first in the message and the ErrorInfo's reason)
/// and the field it names, if any.
#[track_caller]
fn refused(status: &Status, code: Code, rule: &str, field: Option<&str>) {
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().starts_with(&format!("{rule}: ")),
        "{status:?}"
    );
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo in the details");
    assert_eq!(info.reason, rule);
    assert_eq!(
        info.metadata.get("field").map(String::as_str),
        field,
        "{status:?}"
    );
    if let (Some(field), Code::InvalidArgument) = (field, code) {
        let bad = details.bad_request().expect("BadRequest in the details");
        assert_eq!(bad.field_violations[0].field, field);
    }
}

fn door(uuid: &str) -> AccessDoor {
    AccessDoor {
        door_uuid: uuid.to_owned(),
        in_auth_types: vec!["mobile".into(), "card".into()],
        ..AccessDoor::default()
    }
}

/// An access as a client written for the reference messages sends it.
fn reference_body(p: &Place, uuid: &str, name: &str) -> AccessBody {
    AccessBody {
        uuid: uuid.to_owned(),
        name: name.to_owned(),
        kind: Kind::Temporary as i32,
        preferences: [("source".to_owned(), "grpc".to_owned())].into(),
        valid_from: Some(prost_types::Timestamp {
            seconds: 1_772_409_600, // 2026-03-02 00:00 UTC
            nanos: 123_456_789,
        }),
        valid_to: Some(prost_types::Timestamp {
            seconds: 1_775_001_600, // 2026-04-01 00:00 UTC
            nanos: 0,
        }),
        doors: vec![door(&p.front)],
        users: vec![AccessUser {
            user_uuid: p.ada_member.clone(),
            ..AccessUser::default()
        }],
        description: "visiting engineers".into(),
        welcome_email_required: Some(true),
        ..AccessBody::default()
    }
}

/// Creates one access of the reference's shape in acme with the fixture's owner key; the
/// answer's bodies.
async fn create_one(
    client: &mut AccessesServiceClient<Channel>,
    p: &Place,
    name: &str,
) -> Vec<AccessBody> {
    client
        .create_accesses(authed(
            &p.key,
            create("acme", vec![reference_body(p, "", name)]),
        ))
        .await
        .unwrap()
        .into_inner()
        .access_bodies
}

fn create(slug: &str, bodies: Vec<AccessBody>) -> pb::CreateAccessesRequest {
    pb::CreateAccessesRequest {
        organization_slug: slug.to_owned(),
        access_bodies: bodies,
        read_mask: None,
    }
}

fn delete(slug: &str, uuids: Vec<String>) -> pb::DeleteAccessesRequest {
    pb::DeleteAccessesRequest {
        organization_slug: slug.to_owned(),
        uuids,
        read_mask: None,
    }
}

/// An update of `bodies`, of the fields in `mask` (all when empty).
fn update(slug: &str, bodies: Vec<AccessBody>, mask: &[&str]) -> pb::UpdateAccessesRequest {
    pb::UpdateAccessesRequest {
        organization_slug: slug.to_owned(),
        access_bodies: bodies,
        update_mask: (!mask.is_empty()).then(|| prost_types::FieldMask {
            paths: mask.iter().map(|p| (*p).to_owned()).collect(),
        }),
        read_mask: None,
    }
}

/// A remote open of `door` without location or PIN.
fn open_door(slug: &str, door: impl Into<String>) -> pb::RemoteOpenRequest {
    pb::RemoteOpenRequest {
        organization_slug: slug.to_owned(),
        door_uuid: door.into(),
        ..pb::RemoteOpenRequest::default()
    }
}

fn get(slug: &str, uuids: &[&str]) -> pb::GetAccessesRequest {
    pb::GetAccessesRequest {
        organization_slug: slug.to_owned(),
        uuids: uuids.iter().map(|u| (*u).to_owned()).collect(),
        ..pb::GetAccessesRequest::default()
    }
}

async fn tokens_rotate_and_a_reused_reissue_token_ends_the_session(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, _) = app.org("acme").await;
    let key = app.key_for("acme", &[Area::Delegation]).await;
    let mut auth = AuthServiceClient::new(channel(&app).await);
    let mut accesses = AccessesServiceClient::new(channel(&app).await);

    for wrong in ["", "lnt_nope", "lkr_x", &key.replace("lnt_", "lnt_x")] {
        let err = auth
            .authenticate(pb::AuthenticateRequest {
                api_key: wrong.to_owned(),
            })
            .await
            .unwrap_err();
        refused(&err, Code::Unauthenticated, "unauthenticated", None);
    }
    let first = auth
        .authenticate(pb::AuthenticateRequest {
            api_key: key.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(first.auth_token.starts_with("lkt_"));
    assert!(first.reissue_token.starts_with("lkr_"));
    assert_eq!(
        first.expires_at.unwrap().seconds,
        (lintel_domain::Clock::now(&app.clock) + Duration::minutes(15)).timestamp()
    );
    // The auth token acts as the key, and so does the key itself.
    for token in [&first.auth_token, &key] {
        accesses
            .get_accesses(authed(token, get("acme", &[])))
            .await
            .unwrap();
    }
    // It works over HTTP too: one authentication for both APIs.
    let (status, _) = app
        .get(&first.auth_token, "/api/v1/orgs/acme/accesses")
        .await;
    assert_eq!(status, StatusCode::OK);

    // Expired: told apart from unknown, so the client reissues.
    app.clock.advance(Duration::minutes(16));
    let err = accesses
        .get_accesses(authed(&first.auth_token, get("acme", &[])))
        .await
        .unwrap_err();
    refused(&err, Code::Unauthenticated, "token_expired", None);

    let second = auth
        .reissue(pb::ReissueRequest {
            reissue_token: first.reissue_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.auth_token, first.auth_token);
    accesses
        .get_accesses(authed(&second.auth_token, get("acme", &[])))
        .await
        .unwrap();
    // The first reissue token again: it was copied, so the whole session ends.
    let err = auth
        .reissue(pb::ReissueRequest {
            reissue_token: first.reissue_token.clone(),
        })
        .await
        .unwrap_err();
    refused(&err, Code::Unauthenticated, "unauthenticated", None);
    let err = accesses
        .get_accesses(authed(&second.auth_token, get("acme", &[])))
        .await
        .unwrap_err();
    refused(&err, Code::Unauthenticated, "unauthenticated", None);
    let err = auth
        .reissue(pb::ReissueRequest {
            reissue_token: second.reissue_token,
        })
        .await
        .unwrap_err();
    refused(&err, Code::Unauthenticated, "unauthenticated", None);

    // Revoking the key ends the tokens traded for it.
    let third = auth
        .authenticate(pb::AuthenticateRequest {
            api_key: key.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let owner = app.key_for("acme", &[Area::Owner]).await;
    let (_, keys) = app.get(&owner, "/api/v1/orgs/acme/api-keys").await;
    let id = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| key.starts_with(k["prefix"].as_str().unwrap()))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .post(
            &owner,
            &format!("/api/v1/orgs/acme/api-keys/{id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let err = accesses
        .get_accesses(authed(&third.auth_token, get("acme", &[])))
        .await
        .unwrap_err();
    refused(&err, Code::Unauthenticated, "unauthenticated", None);
    let err = auth
        .reissue(pb::ReissueRequest {
            reissue_token: third.reissue_token,
        })
        .await
        .unwrap_err();
    refused(&err, Code::Unauthenticated, "unauthenticated", None);
}

async fn accesses_keep_the_reference_fields_through_every_rpc(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let mut client = AccessesServiceClient::new(channel(&app).await);
    let uuid = "0190f3a2-5c1e-7d4b-9a8e-1f2c3d4e5f60";
    let created = client
        .create_accesses(authed(
            &p.key,
            create("acme", vec![reference_body(&p, uuid, "Engineers")]),
        ))
        .await
        .unwrap()
        .into_inner()
        .access_bodies;
    assert_eq!(created.len(), 1);
    let a = &created[0];
    assert_eq!(a.uuid, uuid);
    assert_eq!(a.name, "Engineers");
    assert_eq!(a.kind, Kind::Temporary as i32);
    assert_eq!(a.status, PbStatus::Ready as i32);
    assert_eq!(a.preferences["source"], "grpc");
    assert_eq!(a.valid_from.unwrap().seconds, 1_772_409_600);
    assert_eq!(a.valid_to.unwrap().seconds, 1_775_001_600);
    assert_eq!(a.doors[0].door_uuid, p.front);
    assert_eq!(a.doors[0].access_uuid, uuid);
    assert_eq!(a.doors[0].in_auth_types, ["mobile", "card"]);
    assert_eq!(a.users[0].user_uuid, p.ada_member);
    assert_eq!(a.description, "visiting engineers");
    assert_eq!(a.welcome_email_required, Some(true));
    assert!(a.created_at.is_some() && a.updated_at.is_some());

    // The same access over HTTP, and the welcome email went out.
    let (status, over_http) = app
        .get(&p.key, &format!("/api/v1/orgs/acme/accesses/{uuid}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{over_http}");
    assert_eq!(over_http["name"], "Engineers");
    let welcomes = app.deliver().await;
    assert!(
        welcomes
            .iter()
            .any(|m| m.body.contains("Engineers") && m.body.contains("Front")),
        "{welcomes:?}"
    );

    // Read back by uuid; listed a page at a time (two accesses from the fixture, one here).
    let read = client
        .get_accesses(authed(&p.key, get("acme", &[uuid])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.access_bodies, created);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .get_accesses(authed(
                &p.key,
                pb::GetAccessesRequest {
                    organization_slug: "acme".into(),
                    page_size: 2,
                    page_token: token.clone(),
                    ..pb::GetAccessesRequest::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.access_bodies.len() <= 2);
        seen.extend(page.access_bodies.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    seen.sort();
    assert_eq!(seen, ["Engineers", "Night shift", "Staff"]);

    // An update with a mask changes what it names and keeps the rest.
    let (_, group) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/groups",
            json!({ "name": "Visitors" }),
        )
        .await;
    let group = group["id"].as_str().unwrap().to_owned();
    let change = AccessBody {
        uuid: uuid.into(),
        name: "Engineers (renamed)".into(),
        groups: vec![AccessGroup {
            group_uuid: group.clone(),
            ..AccessGroup::default()
        }],
        description: "ignored: not in the mask".into(),
        ..AccessBody::default()
    };
    let updated = client
        .update_accesses(authed(
            &p.key,
            update("acme", vec![change.clone()], &["name", "groups"]),
        ))
        .await
        .unwrap()
        .into_inner()
        .access_bodies;
    assert_eq!(updated[0].name, "Engineers (renamed)");
    assert_eq!(updated[0].groups[0].group_uuid, group);
    assert_eq!(updated[0].description, "visiting engineers");
    assert_eq!(updated[0].doors, created[0].doors);
    // An unknown path is refused, naming it.
    let err = client
        .update_accesses(authed(
            &p.key,
            update("acme", vec![change.clone()], &["name", "status"]),
        ))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "unknown_field",
        Some("update_mask.paths[1]"),
    );
    // Without a mask the body replaces the access: here without doors, which is refused.
    let err = client
        .update_accesses(authed(&p.key, update("acme", vec![change], &[])))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "required",
        Some("access_bodies[0].doors"),
    );

    // Deleted: kept on record, answered with its status, no longer listed.
    let deleted = client
        .delete_accesses(authed(&p.key, delete("acme", vec![uuid.into()])))
        .await
        .unwrap()
        .into_inner()
        .access_bodies;
    assert_eq!(deleted[0].status, PbStatus::Deleted as i32);
    let read = client
        .get_accesses(authed(&p.key, get("acme", &[uuid])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.access_bodies[0].status, PbStatus::Deleted as i32);
    let all = client
        .get_accesses(authed(&p.key, get("acme", &[])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.access_bodies.len(), 2);
}

async fn created_events(app: &TestApp, key: &str) -> usize {
    let (_, log) = app
        .get(
            key,
            "/api/v1/orgs/acme/events?kind=access.created&limit=200",
        )
        .await;
    log["items"].as_array().unwrap().len()
}

async fn a_repeated_create_with_the_same_uuid_creates_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let mut client = AccessesServiceClient::new(channel(&app).await);
    let uuid = "0190f3a2-5c1e-7d4b-9a8e-1f2c3d4e5f61";
    let body = reference_body(&p, uuid, "Engineers");
    let first = client
        .create_accesses(authed(&p.key, create("acme", vec![body.clone()])))
        .await
        .unwrap()
        .into_inner();
    app.deliver().await;
    let before = created_events(&app, &p.key).await;
    // A retry, as after a lost answer, later: the stored access comes back, nothing new is
    // written and nobody is welcomed twice.
    app.clock.advance(Duration::minutes(5));
    let again = client
        .create_accesses(authed(&p.key, create("acme", vec![body.clone()])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, first);
    assert_eq!(created_events(&app, &p.key).await, before);
    assert!(app.deliver().await.is_empty());
    // Also inside a batch with a new access: only the new one is created.
    let fresh = reference_body(&p, "0190f3a2-5c1e-7d4b-9a8e-1f2c3d4e5f62", "Cleaners");
    let mixed = client
        .create_accesses(authed(&p.key, create("acme", vec![body.clone(), fresh])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mixed.access_bodies[0], first.access_bodies[0]);
    assert_eq!(mixed.access_bodies[1].name, "Cleaners");
    assert_eq!(created_events(&app, &p.key).await, before + 1);

    // The same uuid with another body is refused, naming it.
    let mut other = body.clone();
    other.name = "Someone else's".into();
    let err = client
        .create_accesses(authed(&p.key, create("acme", vec![other])))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::AlreadyExists,
        "access_exists",
        Some("access_bodies[0].uuid"),
    );
    // An id is its organization's own: another organization takes the same uuid for an
    // access of its own, learning nothing of acme's, and acme's is untouched.
    let (_, _) = app.org("globex").await;
    let globex = app.key_for("globex", &[Area::Owner]).await;
    let site = app.site(&globex, "globex", "Plant").await;
    let globex_door = app.door(&globex, "globex", &site, "Gate").await;
    let mut copy = body.clone();
    copy.name = "Globex's".into();
    copy.doors = vec![door(&globex_door)];
    copy.users.clear();
    let theirs = client
        .create_accesses(authed(&globex, create("globex", vec![copy])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(theirs.access_bodies[0].uuid, uuid);
    assert_eq!(theirs.access_bodies[0].name, "Globex's");
    let read = client
        .get_accesses(authed(&p.key, get("acme", &[uuid])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.access_bodies, first.access_bodies);
    let read = client
        .get_accesses(authed(&globex, get("globex", &[uuid])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.access_bodies, theirs.access_bodies);
    // A uuid twice in one batch.
    let twice = reference_body(&p, "0190f3a2-5c1e-7d4b-9a8e-1f2c3d4e5f63", "Twice");
    let err = client
        .create_accesses(authed(&p.key, create("acme", vec![twice.clone(), twice])))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "duplicate_id",
        Some("access_bodies[1].uuid"),
    );
}

async fn a_batch_is_all_or_nothing_and_names_the_failing_item(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let mut client = AccessesServiceClient::new(channel(&app).await);
    let list = |n: usize| -> Vec<AccessBody> {
        (0..n)
            .map(|i| {
                let mut b = reference_body(&p, "", &format!("Batch {i}"));
                b.welcome_email_required = None;
                b
            })
            .collect()
    };
    let count = |client: &mut AccessesServiceClient<Channel>| {
        let mut client = client.clone();
        let key = p.key.clone();
        async move {
            client
                .get_accesses(authed(&key, get("acme", &[])))
                .await
                .unwrap()
                .into_inner()
                .access_bodies
                .len()
        }
    };
    let before = count(&mut client).await;

    type Spoil = Box<dyn Fn(&mut AccessBody)>;
    let cases: Vec<(Spoil, Code, &str, &str)> = vec![
        (
            Box::new(|b| b.doors[0].door_uuid = "0190f3a2-0000-7000-8000-000000000000".into()),
            Code::InvalidArgument,
            "reference_not_found",
            "access_bodies[2].doors[0].door_uuid",
        ),
        (
            Box::new(|b| b.doors[0].door_uuid = "front".into()),
            Code::InvalidArgument,
            "invalid_uuid",
            "access_bodies[2].doors[0].door_uuid",
        ),
        (
            Box::new(|b| b.valid_to = None),
            Code::InvalidArgument,
            "temporary_access_needs_valid_to",
            "access_bodies[2].valid_to",
        ),
        (
            Box::new(|b| b.users[0].user_uuid = "0190f3a2-0000-7000-8000-000000000001".into()),
            Code::InvalidArgument,
            "reference_not_found",
            "access_bodies[2].users[0].user_uuid",
        ),
        (
            Box::new(|b| b.doors[0].out_auth_types = vec!["retina".into()]),
            Code::InvalidArgument,
            "unknown_auth_type",
            "access_bodies[2].doors[0].out_auth_types[0]",
        ),
        (
            Box::new(|b| b.kind = 7),
            Code::InvalidArgument,
            "unknown_kind",
            "access_bodies[2].kind",
        ),
        (
            Box::new(|b| {
                b.schedule = Some(pb::Schedule {
                    uuid: "0190f3a2-0000-7000-8000-000000000002".into(),
                    name: String::new(),
                })
            }),
            Code::InvalidArgument,
            "reference_not_found",
            "access_bodies[2].schedule.uuid",
        ),
    ];
    for (spoil, code, rule, field) in cases {
        let mut bodies = list(4);
        spoil(&mut bodies[2]);
        let err = client
            .create_accesses(authed(&p.key, create("acme", bodies)))
            .await
            .unwrap_err();
        refused(&err, code, rule, Some(field));
        assert_eq!(
            count(&mut client).await,
            before,
            "{rule}: nothing was created"
        );
    }
    let err = client
        .create_accesses(authed(&p.key, create("acme", Vec::new())))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "out_of_range",
        Some("access_bodies"),
    );

    // Updates and deletes too: one missing access and nothing changes.
    let made = client
        .create_accesses(authed(&p.key, create("acme", list(2))))
        .await
        .unwrap()
        .into_inner()
        .access_bodies;
    let missing = "0190f3a2-0000-7000-8000-000000000003";
    let mut renamed: Vec<AccessBody> = made
        .iter()
        .map(|a| AccessBody {
            name: format!("{} (renamed)", a.name),
            ..a.clone()
        })
        .collect();
    renamed.push(AccessBody {
        uuid: missing.into(),
        ..renamed[0].clone()
    });
    let err = client
        .update_accesses(authed(&p.key, update("acme", renamed, &[])))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::NotFound,
        "access_not_found",
        Some("access_bodies[2].uuid"),
    );
    let err = client
        .delete_accesses(authed(
            &p.key,
            delete("acme", vec![made[0].uuid.clone(), missing.into()]),
        ))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "access_not_found", Some("uuids[1]"));
    let read = client
        .get_accesses(authed(&p.key, get("acme", &[&made[0].uuid, &made[1].uuid])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.access_bodies, made, "neither renamed nor deleted");
    // An access named twice in one batch.
    let err = client
        .delete_accesses(authed(
            &p.key,
            delete("acme", vec![made[0].uuid.clone(), made[0].uuid.clone()]),
        ))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "duplicate_id",
        Some("uuids[1]"),
    );
    let err = client
        .update_accesses(authed(
            &p.key,
            update("acme", vec![made[1].clone(), made[1].clone()], &[]),
        ))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "duplicate_id",
        Some("access_bodies[1].uuid"),
    );
}

async fn refusals_map_to_grpc_codes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let mut accesses = AccessesServiceClient::new(channel(&app).await);
    let mut doors = DoorsServiceClient::new(channel(&app).await);

    // UNAUTHENTICATED: no metadata, or a wrong secret.
    let err = accesses
        .get_accesses(Request::new(get("acme", &[])))
        .await
        .unwrap_err();
    refused(&err, Code::Unauthenticated, "unauthenticated", None);
    let err = accesses
        .get_accesses(authed("lnt_wrong", get("acme", &[])))
        .await
        .unwrap_err();
    refused(&err, Code::Unauthenticated, "unauthenticated", None);
    // PERMISSION_DENIED: the area is named.
    let reader = app.key_for("acme", &[Area::Members]).await;
    let err = accesses
        .create_accesses(authed(
            &reader,
            create("acme", vec![reference_body(&p, "", "x")]),
        ))
        .await
        .unwrap_err();
    refused(&err, Code::PermissionDenied, "forbidden", None);
    assert_eq!(
        err.get_error_details().error_info().unwrap().metadata["area"],
        "delegation"
    );
    // NOT_FOUND: the organization, an access (named), a door.
    let err = accesses
        .get_accesses(authed(&p.key, get("nowhere", &[])))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "organization_not_found", None);
    let missing = "0190f3a2-0000-7000-8000-000000000009";
    let err = accesses
        .get_accesses(authed(&p.key, get("acme", &[&p.front, missing])))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "access_not_found", Some("uuids[0]"));
    let err = doors
        .remote_open(authed(&p.key, open_door("acme", missing)))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "door_not_found", None);
    // INVALID_ARGUMENT before any use case runs.
    let err = doors
        .remote_open(authed(&p.key, open_door("acme", "front")))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "invalid_uuid",
        Some("door_uuid"),
    );
    // Paging: the fields are named as the request names them.
    for (page_size, page_token, rule, field) in [
        (500, "", "out_of_range", "page_size"),
        (10, "not a token", "invalid_cursor", "page_token"),
    ] {
        let err = accesses
            .get_accesses(authed(
                &p.key,
                pb::GetAccessesRequest {
                    organization_slug: "acme".into(),
                    page_size,
                    page_token: page_token.into(),
                    ..pb::GetAccessesRequest::default()
                },
            ))
            .await
            .unwrap_err();
        refused(&err, Code::InvalidArgument, rule, Some(field));
    }
    // FAILED_PRECONDITION: changing a deleted access.
    let made = create_one(&mut accesses, &p, "Short-lived").await;
    accesses
        .delete_accesses(authed(&p.key, delete("acme", vec![made[0].uuid.clone()])))
        .await
        .unwrap();
    let err = accesses
        .update_accesses(authed(&p.key, update("acme", made.clone(), &[])))
        .await
        .unwrap_err();
    refused(&err, Code::FailedPrecondition, "access_deleted", None);
    // Guessing PIN codes at a keypad: five are decided, then the door backs off (a decision,
    // not an error, so a reader shows it like any other denial).
    for guess in 0..6 {
        let answer = doors
            .remote_open(authed(
                &p.key,
                pb::RemoteOpenRequest {
                    organization_slug: "acme".into(),
                    door_uuid: p.front.clone(),
                    pin: Some(format!("{:06}", 913_000 + guess * 7)),
                    ..pb::RemoteOpenRequest::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let expected = if guess < 5 {
            "unknown_credential"
        } else {
            "too_many_attempts"
        };
        assert_eq!(answer.reason, expected);
    }
}

async fn other_organizations_are_invisible(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let mut accesses = AccessesServiceClient::new(channel(&app).await);
    let mut doors = DoorsServiceClient::new(channel(&app).await);
    let made = create_one(&mut accesses, &p, "Acme's").await;
    let theirs = made[0].uuid.clone();
    let (_, _) = app.org("globex").await;
    let globex = app.key_for("globex", &[Area::Owner]).await;

    // Acme's slug with globex's key: no such organization, as for one that does not exist.
    let err = accesses
        .get_accesses(authed(&globex, get("acme", &[])))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "organization_not_found", None);
    let err = doors
        .watch_events(authed(
            &globex,
            pb::WatchEventsRequest {
                organization_slug: "acme".into(),
                ..pb::WatchEventsRequest::default()
            },
        ))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "organization_not_found", None);
    // Acme's ids inside globex: not found, and nothing of acme's changes.
    let err = accesses
        .get_accesses(authed(&globex, get("globex", &[&theirs])))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "access_not_found", Some("uuids[0]"));
    let err = accesses
        .update_accesses(authed(&globex, update("globex", made.clone(), &[])))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::NotFound,
        "access_not_found",
        Some("access_bodies[0].uuid"),
    );
    let err = accesses
        .delete_accesses(authed(&globex, delete("globex", vec![theirs.clone()])))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "access_not_found", Some("uuids[0]"));
    let err = doors
        .remote_open(authed(&globex, open_door("globex", p.front.clone())))
        .await
        .unwrap_err();
    refused(&err, Code::NotFound, "door_not_found", None);
    let cabinet = make_controller(&app, &p, "Cabinet").await;
    let err = doors
        .get_controllers(authed(&globex, controllers("globex", &[&cabinet])))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::NotFound,
        "controller_not_found",
        Some("uuids[0]"),
    );
    let listed = doors
        .get_controllers(authed(&globex, controllers("globex", &[])))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.controllers.is_empty(), "{listed:?}");
    // An access in globex naming acme's door or member: they are not globex's.
    let err = accesses
        .create_accesses(authed(
            &globex,
            create("globex", vec![reference_body(&p, "", "Borrowed")]),
        ))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "reference_not_found",
        Some("access_bodies[0].doors[0].door_uuid"),
    );
    let read = accesses
        .get_accesses(authed(&p.key, get("acme", &[&theirs])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.access_bodies, made);
    // Globex's stream does not carry acme's events.
    let mut stream = doors
        .watch_events(authed(
            &globex,
            pb::WatchEventsRequest {
                organization_slug: "globex".into(),
                ..pb::WatchEventsRequest::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    doors
        .remote_open(authed(&p.key, open_door("acme", p.front.clone())))
        .await
        .unwrap();
    let (_, _) = app
        .post(
            &globex,
            "/api/v1/orgs/globex/sites",
            json!({ "name": "Plant" }),
        )
        .await;
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(first.kind, "site.created", "{first:?}");
}

async fn remote_open_decides_and_the_event_stream_follows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let mut accesses = AccessesServiceClient::new(channel(&app).await);
    let mut doors = DoorsServiceClient::new(channel(&app).await);
    let auditor = app.key_for("acme", &[Area::Audit]).await;
    // The fixture's events are a little older than the watch: not delivered.
    app.clock.advance(Duration::seconds(5));
    let mut stream = doors
        .watch_events(authed(
            &auditor,
            pb::WatchEventsRequest {
                organization_slug: "acme".into(),
                ..pb::WatchEventsRequest::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();

    // An administrator's remote open: granted, recorded as such.
    let open = |token: &str, door: &str, location: Option<pb::Location>| {
        authed(
            token,
            pb::RemoteOpenRequest {
                organization_slug: "acme".into(),
                door_uuid: door.to_owned(),
                location,
                ..pb::RemoteOpenRequest::default()
            },
        )
    };
    let admin = doors
        .remote_open(open(&p.key, &p.front, None))
        .await
        .unwrap()
        .into_inner();
    assert!(admin.granted);
    assert_eq!(admin.door_uuid, p.front);
    // Ada's phone, through the gRPC API: Staff opens the front door on Monday morning by
    // phone; the back door only at night.
    let ada = p.ada["auth_token"].as_str().unwrap();
    let here = pb::Location {
        latitude: 59.3293,
        longitude: 18.0686,
    };
    let front = doors
        .remote_open(open(ada, &p.front, Some(here)))
        .await
        .unwrap()
        .into_inner();
    assert!(front.granted, "{front:?}");
    assert!(!front.access_uuid.is_empty());
    let back = doors
        .remote_open(open(ada, &p.back, Some(here)))
        .await
        .unwrap()
        .into_inner();
    assert!(!back.granted);
    assert_eq!(back.reason, "outside_schedule");
    // Opening doors is not the auditor's to do.
    let err = doors
        .remote_open(open(&auditor, &p.front, None))
        .await
        .unwrap_err();
    refused(&err, Code::PermissionDenied, "forbidden", None);
    // An admin change comes through the stream too.
    accesses
        .create_accesses(authed(
            &p.key,
            create("acme", vec![reference_body(&p, "", "Streamed")]),
        ))
        .await
        .unwrap();

    let mut got = Vec::new();
    while got.len() < 4 {
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("the next event within 10 s")
            .unwrap()
            .unwrap();
        got.push(e);
    }
    let kinds: Vec<&str> = got.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "decision.granted",
            "decision.granted",
            "decision.denied",
            "access.created"
        ]
    );
    assert_eq!(got[0].object_uuid, p.front);
    assert_eq!(got[0].actor_kind, "api_key");
    assert_eq!(got[1].actor_kind, "member");
    let summary: serde_json::Value = serde_json::from_str(&got[2].summary_json).unwrap();
    assert_eq!(summary["reason"], "outside_schedule");
    assert_eq!(got[3].object_kind, "access");
    // Later events come next: nothing from before the watch began, nothing twice.
    doors
        .remote_open(open(&p.key, &p.back, None))
        .await
        .unwrap();
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
        .await
        .expect("the next event within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(
        (next.kind.as_str(), next.object_uuid.as_str()),
        ("decision.granted", p.back.as_str())
    );

    // A filtered stream from a time in the past replays what matches, oldest first.
    let mut decisions = doors
        .watch_events(authed(
            &auditor,
            pb::WatchEventsRequest {
                organization_slug: "acme".into(),
                kind: "decision".into(),
                since: got[0].at,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    for expected in &got[..3] {
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), decisions.next())
            .await
            .expect("a replayed event within 10 s")
            .unwrap()
            .unwrap();
        assert_eq!(e.uuid, expected.uuid);
    }
    // Watching needs `audit`.
    let err = doors
        .watch_events(authed(
            p.ada["auth_token"].as_str().unwrap(),
            pb::WatchEventsRequest {
                organization_slug: "acme".into(),
                ..pb::WatchEventsRequest::default()
            },
        ))
        .await
        .unwrap_err();
    refused(&err, Code::PermissionDenied, "forbidden", None);
}

/// The "done when": a client that Python's grpcio-tools generates from the
/// repository's `.proto` files authenticates, creates a batch with the reference's fields,
/// reads it back, opens a door and watches the event (`clients/python/lintel_grpc_demo.py`).
/// Skipped when grpcio-tools is not installed, unless `LINTEL_TEST_REQUIRE_PYTHON_GRPC` is set
/// (as `.ci/run` does).
#[tokio::test]
async fn a_client_generated_by_python_grpcio_tools_does_the_whole_flow() {
    let has_tools = std::process::Command::new("python3")
        .args(["-c", "import grpc_tools"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_tools {
        assert!(
            std::env::var_os("LINTEL_TEST_REQUIRE_PYTHON_GRPC").is_none(),
            "python3 with grpcio-tools is required"
        );
        eprintln!("skipped: python3 with grpcio-tools is not installed");
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let p = acme(&app).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../clients/python/lintel_grpc_demo.py"
    );
    let args = [
        script.to_owned(),
        "--address".into(),
        app.addr.to_string(),
        "--api-key".into(),
        p.key.clone(),
        "--org".into(),
        "acme".into(),
        "--door".into(),
        p.front.clone(),
        "--member".into(),
        p.ada_member.clone(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["step"].to_string())
        .collect();
    assert_eq!(
        steps,
        [
            "\"authenticated\"",
            "\"created\"",
            "\"read back\"",
            "\"opened\"",
            "\"watched\"",
            "\"refused\"",
            "\"reissued\""
        ]
    );
    // What it made is there for everyone else too.
    let (_, listed) = app.get(&p.key, "/api/v1/orgs/acme/accesses").await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Python access 0") && names.contains(&"Python access 1"));
}

/// A read mask trims every answer to the fields it names (the uuid always), and a mask
/// naming something else is refused before anything is written.
#[tokio::test]
async fn a_read_mask_trims_the_answers() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let p = acme(&app).await;
    let mut client = AccessesServiceClient::new(channel(&app).await);
    let mask = |paths: &[&str]| {
        Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        })
    };
    let bodies: Vec<AccessBody> = (0..3)
        .map(|i| reference_body(&p, "", &format!("Masked {i}")))
        .collect();
    let made = client
        .create_accesses(authed(
            &p.key,
            pb::CreateAccessesRequest {
                read_mask: mask(&["status"]),
                ..create("acme", bodies.clone())
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .access_bodies;
    assert_eq!(made.len(), 3);
    for b in &made {
        assert!(!b.uuid.is_empty());
        assert_eq!(b.status, PbStatus::Ready as i32);
        assert_eq!(
            AccessBody {
                uuid: b.uuid.clone(),
                status: b.status,
                ..AccessBody::default()
            },
            *b
        );
    }
    let uuids: Vec<&str> = made.iter().map(|b| b.uuid.as_str()).collect();
    let read = client
        .get_accesses(authed(
            &p.key,
            pb::GetAccessesRequest {
                read_mask: mask(&["name", "doors"]),
                ..get("acme", &uuids)
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .access_bodies;
    assert_eq!(read[0].name, "Masked 0");
    assert_eq!(read[0].doors[0].door_uuid, p.front);
    assert!(read[0].users.is_empty() && read[0].created_at.is_none() && read[0].status == 0);
    let gone = client
        .delete_accesses(authed(
            &p.key,
            pb::DeleteAccessesRequest {
                read_mask: mask(&["uuid"]),
                ..delete("acme", vec![made[0].uuid.clone()])
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .access_bodies;
    assert_eq!(
        gone,
        [AccessBody {
            uuid: made[0].uuid.clone(),
            ..AccessBody::default()
        }]
    );

    let (_, before) = app
        .get(&p.key, "/api/v1/orgs/acme/accesses?limit=200")
        .await;
    let err = client
        .create_accesses(authed(
            &p.key,
            pb::CreateAccessesRequest {
                read_mask: mask(&["name", "secret"]),
                ..create("acme", vec![reference_body(&p, "", "Never")])
            },
        ))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "unknown_field",
        Some("read_mask.paths[1]"),
    );
    let (_, after) = app
        .get(&p.key, "/api/v1/orgs/acme/accesses?limit=200")
        .await;
    assert_eq!(after["items"], before["items"]);
}

/// Gzip both ways: a compressed batch is read, the answer comes compressed to a client that
/// accepts it, and the size limit holds for what a message unpacks to.
#[tokio::test]
async fn messages_may_be_gzipped_within_the_same_limits() {
    use tonic::codec::CompressionEncoding::Gzip;

    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let p = acme(&app).await;
    let mut client = AccessesServiceClient::new(channel(&app).await)
        .send_compressed(Gzip)
        .accept_compressed(Gzip)
        .max_decoding_message_size(usize::MAX);
    let bodies = (0..50)
        .map(|i| reference_body(&p, "", &format!("Zipped {i}")))
        .collect();
    let answer = client
        .create_accesses(authed(&p.key, create("acme", bodies)))
        .await
        .unwrap();
    assert_eq!(answer.metadata().get("grpc-encoding").unwrap(), "gzip");
    assert_eq!(answer.into_inner().access_bodies.len(), 50);

    // 17 MB of one letter packs into a few kilobytes, and is refused all the same.
    let mut huge = reference_body(&p, "", "Huge");
    huge.description = "a".repeat(17 * 1024 * 1024);
    let err = client
        .create_accesses(authed(&p.key, create("acme", vec![huge])))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    let (_, listed) = app
        .get(&p.key, "/api/v1/orgs/acme/accesses?limit=200")
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 52);
}

/// The standard health service answers for the server and each of our services, refuses a
/// name it does not know, and a watch starts with the status now.
#[tokio::test]
async fn the_health_service_says_serving_while_the_database_answers() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut client = HealthClient::new(channel(&app).await);
    let ask = |service: &str| HealthCheckRequest {
        service: service.into(),
    };
    for service in [
        "",
        "lintel.v1.AccessesService",
        "lintel.v1.AuthService",
        "lintel.v1.ControllerService",
        "lintel.v1.DoorsService",
    ] {
        let answer = client.check(ask(service)).await.unwrap().into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32, "{service}");
    }
    let err = client.check(ask("lintel.v1.Nothing")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.message().starts_with("unknown_service: service: "),
        "{err:?}"
    );

    let mut watch = client.watch(ask("")).await.unwrap().into_inner();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);
    let mut unknown = client
        .watch(ask("lintel.v1.Nothing"))
        .await
        .unwrap()
        .into_inner();
    let first = unknown.next().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::ServiceUnknown as i32);
}

/// Server reflection lists the services, so standard tools (grpcurl, grpcui) need no files.
#[tokio::test]
async fn reflection_lists_the_services() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut client = ServerReflectionClient::new(channel(&app).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("{answer:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "lintel.v1.AccessesService",
            "lintel.v1.AuthService",
            "lintel.v1.ControllerService",
            "lintel.v1.DoorsService"
        ]
    );
}

/// The permission matrix over gRPC: each RPC with a key of each single area (and a member's
/// device token, which holds none), allowed exactly when the HTTP twin allows it.
async fn every_rpc_needs_the_area_its_http_twin_needs(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let mut accesses = AccessesServiceClient::new(channel(&app).await);
    let mut doors = DoorsServiceClient::new(channel(&app).await);
    let made = create_one(&mut accesses, &p, "Matrix").await;
    // Which areas each RPC needs (any one of them; owner allows all).
    let rpcs: [(&str, &[Area]); 8] = [
        ("CreateAccesses", &[Area::Delegation]),
        ("GetAccesses", &Area::ALL),
        ("UpdateAccesses", &[Area::Delegation]),
        ("DeleteAccesses", &[Area::Delegation]),
        ("RemoteOpen", &[Area::Doors]),
        ("WatchEvents", &[Area::Audit]),
        ("WatchDoorStates", &[Area::Audit]),
        ("GetControllers", &Area::ALL),
    ];
    let mut callers: Vec<(String, Vec<Area>)> = Vec::new();
    for area in Area::ALL {
        callers.push((app.key_for("acme", &[area]).await, vec![area]));
    }
    callers.push((p.ada["auth_token"].as_str().unwrap().to_owned(), Vec::new()));
    for (token, held) in &callers {
        for (rpc, needs) in rpcs {
            let allowed = held.contains(&Area::Owner) || needs.iter().any(|a| held.contains(a));
            // Each call is one that succeeds when allowed (a fresh access, the same rename).
            let answer: Result<(), Status> = match rpc {
                "CreateAccesses" => accesses
                    .create_accesses(authed(
                        token,
                        create("acme", vec![reference_body(&p, "", "By matrix")]),
                    ))
                    .await
                    .map(drop),
                "GetAccesses" => accesses
                    .get_accesses(authed(token, get("acme", &[&made[0].uuid])))
                    .await
                    .map(drop),
                "UpdateAccesses" => accesses
                    .update_accesses(authed(token, update("acme", made.clone(), &["name"])))
                    .await
                    .map(drop),
                "DeleteAccesses" => {
                    let fresh = accesses
                        .create_accesses(authed(
                            &p.key,
                            create("acme", vec![reference_body(&p, "", "To delete")]),
                        ))
                        .await
                        .unwrap()
                        .into_inner()
                        .access_bodies;
                    accesses
                        .delete_accesses(authed(token, delete("acme", vec![fresh[0].uuid.clone()])))
                        .await
                        .map(drop)
                }
                // A member's phone opening a door is not this; see the stream test.
                "RemoteOpen" if held.is_empty() => continue,
                "RemoteOpen" => doors
                    .remote_open(authed(token, open_door("acme", p.front.as_str())))
                    .await
                    .map(drop),
                "WatchEvents" => doors
                    .watch_events(authed(
                        token,
                        pb::WatchEventsRequest {
                            organization_slug: "acme".into(),
                            ..pb::WatchEventsRequest::default()
                        },
                    ))
                    .await
                    .map(drop),
                "WatchDoorStates" => doors
                    .watch_door_states(authed(
                        token,
                        pb::WatchDoorStatesRequest {
                            organization_slug: "acme".into(),
                        },
                    ))
                    .await
                    .map(drop),
                "GetControllers" => doors
                    .get_controllers(authed(token, controllers("acme", &[])))
                    .await
                    .map(drop),
                other => unreachable!("{other}"),
            };
            match answer {
                Ok(()) => assert!(allowed, "{rpc} with {held:?} was allowed"),
                Err(err) => {
                    assert!(!allowed, "{rpc} with {held:?}: {err:?}");
                    refused(&err, Code::PermissionDenied, "forbidden", None);
                }
            }
        }
    }
}

fn controllers(org: &str, uuids: &[&str]) -> pb::GetControllersRequest {
    pb::GetControllersRequest {
        organization_slug: org.into(),
        uuids: uuids.iter().map(|u| (*u).to_owned()).collect(),
        ..pb::GetControllersRequest::default()
    }
}

/// A controller of acme's site, made through HTTP; its uuid.
async fn make_controller(app: &TestApp, p: &Place, name: &str) -> String {
    let (status, made) = app
        .post(
            &p.key,
            "/api/v1/orgs/acme/controllers",
            json!({ "site_id": p.site, "name": name }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["controller"]["id"].as_str().unwrap().to_owned()
}

async fn controllers_and_their_live_state_are_read_by_uuid_or_by_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let p = acme(&app).await;
    let mut doors = DoorsServiceClient::new(channel(&app).await);
    let cabinet = make_controller(&app, &p, "Cabinet").await;
    let gate = make_controller(&app, &p, "Gate").await;

    let read = doors
        .get_controllers(authed(&p.key, controllers("acme", &[&gate, &cabinet])))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = read.controllers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Gate", "Cabinet"]);
    let c = &read.controllers[1];
    assert_eq!(
        (c.uuid.as_str(), c.site_uuid.as_str()),
        (cabinet.as_str(), p.site.as_str())
    );
    // Never connected: offline, nothing held, nothing known of its clock or backlog.
    assert!(!c.online && !c.rules_in_sync, "{c:?}");
    assert_eq!(
        (
            c.rules_version,
            c.events_waiting,
            c.clock_skew_ms,
            c.last_seen_at
        ),
        (None, None, None, None)
    );
    assert!(c.created_at.is_some() && c.token_issued_at.is_some());
    // As HTTP shows it.
    let (_, http) = app
        .get(&p.key, &format!("/api/v1/orgs/acme/controllers/{cabinet}"))
        .await;
    assert_eq!(http["live"]["online"], false, "{http}");

    // A page at a time, of one site.
    let mut first = controllers("acme", &[]);
    first.page_size = 1;
    first.site_uuid = p.site.clone();
    let page = doors
        .get_controllers(authed(&p.key, first.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.controllers.len(), 1);
    assert!(!page.next_page_token.is_empty());
    first.page_token = page.next_page_token;
    let rest = doors
        .get_controllers(authed(&p.key, first))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.controllers.len(), 1);
    assert_ne!(rest.controllers[0].uuid, page.controllers[0].uuid);

    // Bad input names its field and rule.
    let err = doors
        .get_controllers(authed(&p.key, controllers("acme", &["nope"])))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "invalid_uuid",
        Some("uuids[0]"),
    );
    let many: Vec<String> = (0..101).map(|_| cabinet.clone()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = doors
        .get_controllers(authed(&p.key, controllers("acme", &many)))
        .await
        .unwrap_err();
    refused(
        &err,
        Code::InvalidArgument,
        "too_many_entries",
        Some("uuids"),
    );
}
