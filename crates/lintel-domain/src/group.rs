//! Groups: named sets of memberships that accesses and access links target.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::GroupId;

/// A named set of memberships that accesses and access links can target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: GroupId,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
