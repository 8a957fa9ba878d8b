//! boxo's `DagModifier` (`ipld/unixfs/mod`) and trickle `Append`
//! (`ipld/unixfs/importer/trickle`), node for node, so that `files write`
//! gives Kubo's CIDs.
//!
//! - Overwriting rewrites the leaves the bytes fall in and the nodes above
//!   them, nothing else (links keep their old Tsize, as boxo leaves it).
//! - Bytes past the end are appended with trickle `Append`, which extends the
//!   existing DAG (filling its last subtree first) rather than rebuilding it;
//!   a raw root is first wrapped in a dag-pb node.
//! - Writing past the end first appends zeros in 4096-byte leaves.
//! - Truncation cuts the one child the new end falls in and drops those after.
//! - Leaves with an mtime get the current time when rewritten, as boxo does.
//!
//! Two deviations from boxo, both where boxo corrupts the file: a node that
//! has inline data *and* links (what appending to a single-leaf `ipfs add`
//! file gives) has its inline bytes counted before its children when
//! overwriting and truncating, and is never collapsed to its only raw child.

use std::io::Read;

use rubo_types::Bytes;
use rubo_types::dagpb::PbLink;
use rubo_unixfs::CidPrefix;
use rubo_unixfs::chunker::{Chunker, ChunkerSpec, SizeChunker, new_chunker};
use rubo_unixfs::file::{DEFAULT_MAX_LINKS, FileOptions, Layout, leaf};
use rubo_unixfs::pb::{DataType, UnixTime};

use crate::error::MfsError;
use crate::node::{FileNode, PbFile, Stored, go_mode, go_mtime, put_raw};
use crate::store::{Ctx, Store, prefix_of};

/// boxo trickle `depthRepeat`.
const DEPTH_REPEAT: i64 = 4;
/// boxo `helpers.DefaultLinksPerBlock` (the DagModifier's `MaxLinks`).
const MAX_LINKS: usize = DEFAULT_MAX_LINKS;
/// Leaf size of the zeros written past the end (boxo `expandSparse`).
const SPARSE_CHUNK: usize = 4096;

/// The writer's view of one file.
pub(crate) struct DagMod {
    pub(crate) cur: FileNode,
    /// Builder of new nodes (the original root's format).
    prefix: CidPrefix,
    pub(crate) raw_leaves: bool,
    chunker: ChunkerSpec,
    now: UnixTime,
    /// Where the next buffered bytes go.
    write_start: u64,
}

/// New leaves, pulled from a chunker one at a time (boxo `DagBuilderHelper`).
struct Leaves {
    chunks: Box<dyn Chunker>,
    peeked: Option<Bytes>,
    opts: FileOptions,
}

impl Leaves {
    fn new(chunks: Box<dyn Chunker>, prefix: CidPrefix, raw_leaves: bool) -> Self {
        let opts = FileOptions { prefix, raw_leaves, layout: Layout::Trickle, ..Default::default() };
        Self { chunks, peeked: None, opts }
    }

    fn done(&mut self) -> Result<bool, MfsError> {
        if self.peeked.is_none() {
            self.peeked = self.chunks.next_chunk()?;
        }
        Ok(self.peeked.is_none())
    }

    fn next<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>) -> Result<Option<Stored>, MfsError> {
        let chunk = match self.peeked.take() {
            Some(c) => c,
            None => match self.chunks.next_chunk()? {
                Some(c) => c,
                None => return Ok(None),
            },
        };
        let l = leaf(chunk, &self.opts)?;
        let st = Stored { cid: *l.block.cid(), tsize: l.block.len() as u64, filesize: l.filesize };
        ctx.put(l.block)?;
        Ok(Some(st))
    }
}

impl DagMod {
    /// boxo `NewDagModifier`: new nodes take the format of `node`'s CID; raw
    /// leaves default to on for CIDv1, `raw_leaves` overrides.
    pub(crate) fn new(node: FileNode, raw_leaves: Option<bool>, chunker: ChunkerSpec, now: UnixTime) -> Self {
        let prefix = match &node {
            FileNode::Pb(f) => f.prefix,
            FileNode::Raw(b) => prefix_of(b.cid()),
        };
        let default_raw = prefix.version != rubo_types::Version::V0;
        Self { cur: node, prefix, raw_leaves: raw_leaves.unwrap_or(default_raw), chunker, now, write_start: 0 }
    }

