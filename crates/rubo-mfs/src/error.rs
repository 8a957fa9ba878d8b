//! Errors, worded as Kubo (`core/commands/files.go`) and boxo (`mfs`,
//! `ipld/unixfs/mod`) word them, since scripts match on them.

use rubo_types::Cid;
use thiserror::Error;

/// A failure of the block store behind MFS.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct StoreError {
    pub message: String,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        Self::new(e.to_string())
    }
}

/// Why an MFS operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MfsError {
    // --- paths (Kubo `checkPath`) ---
    #[error("paths must not be empty")]
    EmptyPath,
    #[error("paths must start with a leading slash")]
    NoLeadingSlash,

    // --- lookups (boxo mfs) ---
    /// Go's `os.ErrNotExist`.
    #[error("file does not exist")]
    NotExist,
    /// Go's `os.ErrExist`.
    #[error("file already exists")]
    Exist,
    /// boxo `mfs.ErrDirExists`.
    #[error("directory already has entry by that name")]
    DirExists,
    /// `DirLookup` met a non-directory in the middle of a path.
    #[error("cannot access {0}: Not a directory")]
    CannotAccess(String),
    /// `mfs.Mkdir`: an intermediate component is not a directory (boxo names
    /// the components *before* it, possibly none).
    #[error("{0} was not a directory")]
    WasNotDirectory(String),
    /// `lookupDir` (mv, cp): the parent is not a directory.
    #[error("{0} is not a directory")]
    IsNotDirectory(String),
    /// write/read: the path is not a file.
    #[error("{0} was not a file")]
    NotAFile(String),
    /// `getParentDir` found a file where a directory was expected.
    #[error("expected *mfs.Directory, didn't get it. This is likely a race condition")]
    ExpectedDirectory,
    #[error("cannot create directory '/': Already exists")]
    CannotCreateRoot,
    #[error("cannot delete root")]
    CannotDeleteRoot,
    #[error("path is a directory, use -r to remove directories")]
    IsDirectory,
    #[error("cannot create file with empty name")]
    EmptyName,
    /// Not in Kubo (which loses the directory): moving a directory into itself.
    #[error("cannot move {src} into itself ({dst})")]
    IntoItself { src: String, dst: String },

    // --- nodes ---
    #[error("not yet implemented")]
    NotYetImplemented,
    #[error("invalid child node")]
    InvalidChild,
    #[error("unrecognized node type in cache node")]
    UnrecognizedNode,
    #[error("not unixfs node (proto or raw)")]
    NotUnixfsNode,
    #[error("symlinks not yet supported")]
    SymlinkNotSupported,
    #[error("unsupported fsnode type for 'file'")]
    UnsupportedFileType,
    #[error("dagmodifier only supports unixfs nodes (proto or raw)")]
    NotUnixfs,
    #[error("expected protobuf dag node")]
    NotProtobuf,
    #[error("root can't be a file (unixfs type: {0})")]
    RootNotDirectory(String),
    #[error("BasicDirectory: cannot add child: maxLinks reached")]
    MaxLinks,
    #[error("{cid}: {reason}")]
    Malformed { cid: Box<Cid>, reason: String },

    // --- read ---
    #[error("offset was past end of file ({offset} > {size})")]
    OffsetPastEnd { offset: u64, size: u64 },
    /// `files read`: lookup errors are prefixed with the path.
    #[error("{path}: {source}")]
    AtPath {
        path: String,
        #[source]
        source: Box<MfsError>,
    },

    // --- cp ---
    #[error("cp: cannot get node from path {path}: {source}")]
    CpGetNode {
        path: String,
        #[source]
        source: Box<MfsError>,
    },
    #[error("cp: source must be a valid UnixFS (dag-pb or raw codec){}", .0.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    CpInvalidUnixfs(Option<String>),
    #[error("cp: cannot unlink existing file: {0}")]
    CpUnlink(#[source] Box<MfsError>),
    #[error("cp: cannot put node in path {path}: {source}")]
    CpPut {
        path: String,
        #[source]
        source: Box<MfsError>,
    },
    #[error("cp: cannot flush the created file {path}: {source}")]
    CpFlush {
        path: String,
        #[source]
        source: Box<MfsError>,
    },
    /// `unlinkNodeIfExists`.
    #[error("not a directory: {0}")]
    UnlinkNotDirectory(String),
    #[error("not a file: {0}")]
    UnlinkNotFile(String),

    // --- chcid / chmod ---
    #[error(
        "cannot change CID format of the MFS root; use 'ipfs config Import.CidVersion' and 'ipfs config Import.HashFunction' instead"
    )]
    ChcidRoot,
    #[error("can only update directories")]
    OnlyDirectories,
    /// Go's `strconv.ParseInt` error, as `files chmod` reports it.
    #[error(transparent)]
    ParseMode(rubo_types::go::NumError),

    // --- storage and data ---
    /// Offline: the block is not in the local store.
    #[error("block was not found locally (offline): ipld: could not find {0}")]
    BlockNotFound(Box<Cid>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Block(#[from] rubo_types::BlockError),
    #[error(transparent)]
    Hamt(#[from] rubo_unixfs::hamt::HamtError),
    #[error(transparent)]
    Unixfs(#[from] rubo_unixfs::pb::UnixfsPbError),
    /// Reading the data to write failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl MfsError {
    /// Whether this is (or wraps) Go's `os.ErrNotExist`.
    pub fn is_not_exist(&self) -> bool {
        match self {
            Self::NotExist => true,
            Self::AtPath { source, .. } | Self::CpGetNode { source, .. } | Self::CpPut { source, .. } => {
                source.is_not_exist()
            }
            _ => false,
        }
    }

    pub(crate) fn malformed(cid: &Cid, reason: impl Into<String>) -> Self {
        Self::Malformed { cid: Box::new(*cid), reason: reason.into() }
    }
}
