//! `lintel demo`: the server, a demo organization made through its own API, and a door
//! controller with simulated readers and relays wired to the demo's doors, in one process.
//! The organization is ordinary data (its own slug, deletable like any other); run again, the
//! command finds it and starts its controller again with a new token.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use lintel_domain::{Area, Areas};
use lintel_server::app::orgs::{CreateOrganization, FirstOwner};
use lintel_server::app::{self, Actor, AppState};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// The demo's controller, found by this name when the demo runs again.
const CABINET: &str = "Demo cabinet";
/// Your card (the owner's), number and facility code.
const YOUR_CARD: (&str, u32) = ("4711", 12);

pub struct Demo {
    pub slug: String,
    pub owner_email: String,
    pub controller_listen: SocketAddr,
    pub controller_data: PathBuf,
    /// How often the demo walks someone through the front door.
    pub walk_every: Duration,
}

/// What the demo made (or found): the doors' ids by name, and a guest link when made now.
struct Made {
    doors: Vec<(String, String)>,
    token: String,
    guest_link: Option<String>,
    pin: Option<String>,
}

/// The demo's own API calls, as its owner key.
struct Api {
    client: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("calling {path}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {answer}");
        }
        Ok(answer)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

impl Demo {
    /// Makes (or finds) the demo organization through the server at `addr`, then runs its
    /// controller and walks someone through the front door every `walk_every`, until
    /// interrupted.
    pub async fn run(self, state: &AppState, addr: SocketAddr) -> Result<()> {
        let existing = state.store.get_org_by_slug(&self.slug).await.ok();
        let made_now = existing.is_none();
        let org = match existing {
            Some(org) => org,
            None => {
                app::orgs::create(
                    state,
                    &Actor::Console,
                    CreateOrganization {
                        slug: self.slug.clone(),
                        name: "Demo".into(),
                        time_zone: None,
                        settings: None,
                        owner: Some(FirstOwner {
                            email: Some(self.owner_email.clone()),
                            phone: None,
                        }),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("creating the demo organization: {e}"))?
                .org
            }
        };
        let key = app::api_keys::issue(
            state,
            Some(org.id),
            "lintel demo",
            Areas::new([Area::Owner]),
            None,
            None,
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("a key for the demo: {e}"))?
        .secret;
        let api = Api {
            client: reqwest::Client::new(),
            base: format!("http://{addr}/api/v1/orgs/{}", self.slug),
            key,
        };
        let made = match find(&api).await? {
            Some(found) => found,
            None if existing_is_empty(&api).await? => match make(&api, &self.owner_email).await {
                Ok(made) => made,
                Err(err) if made_now => {
                    // Not left half made: the next run starts afresh.
                    let ctx = app::enter_org(state, Actor::Console, &self.slug).await;
                    if let Ok(ctx) = ctx {
                        let _ = app::orgs::delete(state, &ctx).await;
                    }
                    return Err(err.context("making the demo (its organization was removed)"));
                }
                Err(err) => return Err(err),
            },
            None => bail!(
                "the organization {:?} exists and is not a demo (it has no controller named \
                 {CABINET:?}): run the demo with --slug and another name",
                self.slug
            ),
        };
        std::fs::create_dir_all(&self.controller_data)?;
        let config = lintel_controller::config::Config {
            server: format!("http://{addr}"),
            token: Some(made.token.clone()),
            data_dir: self.controller_data.clone(),
            listen: self.controller_listen,
            ..lintel_controller::config::Config::default()
        };
        let token = made.token.clone();
        let listen = self.controller_listen;
        let controller = async move {
            lintel_controller::run(config, token)
                .await
                .with_context(|| {
                    format!(
                        "the demo's controller (its local interface on {listen}; another with \
                     --controller-listen)"
                    )
                })
        };
        let front = door_id(&made, "Front door");
        let walks = async {
            // The controller's first sync, before the instructions that need it.
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.print(addr, &made);
            loop {
                tokio::time::sleep(self.walk_every).await;
                walk_through(listen, &front).await;
            }
        };
        tokio::select! {
            stopped = controller => stopped,
            () = walks => Ok(()),
        }
    }

    fn print(&self, addr: SocketAddr, made: &Made) {
        let (slug, local) = (&self.slug, self.controller_listen);
        let front = door_id(made, "Front door");
        let office = door_id(made, "Office");
        let mut text = format!(
            "\nThe Lintel demo is running: organization {slug:?}, its controller with simulated \
             readers and relays on {local}.\n\n\
             Sign in: register at http://{addr}/register as {email} (the sign-in link and the \
             SMS code appear in this log), then\n\
             \x20 the door board:  http://{addr}/admin/{slug}/board\n\
             \x20 the dashboard:   http://{addr}/admin/{slug}\n\n\
             Every {every} s the demo presses the front door's exit button, opens the door and \
             closes it: watch the board go unlocked, open, locked. By hand, in bash:\n\
             \x20 say() {{ exec 3<>/dev/tcp/{ip}/{port}; echo \"$*\" >&3; head -n1 <&3; exec 3<&-; }}\n\
             \x20 say card {front} {number} {fc}       your card: refused until you have signed \
             in (an invitation opens nothing), granted after\n\
             \x20 say card {front} 999 12        a card nobody has: denied\n\
             \x20 say contact {front} open       the door opened (forced open, unless unlocked \
             first), then: say contact {front} closed\n\
             \x20 say exit {front}               the exit button\n\
             \x20 say card+pin {office} {number} {fc} {pin}   the office wants your card and \
             PIN code, in office hours\n\
             \x20 say doors                      every door's state\n",
            email = self.owner_email,
            every = self.walk_every.as_secs(),
            ip = local.ip(),
            port = local.port(),
            number = YOUR_CARD.0,
            fc = YOUR_CARD.1,
            pin = made
                .pin
                .as_deref()
                .unwrap_or("<your code, in your profile>"),
        );
        if let Some(link) = &made.guest_link {
            text.push_str(&format!(
                "\nA guest link for the staff's doors (shown this once): {link}\n"
            ));
        }
        text.push_str(&format!(
            "\nThe demo is ordinary data: delete it as an operator (DELETE /api/v1/orgs/{slug}).\n"
        ));
        // Not println!: a closed terminal must not stop the demo.
        let _ = writeln!(std::io::stdout(), "{text}");
    }
}

fn door_id(made: &Made, name: &str) -> String {
    made.doors
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, id)| id.clone())
        .unwrap_or_default()
}

