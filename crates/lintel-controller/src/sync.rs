//! The sync stream with the server: hello with the rules held, then heartbeats and the
//! journal's events out; rules, confirmations and acknowledgements in. Reconnects after any
//! failure, waiting a little longer each time (up to `MAX_BACKOFF`), and keeps deciding
//! from the rules on disk meanwhile. With several servers (nodes of one Lintel), each
//! failure moves on to the next, so a controller whose node is lost is on another within the
//! first backoff.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lintel_domain::DoorId;
use lintel_proto::v1::{self as pb, controller_message, server_message};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataValue;

use crate::disk::Entry;
use crate::door::Doors;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often an unreachable server is mentioned in the log again.
const STILL_OFFLINE_EVERY: Duration = Duration::from_secs(60);
/// Events handed over in one message.
const BATCH: usize = 500;

pub struct Sync {
    /// The servers to try, in turn (`Config::servers`).
    pub servers: Vec<String>,
    pub token: String,
    pub heartbeat: Duration,
    pub doors: Arc<Doors>,
}

impl Sync {
    /// Runs for ever: each session until it fails, then the next. The first failure is
    /// logged with its cause; while the server stays unreachable, one line a minute says so.
    pub async fn run(self) {
        let mut backoff = FIRST_BACKOFF;
        let mut offline: Option<(Instant, Instant)> = None;
        for turn in 0.. {
            let server = &self.servers[turn % self.servers.len()];
            let err = match self.session(server, &mut offline).await {
                Ok(never) => match never {},
                Err(err) => err,
            };
            self.doors.set_connected(false);
            let now = Instant::now();
            match &mut offline {
                None => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        server,
                        "sync stream ended; deciding from the rules held"
                    );
                    offline = Some((now, now));
                    backoff = FIRST_BACKOFF;
                }
                Some((since, logged)) => {
                    if now - *logged >= STILL_OFFLINE_EVERY {
                        tracing::warn!(
                            error = format!("{err:#}"),
                            offline_secs = (now - *since).as_secs(),
                            events_waiting = self.doors.waiting_count(),
                            server,
                            "server still unreachable"
                        );
                        *logged = now;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
            // With several servers, the next is tried at once; the backoff counts once per
            // round.
            if (turn + 1) % self.servers.len() == 0 {
                tokio::time::sleep(backoff).await;
            }
        }
    }

    /// One session; it ends only by failing. `offline` (since when, last logged) is cleared
    /// once the server welcomes the controller.
    async fn session(
        &self,
        server: &str,
        offline: &mut Option<(Instant, Instant)>,
    ) -> anyhow::Result<Infallible> {
        let channel = tonic::transport::Endpoint::from_shared(server.to_owned())?
            .connect_timeout(Duration::from_secs(5))
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(10))
            .connect()
            .await?;
        let mut client = pb::controller_service_client::ControllerServiceClient::new(channel)
            .send_compressed(CompressionEncoding::Gzip)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(256 * 1024 * 1024);
        let (out, rx) = mpsc::channel(16);
        let (version, hash) = self.doors.held();
        out.send(message(controller_message::Body::Hello(
            pb::ControllerHello {
                rules_version: version,
                rules_hash: hash,
                software_version: env!("CARGO_PKG_VERSION").to_owned(),
                clock: Some(timestamp(self.doors.now())),
            },
        )))
        .await?;
        let mut request = tonic::Request::new(ReceiverStream::new(rx));
        let bearer: MetadataValue<_> = format!("Bearer {}", self.token).parse()?;
        request.metadata_mut().insert("authorization", bearer);
        let mut inbound = client.sync(request).await?.into_inner();

        let mut beat = tokio::time::interval(self.heartbeat);
        beat.tick().await;
        // Events handed over and not yet acknowledged: one batch at a time, in order.
        let mut in_flight = false;
        loop {
            if !in_flight {
                let batch = self.doors.waiting(BATCH);
                if !batch.is_empty() {
                    let events = batch.iter().map(event).collect();
                    out.send(message(controller_message::Body::Events(
                        pb::ControllerEvents { events },
                    )))
                    .await?;
                    in_flight = true;
                }
            }
            tokio::select! {
                received = inbound.message() => {
                    let Some(received) = received? else {
                        anyhow::bail!("the server closed the stream");
                    };
                    match received.body {
                        Some(server_message::Body::Welcome(w)) => {
                            self.doors.set_connected(true);
                            match offline.take() {
                                None => tracing::info!(controller = %w.controller_uuid, name = %w.name, server, "connected"),
                                Some((since, _)) => tracing::info!(
                                    controller = %w.controller_uuid,
                                    name = %w.name,
                                    server,
                                    offline_secs = since.elapsed().as_secs(),
                                    "connected again"
                                ),
                            }
                        }
                        Some(server_message::Body::Rules(update)) => {
                            self.doors.replace_rules(&update.rules_json, &update.hash)?;
                            drop(update.rules_json);
                            tracing::info!(version = update.version, "rules applied");
                            // Said at once: the server waits for it to call accesses ready.
                            out.send(self.heartbeat()).await?;
                        }
                        Some(server_message::Body::Changes(changes)) => {
                            let doors = self.doors.clone();
                            tokio::task::spawn_blocking(move || {
                                doors.apply_changes(&changes.changes_json, &changes.from_hash, &changes.hash)
                            })
                            .await??;
                            tracing::info!(version = changes.version, "rule changes applied");
                            out.send(self.heartbeat()).await?;
                        }
                        Some(server_message::Body::Open(open)) => {
                            let opened = uuid::Uuid::parse_str(&open.door_uuid)
                                .is_ok_and(|door| self.doors.release(DoorId(door)));
                            tracing::info!(door = %open.door_uuid, opened, "opened as the server decided");
                            out.send(message(controller_message::Body::Opened(pb::DoorOpened {
                                request_uuid: open.request_uuid,
                                opened,
                            })))
                            .await?;
                        }
                        Some(server_message::Body::Current(current)) => {
                            self.doors.confirm(&current.hash)?;
                        }
                        Some(server_message::Body::Stored(stored)) => {
                            let ids = stored
                                .uuids
                                .iter()
                                .filter_map(|u| uuid::Uuid::parse_str(u).ok())
                                .collect::<Vec<_>>();
                            self.doors.stored(&ids)?;
                            in_flight = false;
                        }
                        None => {}
                    }
                }
                () = self.doors.journaled.notified(), if !in_flight => {}
                _ = beat.tick() => out.send(self.heartbeat()).await?,
            }
        }
    }

