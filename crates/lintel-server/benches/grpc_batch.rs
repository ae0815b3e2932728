//! One `CreateAccesses` of 10,000 accesses over gRPC, end to end: a client on loopback, the
//! server in this process (`serve`, as `lintel serve` runs it), a fresh database. Each access
//! opens one of 20 doors for one of 10 groups and one of 40 members. Also timed: the same
//! batch sent again (a retry: every access is a repeat, nothing is written), then one
//! `UpdateAccesses` renaming all 10,000 (with an update mask) and one `DeleteAccesses` of all.
//!
//! `cargo bench -p lintel-server --bench grpc_batch` (PostgreSQL too when
//! `LINTEL_TEST_POSTGRES_URL` reaches one).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lintel_domain::{Area, Areas, SystemClock};
use lintel_server::app::orgs::CreateOrganization;
use lintel_server::app::server_key::ServerKey;
use lintel_server::app::{self, AppState};
use lintel_server::grpc::pb::accesses_service_client::AccessesServiceClient;
use lintel_server::grpc::pb::{self, AccessBody, AccessDoor, AccessGroup, AccessUser};
use lintel_server::{HttpOptions, serve};
use lintel_testkit::{Backend, TestDb};
use serde_json::{Value, json};

const BATCH: usize = 10_000;
const RUNS: usize = 3;

#[tokio::main]
async fn main() {
    println!("backend      run   create (s)   repeat (s)   update (s)   delete (s)");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::new(backend).await else {
            continue;
        };
        let name = format!("{backend:?}").to_lowercase();
        let mut creates = Vec::new();
        for run in 1..=RUNS {
            let [create, repeat, update, delete] = one_run(&db).await;
            println!(
                "{name:<12} {run:>3}  {:>11.3}  {:>11.3}  {:>11.3}  {:>11.3}",
                create.as_secs_f64(),
                repeat.as_secs_f64(),
                update.as_secs_f64(),
                delete.as_secs_f64(),
            );
            creates.push(create);
        }
        creates.sort();
        println!(
            "{name:<12} median create {:.3} s",
            creates[RUNS / 2].as_secs_f64()
        );
    }
}

/// A new organization in `db` with its doors, groups and members, then the batch: created,
/// repeated, updated, deleted.
async fn one_run(db: &TestDb) -> [Duration; 4] {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState {
        store: db.store.clone(),
        clock: Arc::new(SystemClock),
        public_url: format!("http://{addr}").into(),
        rules: Arc::default(),
        key: Arc::new(ServerKey::generate()),
        sms: Arc::default(),
        controllers: Arc::default(),
        oidc: Arc::default(),
        passkeys: Arc::default(),
    };
    let options = HttpOptions {
        max_body_bytes: 1 << 20,
        client_ip_header: None,
        timeouts: lintel_server::Timeouts::default(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, state.clone(), options, async {
        let _ = stopped.await;
    }));

    let slug = format!("bench-{}", uuid::Uuid::now_v7().simple());
    let org = app::orgs::create(
        &state,
        &app::Actor::Console,
        CreateOrganization {
            slug: slug.clone(),
            name: "Bench".into(),
            time_zone: None,
            settings: None,
            owner: None,
        },
    )
    .await
    .unwrap()
    .org;
    let key = app::api_keys::issue(
        &state,
        Some(org.id),
        "bench",
        Areas::new([Area::Owner]),
        None,
        None,
        None,
    )
    .await
    .unwrap()
    .secret;
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        let req = http
            .post(format!("http://{addr}/api/v1/orgs/{slug}/{path}"))
            .bearer_auth(&key)
            .json(&body);
        async move {
            let answer: Value = req.send().await.unwrap().json().await.unwrap();
            answer["id"]
                .as_str()
                .unwrap_or_else(|| panic!("an id: {answer}"))
                .to_owned()
        }
    };
    let site = post("sites", json!({ "name": "HQ" })).await;
    let mut doors = Vec::new();
    for i in 0..20 {
        let door = json!({ "site_id": site, "name": format!("Door {i}") });
        doors.push(post("doors", door).await);
    }
    let mut groups = Vec::new();
    for i in 0..10 {
        groups.push(post("groups", json!({ "name": format!("Group {i}") })).await);
    }
    let mut members = Vec::new();
    for i in 0..40 {
        let invite = json!({ "email": format!("m{i}@example.com") });
        members.push(post("invitations", invite).await);
    }
    let bodies: Vec<AccessBody> = (0..BATCH)
        .map(|i| AccessBody {
            uuid: uuid::Uuid::now_v7().to_string(),
            name: format!("Access {i}"),
            doors: vec![AccessDoor {
                door_uuid: doors[i % doors.len()].clone(),
                in_auth_types: vec!["mobile".into(), "card".into()],
                ..AccessDoor::default()
            }],
            groups: vec![AccessGroup {
                group_uuid: groups[i % groups.len()].clone(),
                ..AccessGroup::default()
            }],
            users: vec![AccessUser {
                user_uuid: members[i % members.len()].clone(),
                ..AccessUser::default()
            }],
            ..AccessBody::default()
        })
        .collect();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = AccessesServiceClient::new(channel)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    let create = || {
        authed(
            &key,
            pb::CreateAccessesRequest {
                organization_slug: slug.clone(),
                access_bodies: bodies.clone(),
                read_mask: None,
            },
        )
    };
    let started = Instant::now();
    let created = client.create_accesses(create()).await.unwrap().into_inner();
    let create_time = started.elapsed();
    assert_eq!(created.access_bodies.len(), BATCH);
    let started = Instant::now();
    let again = client.create_accesses(create()).await.unwrap().into_inner();
    let repeat_time = started.elapsed();
    assert_eq!(again, created);

    let renamed: Vec<AccessBody> = created
        .access_bodies
        .iter()
        .map(|a| AccessBody {
            uuid: a.uuid.clone(),
            name: format!("{} (renamed)", a.name),
            ..AccessBody::default()
        })
        .collect();
    let started = Instant::now();
    let updated = client
        .update_accesses(authed(
            &key,
            pb::UpdateAccessesRequest {
                organization_slug: slug.clone(),
                access_bodies: renamed,
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
                read_mask: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let update_time = started.elapsed();
    assert!(updated.access_bodies[0].name.ends_with("(renamed)"));
    let started = Instant::now();
    let deleted = client
        .delete_accesses(authed(
            &key,
            pb::DeleteAccessesRequest {
                organization_slug: slug.clone(),
                uuids: created
                    .access_bodies
                    .iter()
                    .map(|a| a.uuid.clone())
                    .collect(),
                read_mask: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let delete_time = started.elapsed();
    assert_eq!(deleted.access_bodies.len(), BATCH);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    [create_time, repeat_time, update_time, delete_time]
}

/// `message` with `authorization: Bearer <key>`.
fn authed<T>(key: &str, message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    req
}
