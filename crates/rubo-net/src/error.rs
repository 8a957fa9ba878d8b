//! Typed errors for configuration and for the handle's calls.

use libp2p::{Multiaddr, PeerId};

/// A configuration value that cannot be used. `key` names the Kubo config key it maps to, so the
/// node can tell the user which entry of their config is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key}: invalid multiaddr {value:?}: {reason}")]
    InvalidMultiaddr { key: &'static str, value: String, reason: String },
    #[error("{key}: invalid peer id {value:?}: {reason}")]
    InvalidPeerId { key: &'static str, value: String, reason: String },
    #[error("{key}: {value:?} must end with /p2p/<peer id>")]
    MissingPeerId { key: &'static str, value: String },
    #[error("{key}: invalid address filter {value:?}: {reason}")]
    InvalidFilter { key: &'static str, value: String, reason: String },
    #[error("{key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// Why a handle call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("network actor has stopped")]
    Closed,
    #[error("network is shutting down")]
    ShuttingDown,
    #[error("too many requests in flight ({0}); try again later")]
    Busy(&'static str),
    #[error("could not set up the transport: {0}")]
    Transport(String),
    #[error("could not listen on {addr}: {reason}")]
    Listen { addr: Multiaddr, reason: String },
    #[error("no listen address could be opened")]
    NoListener,
    #[error("address {0} has no /p2p/<peer id>")]
    MissingPeerId(Multiaddr),
    #[error("cannot dial ourselves")]
    SelfDial,
    #[error("address {0} is blocked by the address filters")]
    AddrFiltered(Multiaddr),
    #[error("dial to {peer} failed: {reason}")]
    DialFailed { peer: PeerId, reason: String },
    #[error("not connected to {0}")]
    NotConnected(PeerId),
    #[error("no connection matches {0}")]
    NoSuchConnection(Multiaddr),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("ping failed: {0}")]
    Ping(String),
    #[error("identify failed: {0}")]
    Identify(String),
    #[error("invalid address filter {addr}: {reason}")]
    InvalidFilter { addr: Multiaddr, reason: String },
    #[error("limit reached: {0}")]
    Limit(&'static str),
    #[error("routing: {0}")]
    Dht(String),
    #[error("inbound streams of {0} are already taken")]
    AlreadyAccepting(String),
}
