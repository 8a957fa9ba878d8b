//! Node errors, with the kind that decides how a face reports them.

use rubo_dag::{SourceError, WalkError};
use rubo_repo::config::ConfigError;
use rubo_repo::{BlockstoreError, RepoError, datastore::DatastoreError};
use rubo_types::{BlockError, Cid, CidError, hash::HashError};
use thiserror::Error;

/// Who is at fault, which decides exit codes and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request was wrong (bad argument, unknown name, too big...).
    Client,
    /// Something asked for does not exist (offline: a block not held here).
    NotFound,
    /// Something asked for could not be fetched in time (a block no peer
    /// gave before the deadline).
    Timeout,
    /// The node failed (I/O, corruption, data it cannot read...).
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
    /// A block that is not here, in go-ipld-format's words (`block rm`).
    #[error("ipld: could not find {0}")]
    Missing(Box<Cid>),
    /// A block that could not be fetched before the deadline (Go's context
    /// error, as Kubo reports it).
    #[error("could not fetch {0}: context deadline exceeded")]
    Timeout(Box<Cid>),
    #[error(transparent)]
    Cid(#[from] CidError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Blockstore(BlockstoreError),
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A block held here that cannot be read as its codec says (undecodable,
    /// or a codec without a decoder, such as libp2p-key).
    #[error("{0}")]
    Undecodable(String),
    /// The node failed. Shown as the message alone, as Kubo's errors are:
    /// messages carrying other errors' text would repeat a prefix.
    #[error("{0}")]
    Internal(String),
    /// Another error with what was being done in front, its kind kept.
    #[error("{context}: {source}")]
    Context { context: String, source: Box<NodeError> },
    /// A command that needs the network, on an offline node.
    #[error("{0}")]
    Offline(String),
}

/// Whether a config error is the caller's (a bad key, value or profile) or
/// the repo's (the file cannot be read or parsed).
fn config_kind(e: &ConfigError) -> ErrorKind {
    match e {
        ConfigError::Io { .. } | ConfigError::Parse { .. } => ErrorKind::Internal,
        _ => ErrorKind::Client,
    }
}

impl NodeError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput(_) | Self::Cid(_) | Self::Hash(_) | Self::Block(_) | Self::Offline(_) => {
                ErrorKind::Client
            }
            Self::BlockNotFound(_) | Self::Missing(_) => ErrorKind::NotFound,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Config(e) | Self::Repo(RepoError::Config(e)) => config_kind(e),
            Self::Repo(RepoError::BadProfile(_)) => ErrorKind::Client,
            Self::Context { source, .. } => source.kind(),
            Self::Repo(_) | Self::Blockstore(_) | Self::Datastore(_) | Self::Undecodable(_) | Self::Internal(_) => {
                ErrorKind::Internal
            }
        }
    }

    pub fn not_found(cid: &Cid) -> Self {
        Self::BlockNotFound(Box::new(*cid))
    }

    /// Prefixes the message (Go's `fmt.Errorf("...: %w")`), keeping the kind.
    pub fn context(self, context: &str) -> Self {
        Self::Context { context: context.to_string(), source: Box::new(self) }
    }

    /// A block source's failure, its kind recovered when the source said it
    /// (a node error, such as a timeout, or a block store error).
    pub fn from_source(cid: &Cid, err: SourceError) -> Self {
        let err = match err.downcast::<NodeError>() {
            Ok(e) => return *e,
            Err(err) => err,
        };
        match err.downcast::<BlockstoreError>() {
            Ok(e) => Self::from(*e),
            Err(err) => Self::Internal(format!("cannot read block {cid}: {err}")),
        }
    }
}

impl From<BlockstoreError> for NodeError {
    fn from(e: BlockstoreError) -> Self {
        // The block service passes the network's errors through the store
        // interface: give them back their own kind (a timeout stays one).
        match e {
            BlockstoreError::Other(inner) => match inner.downcast::<NodeError>() {
                Ok(n) => *n,
                Err(other) => Self::Blockstore(BlockstoreError::Other(other)),
            },
            e => Self::Blockstore(e),
        }
    }
}

impl From<WalkError> for NodeError {
    fn from(e: WalkError) -> Self {
        match e {
            WalkError::Missing(c) => Self::BlockNotFound(c),
            WalkError::Source { cid, err } => Self::from_source(&cid, err),
            e @ WalkError::Links { .. } => Self::Undecodable(e.to_string()),
            e => Self::Internal(e.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for NodeError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Internal(format!("worker task failed: {e}"))
    }
}

impl From<std::io::Error> for NodeError {
    fn from(e: std::io::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid() -> Cid {
        rubo_types::parse_cid("bafkqaaa").unwrap()
    }

    #[test]
    fn kinds() {
        let io = || std::io::Error::other("disk on fire");
        // Storage failures are the node's, never the client's.
        assert_eq!(NodeError::from(io()).kind(), ErrorKind::Internal);
        let repo = RepoError::Io { path: "/r".into(), source: io() };
        assert_eq!(NodeError::from(repo).kind(), ErrorKind::Internal);
        let ds = DatastoreError::Backend { path: "/r".into(), message: "gone".into() };
        assert_eq!(NodeError::from(ds).kind(), ErrorKind::Internal);
        let bs = BlockstoreError::Corrupt { cid: Box::new(cid()) };
        assert_eq!(NodeError::from(bs).kind(), ErrorKind::Internal);
        let cfg_io = ConfigError::Io { path: "/r/config".into(), source: io() };
        assert_eq!(NodeError::from(RepoError::Config(cfg_io)).kind(), ErrorKind::Internal);
        // A bad key or value is the caller's.
        assert_eq!(NodeError::from(ConfigError::Key("Foo not found".into())).kind(), ErrorKind::Client);
        assert_eq!(NodeError::from(ConfigError::UnknownProfile("nope".into())).kind(), ErrorKind::Client);
        // Missing blocks and timeouts have their own kinds, through context too.
        assert_eq!(NodeError::not_found(&cid()).kind(), ErrorKind::NotFound);
        let t = NodeError::Timeout(Box::new(cid()));
        assert_eq!(t.context("dag export").kind(), ErrorKind::Timeout);
        assert_eq!(NodeError::from(WalkError::Missing(Box::new(cid()))).kind(), ErrorKind::NotFound);
    }

    #[test]
    fn source_errors_keep_their_kind() {
        let c = cid();
        let timeout: SourceError = Box::new(NodeError::Timeout(Box::new(c)));
        let e = NodeError::from(WalkError::Source { cid: Box::new(c), err: timeout });
        assert_eq!(e.kind(), ErrorKind::Timeout);
        let disk: SourceError = Box::new(BlockstoreError::Corrupt { cid: Box::new(c) });
        let e = NodeError::from(WalkError::Source { cid: Box::new(c), err: disk });
        assert!(matches!(e, NodeError::Blockstore(_)), "{e:?}");
        let other: SourceError = "socket closed".into();
        assert_eq!(NodeError::from_source(&c, other).kind(), ErrorKind::Internal);
        let links = WalkError::Links { cid: Box::new(c), err: rubo_dag::CodecError::NoDecoder(0x72) };
        let e = NodeError::from(links);
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert_eq!(
            e.to_string(),
            format!("cannot read the links of block {c}: no decoder registered for multicodec code 114 (0x72)")
        );
    }
}
