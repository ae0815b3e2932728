//! `DoorsService`: opening doors from afar, following an organization's events, and the
//! door controllers' live state.

use std::time::{Duration, Instant};

use lintel_domain::decision::Direction;
use lintel_domain::{Area, Controller, ControllerId, DoorId, Event, EventKind, SiteId};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::pb::{self, doors_service_server::DoorsService};
use super::{Api, invalid, parse_uuid, status, time_of, timestamp};
use crate::app::decisions::{self, Location};
use crate::app::events::Watch;
use crate::app::{self, AppState, ListRequest, controllers};

/// The most controllers one `GetControllers` names.
const MAX_CONTROLLERS: usize = 100;

/// A watch looks for new events when its organization's log grows (`Signal::Events`, from
/// any node), and at least this often, should a signal have been lost.
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// How often a watch checks that its caller may still watch (key revoked, area removed,
/// token expired): the stream then ends with that error.
const RECHECK: Duration = Duration::from_secs(30);

#[tonic::async_trait]
impl DoorsService for Api {
    async fn remote_open(
        &self,
        req: Request<pb::RemoteOpenRequest>,
    ) -> Result<Response<pb::RemoteOpenResponse>, Status> {
        let ctx = self.enter(&req, &req.get_ref().organization_slug).await?;
        let req = req.into_inner();
        let door = DoorId(parse_uuid("door_uuid", &req.door_uuid)?);
        let direction = match pb::Direction::try_from(req.direction) {
            Ok(pb::Direction::Unspecified | pb::Direction::In) => Direction::In,
            Ok(pb::Direction::Out) => Direction::Out,
            Err(_) => {
                return Err(invalid(
                    "direction",
                    "unknown_direction",
                    "direction must be DIRECTION_IN or DIRECTION_OUT".to_owned(),
                ));
            }
        };
        let location = req.location.map(|l| Location {
            latitude: l.latitude,
            longitude: l.longitude,
        });
        let open = decisions::OpenRequest {
            direction: Some(direction),
            pin: req.pin,
            location,
        };
        let answer = decisions::open(&self.state, &ctx, door, open)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::RemoteOpenResponse {
            granted: answer.granted,
            opened: answer.opened,
            reason: answer
                .reason
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            access_uuid: answer
                .access_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            door_uuid: answer.door_id.to_string(),
            at: Some(timestamp(answer.at)),
        }))
    }

    async fn get_controllers(
        &self,
        req: Request<pb::GetControllersRequest>,
    ) -> Result<Response<pb::GetControllersResponse>, Status> {
        let ctx = self.enter(&req, &req.get_ref().organization_slug).await?;
        let req = req.into_inner();
        if req.uuids.len() > MAX_CONTROLLERS {
            return Err(invalid(
                "uuids",
                "too_many_entries",
                format!("name at most {MAX_CONTROLLERS} controllers; list with pages for more"),
            ));
        }
        let (found, next) = if req.uuids.is_empty() {
            let site = match req.site_uuid.trim() {
                "" => None,
                s => Some(SiteId(parse_uuid("site_uuid", s)?)),
            };
            let page = ListRequest {
                limit: (req.page_size > 0).then_some(req.page_size),
                cursor: (!req.page_token.is_empty()).then_some(req.page_token),
            };
            let listed = controllers::list(&self.state, &ctx, site, &page)
                .await
                .map_err(status)?;
            (listed.items, listed.next_cursor.unwrap_or_default())
        } else {
            let mut found = Vec::with_capacity(req.uuids.len());
            for (i, uuid) in req.uuids.iter().enumerate() {
                let field = format!("uuids[{i}]");
                let id = ControllerId(parse_uuid(&field, uuid)?);
                let got = controllers::get(&self.state, &ctx, id).await;
                found.push(got.map_err(|e| match e {
                    app::Error::NotFound { what } => status(app::Error::Missing { what, field }),
                    other => status(other),
                })?);
            }
            (found, String::new())
        };
        Ok(Response::new(pb::GetControllersResponse {
            controllers: found.into_iter().map(controller).collect(),
            next_page_token: next,
        }))
    }

    type WatchEventsStream = ReceiverStream<Result<pb::Event, Status>>;

    async fn watch_events(
        &self,
        req: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let secret = super::bearer(&req).unwrap_or_default().to_owned();
        let ctx = self.enter(&req, &req.get_ref().organization_slug).await?;
        let req = req.into_inner();
        let kind = Some(req.kind).filter(|k| !k.trim().is_empty());
        let since = time_of("since", req.since)?;
        // Listening first: an event committed after this is heard, one before it is read.
        let signals = self.state.store.signals();
        let watch = Watch::start(&self.state, &ctx, kind, since)
            .await
            .map_err(status)?;
        let (tx, rx) = mpsc::channel(256);
        let follow = Follow::new(&self.state, secret, &ctx);
        tokio::spawn(follow.run(watch, signals, tx, |e| Some(event(e))));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    type WatchDoorStatesStream = ReceiverStream<Result<pb::DoorStateChange, Status>>;

    async fn watch_door_states(
        &self,
        req: Request<pb::WatchDoorStatesRequest>,
    ) -> Result<Response<Self::WatchDoorStatesStream>, Status> {
        let secret = super::bearer(&req).unwrap_or_default().to_owned();
        let ctx = self.enter(&req, &req.get_ref().organization_slug).await?;
        // Listening first, then the states now: a change after them is heard (one in
        // between comes twice, the same state).
        let signals = self.state.store.signals();
        let kind = Some(EventKind::DoorStateChanged.as_str().to_owned());
        let watch = Watch::start(&self.state, &ctx, kind, None)
            .await
            .map_err(status)?;
        let now = controllers::door_states(&self.state, &ctx)
            .await
            .map_err(status)?;
        let (tx, rx) = mpsc::channel(256);
        let follow = Follow::new(&self.state, secret, &ctx);
        tokio::spawn(async move {
            for s in now {
                let current = pb::DoorStateChange {
                    door_uuid: s.door_id.to_string(),
                    state: s.state,
                    cause: s.cause,
                    at: Some(timestamp(s.at)),
                    current: true,
                };
                if tx.send(Ok(current)).await.is_err() {
                    return;
                }
            }
            follow.run(watch, signals, tx, door_state_change).await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// A stream's caller and organization, to follow its log.
struct Follow {
    state: AppState,
    secret: String,
    slug: String,
    org: lintel_domain::OrgId,
}

impl Follow {
    fn new(state: &AppState, secret: String, ctx: &app::OrgCtx) -> Follow {
        Follow {
            state: state.clone(),
            secret,
            slug: ctx.org.slug.to_string(),
            org: ctx.org_id(),
        }
    }

    /// Sends what `watch` finds (as `map` makes it) until the caller goes away or may no
    /// longer watch; looks again when the organization's log grows on any node, or every
    /// `LOOK_EVERY`.
    async fn run<T: Send + 'static>(
        self,
        mut watch: Watch,
        mut signals: lintel_store::Receiver,
        tx: mpsc::Sender<Result<T, Status>>,
        map: fn(Event) -> Option<T>,
    ) {
        let mut checked = Instant::now();
        loop {
            match watch.next(&self.state).await {
                Ok(events) => {
                    for e in events.into_iter().filter_map(map) {
                        if tx.send(Ok(e)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(err) => {
                    let _ = tx.send(Err(status(err))).await;
                    return;
                }
            }
            if checked.elapsed() >= RECHECK {
                checked = Instant::now();
                if let Err(err) = may_watch(&self.state, &self.secret, &self.slug).await {
                    let _ = tx.send(Err(status(err))).await;
                    return;
                }
            }
            // Until this organization's log grows (on any node), signals may have been lost,
            // or it is time to look anyway.
            tokio::select! {
                () = signals.events_of(self.org) => {}
                () = tokio::time::sleep(LOOK_EVERY) => {}
                () = tx.closed() => return,
            }
        }
    }
}

fn door_state_change(e: Event) -> Option<pb::DoorStateChange> {
    let word = |key: &str| e.summary[key].as_str().unwrap_or_default().to_owned();
    Some(pb::DoorStateChange {
        door_uuid: e.object_id?.to_string(),
        state: word("state"),
        cause: word("cause"),
        at: Some(timestamp(e.at)),
        current: false,
    })
}

fn controller(c: Controller) -> pb::Controller {
    pb::Controller {
        uuid: c.id.0.to_string(),
        site_uuid: c.site_id.0.to_string(),
        name: c.name,
        description: c.description,
        online: c.live.online,
        last_seen_at: c.live.last_seen_at.map(timestamp),
        rules_version: c.live.rules_version,
        rules_in_sync: c.live.rules_in_sync,
        events_waiting: c.live.events_waiting,
        clock_skew_ms: c.live.clock_skew_ms,
        software_version: c.live.software_version.unwrap_or_default(),
        token_issued_at: Some(timestamp(c.token_issued_at)),
        created_at: Some(timestamp(c.created_at)),
        updated_at: Some(timestamp(c.updated_at)),
        rules_confirmed_at: c.live.rules_confirmed_at.map(timestamp),
        rules_stale_at: c.live.rules_stale_at.map(timestamp),
    }
}

/// Whether the credential a watch was opened with still allows it.
async fn may_watch(state: &AppState, secret: &str, slug: &str) -> Result<(), app::Error> {
    super::enter(state, Some(secret), slug)
        .await?
        .require(Area::Audit)
}

fn event(e: Event) -> pb::Event {
    pb::Event {
        uuid: e.id.0.to_string(),
        kind: e.kind,
        at: Some(timestamp(e.at)),
        actor_kind: e.actor.kind().to_owned(),
        actor_uuid: e.actor.id().map(|id| id.to_string()).unwrap_or_default(),
        actor_name: e.actor.name().to_owned(),
        object_kind: e.object_kind.unwrap_or_default(),
        object_uuid: e.object_id.map(|id| id.to_string()).unwrap_or_default(),
        summary_json: e.summary.to_string(),
    }
}
