//! Reading a file from an offset: only the blocks covering the bytes read are
//! fetched, as they are reached, one path of the DAG in memory at a time.

use std::io::{self, Read};

use rubo_types::dagpb::PbNode;
use rubo_types::{Block, Bytes, Cid, codec};
use rubo_unixfs::pb::{Data, DataType};

use crate::error::MfsError;
use crate::store::{Ctx, Store};

/// Deepest file DAG read.
const MAX_DEPTH: usize = 128;

/// A file's bytes from an offset, as [`std::io::Read`]. A block that is not
/// local fails the read with [`MfsError::BlockNotFound`]'s message.
pub struct FileRead<S> {
    store: S,
    /// Nodes still to visit, last first: (CID, file position of their first byte, depth).
    stack: Vec<(Cid, u64, usize)>,
    first: Option<Block>,
    current: Bytes,
    /// The first byte wanted.
    offset: u64,
    /// Bytes still allowed (`--count`).
    remaining: Option<u64>,
}

impl<S: Store> FileRead<S> {
    pub(crate) fn new(store: S, root: Block, offset: u64, count: Option<u64>) -> Self {
        Self { store, stack: Vec::new(), first: Some(root), current: Bytes::new(), offset, remaining: count }
    }

    fn fetch(&self, cid: &Cid) -> io::Result<Block> {
        let mut ctx = Ctx::new(&self.store);
        ctx.get(cid).map_err(to_io)
    }

    /// Loads the next piece of data; false at the end.
    fn advance(&mut self) -> io::Result<bool> {
        loop {
            let (block, start, depth) = match self.first.take() {
                Some(b) => (b, 0, 0),
                None => match self.stack.pop() {
                    Some((c, at, d)) => (self.fetch(&c)?, at, d),
                    None => return Ok(false),
                },
            };
            if depth > MAX_DEPTH {
                return Err(invalid(format!("file DAG deeper than {MAX_DEPTH} levels")));
            }
            let cid = *block.cid();
            let mut pos = start;
            match cid.codec() {
                codec::RAW => {
                    self.current = cut(block.data(), pos, self.offset);
                }
                codec::DAG_PB => {
                    let node = PbNode::decode(block.data()).map_err(|e| invalid(format!("{cid}: {e}")))?;
                    let raw = node.data.clone().unwrap_or_default();
                    let d = Data::decode(&raw).map_err(|e| invalid(format!("{cid}: {e}")))?;
                    if !matches!(d.kind, DataType::File | DataType::Raw) {
                        return Err(invalid(format!("{cid} is not a file")));
                    }
                    if !node.links.is_empty() && d.blocksizes.len() != node.links.len() {
                        return Err(invalid(format!("{cid}: blocksizes do not match links")));
                    }
                    let inline = d.data.clone().unwrap_or_default();
                    self.current = cut(&inline, pos, self.offset);
                    pos = pos.saturating_add(inline.len() as u64);
                    let mut wanted = Vec::new();
                    for (link, bs) in node.links.iter().zip(&d.blocksizes) {
                        let end = pos.saturating_add(*bs);
                        if end > self.offset {
                            wanted.push((link.cid, pos, depth + 1));
                        }
                        pos = end;
                    }
                    self.stack.extend(wanted.into_iter().rev());
                }
                _ => return Err(invalid(format!("{cid} is not a UnixFS file"))),
            }
            if !self.current.is_empty() {
                return Ok(true);
            }
        }
    }
}

/// The part of `data` (starting at file position `start`) at or after `offset`.
fn cut(data: &Bytes, start: u64, offset: u64) -> Bytes {
    let skip = offset.saturating_sub(start);
    if skip >= data.len() as u64 {
        return Bytes::new();
    }
    data.slice(skip as usize..)
}

fn invalid(m: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, m)
}

/// The error itself rides inside, so that a caller can recover its kind.
fn to_io(e: MfsError) -> io::Error {
    match e {
        MfsError::BlockNotFound(_) => io::Error::new(io::ErrorKind::NotFound, e),
        e => io::Error::other(e),
    }
}

impl<S: Store> Read for FileRead<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.remaining == Some(0) {
            return Ok(0);
        }
        while self.current.is_empty() {
            if !self.advance()? {
                return Ok(0);
            }
        }
        let mut n = buf.len().min(self.current.len());
        if let Some(r) = self.remaining {
            n = n.min(usize::try_from(r).unwrap_or(usize::MAX));
            self.remaining = Some(r - n as u64);
        }
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}