/// The demo made before: its controller, given a new token, and its doors.
async fn find(api: &Api) -> Result<Option<Made>> {
    let controllers = api.get("/controllers").await?;
    let cabinet = controllers["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == CABINET);
    let Some(cabinet) = cabinet else {
        return Ok(None);
    };
    let rotated = api
        .post(
            &format!("/controllers/{}/rotate-token", id(cabinet)),
            json!({}),
        )
        .await?;
    Ok(Some(Made {
        doors: doors(api).await?,
        token: rotated["token"].as_str().unwrap_or_default().to_owned(),
        guest_link: None,
        pin: None,
    }))
}

async fn doors(api: &Api) -> Result<Vec<(String, String)>> {
    let doors = api.get("/doors").await?;
    Ok(doors["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| (d["name"].as_str().unwrap_or_default().to_owned(), id(d)))
        .collect())
}

/// Whether the organization holds nothing yet (a demo may be made in it).
async fn existing_is_empty(api: &Api) -> Result<bool> {
    let sites = api.get("/sites").await?;
    Ok(sites["items"].as_array().is_none_or(Vec::is_empty))
}

/// Makes the demo: a site, four doors of different kinds on one controller, a group and its
/// office hours, accesses, a guest link; you (the owner, invited) in the group with a card and
/// a PIN code, and two more members invited with cards.
async fn make(api: &Api, owner_email: &str) -> Result<Made> {
    let site = id(&api.post("/sites", json!({ "name": "Demo HQ" })).await?);
    let made = api
        .post("/controllers", json!({ "site_id": site, "name": CABINET }))
        .await?;
    let cabinet = id(&made["controller"]);
    let token = made["token"].as_str().unwrap_or_default().to_owned();
    let mut doors = Vec::new();
    for (name, kind) in [
        ("Front door", "door"),
        ("Office", "door"),
        ("Storage", "storage_unit"),
        ("Parking gate", "gate"),
    ] {
        let door = api
            .post(
                "/doors",
                json!({ "site_id": site, "name": name, "kind": kind, "controller_id": cabinet }),
            )
            .await?;
        doors.push((name.to_owned(), id(&door)));
    }
    let door = |name: &str| {
        doors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id.clone())
            .unwrap_or_default()
    };
    let staff = id(&api.post("/groups", json!({ "name": "Staff" })).await?);
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .map(|day| json!({ "day": day, "start": "07:00", "end": "19:00" }));
    let hours = id(&api
        .post(
            "/schedules",
            json!({ "name": "Office hours", "windows": weekdays }),
        )
        .await?);
    let members = api.get("/members").await?;
    let you = members["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["invitation"]["address"] == owner_email)
        .map(id)
        .context("the owner's invitation")?;
    api.call(
        reqwest::Method::PATCH,
        &format!("/members/{you}"),
        Some(json!({ "groups": [staff] })),
    )
    .await?;
    let ada = id(&api
        .post(
            "/invitations",
            json!({ "email": "ada@example.com", "groups": [staff] }),
        )
        .await?);
    let bob = id(&api
        .post(
            "/invitations",
            json!({ "email": "bob@example.com", "groups": [staff] }),
        )
        .await?);
    api.post(
        "/accesses",
        json!({ "name": "Staff: front door and gate", "groups": [staff], "doors": [
            { "door_id": door("Front door"), "in_auth_types": ["card", "pin", "mobile", "link"] },
            { "door_id": door("Parking gate"), "in_auth_types": ["card", "mobile", "link"] },
        ] }),
    )
    .await?;
    api.post(
        "/accesses",
        json!({ "name": "Staff: the office in office hours, card and PIN", "groups": [staff],
                "schedule_id": hours,
                "doors": [{ "door_id": door("Office"), "in_auth_types": ["card_and_pin", "mobile"] }] }),
    )
    .await?;
    api.post(
        "/accesses",
        json!({ "name": "Storage", "users": [you, ada],
                "doors": [{ "door_id": door("Storage"), "in_auth_types": ["card", "mobile"] }] }),
    )
    .await?;
    for (member, number) in [(&you, YOUR_CARD.0), (&ada, "4712"), (&bob, "4713")] {
        api.post(
            "/cards",
            json!({ "member_id": member, "number": number, "facility_code": YOUR_CARD.1 }),
        )
        .await?;
    }
    let pin = api
        .post("/pins", json!({ "member_id": you, "site_id": site }))
        .await?;
    let link = api
        .post(
            "/access-links",
            json!({ "group_id": staff, "recipient_name": "Grace Hopper", "delivery": "manual" }),
        )
        .await?;
    Ok(Made {
        doors,
        token,
        guest_link: link["url"].as_str().map(str::to_owned),
        pin: pin["code"].as_str().map(str::to_owned),
    })
}

/// Someone leaving by the front door: the exit button, the door opened, then closed (what the
/// board shows: unlocked, open, locked).
async fn walk_through(local: SocketAddr, front: &str) {
    let steps = [
        (format!("exit {front}"), Duration::from_secs(1)),
        (format!("contact {front} open"), Duration::from_secs(3)),
        (format!("contact {front} closed"), Duration::ZERO),
    ];
    for (line, then) in steps {
        if let Err(err) = say(local, &line).await {
            tracing::warn!(error = %err, "the demo could not reach its controller");
            return;
        }
        tokio::time::sleep(then).await;
    }
}

/// One line to the controller's local interface; its answer.
async fn say(local: SocketAddr, line: &str) -> Result<String> {
    let mut stream = tokio::net::TcpStream::connect(local).await?;
    stream.write_all(format!("{line}\n").as_bytes()).await?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).await?;
    Ok(answer)
}
