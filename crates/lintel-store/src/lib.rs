//! Lintel's storage: the `Store` trait, its errors, and its SQLite and PostgreSQL backends.
//!
//! Both backends compile the same SQL module (`sql/`); what differs between them (types in
//! the schema, connection setup, row locking) stays in `sqlite.rs` and `postgres.rs`.

mod error;
mod migrate;
mod postgres;
mod rows;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lintel_domain::{
    ApiKeyId, Areas, Door, DoorId, Group, GroupId, OrgId, Organization, Site, SiteId,
    ValidationError,
};
use uuid::Uuid;

pub use error::StoreError;
pub use migrate::{MIGRATION_NAMES, Migration};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A change to a stored object, applied inside the store's transaction to the current row so
/// that concurrent updates never overwrite each other. It may refuse with a validation error.
pub type Change<'a, T> = &'a (dyn Fn(&mut T) -> Result<(), ValidationError> + Send + Sync);

/// Which part of a list to return: at most `limit` items with ids after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Uuid>,
}

/// One page of a list, in id (so creation) order, with the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id to continue after, when more items exist.
    pub next_after: Option<Uuid>,
}

/// Narrows a list of doors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoorFilter {
    pub site_id: Option<SiteId>,
}

/// A stored API key: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    /// `None` for an operator key, which administers organizations themselves.
    pub org_id: Option<OrgId>,
    pub name: String,
    /// The first characters of the secret, to recognise a key in lists and logs.
    pub prefix: String,
    pub secret_hash: Vec<u8>,
    pub areas: Areas,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Everything Lintel keeps. Each method is one atomic operation; every method on an
/// organization's objects takes the organization, and another organization's row is
/// simply `NotFound`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Applies the migrations this database lacks; returns the names applied.
    async fn migrate(&self, now: DateTime<Utc>) -> Result<Vec<&'static str>, StoreError>;
    /// Which backend this is, for logs: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    async fn create_org(&self, org: &Organization) -> Result<(), StoreError>;
    async fn get_org(&self, id: OrgId) -> Result<Organization, StoreError>;
    async fn get_org_by_slug(&self, slug: &str) -> Result<Organization, StoreError>;
    async fn list_orgs(&self, page: PageRequest) -> Result<Page<Organization>, StoreError>;
    async fn update_org(
        &self,
        id: OrgId,
        change: Change<'_, Organization>,
    ) -> Result<Organization, StoreError>;
    /// Deletes the organization and everything it owns.
    async fn delete_org(&self, id: OrgId) -> Result<(), StoreError>;

    async fn create_site(&self, org: OrgId, site: &Site) -> Result<(), StoreError>;
    async fn get_site(&self, org: OrgId, id: SiteId) -> Result<Site, StoreError>;
    async fn list_sites(&self, org: OrgId, page: PageRequest) -> Result<Page<Site>, StoreError>;
    async fn update_site(
        &self,
        org: OrgId,
        id: SiteId,
        change: Change<'_, Site>,
    ) -> Result<Site, StoreError>;
    /// Refused with the conflict `site_has_doors` while doors remain at the site.
    async fn delete_site(&self, org: OrgId, id: SiteId) -> Result<(), StoreError>;

    /// Refused with `MissingReference` when the door's site is not in `org`.
    async fn create_door(&self, org: OrgId, door: &Door) -> Result<(), StoreError>;
    async fn get_door(&self, org: OrgId, id: DoorId) -> Result<Door, StoreError>;
    async fn list_doors(
        &self,
        org: OrgId,
        filter: DoorFilter,
        page: PageRequest,
    ) -> Result<Page<Door>, StoreError>;
    async fn update_door(
        &self,
        org: OrgId,
        id: DoorId,
        change: Change<'_, Door>,
    ) -> Result<Door, StoreError>;
    async fn delete_door(&self, org: OrgId, id: DoorId) -> Result<(), StoreError>;

    /// Refused with the conflict `group_name_taken` when the organization has a group of
    /// that name.
    async fn create_group(&self, org: OrgId, group: &Group) -> Result<(), StoreError>;
    async fn get_group(&self, org: OrgId, id: GroupId) -> Result<Group, StoreError>;
    async fn list_groups(&self, org: OrgId, page: PageRequest) -> Result<Page<Group>, StoreError>;
    async fn update_group(
        &self,
        org: OrgId,
        id: GroupId,
        change: Change<'_, Group>,
    ) -> Result<Group, StoreError>;
    async fn delete_group(&self, org: OrgId, id: GroupId) -> Result<(), StoreError>;

    async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;
    /// The key whose secret hashes to `secret_hash`, revoked or expired ones included.
    async fn find_api_key(&self, secret_hash: &[u8]) -> Result<Option<ApiKey>, StoreError>;
    /// Records that the key was used at `now`; writes at most once a minute per key.
    async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// Opens the store a database URL names: `postgres://…` or `postgresql://…` for
/// PostgreSQL, `sqlite://PATH` or `sqlite:PATH` for a SQLite file (created if missing).
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else {
        Err(StoreError::Config(
            "database URL must start with postgres://, postgresql:// or sqlite://".into(),
        ))
    }
}
