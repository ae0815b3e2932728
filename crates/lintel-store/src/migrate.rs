//! Forward-only migrations: the same names and order on both backends, each applied once
//! in its own transaction and recorded with a checksum so that an edited one is noticed.

use sha2::{Digest, Sha256};

/// One schema step. `version` orders them; `sql` is the backend's own text.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub(crate) fn checksum(&self) -> String {
        Sha256::digest(self.sql.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The migrations of every backend, by version: a backend missing one is a build mistake
/// that the tests catch.
pub const MIGRATION_NAMES: &[&str] = &[
    "0001_foundation",
    "0002_accounts",
    "0003_members",
    "0004_schedules",
    "0005_accesses",
    "0006_rule_versions",
    "0007_reader_keys",
    "0008_credentials",
    "0009_access_links",
    "0010_key_sessions",
    "0011_hardening",
    "0012_access_ids_per_org",
    "0013_phone_recovery",
];

macro_rules! migrations {
    ($backend:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(crate::Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $backend, "/", $name, ".sql")),
        }),*]
    };
}

pub(crate) const SQLITE: &[Migration] = migrations!("sqlite":
    1 "0001_foundation", 2 "0002_accounts", 3 "0003_members", 4 "0004_schedules",
    5 "0005_accesses", 6 "0006_rule_versions", 7 "0007_reader_keys", 8 "0008_credentials",
    9 "0009_access_links", 10 "0010_key_sessions", 11 "0011_hardening",
    12 "0012_access_ids_per_org",
    13 "0013_phone_recovery",
);
pub(crate) const POSTGRES: &[Migration] = migrations!("postgres":
    1 "0001_foundation", 2 "0002_accounts", 3 "0003_members", 4 "0004_schedules",
    5 "0005_accesses", 6 "0006_rule_versions", 7 "0007_reader_keys", 8 "0008_credentials",
    9 "0009_access_links", 10 "0010_key_sessions", 11 "0011_hardening",
    12 "0012_access_ids_per_org",
    13 "0013_phone_recovery",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migrations_in_the_same_order() {
        for list in [SQLITE, POSTGRES] {
            let names: Vec<_> = list.iter().map(|m| m.name).collect();
            assert_eq!(names, MIGRATION_NAMES);
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "{} is out of order", m.name);
                assert!(m.name.starts_with(&format!("{:04}_", m.version)));
            }
        }
    }
}
