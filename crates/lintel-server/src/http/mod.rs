//! The HTTP API: routes, the OpenAPI document generated from them, and the middleware every
//! request passes (request id, tracing, body limit, panic guard).

mod accesses;
mod api_keys;
mod auth;
mod controllers;
mod credentials;
mod decisions;
mod doors;
pub mod error;
mod events;
pub(crate) mod extract;
mod groups;
mod health;
mod links;
mod list;
mod me;
mod members;
mod orgs;
mod schedules;
mod sign_in_methods;
mod sites;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::ApiError;
use crate::app::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lintel",
        description = "Physical access control: organizations, sites, doors, groups and more. \
            Authenticate with `Authorization: Bearer <API key>` (integrations) or \
            `Bearer <auth token>` (a signed-in device, see sign-in). Errors are \
            `{\"error\": {\"code\", \"message\", \"field\"}}`; lists take `limit` and `cursor` \
            and return `next_cursor`. Emails and text messages a request sends (sign-in links \
            and codes, invitations, guest links) are written in the language its \
            `Accept-Language` prefers among en, sv and fr, unless the recipient chose one."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "sign-in", description = "Registering and signing in: email link, then SMS code"),
        (name = "me", description = "The signed-in person's account and devices"),
        (name = "organizations", description = "Tenants"),
        (name = "sites", description = "An organization's places"),
        (name = "doors", description = "Anything that can be unlocked"),
        (name = "controllers", description = "The boxes at a site that hold their doors' rules"),
        (name = "groups", description = "Named sets of members"),
        (name = "schedules", description = "Weekly windows in a time zone, with exceptions"),
        (name = "accesses", description = "Grants: who may pass which doors, how and when"),
        (name = "credentials", description = "Members' cards and PIN codes"),
        (name = "access links", description = "Guests' links: sent, listed, revoked, opened"),
        (name = "unlocking", description = "Decisions: unlock, who can open, which doors"),
        (name = "members", description = "Memberships, invitations and admin areas"),
        (name = "api keys", description = "An organization's machine credentials"),
        (name = "events", description = "The event log: who did what"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lnt_…")
                    .build(),
            ),
        );
    }
}

/// Every route, and the OpenAPI document describing exactly those routes.
fn routes() -> (Router<AppState>, OpenApiDoc) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(openapi_json))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::verify_email))
        .routes(routes!(auth::verify_sms))
        .routes(routes!(auth::reissue))
        .routes(routes!(auth::recover))
        .routes(routes!(auth::reset_account))
        .routes(routes!(auth::reset_account_verify))
        .routes(routes!(sign_in_methods::providers))
        .routes(routes!(sign_in_methods::start))
        .routes(routes!(sign_in_methods::finish))
        .routes(routes!(sign_in_methods::register))
        .routes(routes!(sign_in_methods::complete))
        .routes(routes!(sign_in_methods::sign_in_options))
        .routes(routes!(sign_in_methods::sign_in))
        .routes(routes!(sign_in_methods::my_providers))
        .routes(routes!(sign_in_methods::start_link))
        .routes(routes!(sign_in_methods::link))
        .routes(routes!(sign_in_methods::unlink))
        .routes(routes!(sign_in_methods::passkeys, sign_in_methods::add))
        .routes(routes!(sign_in_methods::add_options))
        .routes(routes!(sign_in_methods::remove))
        .routes(routes!(sign_in_methods::verify_options))
        .routes(routes!(sign_in_methods::verify))
        .routes(routes!(me::get, me::update))
        .routes(routes!(me::devices))
        .routes(routes!(me::unregister))
        .routes(routes!(me::verify_pin))
        .routes(routes!(me::change_email))
        .routes(routes!(me::confirm_email))
        .routes(routes!(me::change_phone))
        .routes(routes!(me::confirm_phone))
        .routes(routes!(me::delete))
        .routes(routes!(me::confirm_delete))
        .routes(routes!(members::mine))
        .routes(routes!(members::leave))
        .routes(routes!(members::preview))
        .routes(routes!(members::accept))
        .routes(routes!(orgs::list, orgs::create))
        .routes(routes!(orgs::get, orgs::update, orgs::delete))
        .routes(routes!(sites::list, sites::create))
        .routes(routes!(sites::get, sites::update, sites::delete))
        .routes(routes!(doors::list, doors::create))
        .routes(routes!(doors::get, doors::update, doors::delete))
        .routes(routes!(controllers::list, controllers::create))
        .routes(routes!(
            controllers::get,
            controllers::update,
            controllers::delete
        ))
        .routes(routes!(controllers::rotate_token))
        .routes(routes!(controllers::door_states))
        .routes(routes!(controllers::pairing_code))
        .routes(routes!(controllers::pair))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::get, groups::update, groups::delete))
        .routes(routes!(schedules::list, schedules::create))
        .routes(routes!(
            schedules::get,
            schedules::update,
            schedules::delete
        ))
        .routes(routes!(accesses::list, accesses::create))
        .routes(routes!(accesses::create_batch))
        .routes(routes!(accesses::get, accesses::update, accesses::delete))
        .routes(routes!(decisions::unlock))
        .routes(routes!(decisions::remote_unlock))
        .routes(routes!(decisions::reader_proof))
        .routes(routes!(decisions::who_can_open))
        .routes(routes!(decisions::member_doors))
        .routes(routes!(decisions::my_doors))
        .routes(routes!(credentials::list_cards, credentials::create_card))
        .routes(routes!(credentials::get_card, credentials::revoke_card))
        .routes(routes!(credentials::list_pins, credentials::create_pin))
        .routes(routes!(credentials::get_pin, credentials::revoke_pin))
        .routes(routes!(credentials::present))
        .routes(routes!(credentials::my_pins))
        .routes(routes!(links::list, links::create))
        .routes(routes!(links::get, links::revoke))
        .routes(routes!(links::quotas, links::set_quotas))
        .routes(routes!(links::view))
        .routes(routes!(links::unlock))
        .routes(routes!(members::list))
        .routes(routes!(members::get, members::update, members::remove))
        .routes(routes!(members::invite, members::invitations))
        .routes(routes!(members::resend))
        .routes(routes!(members::revoke))
        .routes(routes!(members::admins))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(events::list))
        .routes(routes!(events::export))
        .split_for_parts()
}

