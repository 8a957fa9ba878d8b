//! File DAGs: the balanced and trickle layouts, node for node as boxo builds them
//! (`ipld/unixfs/importer/{balanced,trickle,helpers}`), so that rubo's CIDs are Kubo's.
//!
//! Leaves arrive already hashed (workers make them with [`leaf`]); the layouts
//! pull them in order and emit every node through `sink`: children before
//! parents, the root last. Only the nodes on the current path are in memory.

use bytes::Bytes;
use rubo_types::dagpb::{PbLink, PbNode};
use rubo_types::{Block, BlockError, Cid};

use crate::CidPrefix;
use crate::pb::{Data, DataType, UnixTime};

/// boxo's `helpers.DefaultLinksPerBlock`: 8 KiB / (34 + 8 + 5).
pub const DEFAULT_MAX_LINKS: usize = 174;
/// boxo's trickle `depthRepeat`.
const DEPTH_REPEAT: usize = 4;

/// How a file's leaves are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    #[default]
    Balanced,
    Trickle,
}

/// How file nodes are built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOptions {
    pub prefix: CidPrefix,
    pub raw_leaves: bool,
    pub max_links: usize,
    pub layout: Layout,
    pub mode: Option<u32>,
    pub mtime: Option<UnixTime>,
}

impl Default for FileOptions {
    fn default() -> Self {
        Self {
            prefix: CidPrefix::default(),
            raw_leaves: false,
            max_links: DEFAULT_MAX_LINKS,
            layout: Layout::Balanced,
            mode: None,
            mtime: None,
        }
    }
}

/// A hashed leaf and the number of file bytes it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafBlock {
    pub block: Block,
    pub filesize: u64,
}

/// A node that is done: what its parent links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built {
    pub cid: Cid,
    /// Cumulative size of the node's DAG (the parent link's Tsize).
    pub tsize: u64,
    /// File bytes under it.
    pub filesize: u64,
}

/// Makes the leaf for one chunk: a raw block, or a UnixFS node (type File for
/// the balanced layout, Raw for trickle, as boxo does).
pub fn leaf(chunk: Bytes, opts: &FileOptions) -> Result<LeafBlock, BlockError> {
    let filesize = chunk.len() as u64;
    if opts.raw_leaves {
        return Ok(LeafBlock { block: opts.prefix.raw(chunk)?, filesize });
    }
    let kind = match opts.layout {
        Layout::Balanced => DataType::File,
        Layout::Trickle => DataType::Raw,
    };
    let mut d = Data::new(kind);
    d.filesize = Some(filesize);
    if !chunk.is_empty() {
        d.data = Some(chunk);
    }
    let node = PbNode::with_data(d.encode());
    Ok(LeafBlock { block: opts.prefix.dag_pb(node.encode())?, filesize })
}

/// Leaves in file order, with one of look-ahead (boxo's `Done()`).
pub struct Leaves<I> {
    it: I,
    peeked: Option<LeafBlock>,
}

impl<I, E> Leaves<I>
where
    I: Iterator<Item = Result<LeafBlock, E>>,
{
    pub fn new(it: I) -> Self {
        Self { it, peeked: None }
    }

    fn done(&mut self) -> Result<bool, E> {
        if self.peeked.is_none() {
            match self.it.next() {
                Some(l) => self.peeked = Some(l?),
                None => return Ok(true),
            }
        }
        Ok(false)
    }

    fn next_leaf(&mut self) -> Result<Option<LeafBlock>, E> {
        if let Some(l) = self.peeked.take() {
            return Ok(Some(l));
        }
        self.it.next().transpose()
    }
}

/// An internal file node being filled (boxo's `FSNodeOverDag`).
struct Inner {
    links: Vec<PbLink>,
    blocksizes: Vec<u64>,
    filesize: u64,
    link_sizes: u64,
}

impl Inner {
    fn new() -> Self {
        Self { links: Vec::new(), blocksizes: Vec::new(), filesize: 0, link_sizes: 0 }
    }

    fn add_child(&mut self, child: Built) {
        self.links.push(PbLink::new(child.cid, "", child.tsize));
        self.blocksizes.push(child.filesize);
        self.filesize += child.filesize;
        self.link_sizes += child.tsize;
    }

