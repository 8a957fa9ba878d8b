//! `get`'s archive: a UnixFS tree (or one file) as a tar stream, optionally
//! gzipped, as Kubo's `ipfs get` and the gateway's `?format=tar` send it.
//!
//! Entries are written as boxo's `TarWriter` does: the top entry is `name`,
//! the rest below it; modes are the stored ones or 0755/0644/0777; mtimes the
//! stored ones or now. Names are bytes, written unchanged. A file whose DAG
//! disagrees with its declared size is an error, never a padded entry.

use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;

use rubo_types::{BStr, Block, Bytes, Cid};
use rubo_unixfs::export::{self, FileReader, NodeKind};
use tokio::sync::mpsc;

use crate::path::IpfsPath;
use crate::{Node, NodeError};

/// What `get` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GetOptions {
    /// Gzip level (1-9), if compressed.
    pub compression: Option<u32>,
    /// With compression: a tar archive even for a single file (`-a`);
    /// without `-a` a file is gzipped on its own.
    pub archive: bool,
}

impl GetOptions {
    /// The content type of the stream (Kubo v0.40+).
    pub fn content_type(&self) -> &'static str {
        if self.compression.is_some() { "application/gzip" } else { "application/x-tar" }
    }
}

fn os_path(p: &[u8]) -> &std::path::Path {
    std::path::Path::new(std::ffi::OsStr::from_bytes(p))
}

fn header(kind: tar::EntryType, mode: Option<u32>, mtime: Option<i64>, default_mode: u32, now: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode.map_or(default_mode, |m| m & 0o7777));
    h.set_mtime(mtime.map_or(now, |t| t.max(0) as u64));
    h.set_size(0);
    h
}

type Get<'a> = dyn FnMut(&Cid) -> Result<Block, NodeError> + 'a;

/// Writes the tree under `root` as a tar archive whose top entry is `name`.
pub fn write_tar<W: Write>(w: W, name: &BStr, root: &Block, get: &mut Get<'_>) -> Result<W, NodeError> {
    let io = |e: std::io::Error| NodeError::Internal(format!("tar: {e}"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut tb = tar::Builder::new(w);
    tb.mode(tar::HeaderMode::Complete);
    // The first error of a file read: the tar writer sees only an io::Error.
    let mut visit = |item: export::WalkItem, block: &Block, get: &mut Get<'_>| -> Result<(), String> {
        let mut path = name.to_vec();
        if !item.path.is_empty() {
            path.push(b'/');
            path.extend_from_slice(&item.path);
        }
        let path = os_path(&path);
        let mtime = item.mtime.map(|t| t.seconds);
        // Sub-second mtimes travel in a PAX record, as Go's tar writes them.
        if let Some(t) = item.mtime
            && let Some(n) = t.nanos.filter(|n| *n > 0 && t.seconds >= 0)
        {
            let v = format!("{}.{n:09}", t.seconds);
            tb.append_pax_extensions([("mtime", v.as_bytes())]).map_err(|e| e.to_string())?;
        }
        match item.kind {
            NodeKind::Directory | NodeKind::HamtDirectory => {
                let mut h = header(tar::EntryType::Directory, item.mode, mtime, 0o755, now);
                tb.append_data(&mut h, path, std::io::empty()).map_err(|e| e.to_string())
            }
            NodeKind::File { size } => {
                let mut h = header(tar::EntryType::Regular, item.mode, mtime, 0o644, now);
                h.set_size(size);
                // The reader checks every node against the sizes its parent
                // declares, so it yields exactly `size` bytes or an error.
                let reader = FileReader::new(block.clone(), |c: &Cid| get(c));
                tb.append_data(&mut h, path, ExactReader { inner: reader, left: size }).map_err(|e| e.to_string())
            }
            NodeKind::Symlink { target } => {
                let mut h = header(tar::EntryType::Symlink, item.mode, mtime, 0o777, now);
                tb.append_link(&mut h, path, os_path(&target)).map_err(|e| e.to_string())
            }
            NodeKind::Other => Err(format!("{}: not a UnixFS node", item.cid)),
        }
    };
    export::walk_tree(root, get, &mut visit).map_err(|e| match e {
        export::ExportError::Get(e) => e,
        e => NodeError::InvalidInput(e.to_string()),
    })?;
    tb.into_inner().map_err(io)
}

/// Yields exactly `left` bytes of `inner`, or an error: a source that ends
/// early (or runs long) must not become a padded (or cut) tar entry.
struct ExactReader<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "file holds more data than its size")),
            };
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "file holds less data than its size"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Sends what is written down a byte channel in chunks (bounded: a slow
/// reader slows the writer).
struct ChunkSender {
    tx: mpsc::Sender<Result<Bytes, NodeError>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 256 << 10;

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "reader went away"))
    }
}

impl crate::UnixfsApi {
    /// The archive of `path` (see the module docs), streamed. `name` is the
    /// top entry's name; by default the last path element or the root CID.
    pub async fn get(
        &self,
        path: &IpfsPath,
        opts: GetOptions,
    ) -> Result<mpsc::Receiver<Result<Bytes, NodeError>>, NodeError> {
        let cid = self.resolve(path).await?;
        let name = path.rest.last().cloned().unwrap_or_else(|| path.root.to_string());
        let node: Node = self.node.clone();
        let root = {
            let api = self.clone();
            tokio::task::spawn_blocking(move || api.get_block(&cid)).await??
        };
        let is_file = matches!(export::decode::<NodeError>(&root).map(|n| n.kind), Ok(NodeKind::File { .. }));
        if !opts.archive && opts.compression.is_some() && !is_file {
            return Err(NodeError::InvalidInput("file is not regular".into()));
        }
        let (tx, rx) = mpsc::channel(8);
        let err_tx = tx.clone();
        tokio::task::spawn_blocking(move || {
            let api = node.unixfs();
            let mut get = |c: &Cid| api.get_block(c);
            let w = ChunkSender { tx, buf: Vec::with_capacity(CHUNK) };
            let res = (|| -> Result<(), NodeError> {
                let io = |e: std::io::Error| NodeError::InvalidInput(e.to_string());
                match opts.compression {
                    Some(level) => {
                        let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::new(level.clamp(1, 9)));
                        if !opts.archive && is_file {
                            let size = match export::decode::<NodeError>(&root).map(|n| n.kind) {
                                Ok(NodeKind::File { size }) => size,
                                _ => 0,
                            };
                            let r = FileReader::new(root.clone(), &mut get);
                            std::io::copy(&mut ExactReader { inner: r, left: size }, &mut gz).map_err(io)?;
                        } else {
                            gz = write_tar(gz, BStr::new(name.as_bytes()), &root, &mut get)?;
                        }
                        let mut w = gz.finish().map_err(io)?;
                        w.flush().map_err(io)
                    }
                    None => {
                        let mut w = write_tar(w, BStr::new(name.as_bytes()), &root, &mut get)?;
                        w.flush().map_err(io)
                    }
                }
            })();
            if let Err(e) = res {
                let _ = err_tx.blocking_send(Err(e));
            }
        });
        Ok(rx)
    }
}
