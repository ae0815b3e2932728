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
}

/// An error answer on its way out.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl From<app::Error> for ApiError {
    fn from(err: app::Error) -> Self {
        use app::Error as E;
        match err {
            E::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "a valid API key is required as 'Authorization: Bearer <key>'",
            ),
            E::Forbidden { area } => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this action needs the {area} admin area"),
            ),
            E::OperatorOnly => ApiError::new(StatusCode::FORBIDDEN, "forbidden", err.to_string()),
            E::NotFound { what } => ApiError::new(
                StatusCode::NOT_FOUND,
                format!("{what}_not_found"),
                format!("{what} not found"),
            ),
            E::Invalid(v) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, v.code, v.message)
                .with_field(v.field),
            E::Conflict {
                code,
                field,
                message,
            } => ApiError {
                status: StatusCode::CONFLICT,
                code: code.into(),
                message,
                field: field.map(Into::into),
            },
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
        let unauthenticated = status == StatusCode::UNAUTHORIZED;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field.filter(|f| !f.is_empty()),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
