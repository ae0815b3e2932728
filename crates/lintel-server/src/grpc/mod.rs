//! The gRPC API (package `lintel.v1`, generated in `lintel-proto`), served on the HTTP port:
//! the same use cases as the HTTP API, with their refusals mapped to gRPC statuses in one
//! place (`error.rs`).

mod accesses;
mod auth;
mod controllers;
mod doors;
mod error;
mod health;

pub use error::status;

use tonic::{Request, Status};
use uuid::Uuid;

use crate::app::{self, AppState, OrgCtx};

pub use lintel_proto::v1 as pb;

/// The largest message a client may send (read before the caller is known, so bounded): a
/// batch of 10,000 accesses of a door, a member and a group each is about 2 MB.
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;
/// The largest answer: 10,000 accesses come back whole.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

const GZIP: tonic::codec::CompressionEncoding = tonic::codec::CompressionEncoding::Gzip;

/// The gRPC services with server reflection, as routes to merge into the HTTP router: each
/// service at `/<package>.<Service>/<Method>`.
pub fn routes(state: AppState) -> axum::Router {
    let api = Api { state };
    // Both versions of reflection: older tools know only v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(lintel_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_alpha = reflection()
        .build_v1alpha()
        .expect("the compiled descriptor set is valid");
    let reflection = reflection()
        .build_v1()
        .expect("the compiled descriptor set is valid");
    // Messages may come gzipped (the size limits hold for what they unpack to), and answers
    // go gzipped to a client that says it accepts that: 10,000 accesses are 1.9 MB, 0.29 MB
    // gzipped.
    let router = axum::Router::new();
    let router = service(
        router,
        pb::auth_service_server::AuthServiceServer::new(api.clone())
            .accept_compressed(GZIP)
            .send_compressed(GZIP),
    );
    let router = service(
        router,
        pb::accesses_service_server::AccessesServiceServer::new(api.clone())
            .accept_compressed(GZIP)
            .send_compressed(GZIP)
            .max_decoding_message_size(MAX_REQUEST_BYTES)
            .max_encoding_message_size(MAX_ANSWER_BYTES),
    );
    let router = service(
        router,
        pb::doors_service_server::DoorsServiceServer::new(api.clone())
            .accept_compressed(GZIP)
            .send_compressed(GZIP),
    );
    // A controller's rules come whole: 250,000 credentials are tens of megabytes of JSON,
    // a few when gzipped.
    let router = service(
        router,
        pb::controller_service_server::ControllerServiceServer::new(api.clone())
            .accept_compressed(GZIP)
            .send_compressed(GZIP)
            .max_encoding_message_size(MAX_ANSWER_BYTES),
    );
    let router = service(
        router,
        tonic_health::pb::health_server::HealthServer::new(health::HealthCheck {
            state: api.state.clone(),
        }),
    );
    let router = service(router, reflection);
    service(router, reflection_alpha)
}

fn service<S>(router: axum::Router, svc: S) -> axum::Router
where
    S: tower::Service<
            axum::extract::Request,
            Response = axum::http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    router.route_service(&format!("/{}/{{*method}}", S::NAME), svc)
}

/// The three services share the app state.
#[derive(Clone)]
struct Api {
    state: AppState,
}

impl Api {
    /// Enters organization `slug` as the caller (`authorization: Bearer <auth token or API
    /// key>`), speaking the language its `accept-language` metadata asks for.
    async fn enter<T>(&self, req: &Request<T>, slug: &str) -> Result<OrgCtx, Status> {
        let mut ctx = enter(&self.state, bearer(req), slug)
            .await
            .map_err(status)?;
        ctx.lang = req
            .metadata()
            .get("accept-language")
            .and_then(|v| v.to_str().ok())
            .map_or(
                crate::i18n::Lang::En,
                crate::i18n::Lang::from_accept_language,
            );
        Ok(ctx)
    }
}

/// Enters organization `slug` as the holder of bearer `secret`.
async fn enter(state: &AppState, secret: Option<&str>, slug: &str) -> Result<OrgCtx, app::Error> {
    let secret = secret.ok_or(app::Error::Unauthenticated)?;
    app::enter_org_by_bearer(state, secret, None, slug.trim()).await
}

fn bearer<T>(req: &Request<T>) -> Option<&str> {
    req.metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim())
}

/// A UUID the client sent in `field`.
fn parse_uuid(field: &str, value: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(value.trim()).map_err(|_| {
        invalid(
            field,
            "invalid_uuid",
            format!("{field} must be a UUID such as 0190f3a2-5c1e-7d4b-9a8e-1f2c3d4e5f60"),
        )
    })
}

/// A refusal of what the client sent in `field`, before any use case runs.
fn invalid(field: &str, code: &'static str, message: String) -> Status {
    status(lintel_domain::ValidationError::new(field, code, message).into())
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn time_of(
    field: &str,
    t: Option<prost_types::Timestamp>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, Status> {
    t.map(|t| {
        u32::try_from(t.nanos)
            .ok()
            .and_then(|nanos| chrono::DateTime::from_timestamp(t.seconds, nanos))
            .ok_or_else(|| {
                invalid(
                    field,
                    "invalid_timestamp",
                    format!("{field} is not a valid time"),
                )
            })
    })
    .transpose()
}
