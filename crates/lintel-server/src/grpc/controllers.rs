//! `ControllerService`: a door controller's sync stream. The controller says hello with the
//! rules it holds; the session sends it its rules whole whenever they differ from those
//! (woken by a signal when its organization's rules change, on any node), confirms them
//! while they do not, stores the decisions it hands over (each once, by its id) and
//! acknowledges them, and ends when the token stops being the controller's.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lintel_domain::controller::{Controller, ControllerLive};
use lintel_domain::decision::{AuthType, DenyReason, Direction};
use lintel_domain::door::DoorState;
use lintel_domain::{AccessId, DoorId, MembershipId, OrgId};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use super::pb::{self, controller_message, server_message};
use super::{Api, bearer, invalid, parse_uuid, status, time_of, timestamp};
use crate::app::controllers::{self, Reported, ReportedWhat};
use crate::app::hub::{self, Held};
use crate::app::{self, AppState};
use lintel_store::Signal;

/// How often the session confirms current rules (looking at them again, should a signal
/// have been lost), and checks that the token is still the controller's.
const CONFIRM_EVERY: Duration = Duration::from_secs(5);
/// A controller that says nothing for this long (it heartbeats every few seconds) is gone.
const SILENT_FOR: Duration = Duration::from_secs(30);
/// How long a new stream may take to say hello.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
/// The most events one message may carry.
const MAX_EVENTS: usize = 1000;
/// Past this many updates sent and not yet applied, the next one is sent whole.
const MAX_ON_THE_WAY: usize = 64;

#[tonic::async_trait]
impl pb::controller_service_server::ControllerService for Api {
    type SyncStream = ReceiverStream<Result<pb::ServerMessage, Status>>;

