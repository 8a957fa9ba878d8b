//! Nodes as boxo's MFS sees them: a child is a directory or a file (boxo
//! `Directory.cacheNode`), and file nodes are raw blocks or dag-pb nodes with
//! UnixFS data that can be changed and re-encoded the way go-merkledag does.

use rubo_types::dagpb::{PbLink, PbNode};
use rubo_types::{Block, Bytes, Cid, codec};
use rubo_unixfs::CidPrefix;
use rubo_unixfs::pb::{Data, DataType, UnixTime};

use crate::dir::Dir;
use crate::error::MfsError;
use crate::store::{Ctx, Store, prefix_of};

/// Go's zero `time.Time` in Unix seconds.
const GO_ZERO_TIME_SECS: i64 = -62_135_596_800;

/// boxo `FSNode.Mode()` reduced to its permission bits: `None` when unset.
pub(crate) fn go_mode(d: &Data) -> Option<u32> {
    d.mode.map(|m| m & 0xFFF).filter(|&m| m != 0)
}

/// boxo `FSNode.ModTime()`: invalid nanos read as the zero time, which (like
/// Go's zero time itself) means "no mtime". Nanos are kept only when non-zero.
pub(crate) fn go_mtime(d: &Data) -> Option<UnixTime> {
    let t = d.mtime?;
    let nanos = match t.nanos {
        None => 0,
        Some(n) if (1..=999_999_999).contains(&n) => n,
        Some(_) => return None,
    };
    if t.seconds == GO_ZERO_TIME_SECS && nanos == 0 {
        return None;
    }
    Some(UnixTime { seconds: t.seconds, nanos: (nanos > 0).then_some(nanos) })
}

/// `files.ModePermsToUnixPerms(os.FileMode(mode))`: Kubo parses the octal
/// argument into an `os.FileMode`, so only the permission bits (and Go's own
/// setuid/setgid/sticky flag positions) survive.
pub(crate) fn unix_perms_of_go_mode(mode: u32) -> u32 {
    ((mode & 0x00C0_0000) >> 12) | ((mode & (1 << 20)) >> 11) | (mode & 0x1FF)
}

/// boxo `FSNode.SetMode(os.FileMode(mode))`.
pub(crate) fn set_unix_perms(d: &mut Data, mode: u32) {
    let perms = unix_perms_of_go_mode(mode) & 0xFFF;
    let new = (d.mode.unwrap_or(0) & 0xFFFF_F000) | perms;
    d.mode = if perms == 0 && new & 0xFFFF_F000 == 0 { None } else { Some(new) };
}

/// boxo `FSNode.FileSize()` (errors read as 0, as boxo ignores them).
pub(crate) fn go_file_size(d: &Data) -> u64 {
    match d.kind {
        DataType::File | DataType::Raw => d.filesize.unwrap_or(0),
        DataType::Symlink => d.data.as_ref().map_or(0, |b| b.len() as u64),
        _ => 0,
    }
}

/// go-merkledag `Node.Size()`: the block plus its links' cumulative sizes.
pub(crate) fn node_size(block: &Block) -> Result<u64, MfsError> {
    if block.cid().codec() != codec::DAG_PB {
        return Ok(block.len() as u64);
    }
    let node = decode_pb(block)?;
    Ok(node.links.iter().fold(block.len() as u64, |a, l| a.saturating_add(l.tsize.unwrap_or(0))))
}

pub(crate) fn decode_pb(block: &Block) -> Result<PbNode, MfsError> {
    PbNode::decode(block.data()).map_err(|e| MfsError::malformed(block.cid(), e.to_string()))
}

/// The UnixFS data of a dag-pb node (boxo `FSNodeFromBytes`: required).
pub(crate) fn decode_data(block: &Block, node: &PbNode) -> Result<Data, MfsError> {
    let raw = node.data.clone().unwrap_or_default();
    Data::decode(&raw).map_err(|e| MfsError::malformed(block.cid(), e.to_string()))
}

/// What a directory entry turned out to be.
pub(crate) enum Child {
    Dir(Box<Dir>),
    /// A raw block, or a dag-pb UnixFS File, Raw or Symlink node.
    File(Block),
}

/// boxo `Directory.cacheNode`: loads an entry as a directory or a file.
pub(crate) fn load_child<S: Store + ?Sized>(ctx: &mut Ctx<'_, S>, cid: &Cid, tsize: u64) -> Result<Child, MfsError> {
    let block = ctx.get(cid)?;
    classify(block, tsize, None)
}

/// Classifies a block already in hand; `prefix` overrides a directory's format.
pub(crate) fn classify(block: Block, tsize: u64, prefix: Option<CidPrefix>) -> Result<Child, MfsError> {
    match block.cid().codec() {
        codec::RAW => Ok(Child::File(block)),
        codec::DAG_PB => {
            let node = decode_pb(&block)?;
            let data = decode_data(&block, &node)?;
            match data.kind {
                DataType::Directory | DataType::HamtShard => {
                    Ok(Child::Dir(Box::new(Dir::load(&block, tsize, prefix, node, data)?)))
                }
                DataType::File | DataType::Raw | DataType::Symlink => Ok(Child::File(block)),
                DataType::Metadata => Err(MfsError::NotYetImplemented),
            }
        }
        _ => Err(MfsError::UnrecognizedNode),
    }
}

/// A file node being changed (boxo's view through `DagModifier`).
#[derive(Debug, Clone)]
pub(crate) enum FileNode {
    Raw(Block),
    Pb(PbFile),
}

/// A dag-pb file node: its builder, links and UnixFS data.
#[derive(Debug, Clone)]
pub(crate) struct PbFile {
    pub(crate) prefix: CidPrefix,
    pub(crate) links: Vec<PbLink>,
    pub(crate) data: Data,
}

