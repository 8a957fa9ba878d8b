//! `?format=tar`: a UnixFS tree as a TAR stream whose top entry is named by
//! the CID, written as it is read. Entry names are joined and cleaned as
//! boxo's tar writer does; a name that climbs out of the top entry (`../x`)
//! stops the archive ("relative UnixFS paths outside the root are not allowed").

use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;

use rubo_types::{Block, Cid};
use rubo_unixfs::export::{self, FileReader, NodeKind};

use crate::store::Store;

pub(crate) const OUTSIDE_ROOT: &str = "relative UnixFS paths outside the root are not allowed, use CAR instead";

fn os(p: &str) -> &std::path::Path {
    std::path::Path::new(std::ffi::OsStr::from_bytes(p.as_bytes()))
}

/// The cleaned path of `name` below `parent`, if it stays below `base`.
fn child_path(base: &str, parent: &str, name: &[u8]) -> Result<String, String> {
    let name = String::from_utf8_lossy(name);
    let joined = crate::url::clean_path(&format!("{parent}/{name}"));
    if joined.starts_with("..") || (joined != base && !joined.starts_with(&format!("{base}/"))) {
        return Err(OUTSIDE_ROOT.into());
    }
    Ok(joined)
}

/// Yields exactly `left` bytes or fails: a file whose DAG disagrees with its
/// size must not become a padded or cut entry.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
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

fn header(kind: tar::EntryType, mode: Option<u32>, mtime: Option<i64>, default_mode: u32, now: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode.map_or(default_mode, |m| m & 0o7777));
    h.set_mtime(mtime.map_or(now, |t| u64::try_from(t).unwrap_or(0)));
    h.set_size(0);
    h
}

/// Writes the archive of the tree under `root` to `out`.
pub(crate) fn write_tar<W: Write>(out: W, store: &Store, root: &Block, name: &str) -> Result<W, String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut tb = tar::Builder::new(out);
    tb.mode(tar::HeaderMode::Complete);
    let mut get = |c: &Cid| store.get(c);
    // (path, cid, block if already read); explicit stack, any depth.
    let mut stack: Vec<(String, Cid, Option<Block>)> = vec![(name.to_string(), *root.cid(), Some(root.clone()))];
    while let Some((path, cid, block)) = stack.pop() {
        let block = match block {
            Some(b) => b,
            None => get(&cid).map_err(|e| e.to_string())?,
        };
        let node = export::decode::<rubo_node::NodeError>(&block).map_err(|e| e.to_string())?;
        let mtime = node.mtime.map(|t| t.seconds);
        match node.kind {
            NodeKind::Directory | NodeKind::HamtDirectory => {
                let mut h = header(tar::EntryType::Directory, node.mode, mtime, 0o755, now);
                tb.append_data(&mut h, os(&path), std::io::empty()).map_err(|e| e.to_string())?;
                let mut entries = Vec::new();
                rubo_unixfs::dir::for_each_entry(&block, &mut get, &mut |e| {
                    entries.push(e);
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
                for e in entries.into_iter().rev() {
                    let p = child_path(name, &path, &e.name)?;
                    stack.push((p, e.cid, None));
                }
            }
            NodeKind::File { size } => {
                let mut h = header(tar::EntryType::Regular, node.mode, mtime, 0o644, now);
                h.set_size(size);
                let reader = FileReader::new(block.clone(), |c: &Cid| store.get(c));
                tb.append_data(&mut h, os(&path), Exact { inner: reader, left: size }).map_err(|e| e.to_string())?;
            }
            NodeKind::Symlink { target } => {
                let mut h = header(tar::EntryType::Symlink, node.mode, mtime, 0o777, now);
                let t = String::from_utf8_lossy(&target).into_owned();
                tb.append_link(&mut h, os(&path), os(&t)).map_err(|e| e.to_string())?;
            }
            NodeKind::Other => return Err(format!("{cid}: not a UnixFS node")),
        }
    }
    tb.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside() {
        assert_eq!(child_path("cid", "cid", b"a").unwrap(), "cid/a");
        assert_eq!(child_path("cid", "cid/x", b"../foobar/file").unwrap(), "cid/foobar/file");
        assert!(child_path("cid", "cid", b"../../etc/passwd").is_err());
        assert!(child_path("cid", "cid", b"../cidx").is_err());
    }
}
