//! The admin dashboard: an organization's door board, places, controllers, groups, schedules, accesses, credentials,
//! members, API keys and event log, for the admin areas the viewer holds. Sections and forms
//! the viewer's areas do not allow are not shown; the use cases refuse them anyway.
//!
//! One file per section, each owning its routes, pages and handlers, on the kit (`kit.rs`).
//! A new page is a `screen!` and a route in its section's file; a new section is a file, a
//! line in `routes` and, for the navigation, a line in `SECTIONS`.

mod accesses;
pub(crate) mod activity;
mod api_keys;
mod board;
mod controllers;
mod credentials;
mod events;
mod groups;
pub(crate) mod kit;
pub(crate) mod links;
mod members;
mod overview;
mod places;
mod schedules;

use axum::Router;

use crate::app::{AppState, OrgCtx};

/// A section of the navigation, shown to the viewers it names.
pub(crate) struct Section {
    /// Its address below `/admin/{slug}/`.
    pub path: &'static str,
    pub label: &'static str,
    /// Whether the viewer's areas let them read it.
    pub may_see: fn(&OrgCtx) -> bool,
}

/// The navigation, in order.
const SECTIONS: &[Section] = &[
    board::SECTION,
    places::SECTION,
    controllers::SECTION,
    groups::SECTION,
    schedules::SECTION,
    accesses::SECTION,
    credentials::SECTION,
    members::SECTION,
    api_keys::SECTION,
    events::SECTION,
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(overview::routes())
        .merge(board::routes())
        .merge(places::routes())
        .merge(controllers::routes())
        .merge(groups::routes())
        .merge(schedules::routes())
        .merge(accesses::routes())
        .merge(credentials::routes())
        .merge(links::routes())
        .merge(members::routes())
        .merge(api_keys::routes())
        .merge(events::routes())
}