/// A node that is stored: what a parent links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stored {
    pub(crate) cid: Cid,
    /// Cumulative size (the link's Tsize).
    pub(crate) tsize: u64,
    /// File bytes under it.
    pub(crate) filesize: u64,
}

impl FileNode {
    /// A file node from its block; other codecs are boxo's `ErrNotUnixfs`.
    pub(crate) fn from_block(block: Block) -> Result<Self, MfsError> {
        match block.cid().codec() {
            codec::RAW => Ok(Self::Raw(block)),
            codec::DAG_PB => Ok(Self::Pb(PbFile::from_block(&block)?)),
            _ => Err(MfsError::NotUnixfs),
        }
    }

    /// boxo `fileSize`.
    pub(crate) fn file_size(&self) -> u64 {
        match self {
            Self::Raw(b) => b.len() as u64,
            Self::Pb(f) => go_file_size(&f.data),
        }
    }
}

impl PbFile {
    pub(crate) fn from_block(block: &Block) -> Result<Self, MfsError> {
        let node = decode_pb(block)?;
        let data = decode_data(block, &node)?;
        Ok(Self { prefix: prefix_of(block.cid()), links: node.links, data })
    }

    /// An empty internal file node (boxo `NewFSNodeOverDag(TFile)`: filesize 0).
    pub(crate) fn new_file(prefix: CidPrefix) -> Self {
        let mut data = Data::new(DataType::File);
        data.filesize = Some(0);
        Self { prefix, links: Vec::new(), data }
    }

    /// Children as UnixFS counts them (blocksizes).
    pub(crate) fn num_children(&self) -> usize {
        self.data.blocksizes.len()
    }

    fn add_filesize(&mut self, diff: i128) {
        let cur = i128::from(self.data.filesize.unwrap_or(0));
        // Go's uint64(int64(..) + diff) wraps; so do we.
        self.data.filesize = Some((cur + diff) as u64);
    }

    /// boxo `FSNodeOverDag.AddChild`.
    pub(crate) fn add_child(&mut self, c: &Stored) {
        self.links.push(PbLink::new(c.cid, "", c.tsize));
        self.data.blocksizes.push(c.filesize);
        self.add_filesize(i128::from(c.filesize));
    }

    /// boxo `FSNodeOverDag.RemoveChild`.
    pub(crate) fn remove_child(&mut self, i: usize) {
        if i < self.data.blocksizes.len() {
            let bs = self.data.blocksizes.remove(i);
            self.add_filesize(-i128::from(bs));
        }
        if i < self.links.len() {
            self.links.remove(i);
        }
    }

    pub(crate) fn file_size(&self) -> u64 {
        go_file_size(&self.data)
    }

    /// Encodes as go-merkledag does (links stably sorted by name), stores it.
    pub(crate) fn commit<S: Store + ?Sized>(&self, ctx: &mut Ctx<'_, S>) -> Result<Stored, MfsError> {
        let block = self.encode()?;
        let tsize = self.links.iter().fold(block.len() as u64, |a, l| a.saturating_add(l.tsize.unwrap_or(0)));
        let cid = *block.cid();
        ctx.put(block)?;
        Ok(Stored { cid, tsize, filesize: self.file_size() })
    }

    pub(crate) fn encode(&self) -> Result<Block, MfsError> {
        let mut links = self.links.clone();
        links.sort_by(|a, b| a.name.as_deref().map_or(&[][..], |n| n).cmp(b.name.as_deref().map_or(&[][..], |n| n)));
        let node = PbNode { links, data: Some(Bytes::from(self.data.encode())) };
        Ok(self.prefix.dag_pb(node.encode())?)
    }
}

/// Stores a raw block made with `prefix`; returns what a parent links to.
pub(crate) fn put_raw<S: Store + ?Sized>(
    ctx: &mut Ctx<'_, S>,
    prefix: &CidPrefix,
    data: Bytes,
) -> Result<(Block, Stored), MfsError> {
    let block = prefix.raw(data)?;
    let st = Stored { cid: *block.cid(), tsize: block.len() as u64, filesize: block.len() as u64 };
    ctx.put(block.clone())?;
    Ok((block, st))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_like_go() {
        let mut d = Data::new(DataType::File);
        set_unix_perms(&mut d, 0o644);
        assert_eq!(d.mode, Some(0o644));
        // os.FileMode(0o4755): the 0o4000 bit is not Go's setuid flag.
        set_unix_perms(&mut d, 0o4755);
        assert_eq!(d.mode, Some(0o755));
        set_unix_perms(&mut d, 0);
        assert_eq!(d.mode, None);
        d.mode = Some(0o1_000_644);
        set_unix_perms(&mut d, 0);
        assert_eq!(d.mode, Some(0o1_000_000));
        assert_eq!(go_mode(&d), None);
    }

    #[test]
    fn mtimes_like_go() {
        let mut d = Data::new(DataType::File);
        d.mtime = Some(UnixTime { seconds: 5, nanos: Some(0) });
        assert_eq!(go_mtime(&d), None);
        d.mtime = Some(UnixTime { seconds: 0, nanos: None });
        assert_eq!(go_mtime(&d), Some(UnixTime { seconds: 0, nanos: None }));
        d.mtime = Some(UnixTime { seconds: GO_ZERO_TIME_SECS, nanos: None });
        assert_eq!(go_mtime(&d), None);
        d.mtime = Some(UnixTime { seconds: -3, nanos: Some(7) });
        assert_eq!(go_mtime(&d), Some(UnixTime { seconds: -3, nanos: Some(7) }));
    }
}