    pub(crate) fn size(&self) -> u64 {
        self.cur.file_size()
    }

    /// `Seek(offset, SeekStart)`: past the end, the file grows with zeros.
    pub(crate) fn seek<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>, offset: u64) -> Result<(), MfsError> {
        let size = self.size();
        if offset > size {
            self.expand_sparse(ctx, offset - size)?;
        }
        self.write_start = offset;
        Ok(())
    }

    /// `Truncate(size)`: shrinks, or grows with zeros.
    pub(crate) fn truncate<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>, size: u64) -> Result<(), MfsError> {
        let real = self.size();
        if size == real {
            return Ok(());
        }
        if size > real {
            return self.expand_sparse(ctx, size - real);
        }
        let node = self.cur.clone();
        self.cur = self.dag_truncate(ctx, node, size)?;
        self.store_cur(ctx)
    }

    fn store_cur<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>) -> Result<(), MfsError> {
        match &self.cur {
            FileNode::Raw(b) => ctx.put(b.clone()),
            FileNode::Pb(f) => f.commit(ctx).map(|_| ()),
        }
    }

    /// boxo `Sync`: writes `buf` at the current position.
    pub(crate) fn sync<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>, buf: Bytes) -> Result<(), MfsError> {
        let len = buf.len() as u64;
        let fs = self.size();
        if fs < self.write_start {
            self.expand_sparse(ctx, self.write_start - fs)?;
        }
        let mut rest = buf;
        let node = self.cur.clone();
        self.cur = self.modify_dag(ctx, node, self.write_start, &mut rest)?.0;
        if !rest.is_empty() {
            let chunks = new_chunker(&self.chunker, Box::new(std::io::Cursor::new(rest)));
            let node = self.cur.clone();
            self.cur = FileNode::Pb(self.append_data(ctx, node, chunks)?);
        }
        self.write_start += len;
        Ok(())
    }

    /// boxo `GetNode`: with raw leaves, a root over one raw leaf and no
    /// metadata collapses to that leaf (what `ipfs add --raw-leaves` gives).
    pub(crate) fn get_node<S: Store + ?Sized>(&self, ctx: &mut Ctx<'_, S>) -> Result<FileNode, MfsError> {
        if let FileNode::Pb(f) = &self.cur
            && self.raw_leaves
            && f.links.len() == 1
            && go_mtime(&f.data).is_none()
            && go_mode(&f.data).is_none()
            && f.data.data.as_ref().is_none_or(Bytes::is_empty)
            && let Some(child) = ctx.try_get(&f.links[0].cid).ok().flatten()
            && child.cid().codec() == rubo_types::codec::RAW
        {
            return Ok(FileNode::Raw(child));
        }
        Ok(self.cur.clone())
    }

    fn expand_sparse<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>, size: u64) -> Result<(), MfsError> {
        let zeros = std::io::repeat(0).take(size);
        let chunks: Box<dyn Chunker> = Box::new(SizeChunker::new(zeros, SPARSE_CHUNK));
        let node = self.cur.clone();
        self.cur = FileNode::Pb(self.append_data(ctx, node, chunks)?);
        Ok(())
    }

    /// boxo `modifyDag`: writes the start of `buf` over the bytes from
    /// `offset`, consuming what it wrote; returns the new (stored) node.
    fn modify_dag<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        node: FileNode,
        offset: u64,
        buf: &mut Bytes,
    ) -> Result<(FileNode, rubo_types::Cid), MfsError> {
        match node {
            FileNode::Raw(b) => {
                let orig = b.data();
                let off = usize::try_from(offset).ok().filter(|&o| o <= orig.len());
                let Some(off) = off else {
                    return Err(MfsError::malformed(b.cid(), "write offset past the end of a leaf"));
                };
                let n = (orig.len() - off).min(buf.len());
                let mut bytes = orig.to_vec();
                bytes[off..off + n].copy_from_slice(&buf[..n]);
                let _ = buf.split_to(n);
                let prefix = prefix_of(b.cid());
                let (block, st) = put_raw(ctx, &prefix, Bytes::from(bytes))?;
                Ok((FileNode::Raw(block), st.cid))
            }
            FileNode::Pb(mut f) => {
                // Inline data first (a leaf's data, or the rare root with both).
                let inline = f.data.data.as_ref().map_or(0, Bytes::len) as u64;
                if f.links.is_empty() || inline > 0 {
                    if offset > inline && f.links.is_empty() {
                        return Err(MfsError::malformed(
                            &f.encode()?.cid().to_owned(),
                            "write offset past the end of a leaf",
                        ));
                    }
                    if offset < inline
                        && let Some(d) = &f.data.data
                    {
                        let off = offset as usize;
                        let n = (d.len() - off).min(buf.len());
                        let mut bytes = d.to_vec();
                        bytes[off..off + n].copy_from_slice(&buf[..n]);
                        let _ = buf.split_to(n);
                        f.data.data = Some(Bytes::from(bytes));
                    }
                    if f.links.is_empty() {
                        if go_mtime(&f.data).is_some() {
                            f.data.mtime = Some(self.now);
                        }
                        let st = f.commit(ctx)?;
                        return Ok((FileNode::Pb(f), st.cid));
                    }
                }
                // Past the inline bytes now (or nothing is left to write).
                let mut offset = offset.max(inline);
                let mut cur = inline;
                let sizes = f.data.blocksizes.clone();
                for (i, bs) in sizes.iter().enumerate() {
                    if buf.is_empty() {
                        break;
                    }
                    if cur + bs > offset {
                        let Some(link) = f.links.get(i) else {
                            return Err(MfsError::NotUnixfs);
                        };
                        let child = FileNode::from_block(ctx.get(&link.cid)?)?;
                        let (_, new_cid) = self.modify_dag(ctx, child, offset - cur, buf)?;
                        // boxo swaps the CID and keeps the link's old Tsize.
                        f.links[i].cid = new_cid;
                        if buf.is_empty() {
                            break;
                        }
                        offset = cur + bs;
                    }
                    cur += bs;
                }
                let st = f.commit(ctx)?;
                Ok((FileNode::Pb(f), st.cid))
            }
        }
    }

    /// boxo `appendData`: trickle-appends the chunks; a raw node is first
    /// wrapped in a dag-pb file node (whose new leaves are then always raw).
    fn append_data<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        node: FileNode,
        chunks: Box<dyn Chunker>,
    ) -> Result<PbFile, MfsError> {
        match node {
            FileNode::Pb(f) => {
                let mut src = Leaves::new(chunks, self.prefix, self.raw_leaves);
                self.append(ctx, &mut src, f)
            }
            FileNode::Raw(b) => {
                let mut f = PbFile::new_file(self.prefix);
                let len = b.len() as u64;
                f.add_child(&Stored { cid: *b.cid(), tsize: len, filesize: len });
                let mut src = Leaves::new(chunks, self.prefix, true);
                self.append(ctx, &mut src, f)
            }
        }
    }

    /// boxo `dagTruncate`.
    fn dag_truncate<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        node: FileNode,
        size: u64,
    ) -> Result<FileNode, MfsError> {
        match node {
            FileNode::Raw(b) => {
                let Some(end) = usize::try_from(size).ok().filter(|&e| e <= b.len()) else {
                    return Err(MfsError::malformed(b.cid(), "truncating past the end of a leaf"));
                };
                let (block, _) = put_raw(ctx, &prefix_of(b.cid()), b.data().slice(..end))?;
                Ok(FileNode::Raw(block))
            }
            FileNode::Pb(mut f) => {
                let inline = f.data.data.as_ref().map_or(0, Bytes::len) as u64;
                if f.links.is_empty() || (inline > 0 && size <= inline) {
                    let Some(end) = usize::try_from(size).ok().filter(|&e| e as u64 <= inline) else {
                        return Err(MfsError::NotUnixfs);
                    };
                    let old_len = inline as i128;
                    f.data.data = f.data.data.map(|d| d.slice(..end));
                    let cur = i128::from(f.data.filesize.unwrap_or(0));
                    f.data.filesize = Some((cur + end as i128 - old_len) as u64);
                    if !f.links.is_empty() {
                        // The cut falls in the inline data: every child goes.
                        f.links.clear();
                        f.data.blocksizes.clear();
                        f.data.filesize = Some(size);
                    } else {
                        if go_mtime(&f.data).is_some() {
                            f.data.mtime = Some(self.now);
                        }
                        // boxo makes the new leaf with `NodeWithData`: the default format.
                        f.prefix = CidPrefix::default();
                    }
                    return Ok(FileNode::Pb(f));
                }
                let sizes: Vec<u64> = (0..f.links.len()).map(|i| f_blocksize(&f, i)).collect::<Result<_, _>>()?;
                f.data.blocksizes.clear();
                f.data.filesize = Some(inline);
                let mut cur = inline;
                let mut cut = None;
                for (i, childsize) in sizes.iter().enumerate() {
                    if size < cur + childsize {
                        let child = FileNode::from_block(ctx.get(&f.links[i].cid)?)?;
                        let nchild = self.dag_truncate(ctx, child, size - cur)?;
                        let st = match &nchild {
                            FileNode::Raw(b) => {
                                Stored { cid: *b.cid(), tsize: b.len() as u64, filesize: b.len() as u64 }
                            }
                            FileNode::Pb(p) => p.commit(ctx)?,
                        };
                        cut = Some((i, st, size - cur));
                        break;
                    }
                    cur += childsize;
                    f.data.blocksizes.push(*childsize);
                    f.data.filesize = Some(f.data.filesize.unwrap_or(0).wrapping_add(*childsize));
                }
                let Some((end, st, bs)) = cut else {
                    return Err(MfsError::NotUnixfs);
                };
                f.data.blocksizes.push(bs);
                f.data.filesize = Some(f.data.filesize.unwrap_or(0).wrapping_add(bs));
                f.links.truncate(end);
                f.links.push(PbLink::new(st.cid, "", st.tsize));
                Ok(FileNode::Pb(f))
            }
        }
    }

    // --- trickle Append (boxo importer/trickle) ---

    fn fill_node_layer<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        src: &mut Leaves,
        node: &mut PbFile,
    ) -> Result<(), MfsError> {
        while node.num_children() < MAX_LINKS && !src.done()? {
            match src.next(ctx)? {
                Some(l) => node.add_child(&l),
                None => break,
            }
        }
        Ok(())
    }

    fn fill_trickle_rec<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        src: &mut Leaves,
        node: &mut PbFile,
        max_depth: i64,
    ) -> Result<Stored, MfsError> {
        self.fill_node_layer(ctx, src, node)?;
        let mut depth = 1;
        while max_depth == -1 || depth < max_depth {
            if src.done()? {
                break;
            }
            let mut r = 0;
            while r < DEPTH_REPEAT && !src.done()? {
                let mut child = PbFile::new_file(self.prefix);
                let st = self.fill_trickle_rec(ctx, src, &mut child, depth)?;
                node.add_child(&st);
                r += 1;
            }
            depth += 1;
        }
        node.commit(ctx)
    }

    /// boxo `trickle.Append`; returns the new root (stored).
    fn append<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        src: &mut Leaves,
        mut base: PbFile,
    ) -> Result<PbFile, MfsError> {
        let (mut depth, repeat) = depth_info(&base);
        if depth == 0 {
            self.fill_node_layer(ctx, src, &mut base)?;
            if src.done()? {
                if go_mtime(&base.data).is_some() {
                    base.data.mtime = Some(self.now);
                }
                base.commit(ctx)?;
                return Ok(base);
            }
            depth += 1;
        }
        self.append_fill_last_child(ctx, src, &mut base, depth - 1, repeat)?;
        if !src.done()? {
            depth += 1;
        }
        let mut i = depth;
        while !src.done()? {
            let mut j = 0;
            while j < DEPTH_REPEAT && !src.done()? {
                let mut child = PbFile::new_file(self.prefix);
                let st = self.fill_trickle_rec(ctx, src, &mut child, i)?;
                base.add_child(&st);
                j += 1;
            }
            i += 1;
        }
        base.commit(ctx)?;
        Ok(base)
    }

    fn append_fill_last_child<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        src: &mut Leaves,
        node: &mut PbFile,
        depth: i64,
        mut repeat: i64,
    ) -> Result<(), MfsError> {
        if node.num_children() <= MAX_LINKS {
            return Ok(());
        }
        let last = node.num_children() - 1;
        let Some(link) = node.links.get(last) else {
            return Err(MfsError::NotUnixfs);
        };
        let block = ctx.get(&link.cid)?;
        if block.cid().codec() != rubo_types::codec::DAG_PB {
            return Err(MfsError::NotProtobuf);
        }
        let last_child = PbFile::from_block(&block)?;
        let (new_child, size) = self.append_rec(ctx, src, last_child, depth - 1)?;
        node.remove_child(last);
        let st = new_child.commit(ctx)?;
        node.add_child(&Stored { filesize: size, ..st });
        if repeat != 0 {
            while repeat < DEPTH_REPEAT && !src.done()? {
                let mut child = PbFile::new_file(self.prefix);
                let st = self.fill_trickle_rec(ctx, src, &mut child, depth)?;
                node.add_child(&st);
                repeat += 1;
            }
        }
        Ok(())
    }

    fn append_rec<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        src: &mut Leaves,
        mut node: PbFile,
        max_depth: i64,
    ) -> Result<(PbFile, u64), MfsError> {
        if max_depth == 0 || src.done()? {
            let fs = node.file_size();
            return Ok((node, fs));
        }
        let (mut depth, repeat) = depth_info(&node);
        if depth == 0 {
            self.fill_node_layer(ctx, src, &mut node)?;
            depth += 1;
        }
        if depth == max_depth {
            let fs = node.file_size();
            return Ok((node, fs));
        }
        self.append_fill_last_child(ctx, src, &mut node, depth, repeat)?;
        if !src.done()? {
            depth += 1;
        }
        let mut i = depth;
        while i < max_depth && !src.done()? {
            let mut j = 0;
            while j < DEPTH_REPEAT && !src.done()? {
                let mut child = PbFile::new_file(self.prefix);
                let st = self.fill_trickle_rec(ctx, src, &mut child, i)?;
                node.add_child(&st);
                j += 1;
            }
            i += 1;
        }
        let fs = node.file_size();
        Ok((node, fs))
    }
}

