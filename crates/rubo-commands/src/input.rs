//! A command's file inputs as bounded async streams, the same whoever feeds
//! them: the CLI's walk of local paths (or stdin) and the HTTP face's
//! multipart body both send [`InputEntry`]s, each file's bytes following on
//! a channel of its own. Everything is bounded, so a slow consumer slows the
//! producer (and, over HTTP, the client), never grows memory.

use std::io::Read;

use bytes::Bytes;
use rubo_node::NodeError;
use rubo_node::rubo_unixfs::import::{Entry, EntryKind};
use rubo_node::rubo_unixfs::pb::UnixTime;
use rubo_types::BString;
use tokio::sync::mpsc;

use crate::CmdError;

/// Entries in flight between the producer and the command.
pub const ENTRY_BUFFER: usize = 4;
/// Chunks of one file in flight.
pub const CHUNK_BUFFER: usize = 8;
/// The size of the chunks producers send.
pub const CHUNK_SIZE: usize = 256 << 10;

/// One input: a file, a directory or a symlink, at a `/`-separated path
/// (bytes, as UnixFS names are) relative to the import's top level.
#[derive(Debug)]
pub struct InputEntry {
    pub path: BString,
    pub kind: InputKind,
    pub mode: Option<u32>,
    pub mtime: Option<UnixTime>,
}

#[derive(Debug)]
pub enum InputKind {
    File(ByteStream),
    Dir,
    Symlink(BString),
}

/// A file's bytes.
#[derive(Debug)]
pub struct ByteStream {
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

/// The producing end of a [`ByteStream`].
pub type ByteSender = mpsc::Sender<Result<Bytes, std::io::Error>>;

impl ByteStream {
    pub fn channel() -> (ByteSender, Self) {
        let (tx, rx) = mpsc::channel(CHUNK_BUFFER);
        (tx, Self { rx })
    }

    /// A stream holding `data`.
    pub fn from_bytes(data: Bytes) -> Self {
        let (tx, s) = Self::channel();
        // A fresh channel has room for one chunk.
        let _ = tx.try_send(Ok(data));
        s
    }

    pub async fn next(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        self.rx.recv().await
    }

    /// Everything, or (with a limit) the first bytes past it: the caller
    /// checks `len() > limit` and answers in its own words.
    pub async fn read_up_to(mut self, limit: Option<usize>) -> Result<Vec<u8>, CmdError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next().await {
            let chunk = chunk.map_err(|e| CmdError::new(format!("reading input: {e}")))?;
            out.extend_from_slice(&chunk);
            if limit.is_some_and(|l| out.len() > l) {
                break;
            }
        }
        Ok(out)
    }

    /// A blocking reader, for code on a blocking thread (the importer).
    /// Must not be read from an async task.
    pub fn into_blocking_reader(self) -> BlockingReader {
        BlockingReader { rx: self.rx, current: Bytes::new() }
    }
}

/// See [`ByteStream::into_blocking_reader`].
pub struct BlockingReader {
    rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
    current: Bytes,
}

impl Read for BlockingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// The entries of a request, in order.
#[derive(Debug)]
pub struct Inputs {
    rx: mpsc::Receiver<Result<InputEntry, CmdError>>,
}

/// The producing end of [`Inputs`].
pub type InputSender = mpsc::Sender<Result<InputEntry, CmdError>>;

impl Inputs {
    pub fn channel() -> (InputSender, Self) {
        let (tx, rx) = mpsc::channel(ENTRY_BUFFER);
        (tx, Self { rx })
    }

    /// Inputs holding one unnamed file of `data`.
    pub fn from_bytes(data: Bytes) -> Self {
        let (tx, s) = Self::channel();
        let entry = InputEntry {
            path: BString::default(),
            kind: InputKind::File(ByteStream::from_bytes(data)),
            mode: None,
            mtime: None,
        };
        let _ = tx.try_send(Ok(entry));
        s
    }

    pub async fn next(&mut self) -> Option<Result<InputEntry, CmdError>> {
        self.rx.recv().await
    }

    /// The next entry from a blocking thread.
    pub fn blocking_next(&mut self) -> Option<Result<InputEntry, CmdError>> {
        self.rx.blocking_recv()
    }

    /// The next file's bytes: commands that take plain file arguments (`block
    /// put`, `dag put`...) read each in turn.
    pub async fn next_file(&mut self) -> Option<Result<ByteStream, CmdError>> {
        loop {
            return match self.next().await? {
                Ok(InputEntry { kind: InputKind::File(s), .. }) => Some(Ok(s)),
                Ok(InputEntry { kind: InputKind::Dir, path, .. }) if path.is_empty() => continue,
                Ok(e) => Some(Err(CmdError::client(format!("{}: expected a file argument", e.path)))),
                Err(e) => Some(Err(e)),
            };
        }
    }
}

impl Inputs {
    /// The files as blocking readers, pulled in turn by code on a blocking
    /// thread (`dag import`).
    pub fn into_blocking_files(mut self) -> rubo_node::ImportFiles {
        Box::new(std::iter::from_fn(move || {
            loop {
                let next = match self.blocking_next()? {
                    Ok(InputEntry { kind: InputKind::File(s), .. }) => {
                        Ok(Box::new(s.into_blocking_reader()) as Box<dyn Read + Send>)
                    }
                    Ok(InputEntry { kind: InputKind::Dir, path, .. }) if path.is_empty() => continue,
                    Ok(e) => Err(NodeError::InvalidInput(format!("{}: expected a file argument", e.path))),
                    Err(e) => Err(NodeError::InvalidInput(e.message)),
                };
                return Some(next);
            }
        }))
    }

    /// The entries as the importer takes them (`add`), from a blocking thread.
    pub fn into_add_entries(mut self) -> rubo_node::AddEntries {
        Box::new(std::iter::from_fn(move || {
            let next = match self.blocking_next()? {
                Ok(e) => Ok(Entry {
                    path: e.path,
                    kind: match e.kind {
                        InputKind::File(s) => EntryKind::File(Box::new(s.into_blocking_reader())),
                        InputKind::Dir => EntryKind::Dir,
                        InputKind::Symlink(t) => EntryKind::Symlink(t),
                    },
                    mode: e.mode,
                    mtime: e.mtime,
                }),
                Err(e) => Err(NodeError::InvalidInput(e.message)),
            };
            Some(next)
        }))
    }
}

/// Sends a reader's bytes down `tx` in [`CHUNK_SIZE`] chunks, from a blocking
/// thread. Returns false when the consumer went away.
pub fn pump_blocking(mut r: impl Read, tx: &ByteSender) -> bool {
    loop {
        let mut buf = vec![0u8; CHUNK_SIZE];
        let mut filled = 0;
        // Fill whole chunks: small reads (pipes) would make many small messages.
        while filled < CHUNK_SIZE {
            match r.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return tx.blocking_send(Err(e)).is_ok(),
            }
        }
        if filled == 0 {
            return true;
        }
        buf.truncate(filled);
        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
            return false;
        }
        if filled < CHUNK_SIZE {
            return true;
        }
    }
}
