//! The wire: how requests and replies look on a connection, with no connection of its
//! own — the resumable RESP2/RESP3 reply reader, pipelines packed in chunks (and their
//! replies put back in slots), reply normal forms, the SCAN cursor, and glob matching
//! for MATCH.
//!
//! Knows the command table and the settings; knows nothing of connections or engines.

mod glob;
mod pipeline;
mod reply;
pub(crate) mod resp;
mod scan;

pub(crate) use glob::matches as glob_matches;
pub(crate) use pipeline::{finish, slot, wire_chunks};
pub use pipeline::{Pipeline, CHUNK_BYTES, CHUNK_COMMANDS};
pub use reply::normal_form;
pub use scan::{ScanCursor, ScanKind, ScanOptions};