fn f_blocksize(f: &PbFile, i: usize) -> Result<u64, MfsError> {
    f.data.blocksizes.get(i).copied().ok_or(MfsError::NotUnixfs)
}

/// boxo `trickleDepthInfo`.
fn depth_info(node: &PbFile) -> (i64, i64) {
    let n = node.num_children();
    if n < MAX_LINKS {
        return (0, 0);
    }
    let non_leaf = (n - MAX_LINKS) as i64;
    (non_leaf / DEPTH_REPEAT + 1, non_leaf % DEPTH_REPEAT)
}

/// The kind check of boxo `File.Open`.
pub(crate) fn check_openable(node: &FileNode) -> Result<(), MfsError> {
    if let FileNode::Pb(f) = node {
        match f.data.kind {
            DataType::File | DataType::Raw => {}
            DataType::Symlink => return Err(MfsError::SymlinkNotSupported),
            _ => return Err(MfsError::UnsupportedFileType),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::parse_cid;
    use rubo_unixfs::pb::Data;

    fn with_children(n: usize) -> PbFile {
        let mut f = PbFile::new_file(CidPrefix::default());
        let cid = parse_cid("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH").unwrap();
        for _ in 0..n {
            f.add_child(&Stored { cid, tsize: 6, filesize: 1 });
        }
        f
    }

    #[test]
    fn trickle_depth_info_like_boxo() {
        // Fewer than 174 leaves: the direct layer is still filling.
        assert_eq!(depth_info(&with_children(0)), (0, 0));
        assert_eq!(depth_info(&with_children(173)), (0, 0));
        // Then 4 subtrees per depth.
        assert_eq!(depth_info(&with_children(174)), (1, 0));
        assert_eq!(depth_info(&with_children(177)), (1, 3));
        assert_eq!(depth_info(&with_children(178)), (2, 0));
        assert_eq!(depth_info(&with_children(174 + 4 * 5 + 2)), (6, 2));
    }

    #[test]
    fn only_files_open() {
        let mut d = Data::new(DataType::Symlink);
        d.data = Some(Bytes::from_static(b"target"));
        let f = PbFile { prefix: CidPrefix::default(), links: vec![], data: d };
        assert!(matches!(check_openable(&FileNode::Pb(f)), Err(MfsError::SymlinkNotSupported)));
        let f = PbFile { prefix: CidPrefix::default(), links: vec![], data: Data::new(DataType::Directory) };
        assert!(matches!(check_openable(&FileNode::Pb(f)), Err(MfsError::UnsupportedFileType)));
        assert!(check_openable(&FileNode::Pb(with_children(2))).is_ok());
    }
}
