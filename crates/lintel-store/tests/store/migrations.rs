use lintel_store::{MIGRATION_NAMES, StoreError};
use lintel_testkit::{Backend, on_both_backends};

use crate::{db, now};

on_both_backends!(
    migrating_again_applies_nothing,
    an_edited_migration_is_refused,
    a_migration_from_a_newer_version_is_refused,
);

async fn migrating_again_applies_nothing(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    assert!(db.store.migrate(now()).await.unwrap().is_empty());
    db.store.ping().await.unwrap();
    assert_eq!(MIGRATION_NAMES[0], "0001_foundation");
}

async fn an_edited_migration_is_refused(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    db.execute("UPDATE lintel_migrations SET checksum = 'edited' WHERE version = 1")
        .await;
    let err = db.store.migrate(now()).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Migration(m) if m.contains("0001_foundation differs")),
        "{err}"
    );
}

async fn a_migration_from_a_newer_version_is_refused(backend: Backend) {
    let Some(db) = db(backend).await else { return };
    db.execute(
        "INSERT INTO lintel_migrations (version, name, checksum, applied_at) \
         VALUES (9999, '9999_future', 'x', '2030-01-01T00:00:00Z')",
    )
    .await;
    let err = db.store.migrate(now()).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Migration(m) if m.contains("9999_future")),
        "{err}"
    );
}
