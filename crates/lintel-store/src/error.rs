//! What can go wrong in the store, in terms the app layer can turn into answers.

use lintel_domain::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist in this organization.
    #[error("not found")]
    NotFound,
    /// The write would break a uniqueness or dependency rule; `code` names the rule.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<&'static str>,
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