    fn commit(
        self,
        opts: &FileOptions,
        attrs: bool,
        sink: &mut dyn FnMut(Block) -> Result<(), BuildError>,
    ) -> Result<Built, BuildError> {
        let mut d = Data::new(DataType::File);
        d.filesize = Some(self.filesize);
        d.blocksizes = self.blocksizes;
        if attrs {
            d.mode = opts.mode;
            d.mtime = opts.mtime;
        }
        let node = PbNode { links: self.links, data: Some(Bytes::from(d.encode())) };
        let block = opts.prefix.dag_pb(node.encode())?;
        let built = Built { cid: *block.cid(), tsize: block.len() as u64 + self.link_sizes, filesize: self.filesize };
        sink(block)?;
        Ok(built)
    }
}

/// Why a file DAG could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error("{0}")]
    Source(String),
    #[error("the block sink failed: {0}")]
    Sink(String),
    #[error("a file node needs at least 2 links, got max-links {0}")]
    MaxLinks(usize),
}

fn emit_leaf(l: LeafBlock, sink: &mut dyn FnMut(Block) -> Result<(), BuildError>) -> Result<Built, BuildError> {
    let built = Built { cid: *l.block.cid(), tsize: l.block.len() as u64, filesize: l.filesize };
    sink(l.block)?;
    Ok(built)
}

/// Builds a file DAG from its leaves; returns the root, which was emitted last.
pub fn build_file<I>(
    leaves: I,
    opts: &FileOptions,
    sink: &mut dyn FnMut(Block) -> Result<(), BuildError>,
) -> Result<Built, BuildError>
where
    I: Iterator<Item = Result<LeafBlock, BuildError>>,
{
    // With one link per node the tree would only ever grow deeper.
    if opts.max_links < 2 {
        return Err(BuildError::MaxLinks(opts.max_links));
    }
    let mut src = Leaves::new(leaves);
    match opts.layout {
        Layout::Balanced => balanced(&mut src, opts, sink),
        Layout::Trickle => trickle(&mut src, opts, sink),
    }
}

fn has_attrs(opts: &FileOptions) -> bool {
    opts.mode.is_some() || opts.mtime.is_some()
}

/// Adds mode/mtime to a root that is a dag-pb leaf (boxo's `SetFileAttributes`).
fn leaf_with_attrs(l: LeafBlock, opts: &FileOptions) -> Result<LeafBlock, BuildError> {
    if !has_attrs(opts) || l.block.cid().codec() != rubo_types::codec::DAG_PB {
        return Ok(l);
    }
    let node = PbNode::decode(l.block.data()).map_err(|e| BuildError::Source(e.to_string()))?;
    let data = node.data.clone().unwrap_or_default();
    let mut d = Data::decode(&data).map_err(|e| BuildError::Source(e.to_string()))?;
    d.mode = opts.mode;
    d.mtime = opts.mtime;
    let node = PbNode { links: node.links, data: Some(Bytes::from(d.encode())) };
    Ok(LeafBlock { block: opts.prefix.dag_pb(node.encode())?, filesize: l.filesize })
}

fn balanced<I>(
    src: &mut Leaves<I>,
    opts: &FileOptions,
    sink: &mut dyn FnMut(Block) -> Result<(), BuildError>,
) -> Result<Built, BuildError>
where
    I: Iterator<Item = Result<LeafBlock, BuildError>>,
{
    let Some(first) = src.next_leaf()? else {
        // An empty file: one empty leaf (with raw leaves, the empty raw block).
        let l = leaf(Bytes::new(), &FileOptions { layout: Layout::Balanced, ..opts.clone() })?;
        return emit_leaf(leaf_with_attrs(l, opts)?, sink);
    };
    if src.done()? {
        // One chunk: the leaf is the root.
        return emit_leaf(leaf_with_attrs(first, opts)?, sink);
    }
    let mut root = emit_leaf(first, sink)?;
    let mut depth = 1;
    while !src.done()? {
        let mut node = Inner::new();
        node.add_child(root);
        fill_rec(src, &mut node, depth, opts, sink)?;
        let last = src.done()?;
        root = node.commit(opts, last && has_attrs(opts), sink)?;
        depth += 1;
    }
    Ok(root)
}

