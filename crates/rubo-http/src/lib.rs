//! rubo's HTTP RPC API, Kubo's `/api/v0`: the server ([`api::serve`]) that
//! runs the command table's handlers for Kubo's clients (kubo-rpc-client,
//! Python clients, Kubo's own CLI), and the client ([`client::Client`]) the
//! rubo CLI uses to run a command on a running daemon, so that its output is
//! the same byte for byte as a local run.
//!
//! `docs/ARCHITECTURE.md` places it beside rubo-cli, over rubo-commands.

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod gojson;
pub mod maddr;
pub mod metrics;
pub mod multipart;
mod upload;

pub use api::{serve, status_of};
pub use client::Client;
pub use config::ApiConfig;
pub use metrics::Metrics;

/// What stops the server.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("API listener: {0}")]
    Io(#[source] std::io::Error),
}