    /// The rules held, the clock and the backlog.
    fn heartbeat(&self) -> pb::ControllerMessage {
        let (version, hash) = self.doors.held();
        message(controller_message::Body::Heartbeat(
            pb::ControllerHeartbeat {
                rules_version: version,
                rules_hash: hash,
                clock: Some(timestamp(self.doors.now())),
                events_waiting: self.doors.waiting_count() as u64,
            },
        ))
    }
}

fn message(body: controller_message::Body) -> pb::ControllerMessage {
    pb::ControllerMessage { body: Some(body) }
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn event(e: &Entry) -> pb::ControllerEvent {
    pb::ControllerEvent {
        uuid: e.id.to_string(),
        at: Some(timestamp(e.at)),
        door_uuid: e.door.to_string(),
        granted: e.granted,
        reason: e.reason.clone().unwrap_or_default(),
        credential: e.credential.clone(),
        direction: e.direction.clone(),
        member_uuid: e.member.map(|m| m.to_string()).unwrap_or_default(),
        access_uuid: e.access.map(|a| a.to_string()).unwrap_or_default(),
        offline: e.offline,
        door_state: e
            .door_state
            .as_ref()
            .map(|s| s.state.clone())
            .unwrap_or_default(),
        door_state_cause: e
            .door_state
            .as_ref()
            .map(|s| s.cause.clone())
            .unwrap_or_default(),
        reader_name: e
            .reader
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        reader_state: e
            .reader
            .as_ref()
            .map(|r| r.state.clone())
            .unwrap_or_default(),
        reader_tamper: e.reader.as_ref().is_some_and(|r| r.tamper),
    }
}
