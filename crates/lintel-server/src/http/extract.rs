//! Extractors whose rejections speak the API's error format, and the ones that authenticate
//! a request and enter its organization.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::{self, Actor, AppState, OrgCtx};

/// A JSON body. Not JSON: 400 `malformed_json`; JSON of the wrong shape: 422 with the path
/// of the offending field; too large: 413; not declared as JSON: 415.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the request body must be JSON, sent with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is larger than this server accepts",
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    format!("the request body could not be read: {rejection}"),
                )
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |err: serde_json::Error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the request body is not valid JSON: {err}"),
        )
    };
    // serde would also read a struct from an array of its fields; an API body is an object.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_type",
            "the request body must be a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            malformed(inner)
        } else {
            shape_error(&path, &strip_position(&inner.to_string()))
        }
    })?;
    de.end().map_err(malformed)?;
    Ok(value)
}

/// serde_json appends " at line L column C"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A well-formed document of the wrong shape, named by its field path.
fn shape_error(path: &str, message: &str) -> ApiError {
    let quoted = || message.split('`').nth(1).map(str::to_owned);
    // The path of an unknown field already ends with it; that of a missing one is its parent.
    let join = |parent: &str, name: String| {
        if parent == "." || parent.is_empty() {
            name
        } else if parent == name || parent.ends_with(&format!(".{name}")) {
            parent.to_owned()
        } else {
            format!("{parent}.{name}")
        }
    };
    let (code, field) = if message.starts_with("unknown field") {
        ("unknown_field", quoted().map(|f| join(path, f)))
    } else if message.starts_with("missing field") {
        ("missing_field", quoted().map(|f| join(path, f)))
    } else if message.starts_with("invalid type") {
        ("invalid_type", Some(path.to_owned()))
    } else {
        ("invalid_value", Some(path.to_owned()))
    };
    let field = field.filter(|f| f != ".");
    let message = match &field {
        Some(f) if code == "invalid_type" || code == "invalid_value" => format!("{f}: {message}"),
        _ => message.to_owned(),
    };
    let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    err.field = field;
    err
}

/// Path parameters; one that does not parse (an id that is not a UUID) is a 400 naming it.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                use axum::extract::path::ErrorKind;
                let key = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::DeserializeError { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key } => Some(key.clone()),
                    _ => None,
                };
                let message = match &key {
                    Some(key) if key.ends_with("_id") => format!("{key} must be a UUID"),
                    Some(key) => format!("{key} is not valid here"),
                    None => e.body_text(),
                };
                let err = ApiError::new(StatusCode::BAD_REQUEST, "invalid_path_parameter", message);
                Err(match key {
                    Some(key) => err.with_field(key),
                    None => err,
                })
            }
            Err(other) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path_parameter",
                other.body_text(),
            )),
        }
    }
}

/// Query parameters; one that does not parse is a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let field = err.path().to_string();
                let err = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query_parameter",
                    format!("query parameter {field}: {}", err.inner()),
                );
                if field == "." {
                    err
                } else {
                    err.with_field(field)
                }
            })
    }
}

/// The authenticated caller, from `Authorization: Bearer <key>`.
pub struct Authenticated(pub Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(parts)?;
        let device_time = device_time(parts)?;
        let actor = app::bearer::authenticate_bearer(state, secret, device_time).await?;
        Ok(Authenticated(actor))
    }
}

/// The secret of `Authorization: Bearer <secret>`.
fn bearer(parts: &Parts) -> Result<&str, app::Error> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, secret)| secret.trim())
        .ok_or(app::Error::Unauthenticated)
}

/// A request whose `X-Device-Time`, when sent, is within the tolerance of the server's clock:
/// for the sign-in steps, which have no token to carry the check.
pub struct ClockChecked;

impl FromRequestParts<AppState> for ClockChecked {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        app::auth::check_clock(state.clock.now(), device_time(parts)?)?;
        Ok(ClockChecked)
    }
}

/// The device's own clock, from `X-Device-Time` (RFC 3339), when the app sends it.
fn device_time(parts: &Parts) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    let Some(value) = parts.headers.get(DEVICE_TIME) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).ok())
        .map(|t| Some(t.to_utc()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_header",
                "X-Device-Time must be an RFC 3339 time such as 2026-03-02T09:00:00Z",
            )
            .with_field("X-Device-Time")
        })
}

/// The header in which device apps send their clock.
pub const DEVICE_TIME: &str = "x-device-time";

/// The header a trusted reverse proxy puts the client's address in, when configured.
#[derive(Debug, Clone)]
pub struct ClientIpHeader(pub Option<axum::http::HeaderName>);

/// The address a request came from, for limits on what it may ask for: the connection's peer,
/// or, behind a reverse proxy, the last address of the configured header (the one that proxy
/// added; earlier ones are the client's own word).
pub struct Source(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let from_proxy = parts
            .extensions
            .get::<ClientIpHeader>()
            .and_then(|h| h.0.as_ref())
            .and_then(|name| parts.headers.get_all(name).iter().next_back())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok());
        let peer = || {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip())
        };
        from_proxy
            .or_else(peer)
            .map(Source)
            .ok_or_else(super::error::internal)
    }
}

/// The organization named by the `{org_slug}` path parameter, entered by the authenticated
/// caller: authentication, then tenant scoping, before the body is even read.
pub struct InOrg(pub OrgCtx);

impl FromRequestParts<AppState> for InOrg {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_path_parameter",
                    e.body_text(),
                )
            })?;
        let slug = params
            .0
            .get("org_slug")
            .map(String::as_str)
            .unwrap_or_default();
        // A device (a phone unlocking, the hot path) reads its device, the organization and
        // its membership in one statement.
        let (secret, device_time) = (bearer(parts)?, device_time(parts)?);
        let mut ctx = app::enter_org_by_bearer(state, secret, device_time, slug).await?;
        ctx.lang = crate::i18n::Lang::of_request(&parts.headers);
        Ok(InOrg(ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        radius_m: f64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        geofence: Option<Inner>,
    }

    fn reject(json: &str) -> ApiError {
        parse_json::<Body>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn json_errors_name_the_field_and_the_rule() {
        let e = reject("{\"name\": ");
        assert_eq!(
            (e.status, e.code.as_str()),
            (StatusCode::BAD_REQUEST, "malformed_json")
        );
        let e = reject("{\"name\": \"x\"} trailing");
        assert_eq!(e.code, "malformed_json");
        let e = reject(r#"{"name": "x", "colour": 1}"#);
        assert_eq!(
            (e.code.as_str(), e.field.as_deref()),
            ("unknown_field", Some("colour"))
        );
        let e = reject(r#"{"geofence": null}"#);
        assert_eq!(
            (e.code.as_str(), e.field.as_deref()),
            ("missing_field", Some("name"))
        );
        let e = reject("garbage");
        assert_eq!(e.code, "malformed_json");
        let e = reject(" [\"x\", null]");
        assert_eq!(
            (e.status, e.code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_type")
        );
        let e = reject(r#""a string""#);
        assert_eq!(e.code, "invalid_type");
        let e = reject(r#"{"name": 5}"#);
        assert_eq!(
            (e.code.as_str(), e.field.as_deref()),
            ("invalid_type", Some("name"))
        );
        let e = reject(r#"{"name": "x", "geofence": {"radius_m": "far"}}"#);
        assert_eq!(e.field.as_deref(), Some("geofence.radius_m"));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!e.message.contains("line"), "{}", e.message);
        let e = reject(r#"{"name": "x", "geofence": {"radius_m": 1, "x": 2}}"#);
        assert_eq!(e.field.as_deref(), Some("geofence.x"));
    }
}