    async fn pair(
        &self,
        req: Request<pb::PairRequest>,
    ) -> Result<Response<pb::PairResponse>, Status> {
        // The peer's address, as the HTTP server saw it (a proxy's header is not read here).
        let source = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let code = req.into_inner().code;
        let paired = controllers::pair(&self.state, controllers::Pair { code }, source)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::PairResponse {
            token: paired.token,
            controller_uuid: paired.controller_id.0.to_string(),
            name: paired.name,
            organization_slug: paired.organization_slug,
        }))
    }

    async fn sync(
        &self,
        req: Request<Streaming<pb::ControllerMessage>>,
    ) -> Result<Response<Self::SyncStream>, Status> {
        let token = bearer(&req).unwrap_or_default().to_owned();
        let (org, controller) = controllers::authenticate(&self.state, &token)
            .await
            .map_err(token_refused)?;
        let (tx, rx) = mpsc::channel(16);
        let session = Session {
            state: self.state.clone(),
            token,
            org,
            controller,
            tx,
            live: ControllerLive::default(),
            held_hash: String::new(),
            sent_hash: String::new(),
            sent: None,
            on_the_way: Vec::new(),
            rules_hash: String::new(),
            rules_version: 0,
            commands: HashMap::new(),
        };
        tokio::spawn(session.run(req.into_inner()));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

struct Session {
    state: AppState,
    token: String,
    org: OrgId,
    controller: Controller,
    tx: mpsc::Sender<Result<pb::ServerMessage, Status>>,
    live: ControllerLive,
    /// The hash of the rules the controller says it holds (hello, heartbeat).
    held_hash: String,
    /// The hash of the rules it will hold once it has applied what was sent to it.
    sent_hash: String,
    /// Those rules, when the session knows them: changes are sent from them.
    sent: Option<Held>,
    /// The rules (by hash) it passes through on its way to `sent_hash`.
    on_the_way: Vec<String>,
    /// The hash and version of the rules it should hold, as last built.
    rules_hash: String,
    rules_version: i64,
    /// Commands sent and not yet answered, by request id.
    commands: HashMap<Uuid, oneshot::Sender<bool>>,
}

/// Why a session ended early: the status the controller gets, if it is still there.
type Ended = Option<Status>;

impl Session {
    async fn run(mut self, mut inbound: Streaming<pb::ControllerMessage>) {
        let ended = match self.start(&mut inbound).await {
            Ok(()) => self.serve(&mut inbound).await,
            Err(ended) => Err(ended),
        };
        match ended {
            Err(Some(refusal)) => {
                let _ = self.tx.send(Err(refusal)).await;
            }
            // Gone for now: kept for when it comes back, to send it only what changes.
            _ => {
                if self.held_hash == self.sent_hash
                    && let Some(held) = self.sent.take()
                {
                    let now = self.state.clock.now();
                    self.state
                        .controllers
                        .keep_rules(self.controller.id, held, now);
                }
            }
        }
        if self.live.online {
            self.live.online = false;
            if let Err(err) =
                controllers::connection(&self.state, self.org, &self.controller, &self.live).await
            {
                tracing::warn!(error = %err, controller = %self.controller.id, "could not record a disconnection");
            }
        }
    }

    /// Reads the hello, welcomes the controller and records it as connected.
    async fn start(&mut self, inbound: &mut Streaming<pb::ControllerMessage>) -> Result<(), Ended> {
        let first = tokio::time::timeout(HELLO_WITHIN, inbound.message()).await;
        let Ok(Ok(Some(pb::ControllerMessage {
            body: Some(controller_message::Body::Hello(hello)),
        }))) = first
        else {
            return Err(Some(invalid(
                "hello",
                "hello_first",
                "a sync stream starts with ControllerHello".to_owned(),
            )));
        };
        let now = self.state.clock.now();
        self.held_hash = hello.rules_hash;
        self.sent_hash = self.held_hash.clone();
        // Back on this node with the rules it left with: only what changed since is sent.
        self.sent = self
            .state
            .controllers
            .take_rules(self.controller.id)
            .filter(|held| held.hash == self.held_hash);
        self.live = ControllerLive {
            online: true,
            last_seen_at: Some(now),
            // Only what the server checked: a controller's own word settles no access.
            rules_version: self.controller.live.rules_version,
            rules_in_sync: false,
            events_waiting: None,
            clock_skew_ms: skew(time_of("hello.clock", hello.clock).ok().flatten(), now),
            software_version: Some(hello.software_version.chars().take(100).collect()),
            rules_confirmed_at: self.controller.live.rules_confirmed_at,
            rules_stale_at: None,
        };
        // On record before the controller hears it is welcome: whoever it tells it is
        // connected finds it online.
        controllers::connection(&self.state, self.org, &self.controller, &self.live)
            .await
            .map_err(|e| Some(status(e)))?;
        self.send(server_message::Body::Welcome(pb::ControllerWelcome {
            controller_uuid: self.controller.id.0.to_string(),
            site_uuid: self.controller.site_id.0.to_string(),
            name: self.controller.name.clone(),
            server_time: Some(timestamp(now)),
        }))
        .await
    }

    async fn serve(&mut self, inbound: &mut Streaming<pb::ControllerMessage>) -> Result<(), Ended> {
        // Listening first: a change committed after this is heard, one before it is read.
        let mut signals = self.state.store.signals();
        // The first tick is at once: it sends (or confirms) the rules.
        let mut confirm = tokio::time::interval(CONFIRM_EVERY);
        confirm.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut version = None;
        let mut heard = Instant::now();
        // This session carries out the commands for the controller's doors, from any node.
        let (_attached, mut commands) = self.state.controllers.attach(self.controller.id);
        loop {
            tokio::select! {
                Some(command) = commands.recv() => self.command(command).await?,
                message = inbound.message() => match message {
                    Ok(Some(message)) => {
                        heard = Instant::now();
                        self.receive(message).await?;
                    }
                    // The controller closed its side, or the connection broke.
                    Ok(None) | Err(_) => return Err(None),
                },
                signal = signals.next() => match signal {
                    Signal::Rules(org) if org == self.org => self.look(&mut version).await?,
                    Signal::Missed => self.look(&mut version).await?,
                    _ => {}
                },
                _ = confirm.tick() => {
                    if heard.elapsed() >= SILENT_FOR {
                        return Err(None);
                    }
                    self.still_ours().await?;
                    version = Some(self.version().await?);
                    self.offer_rules().await?;
                }
                () = self.tx.closed() => return Err(None),
            }
        }
    }

    /// Offers the rules if their version moved since `seen`.
    async fn look(&mut self, seen: &mut Option<i64>) -> Result<(), Ended> {
        let now = self.version().await?;
        if *seen != Some(now) {
            *seen = Some(now);
            self.offer_rules().await?;
        }
        Ok(())
    }

    async fn version(&self) -> Result<i64, Ended> {
        self.state
            .store
            .rules_version(self.org)
            .await
            .map_err(|e| Some(status(e.into())))
    }

    /// Brings the controller to its rules as they are now: when they differ from those it
    /// holds (or will, once it has applied what was sent), sends what changed since those
    /// if the session knows them and the changes are not most of the rules, or else the
    /// rules whole; once it holds them, confirms them.
    async fn offer_rules(&mut self) -> Result<(), Ended> {
        let rules = controllers::rules_for(&self.state, self.org, &self.controller)
            .await
            .map_err(|e| Some(status(e)))?;
        let hash = rules.hash();
        self.rules_hash.clone_from(&hash);
        self.rules_version = rules.version;
        if hash == self.sent_hash {
            if hash == self.held_hash {
                self.send(server_message::Body::Current(pb::RulesCurrent {
                    version: rules.version,
                    hash: hash.clone(),
                    at: Some(timestamp(self.state.clock.now())),
                }))
                .await?;
                if self.holds_newer() {
                    self.write_live().await?;
                }
            }
            self.sent = Some(Held { hash, rules });
            return Ok(());
        }
        let on_its_way =
            self.held_hash == self.sent_hash || self.on_the_way.contains(&self.held_hash);
        let changes = self
            .sent
            .as_ref()
            .filter(|_| on_its_way && self.on_the_way.len() < MAX_ON_THE_WAY)
            .and_then(|sent| sent.rules.changes_to(&rules))
            .filter(|changes| changes.len() <= rules.len() / 2);
        let from_hash = std::mem::replace(&mut self.sent_hash, hash.clone());
        self.on_the_way.push(from_hash.clone());
        let body = match changes {
            Some(changes) => server_message::Body::Changes(pb::RulesChanges {
                version: rules.version,
                from_hash,
                hash: hash.clone(),
                changes_json: serde_json::to_vec(&changes).map_err(|e| Some(internal(&e)))?,
            }),
            // The controller applies them whole or not at all, then says which it holds.
            None => server_message::Body::Rules(pb::RulesUpdate {
                version: rules.version,
                hash: hash.clone(),
                rules_json: serde_json::to_vec(&rules).map_err(|e| Some(internal(&e)))?,
            }),
        };
        self.sent = Some(Held { hash, rules });
        self.send(body).await
    }

    /// Notes the rules the controller says it holds. Rules other than those it holds or
    /// passes through on its way to the rules sent (which it applies in order) mean the
    /// session no longer knows what it holds: the next offer sends the rules whole.
    fn holds(&mut self, hash: String) {
        self.held_hash = hash;
        if self.held_hash == self.sent_hash {
            self.on_the_way.clear();
        } else if !self.on_the_way.contains(&self.held_hash) {
            self.sent = None;
            self.sent_hash.clone_from(&self.held_hash);
            self.on_the_way.clear();
        }
    }

    /// Whether the controller holds the rules last built, of a version newer than the one
    /// on record for it.
    fn holds_newer(&self) -> bool {
        !self.rules_hash.is_empty()
            && self.held_hash == self.rules_hash
            && self
                .live
                .rules_version
                .is_none_or(|v| v < self.rules_version)
    }

    /// Writes the controller's live state. Holding the rules last built, it holds every
    /// change up to their version: accesses that waited for that are settled.
    async fn write_live(&mut self) -> Result<(), Ended> {
        let newer = self.holds_newer();
        self.live.rules_in_sync = self.held_hash == self.rules_hash;
        if self.live.rules_in_sync {
            // As the controller counts it: it holds the rules the server would send it.
            self.live.rules_confirmed_at = Some(self.state.clock.now());
        }
        if newer {
            self.live.rules_version = Some(self.rules_version);
        }
        self.state
            .store
            .set_controller_live(self.org, self.controller.id, &self.live)
            .await
            .map_err(|e| Some(status(e.into())))?;
        if newer {
            controllers::settle(&self.state, self.org, &self.controller)
                .await
                .map_err(|e| Some(status(e)))?;
        }
        Ok(())
    }

    /// Sends the controller a command, to be answered by its request id.
    async fn command(&mut self, command: hub::Command) -> Result<(), Ended> {
        // Forget commands whose askers stopped waiting (the controller never answered).
        self.commands.retain(|_, answer| !answer.is_closed());
        let id = Uuid::now_v7();
        self.commands.insert(id, command.answer);
        self.send(server_message::Body::Open(pb::OpenDoor {
            request_uuid: id.to_string(),
            door_uuid: command.door.0.to_string(),
        }))
        .await
    }

    /// Ends the session once the token is no longer this controller's (rotated, deleted).
    async fn still_ours(&self) -> Result<(), Ended> {
        match controllers::authenticate(&self.state, &self.token).await {
            Ok((org, c)) if org == self.org && c.id == self.controller.id => Ok(()),
            Ok(_) | Err(app::Error::Unauthenticated) => {
                Err(Some(token_refused(app::Error::Unauthenticated)))
            }
            Err(other) => Err(Some(status(other))),
        }
    }

    async fn receive(&mut self, message: pb::ControllerMessage) -> Result<(), Ended> {
        match message.body {
            Some(controller_message::Body::Heartbeat(beat)) => {
                let now = self.state.clock.now();
                self.holds(beat.rules_hash);
                self.live.last_seen_at = Some(now);
                self.live.events_waiting = i64::try_from(beat.events_waiting).ok();
                self.live.clock_skew_ms =
                    skew(time_of("heartbeat.clock", beat.clock).ok().flatten(), now);
                self.write_live().await
            }
            Some(controller_message::Body::Events(batch)) => {
                if batch.events.len() > MAX_EVENTS {
                    return Err(Some(invalid(
                        "events",
                        "too_many_entries",
                        format!("send at most {MAX_EVENTS} events at once"),
                    )));
                }
                let decisions = batch
                    .events
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| reported(&format!("events[{i}]"), e))
                    .collect::<Result<Vec<_>, Status>>()
                    .map_err(Some)?;
                let stored = controllers::store_reported(
                    &self.state,
                    self.org,
                    &self.controller,
                    &decisions,
                )
                .await
                .map_err(|e| Some(status(e)))?;
                self.send(server_message::Body::Stored(pb::EventsStored {
                    uuids: stored.iter().map(Uuid::to_string).collect(),
                }))
                .await
            }
            Some(controller_message::Body::Opened(opened)) => {
                if let Ok(id) = Uuid::parse_str(&opened.request_uuid)
                    && let Some(answer) = self.commands.remove(&id)
                {
                    // Whoever asked may have stopped waiting.
                    let _ = answer.send(opened.opened);
                }
                Ok(())
            }
            Some(controller_message::Body::Hello(_)) => Err(Some(invalid(
                "hello",
                "hello_once",
                "a sync stream says hello once".to_owned(),
            ))),
            None => Ok(()),
        }
    }

    async fn send(&self, body: server_message::Body) -> Result<(), Ended> {
        let message = pb::ServerMessage { body: Some(body) };
        self.tx.send(Ok(message)).await.map_err(|_| None)
    }
}

