//! The one place use-case errors and request rejections become HTTP answers:
//! `{"error": {"code", "message", "field"}}` with a fitting status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code naming the rule, for programs.
    #[schema(example = "invalid_time_zone")]
    pub code: String,
    /// Lowercase explanation naming the field and the rule, for people.
    #[schema(
        example = "time_zone must be an IANA time zone name such as Europe/Stockholm; got \"Mars/Olympus\""
    )]
    pub message: String,
    /// The offending field, when one is to blame (`geofence.radius_m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Facts a program can act on: `retry_after_secs` for `too_many_requests`,
    /// `server_time` and `skew_secs` for `clock_skew`, `locked_until` for `account_locked`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// An error answer on its way out.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// Boxed: rare, and it would double the size of every `Result` carrying this error.
    pub details: Option<Box<serde_json::Value>>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            details: None,
            retry_after_secs: None,
        }
    }

    fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// The status of each kind of refusal. HTTP names two of them more finely than their kind:
/// a locked sign-in (423) and a device's wrong clock (400, the request itself is fine).
fn status(err: &app::Error) -> StatusCode {
    use app::Kind;
    match (err, err.kind()) {
        (app::Error::Locked { .. }, _) => StatusCode::LOCKED,
        (app::Error::ClockSkew { .. }, _) => StatusCode::BAD_REQUEST,
        (_, Kind::Unauthenticated) => StatusCode::UNAUTHORIZED,
        (_, Kind::Forbidden) => StatusCode::FORBIDDEN,
        (_, Kind::NotFound) => StatusCode::NOT_FOUND,
        (_, Kind::Invalid) => StatusCode::UNPROCESSABLE_ENTITY,
        (_, Kind::Exists | Kind::Conflict) => StatusCode::CONFLICT,
        (_, Kind::Gone) => StatusCode::GONE,
        (_, Kind::RateLimited) => StatusCode::TOO_MANY_REQUESTS,
        (_, Kind::Internal) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<app::Error> for ApiError {
    fn from(err: app::Error) -> Self {
        use app::Error as E;
        let status = status(&err);
        let message = err.to_string();
        match err {
            E::Unauthenticated => ApiError::new(
                status,
                "unauthenticated",
                "a valid API key is required as 'Authorization: Bearer <key>'",
            ),
            E::Forbidden { area } => ApiError::new(status, "forbidden", message)
                .with_details(serde_json::json!({ "area": area })),
            E::OperatorOnly => ApiError::new(status, "forbidden", message),
            E::NotFound { what } => ApiError::new(status, format!("{what}_not_found"), message),
            E::Missing { what, field } => ApiError::new(
                status,
                format!("{what}_not_found"),
                format!("{what} not found"),
            )
            .with_field(field),
            E::Invalid(v) => ApiError::new(status, v.code, v.message).with_field(v.field),
            E::Exists { code, field, .. } | E::Conflict { code, field, .. } => ApiError {
                field,
                ..ApiError::new(status, code, message)
            },
            E::DeviceOnly => ApiError::new(status, "device_only", message),
            E::TokenExpired => ApiError::new(status, "token_expired", message),
            E::DeviceUnregistered => ApiError::new(status, "device_unregistered", message),
            E::RateLimited { retry_after_secs } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..ApiError::new(status, "too_many_requests", message)
                    .with_details(serde_json::json!({ "retry_after_secs": retry_after_secs }))
            },
            E::Expired { what } => ApiError::new(status, format!("{what}_expired"), message),
            E::Locked { until } => ApiError::new(status, "account_locked", message)
                .with_details(serde_json::json!({ "locked_until": until })),
            E::ClockSkew {
                server_time,
                skew_secs,
            } => ApiError::new(status, "clock_skew", message).with_details(serde_json::json!({
                "server_time": server_time,
                "skew_secs": skew_secs,
            })),
            E::Internal(err) => {
                // Logged once, here, inside the request's span (so with its request id).
                tracing::error!(error = ?err, "internal error");
                internal()
            }
        }
    }
}

pub fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "an internal error occurred; the server log has it under this response's x-request-id",
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field.filter(|f| !f.is_empty()),
                details: self.details.map(|d| *d),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