/// Fills `node` with subtrees of `depth - 1` until it is full or the data ends.
fn fill_rec<I>(
    src: &mut Leaves<I>,
    node: &mut Inner,
    depth: usize,
    opts: &FileOptions,
    sink: &mut dyn FnMut(Block) -> Result<(), BuildError>,
) -> Result<(), BuildError>
where
    I: Iterator<Item = Result<LeafBlock, BuildError>>,
{
    while node.links.len() < opts.max_links && !src.done()? {
        let child = if depth == 1 {
            match src.next_leaf()? {
                Some(l) => emit_leaf(l, sink)?,
                None => break,
            }
        } else {
            let mut sub = Inner::new();
            fill_rec(src, &mut sub, depth - 1, opts, sink)?;
            sub.commit(opts, false, sink)?
        };
        node.add_child(child);
    }
    Ok(())
}

fn trickle<I>(
    src: &mut Leaves<I>,
    opts: &FileOptions,
    sink: &mut dyn FnMut(Block) -> Result<(), BuildError>,
) -> Result<Built, BuildError>
where
    I: Iterator<Item = Result<LeafBlock, BuildError>>,
{
    let mut root = Inner::new();
    fill_trickle(src, &mut root, None, opts, sink)?;
    root.commit(opts, has_attrs(opts), sink)
}

