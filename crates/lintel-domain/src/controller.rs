//! Controllers: the boxes at a site that hold the rules of the doors wired to them, decide
//! cards and PIN codes there (offline too) and drive the locks.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{ControllerId, SiteId};

/// The prefix of a controller's token (`lct_…`), shown once when it is made or rotated.
pub const TOKEN_PREFIX: &str = "lct_";

/// A controller as admins manage it. Its token is stored only as a hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Controller {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: ControllerId,
    /// The site whose doors it may hold; a door is wired only to a controller of its site.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub site_id: SiteId,
    pub name: String,
    pub description: String,
    /// When its current token was made (at creation or the last rotation).
    pub token_issued_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