/// The OpenAPI document, as served at `/api/v1/openapi.json`.
pub fn openapi() -> OpenApiDoc {
    routes().1
}

/// The OpenAPI document, pretty-printed as committed in the repository.
pub fn openapi_json_text() -> String {
    let mut text = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}

#[derive(Clone)]
struct OpenApiText(Arc<str>);

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "the OpenAPI document", content_type = "application/json")))]
async fn openapi_json(Extension(doc): Extension<OpenApiText>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.to_string(),
    )
        .into_response()
}

/// How the HTTP front end behaves.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// The header a reverse proxy puts the client's address in; its last address is taken as
    /// the request's source. `None`: the connection's peer address.
    pub client_ip_header: Option<HeaderName>,
    pub timeouts: Timeouts,
}

/// How long a client may keep the server waiting.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To send a request's head, counted from the connection's start or the previous answer
    /// (so an idle connection is closed after it); also the HTTP/2 ping interval and timeout.
    pub header_read: Duration,
    /// Between two chunks of a request's body.
    pub body_idle: Duration,
    /// For requests in flight to finish once shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(10),
            body_idle: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The API's routes, for `lib.rs` to join with the pages and the gRPC services.
pub fn api_routes() -> Router<AppState> {
    routes().0
}

/// What every answer on the port goes through, whichever of the API, the pages or gRPC
/// serves it: fallbacks, body limit, panics caught, request ids, the request log (secrets
/// redacted), and the security headers with the pages' content `policy`.
pub fn front(app: Router, https: bool, policy: &str, options: HttpOptions) -> Router {
    let policy = HeaderValue::from_str(policy).expect("the policy is ASCII");
    let doc = OpenApiText(openapi_json_text().into());
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            let path = loggable_path(req.uri().path());
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %path)
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    app.fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(doc))
        .layer(Extension(extract::ClientIpHeader(options.client_ip_header)))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            error::internal().into_response()
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_unfit_request_id))
        .layer(axum::middleware::map_response(move |res| {
            security_headers(res, policy.clone(), https)
        }))
}

/// Headers every answer carries: no sniffing, no framing, the pages' content policy, no
/// caching (answers carry secrets and personal data) unless a route says otherwise, no
/// referrer beyond this origin, and HSTS when served over https.
async fn security_headers(mut res: Response, policy: HeaderValue, https: bool) -> Response {
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// A caller's `x-request-id` is kept only when it is a short id of letters, digits and
/// hyphens; anything else (log forging, a huge value) is replaced by one of ours.
async fn drop_unfit_request_id(mut req: Request) -> Request {
    let fit = req.headers().get(&REQUEST_ID).is_none_or(|v| {
        let v = v.as_bytes();
        (1..=64).contains(&v.len()) && v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    });
    if !fit {
        req.headers_mut().remove(&REQUEST_ID);
    }
    req
}

/// A request's path as the log may show it. Paths carry secrets (`/l/lnk_…`,
/// `/invitations/lni_…`): every secret has an underscore after its prefix and 43 characters
/// of base64url, so a segment is kept only when it has no underscore and is short (route
/// names, gRPC methods, UUIDs) or all lowercase (slugs); others show as `{redacted}`.
pub(crate) fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let b = segment.as_bytes();
            let word = b
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.');
            let lowercase = b.iter().all(|c| !c.is_ascii_uppercase());
            if word && (b.len() <= 40 || (lowercase && b.len() <= 64)) {
                segment
            } else {
                "{redacted}"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn route_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        "no such route; /api/v1/openapi.json lists them all",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; /api/v1/openapi.json lists them all",
    )
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn secrets_in_paths_are_never_logged() {
        for (path, logged) in [
            (
                "/l/lnk_3q2-7wEeJbq9T0x8yZkYbq3LwPZ0a1b2c3d4e5f6g7h/doors/0190a8e6-7c1d-7e2a-9b3c-4d5e6f708192/unlock",
                "/l/{redacted}/doors/0190a8e6-7c1d-7e2a-9b3c-4d5e6f708192/unlock",
            ),
            (
                "/api/v1/invitations/lni_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-abcdefg/accept",
                "/api/v1/invitations/{redacted}/accept",
            ),
            // A secret without its prefix (pasted wrong) is no safer to log.
            (
                "/l/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-abcdefg",
                "/l/{redacted}",
            ),
            (
                "/api/v1/orgs/acme-storage/api-keys",
                "/api/v1/orgs/acme-storage/api-keys",
            ),
            (
                "/lintel.v1.Accesses/CreateAccesses",
                "/lintel.v1.Accesses/CreateAccesses",
            ),
            ("/me/devices/ada@example.com", "/me/devices/{redacted}"),
        ] {
            assert_eq!(loggable_path(path), logged);
        }
    }
}