fn fill_trickle<I>(
    src: &mut Leaves<I>,
    node: &mut Inner,
    max_depth: Option<usize>,
    opts: &FileOptions,
    sink: &mut dyn FnMut(Block) -> Result<(), BuildError>,
) -> Result<(), BuildError>
where
    I: Iterator<Item = Result<LeafBlock, BuildError>>,
{
    // FillNodeLayer: a layer of leaves first.
    while node.links.len() < opts.max_links && !src.done()? {
        match src.next_leaf()? {
            Some(l) => {
                let b = emit_leaf(l, sink)?;
                node.add_child(b);
            }
            None => break,
        }
    }
    let mut depth = 1;
    while max_depth.is_none_or(|m| depth < m) {
        if src.done()? {
            break;
        }
        let mut repeat = 0;
        while repeat < DEPTH_REPEAT && !src.done()? {
            let mut child = Inner::new();
            fill_trickle(src, &mut child, Some(depth), opts, sink)?;
            let built = child.commit(opts, false, sink)?;
            node.add_child(built);
            repeat += 1;
        }
        depth += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::{Version, hash};

    fn chunks(data: &[u8], size: usize) -> Vec<Bytes> {
        data.chunks(size).map(Bytes::copy_from_slice).collect()
    }

    fn import(data: &[u8], size: usize, opts: &FileOptions) -> (Built, Vec<Block>) {
        let mut blocks = Vec::new();
        let leaves = chunks(data, size).into_iter().map(|c| leaf(c, opts).map_err(BuildError::from));
        let root = build_file(leaves, opts, &mut |b| {
            blocks.push(b);
            Ok(())
        })
        .unwrap();
        (root, blocks)
    }

    // Vectors from Kubo's t0040-add-and-cat.sh.
    #[test]
    fn kubo_small_vectors() {
        let opts = FileOptions::default();
        assert_eq!(
            import(b"Hello Worlds!\n", 262144, &opts).0.cid.to_string(),
            "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH"
        );
        assert_eq!(import(b"", 262144, &opts).0.cid.to_string(), "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
        let trickle = FileOptions { layout: Layout::Trickle, ..Default::default() };
        assert_eq!(
            import(b"Hello Worlds!\n", 262144, &trickle).0.cid.to_string(),
            "QmUkUQgxXeggyaD5Ckv8ZqfW8wHBX6cYyeiyqvVZYzq5Bi"
        );
        let raw = FileOptions { raw_leaves: true, ..Default::default() };
        assert_eq!(
            import(b"", 262144, &raw).0.cid.to_string(),
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        );
        let v1 = FileOptions {
            raw_leaves: true,
            prefix: CidPrefix { version: Version::V1, ..Default::default() },
            ..Default::default()
        };
        assert_eq!(
            import(b"hello world", 262144, &v1).0.cid.to_string(),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        );
        let v1_pb =
            FileOptions { prefix: CidPrefix { version: Version::V1, ..Default::default() }, ..Default::default() };
        assert_eq!(
            import(b"hello world", 262144, &v1_pb).0.cid.to_string(),
            "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa"
        );
        let sha512 = FileOptions {
            raw_leaves: true,
            prefix: CidPrefix { version: Version::V1, hash: hash::SHA2_512, ..Default::default() },
            ..Default::default()
        };
        assert_eq!(
            import(b"hello world", 262144, &sha512).0.cid.to_string(),
            "bafkrgqbqt3gerhas23vuzrapkdeqf4vu2dwxp3srdj6hvg6nhsug2tgyn6mj3u23yx7utftq3i2ckw2fwdh5qmhid5qf3t35yvkc5e5ottlw6"
        );
        // t0046: --inline --raw-leaves
        let inline = FileOptions {
            raw_leaves: true,
            prefix: CidPrefix { inline_limit: Some(32), ..Default::default() },
            ..Default::default()
        };
        assert_eq!(
            import(b"jkD98jkD975hkD8\n", 262144, &inline).0.cid.to_string(),
            "bafkqaedknncdsodknncdsnzvnbvuioak"
        );
    }

    #[test]
    fn mode_and_mtime() {
        // t0047-add-mode-mtime.sh, empty file.
        let opts = FileOptions { mode: Some(0o640), ..Default::default() };
        assert_eq!(import(b"", 262144, &opts).0.cid.to_string(), "QmQLgxypSNGNFTuUPGCecq6dDEjb6hNB5xSyVmP3cEuNtq");
        let opts = FileOptions { mtime: Some(UnixTime { seconds: 1604320482, nanos: None }), ..Default::default() };
        assert_eq!(import(b"", 262144, &opts).0.cid.to_string(), "QmQ6kErEW8kztQFV8vbwNU8E4dmtGsYpRiboiLxUEwibvj");
        let opts = FileOptions { mode: Some(0o764), ..Default::default() };
        assert_eq!(import(b"", 262144, &opts).0.cid.to_string(), "QmchD3BN8TQ3RW6jPLxSaNkqvfuj7syKhzTRmL4EpyY1Nz");
        let opts =
            FileOptions { mtime: Some(UnixTime { seconds: 1603539720, nanos: Some(54321) }), ..Default::default() };
        assert_eq!(import(b"", 262144, &opts).0.cid.to_string(), "QmaKH8H5rXBUBCX4vdxi7ktGQEL7wejV7L9rX2qpZjwncz");
    }

    #[test]
    fn balanced_shape() {
        // 4 leaves of 1 byte, 2 links per node: depth 2, root with 2 children.
        let opts = FileOptions { max_links: 2, raw_leaves: true, ..Default::default() };
        let (root, blocks) = import(b"abcd", 1, &opts);
        assert_eq!(root.filesize, 4);
        // 4 leaves + 2 inner + root
        assert_eq!(blocks.len(), 7);
        let rootnode = PbNode::decode(blocks.last().unwrap().data()).unwrap();
        assert_eq!(rootnode.links.len(), 2);
        // 5 leaves: root has 2 children: a full depth-2 tree and a depth-2 tree over one leaf.
        let (_, blocks) = import(b"abcde", 1, &opts);
        let rootnode = PbNode::decode(blocks.last().unwrap().data()).unwrap();
        assert_eq!(rootnode.links.len(), 2);
        assert_eq!(blocks.len(), 5 + 2 + 1 + 1 + 1 + 1);
    }

    #[test]
    fn tsize_is_cumulative() {
        let opts = FileOptions { max_links: 3, ..Default::default() };
        let (root, blocks) = import(&[7u8; 1000], 100, &opts);
        let total: u64 = blocks.iter().map(|b| b.len() as u64).sum();
        assert_eq!(root.tsize, total);
        assert_eq!(root.filesize, 1000);
    }
}
