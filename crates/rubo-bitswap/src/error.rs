//! Errors the node sees.

use rubo_types::Cid;
use thiserror::Error;

/// A Bitswap failure.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum Error {
    /// The block did not arrive in time (the node answers 504).
    #[error("block {0} was not found in time")]
    Timeout(Box<Cid>),
    /// The local store failed.
    #[error("blockstore: {0}")]
    Store(String),
    /// Bitswap was shut down (or the network went away).
    #[error("bitswap is shut down")]
    Closed,
    /// Registering the protocol with the network failed.
    #[error("network: {0}")]
    Network(String),
}
