//! What can go wrong in the store, in terms the app layer can turn into answers.

use lintel_domain::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist in this organization.
    #[error("not found")]
    NotFound,
    /// The write would break a uniqueness or dependency rule; `code` names the rule and
    /// `kind` says which of the two it is.
    #[error("{message}")]
    Conflict {
        kind: ConflictKind,
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// A field refers to an object that does not exist in this organization.
    #[error("{field} does not name an existing object of this organization")]
    MissingReference { field: &'static str },
    /// A change refused the current row.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The database holds something this version cannot read.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The schema does not match this version's migrations.
    #[error("migrations: {0}")]
    Migration(String),
    #[error("database configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Which rule a [`StoreError::Conflict`] is about: the transports answer them differently
/// (gRPC `ALREADY_EXISTS` against `FAILED_PRECONDITION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Another object already holds the value: a name, a slug, a card number, an id, an email.
    Exists,
    /// The object's state forbids the change: used, ended, still in use, the last owner, a quota.
    State,
}

impl StoreError {
    /// Another object already holds this value (`field` names it when the request does).
    pub fn exists(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            kind: ConflictKind::Exists,
            code,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    /// The object's current state forbids the change.
    pub fn conflict(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            kind: ConflictKind::State,
            code,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}
