//! The one place use-case refusals become gRPC statuses: the code follows the refusal's kind
//! (`app::Kind`), the message is `code: field: explanation`, and the details carry what a
//! program reads (ErrorInfo, BadRequest, RetryInfo).

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use crate::app;
use crate::http::error::ApiError;

/// A use case's refusal as a gRPC status: the code from its kind, the message
/// `code: field: explanation`, and details a program can read (ErrorInfo with the code and
/// the field, BadRequest for an invalid field, RetryInfo when it is worth waiting).
pub fn status(err: app::Error) -> Status {
    let code = grpc_code(err.kind());
    let api = ApiError::from(err);
    let field = api.field.as_deref().map(grpc_field);
    let message = match &field {
        Some(f) => format!("{}: {f}: {}", api.code, api.message),
        None => format!("{}: {}", api.code, api.message),
    };
    let mut metadata = HashMap::new();
    if let Some(serde_json::Value::Object(facts)) = api.details.as_deref() {
        for (k, v) in facts {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            metadata.insert(k.clone(), v);
        }
    }
    let mut details = ErrorDetails::new();
    if let Some(f) = &field {
        metadata.insert("field".to_owned(), f.clone());
        if code == Code::InvalidArgument {
            details.add_bad_request_violation(f.clone(), api.message.clone());
        }
    }
    details.set_error_info(api.code.clone(), "lintel", metadata);
    if let Some(secs) = api.retry_after_secs {
        details.set_retry_info(Some(std::time::Duration::from_secs(secs)));
    }
    Status::with_error_details(code, message, details)
}

fn grpc_code(kind: app::Kind) -> Code {
    use app::Kind;
    match kind {
        Kind::Unauthenticated => Code::Unauthenticated,
        Kind::Forbidden => Code::PermissionDenied,
        Kind::NotFound => Code::NotFound,
        Kind::Invalid => Code::InvalidArgument,
        Kind::Exists => Code::AlreadyExists,
        Kind::Conflict | Kind::Gone => Code::FailedPrecondition,
        Kind::RateLimited => Code::ResourceExhausted,
        Kind::Internal => Code::Internal,
    }
}

/// A field as the use cases name it (`accesses[2].doors[0].door_id`), as the `.proto`
/// messages name it (`access_bodies[2].doors[0].door_uuid`).
fn grpc_field(field: &str) -> String {
    let parts: Vec<&str> = field.split('.').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let (name, index) = match part.find('[') {
                Some(at) => part.split_at(at),
                None => (*part, ""),
            };
            let name = match (name, i) {
                ("accesses", 0) => "access_bodies",
                ("ids", 0) => "uuids",
                ("limit", 0) => "page_size",
                ("cursor", 0) => "page_token",
                ("id", _) => "uuid",
                ("door_id", _) => "door_uuid",
                ("schedule_id", _) => "schedule.uuid",
                (other, _) => other,
            };
            let leaf = match (name, i == last && !index.is_empty()) {
                ("users", true) => ".user_uuid",
                ("groups", true) => ".group_uuid",
                _ => "",
            };
            format!("{name}{index}{leaf}")
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::{grpc_field, status};
    use tonic::Code;
    use tonic_types::StatusExt as _;

    #[test]
    fn a_rate_limit_is_resource_exhausted_with_the_time_to_wait() {
        let refused = status(crate::app::Error::RateLimited {
            retry_after_secs: 7,
        });
        assert_eq!(refused.code(), Code::ResourceExhausted);
        assert!(refused.message().starts_with("too_many_requests"));
        let retry = refused.get_error_details().retry_info().cloned().unwrap();
        assert_eq!(retry.retry_delay, Some(std::time::Duration::from_secs(7)));
    }

    #[test]
    fn a_taken_value_already_exists_and_a_forbidding_state_is_a_failed_precondition() {
        use lintel_store::StoreError;
        let taken = StoreError::exists("card_taken", Some("number"), "taken");
        let refused = status(taken.into());
        assert_eq!(refused.code(), Code::AlreadyExists);
        assert_eq!(refused.message(), "card_taken: number: taken");
        let last = StoreError::conflict("last_owner", None, "the last owner");
        assert_eq!(status(last.into()).code(), Code::FailedPrecondition);
    }

    #[test]
    fn fields_are_named_as_the_messages_name_them() {
        for (ours, theirs) in [
            (
                "accesses[2].doors[0].door_id",
                "access_bodies[2].doors[0].door_uuid",
            ),
            (
                "accesses[0].users[3]",
                "access_bodies[0].users[3].user_uuid",
            ),
            (
                "accesses[1].groups[0]",
                "access_bodies[1].groups[0].group_uuid",
            ),
            ("accesses[1].schedule_id", "access_bodies[1].schedule.uuid"),
            ("accesses[4].id", "access_bodies[4].uuid"),
            ("ids[7]", "uuids[7]"),
            ("limit", "page_size"),
            ("cursor", "page_token"),
            ("valid_to", "valid_to"),
            ("pin", "pin"),
        ] {
            assert_eq!(grpc_field(ours), theirs);
        }
    }
}
