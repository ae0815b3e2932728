//! The standard health service (`grpc.health.v1.Health`), for load balancers and
//! orchestrators that probe the gRPC port: a service is serving while the database answers,
//! as `/readyz` says over HTTP. Known services are the overall server (`""`) and ours.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::Health;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use super::pb;
use crate::app::AppState;

/// How often a watch asks the database again.
const WATCH_EVERY: Duration = Duration::from_secs(5);

const SERVICES: [&str; 5] = [
    "",
    <pb::auth_service_server::AuthServiceServer<super::Api> as NamedService>::NAME,
    <pb::accesses_service_server::AccessesServiceServer<super::Api> as NamedService>::NAME,
    <pb::doors_service_server::DoorsServiceServer<super::Api> as NamedService>::NAME,
    <pb::controller_service_server::ControllerServiceServer<super::Api> as NamedService>::NAME,
];

pub struct HealthCheck {
    pub state: AppState,
}

/// Serving while the database answers.
async fn status(state: &AppState, service: &str) -> ServingStatus {
    if !SERVICES.contains(&service) {
        return ServingStatus::ServiceUnknown;
    }
    match state.store.ping().await {
        Ok(()) => ServingStatus::Serving,
        Err(err) => {
            tracing::warn!(error = %err, "database is not answering");
            ServingStatus::NotServing
        }
    }
}

fn answer(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse {
        status: status as i32,
    }
}

#[tonic::async_trait]
impl Health for HealthCheck {
    async fn check(
        &self,
        req: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let service = req.into_inner().service;
        match status(&self.state, &service).await {
            ServingStatus::ServiceUnknown => Err(Status::not_found(format!(
                "unknown_service: service: no service is named {service:?}"
            ))),
            known => Ok(Response::new(answer(known))),
        }
    }

    type WatchStream = ReceiverStream<Result<HealthCheckResponse, Status>>;

    /// The status now, then each change (an unknown service stays unknown, and the call
    /// stays open, as the protocol asks).
    async fn watch(
        &self,
        req: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let service = req.into_inner().service;
        let state = self.state.clone();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut last = None;
            loop {
                let now = status(&state, &service).await;
                if last != Some(now) {
                    last = Some(now);
                    if tx.send(Ok(answer(now))).await.is_err() {
                        return;
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(WATCH_EVERY) => {}
                    () = tx.closed() => return,
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
