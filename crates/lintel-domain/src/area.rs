//! Admin areas: the slices of administrative power a membership or API key holds.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::ValidationError;

/// One slice of administrative power (SPEC §1). `Owner` holds every other area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// Invite, suspend and remove members; manage groups.
    Members,
    /// Grant and revoke access, send access links, assign cards and PINs.
    Delegation,
    /// Sites, doors, controllers and schedules.
    Doors,
    /// API keys and webhooks.
    Api,
    /// Read the event log.
    Audit,
    /// Everything, including granting admin areas and changing the organization.
    Owner,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Members,
        Area::Delegation,
        Area::Doors,
        Area::Api,
        Area::Audit,
        Area::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Members => "members",
            Area::Delegation => "delegation",
            Area::Doors => "doors",
            Area::Api => "api",
            Area::Audit => "audit",
            Area::Owner => "owner",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Area, ValidationError> {
        Area::ALL
            .into_iter()
            .find(|a| a.as_str() == value)
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    "unknown_area",
                    format!(
                        "{field} must be one of members, delegation, doors, api, audit, owner; got {value:?}"
                    ),
                )
            })
    }
}

impl std::fmt::Display for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of areas held by one actor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Areas(BTreeSet<Area>);

impl Areas {
    pub fn new(areas: impl IntoIterator<Item = Area>) -> Self {
        Self(areas.into_iter().collect())
    }

    /// Whether these areas allow acting in `area`: holding it, or holding `owner`.
    pub fn allows(&self, area: Area) -> bool {
        self.0.contains(&area) || self.0.contains(&Area::Owner)
    }

    pub fn iter(&self) -> impl Iterator<Item = Area> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_allows_every_area_and_others_only_their_own() {
        let owner = Areas::new([Area::Owner]);
        assert!(Area::ALL.iter().all(|a| owner.allows(*a)));
        let doors = Areas::new([Area::Doors]);
        assert!(doors.allows(Area::Doors));
        assert!(!doors.allows(Area::Members));
        assert!(!doors.allows(Area::Owner));
    }

    #[test]
    fn areas_parse_from_their_names_only() {
        for area in Area::ALL {
            assert_eq!(Area::parse("areas", area.as_str()).unwrap(), area);
        }
        assert_eq!(
            Area::parse("areas", "root").unwrap_err().code,
            "unknown_area"
        );
    }
}
