//! The controller against a real server: this crate's `lintel-controller` binary as a child
//! process, and the server in this process on a real port (so it can be stopped and started
//! again on the same database), on SQLite and on PostgreSQL.

mod harness;
mod osdp;
mod sync;

pub use harness::{Acme, Controller, PyReader, Server, osdp_wiring, watch_acme};
