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

/// `0012_access_ids_per_org` is version 12: the number its name begins with.
const fn version_of(name: &str) -> i64 {
    let digits = name.as_bytes();
    let mut version = 0;
    let mut i = 0;
    while i < 4 {
        version = version * 10 + (digits[i] - b'0') as i64;
        i += 1;
    }
    version
}

/// The migrations, named once, in order; each backend has its own text of each under
/// `migrations/<backend>/<name>.sql` (a backend missing one does not build).
macro_rules! migrations {
    ($($name:literal),* $(,)?) => {
        pub const MIGRATION_NAMES: &[&str] = &[$($name),*];
        pub(crate) const SQLITE: &[Migration] = &[$(Migration {
            version: version_of($name),
            name: $name,
            sql: include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
        }),*];
        pub(crate) const POSTGRES: &[Migration] = &[$(Migration {
            version: version_of($name),
            name: $name,
            sql: include_str!(concat!("../migrations/postgres/", $name, ".sql")),
        }),*];
    };
}

migrations!(
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
    "0014_controllers",
    "0015_access_lifecycle",
    "0016_site_offline_policy",
    "0017_controller_rules_confirmed",
    "0018_door_states",
    "0019_controller_pairings",
    "0020_sign_in_methods",
    "0021_account_language",
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
