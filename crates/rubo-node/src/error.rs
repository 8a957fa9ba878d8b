//! Node errors, with the kind that decides how a face reports them.

use rubo_repo::config::ConfigError;
use rubo_repo::{BlockstoreError, RepoError, datastore::DatastoreError};
use rubo_types::{BlockError, Cid, CidError, hash::HashError};
use thiserror::Error;

/// Who is at fault, which decides exit codes and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request was wrong (bad argument, unknown name, too big...).
    Client,
    /// Something asked for does not exist.
    NotFound,
    /// The node failed (I/O, corruption...).
    Internal,
}

/// A CoreAPI failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NodeError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("block was not found locally (offline): ipld: could not find {0}")]
    BlockNotFound(Box<Cid>),
    #[error(transparent)]
    Cid(#[from] CidError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Blockstore(#[from] BlockstoreError),
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The node failed. Shown as the message alone, as Kubo's errors are:
    /// messages carrying other errors' text would repeat a prefix.
    #[error("{0}")]
    Internal(String),
}

impl NodeError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput(_) | Self::Cid(_) | Self::Hash(_) | Self::Block(_) => ErrorKind::Client,
            Self::BlockNotFound(_) => ErrorKind::NotFound,
            _ => ErrorKind::Internal,
        }
    }

    pub fn not_found(cid: &Cid) -> Self {
        Self::BlockNotFound(Box::new(*cid))
    }
}

impl From<tokio::task::JoinError> for NodeError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Internal(format!("worker task failed: {e}"))
    }
}