/// A token that is not (or no longer) a controller's: rotated, or the controller deleted.
fn token_refused(err: app::Error) -> Status {
    match err {
        app::Error::Unauthenticated => Status::unauthenticated(
            "unauthenticated: this is not a controller's current token (rotated, or the \
             controller was deleted); give the controller its new token",
        ),
        other => status(other),
    }
}

/// The controller's clock minus the server's, in milliseconds.
fn skew(clock: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    clock.map(|c| (c - now).num_milliseconds())
}

fn internal(err: &dyn std::fmt::Display) -> Status {
    tracing::error!(error = %err, "controller session");
    Status::internal("internal: the server log has the details")
}

/// A word the controller sent in `field`, read as the domain's value of that name.
fn word<T: serde::de::DeserializeOwned>(field: &str, value: &str, what: &str) -> Result<T, Status> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).map_err(|_| {
        invalid(
            field,
            "invalid_value",
            format!("{field} must be {what}; got {value:?}"),
        )
    })
}

/// An event as the controller reported it, checked.
fn reported(at: &str, e: pb::ControllerEvent) -> Result<Reported, Status> {
    let id = parse_uuid(&format!("{at}.uuid"), &e.uuid)?;
    let optional = |field: &str, value: &str| -> Result<Option<Uuid>, Status> {
        if value.is_empty() {
            Ok(None)
        } else {
            parse_uuid(&format!("{at}.{field}"), value).map(Some)
        }
    };
    let when = time_of(&format!("{at}.at"), e.at)?.ok_or_else(|| {
        invalid(
            &format!("{at}.at"),
            "required",
            format!("{at}.at is required"),
        )
    })?;
    let door = DoorId(parse_uuid(&format!("{at}.door_uuid"), &e.door_uuid)?);
    let one_of = |field: &str, value: String, allowed: &[&str]| {
        if allowed.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(invalid(
                &format!("{at}.{field}"),
                "invalid_value",
                format!("{at}.{field} must be one of {allowed:?}; got {value:?}"),
            ))
        }
    };
    let what = if !e.reader_state.is_empty() {
        let name = e.reader_name;
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(invalid(
                &format!("{at}.reader_name"),
                "invalid_name",
                format!("{at}.reader_name must be 1 to 64 characters"),
            ));
        }
        ReportedWhat::Reader {
            name,
            state: one_of("reader_state", e.reader_state, &controllers::READER_STATES)?,
            tamper: e.reader_tamper,
        }
    } else if !e.door_state.is_empty() {
        ReportedWhat::DoorState {
            state: one_of("door_state", e.door_state, &DoorState::STATES)?,
            cause: one_of("door_state_cause", e.door_state_cause, &DoorState::CAUSES)?,
        }
    } else {
        let denied = if e.granted {
            None
        } else {
            Some(word::<DenyReason>(
                &format!("{at}.reason"),
                &e.reason,
                "a deny reason",
            )?)
        };
        ReportedWhat::Decision {
            denied,
            auth: word::<AuthType>(
                &format!("{at}.credential"),
                &e.credential,
                "card, pin or card_and_pin",
            )?,
            direction: word::<Direction>(&format!("{at}.direction"), &e.direction, "in or out")?,
            member: optional("member_uuid", &e.member_uuid)?.map(MembershipId),
            access: optional("access_uuid", &e.access_uuid)?.map(AccessId),
        }
    };
    Ok(Reported {
        id,
        at: when,
        door,
        offline: e.offline,
        what,
    })
}
