//! One MFS directory in memory: boxo's `DynamicDirectory` (a basic directory
//! that turns into a HAMT when it grows past the threshold, and back when it
//! shrinks below it), with the same decisions, made at the same moments.
//!
//! A directory is loaded when an operation walks through it and lives for that
//! operation only, as in an offline Kubo command. Basic directories keep their
//! `Data` bytes verbatim (boxo never re-encodes them) and their links in block
//! order (sorted again, stably by name, when encoded, as go-merkledag does).
//!
//! HAMT directories are read one shard per level for lookups. A change loads
//! all their entries and rebuilds the HAMT from the set of names with
//! `rubo_unixfs::hamt::build`; boxo's insertion and removal (with the collapse
//! of single-entry sub-shards) give the same canonical tree, so the CIDs agree,
//! but the cost is proportional to the directory's size, not to its depth.
//! Every shard of a rebuilt HAMT gets the root shard's CID format (boxo keeps
//! the format of untouched sub-shards; they differ only after `chcid` of a HAMT).

use rubo_types::dagpb::{PbLink, PbNode};
use rubo_types::{BString, Block, Bytes, Cid};
use rubo_unixfs::dir::{DirOptions, SizeEstimation, estimated_size, link_estimate, link_serialized_size};
use rubo_unixfs::hamt::{self, Fanout, Shard};
use rubo_unixfs::pb::{Data, DataType, UnixTime};
use rubo_unixfs::{CidPrefix, DirEntry};

use crate::error::{MfsError, StoreError};
use crate::node::{go_mode, go_mtime};
use crate::store::{Ctx, Store, same_format};

/// The directory settings boxo does not persist (Kubo sets them from `Import.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DirConfig {
    pub(crate) max_links: usize,
    pub(crate) fanout: u64,
    pub(crate) threshold: u64,
    pub(crate) estimation: SizeEstimation,
}

impl DirConfig {
    /// The fanout of a new HAMT: boxo falls back to 256 for an invalid one.
    fn new_fanout(&self) -> Result<Fanout, MfsError> {
        let w = self.fanout;
        let w = if w > 0 && w.is_power_of_two() && w.is_multiple_of(8) { w } else { hamt::DEFAULT_FANOUT };
        Ok(Fanout::new(w)?)
    }

    fn link_size(&self, e: &DirEntry) -> i64 {
        match self.estimation {
            SizeEstimation::Block => link_serialized_size(e) as i64,
            _ => link_estimate(e) as i64,
        }
    }
}

// One per directory on the walked path: not worth boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum State {
    Basic {
        data: Bytes,
        links: Vec<DirEntry>,
    },
    Hamt {
        fanout: Fanout,
        /// The root shard as stored (links and Data), for lookups and for
        /// re-encoding when only its Data or format changes.
        root: Shard,
        root_links: Vec<PbLink>,
        root_data: Data,
        /// All entries, once a change needed them.
        entries: Option<Vec<DirEntry>>,
        /// boxo's `sizeChange`: link-size delta since loading.
        size_change: i64,
        /// boxo's `totalLinks` (for a loaded HAMT: the root shard's link count).
        total_links: usize,
    },
}

/// A directory being read or changed.
#[derive(Debug, Clone)]
pub(crate) struct Dir {
    /// The builder of this directory's nodes (its CID's format).
    pub(crate) prefix: CidPrefix,
    /// Unix permission bits (boxo's `Mode()`), `None` when unset.
    mode: Option<u32>,
    mtime: Option<UnixTime>,
    state: State,
    /// The stored node this was loaded from, and whether it changed since.
    orig: Option<(Cid, u64)>,
    dirty: bool,
}

fn dir_data(mode: Option<u32>, mtime: Option<UnixTime>) -> Data {
    let mut d = Data::new(DataType::Directory);
    d.mode = mode;
    d.mtime = mtime;
    d
}

impl Dir {
    /// A new empty directory (boxo `NewEmptyDirectory`).
    pub(crate) fn new_empty(prefix: CidPrefix, mode: Option<u32>, mtime: Option<UnixTime>) -> Self {
        let data = Bytes::from(dir_data(mode, mtime).encode());
        Self { prefix, mode, mtime, state: State::Basic { data, links: Vec::new() }, orig: None, dirty: true }
    }

    /// Loads a directory node; `prefix` overrides its own format (the MFS root).
    /// `Ok(None)` when the block is not a UnixFS directory.
    pub(crate) fn load(
        block: &Block,
        tsize: u64,
        prefix: Option<CidPrefix>,
        node: PbNode,
        data: Data,
    ) -> Result<Self, MfsError> {
        let cid = *block.cid();
        let prefix = prefix.unwrap_or_else(|| crate::store::prefix_of(&cid));
        let mode = go_mode(&data);
        let mtime = go_mtime(&data);
        let state = match data.kind {
            DataType::Directory => {
                let raw = node.data.clone().unwrap_or_default();
                let links = node
                    .links
                    .iter()
                    .map(|l| DirEntry {
                        name: l.name.clone().unwrap_or_default(),
                        cid: l.cid,
                        tsize: l.tsize.unwrap_or(0),
                    })
                    .collect();
                State::Basic { data: raw, links }
            }
            DataType::HamtShard => {
                let root_links = node.links.clone();
                let total_links = root_links.len();
                let root = Shard::from_parts(node, &data, None)?;
                State::Hamt {
                    fanout: root.fanout,
                    root,
                    root_links,
                    root_data: data,
                    entries: None,
                    size_change: 0,
                    total_links,
                }
            }
            other => return Err(MfsError::RootNotDirectory(other.name().to_string())),
        };
        Ok(Self { prefix, mode, mtime, state, orig: Some((cid, tsize)), dirty: false })
    }

    pub(crate) fn is_hamt(&self) -> bool {
        matches!(self.state, State::Hamt { .. })
    }

    /// The entry `name` (the first link of that name in a basic directory).
    pub(crate) fn get<S: Store + ?Sized>(
        &self,
        ctx: &mut Ctx<'_, S>,
        name: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<Option<DirEntry>, MfsError> {
        let name: &[u8] = name.as_ref();
        match &self.state {
            State::Basic { links, .. } => Ok(links.iter().find(|l| l.name == name).cloned()),
            State::Hamt { entries: Some(e), .. } => Ok(e.iter().find(|l| l.name == name).cloned()),
            State::Hamt { root, .. } => {
                let mut get = |c: &Cid| ctx.get(c);
                hamt::find(root, name, &mut get).map_err(read_err)
            }
        }
    }

    /// All entries in boxo's `ForEachLink` order (block order; HAMT depth first).
    pub(crate) fn entries<S: Store + ?Sized>(&self, ctx: &mut Ctx<'_, S>) -> Result<Vec<DirEntry>, MfsError> {
        match &self.state {
            State::Basic { links, .. } => Ok(links.clone()),
            State::Hamt { entries: Some(e), .. } => Ok(e.clone()),
            State::Hamt { root, .. } => {
                let mut out = Vec::new();
                let mut get = |c: &Cid| ctx.get(c);
                hamt::walk(root, &mut get, &mut |e| {
                    out.push(e);
                    Ok(())
                })
                .map_err(read_err)?;
                Ok(out)
            }
        }
    }

    fn load_entries<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>) -> Result<(), MfsError> {
        if let State::Hamt { entries: None, .. } = &self.state {
            let all = self.entries(ctx)?;
            if let State::Hamt { entries, .. } = &mut self.state {
                *entries = Some(all);
            }
        }
        Ok(())
    }

    fn dir_options(&self, cfg: &DirConfig) -> DirOptions {
        DirOptions {
            prefix: self.prefix,
            max_links: cfg.max_links,
            hamt_fanout: cfg.fanout,
            hamt_threshold: cfg.threshold,
            estimation: cfg.estimation,
            mode: self.mode,
            mtime: self.mtime,
        }
    }

    /// boxo `DynamicDirectory.AddChild`: adds `name`, or replaces it.
    pub(crate) fn add<S: Store + ?Sized>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        name: &(impl AsRef<[u8]> + ?Sized),
        entry_cid: Cid,
        tsize: u64,
        cfg: &DirConfig,
    ) -> Result<(), MfsError> {
        let name: &[u8] = name.as_ref();
        self.dirty = true;
        let new = DirEntry { name: name.into(), cid: entry_cid, tsize };
        if self.is_hamt() {
            if self.hamt_should_unshard(ctx, name, Some(&new), cfg)? {
                let mut basic = self.hamt_to_basic(ctx, cfg.max_links)?;
                basic_add(&mut basic, new, cfg.max_links)?;
                self.state = basic;
                return Ok(());
            }
            self.load_entries(ctx)?;
            if let State::Hamt { entries: Some(entries), size_change, total_links, fanout, .. } = &mut self.state {
                hamt_swap(entries, size_change, total_links, new, fanout.pad());
            }
            return Ok(());
        }
        if self.basic_should_shard(&new, cfg) {
            let fanout = cfg.new_fanout()?;
            let State::Basic { links, .. } = &mut self.state else { return Ok(()) };
            let mut entries: Vec<DirEntry> = Vec::with_capacity(links.len() + 1);
            // `switchToSharding` sets each link in turn: a repeated name keeps the last.
            for l in links.drain(..) {
                match entries.iter().position(|e| e.name == l.name) {
                    Some(i) => entries[i] = l,
                    None => entries.push(l),
                }
            }
            let mut total_links = entries.len();
            let mut size_change = 0;
            hamt_swap(&mut entries, &mut size_change, &mut total_links, new, fanout.pad());
            let root_data = Data::new(DataType::HamtShard);
            self.state = State::Hamt {
                fanout,
                root: empty_shard(fanout)?,
                root_links: Vec::new(),
                root_data,
                entries: Some(entries),
                size_change,
                total_links,
            };
            return Ok(());
        }
        let State::Basic { links, .. } = &mut self.state else { return Ok(()) };
        basic_add_links(links, new, cfg.max_links)
    }

    /// boxo `DynamicDirectory.RemoveChild`; [`MfsError::NotExist`] when absent.
    pub(crate) fn remove<S: Store + ?Sized>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        name: &(impl AsRef<[u8]> + ?Sized),
        cfg: &DirConfig,
    ) -> Result<(), MfsError> {
        let name: &[u8] = name.as_ref();
        if self.is_hamt() {
            if self.hamt_should_unshard(ctx, name, None, cfg)? {
                // The entry beyond MaxLinks is still there: boxo lifts the limit by one.
                let max = if cfg.max_links > 0 { cfg.max_links + 1 } else { 0 };
                let mut basic = self.hamt_to_basic(ctx, max)?;
                let State::Basic { links, .. } = &mut basic else { return Ok(()) };
                basic_remove(links, name)?;
                self.state = basic;
                self.dirty = true;
                return Ok(());
            }
            self.load_entries(ctx)?;
            if let State::Hamt { entries: Some(entries), size_change, total_links, fanout, .. } = &mut self.state {
                let Some(i) = entries.iter().position(|e| e.name == name) else {
                    return Err(MfsError::NotExist);
                };
                let old = entries.remove(i);
                *size_change -= link_estimate(&in_shard(&old, fanout.pad())) as i64;
                *total_links = total_links.saturating_sub(1);
            }
            self.dirty = true;
            return Ok(());
        }
        let State::Basic { links, .. } = &mut self.state else { return Ok(()) };
        basic_remove(links, name)?;
        self.dirty = true;
        Ok(())
    }

    /// boxo `needsToSwitchToHAMTDir` for adding `new` to this basic directory.
    fn basic_should_shard(&self, new: &DirEntry, cfg: &DirConfig) -> bool {
        let State::Basic { links, .. } = &self.state else { return false };
        if cfg.threshold == 0 {
            return false;
        }
        let old = links.iter().find(|l| l.name == new.name);
        let too_many = old.is_none() && cfg.max_links > 0 && links.len() + 1 > cfg.max_links;
        let size = |e: &DirEntry| match cfg.estimation {
            SizeEstimation::Block => link_serialized_size(e),
            _ => link_estimate(e),
        };
        match cfg.estimation {
            SizeEstimation::Disabled => too_many,
            SizeEstimation::Links | SizeEstimation::Block => {
                let current = estimated_size(links, &self.dir_options(cfg));
                let old_size = old.map_or(0, |o| size(&DirEntry { name: new.name.clone(), ..o.clone() }));
                let after = current.saturating_sub(old_size).saturating_add(size(new));
                after > cfg.threshold || too_many
            }
        }
    }

    /// boxo `needsToSwitchToBasicDir` for this HAMT, adding `add` under `name`
    /// (or removing `name` when `add` is `None`).
    fn hamt_should_unshard<S: Store + ?Sized>(
        &mut self,
        ctx: &mut Ctx<'_, S>,
        name: &[u8],
        add: Option<&DirEntry>,
        cfg: &DirConfig,
    ) -> Result<bool, MfsError> {
        if cfg.threshold == 0 {
            return Ok(false);
        }
        let old = self.get(ctx, name)?;
        let State::Hamt { size_change, total_links, fanout, .. } = &self.state else { return Ok(false) };
        let (size_change, total, pad) = (*size_change, *total_links, fanout.pad());
        let mut new_total = total;
        if add.is_some() {
            new_total += 1;
        }
        if old.is_some() {
            new_total = new_total.saturating_sub(1);
        }
        let can_switch_links = !(cfg.max_links > 0 && new_total > cfg.max_links);
        if cfg.estimation == SizeEstimation::Disabled {
            return Ok(can_switch_links && cfg.max_links > 0 && new_total <= cfg.max_links);
        }
        let mut op = 0i64;
        if let Some(o) = &old {
            op -= cfg.link_size(&in_shard(o, pad));
        }
        if let Some(a) = add {
            // boxo sizes the added node's link from `ipld.MakeLink`, which has no name.
            op += cfg.link_size(&DirEntry { name: BString::default(), ..a.clone() });
        }
        if size_change + op >= 0 {
            return Ok(false);
        }
        // `sizeBelowThreshold`: the whole directory, as a basic one would be.
        let entries = self.entries(ctx)?;
        let mut total_size: i64 = match cfg.estimation {
            SizeEstimation::Block => estimated_size(&[], &self.dir_options(cfg)) as i64,
            _ => 0,
        };
        for e in &entries {
            total_size += cfg.link_size(e);
        }
        if let State::Hamt { entries: slot @ None, .. } = &mut self.state {
            *slot = Some(entries);
        }
        Ok(total_size + op <= cfg.threshold as i64 && can_switch_links)
    }

    /// boxo `switchToBasic`: a basic directory with every entry, in link order.
    fn hamt_to_basic<S: Store + ?Sized>(&mut self, ctx: &mut Ctx<'_, S>, max_links: usize) -> Result<State, MfsError> {
        let entries = self.entries(ctx)?;
        let data = Bytes::from(dir_data(self.mode, self.mtime).encode());
        let mut links = Vec::with_capacity(entries.len());
        for e in entries {
            basic_add_links(&mut links, e, max_links)?;
        }
        Ok(State::Basic { data, links })
    }

    /// Sets the permission bits (boxo `FSNode.SetMode` then `setNodeData`).
    pub(crate) fn set_mode(&mut self, mode: u32) -> Result<(), MfsError> {
        self.update_data(|d| crate::node::set_unix_perms(d, mode))
    }

    /// Sets the modification time (boxo `FSNode.SetModTime`).
    pub(crate) fn set_mtime(&mut self, mtime: Option<UnixTime>) -> Result<(), MfsError> {
        self.update_data(|d| d.mtime = mtime)
    }

    /// Changes the format of this directory's nodes (`files chcid`).
    pub(crate) fn set_prefix(&mut self, prefix: CidPrefix) {
        self.prefix = prefix;
    }

    fn update_data(&mut self, f: impl FnOnce(&mut Data)) -> Result<(), MfsError> {
        self.dirty = true;
        match &mut self.state {
            State::Basic { data, .. } => {
                let mut d = Data::decode(data)?;
                f(&mut d);
                self.mode = go_mode(&d);
                self.mtime = go_mtime(&d);
                *data = Bytes::from(d.encode());
            }
            State::Hamt { root_data, root, .. } => {
                f(root_data);
                self.mode = go_mode(root_data);
                self.mtime = go_mtime(root_data);
                root.mode = self.mode;
                root.mtime = self.mtime;
            }
        }
        Ok(())
    }

    /// Stores the directory's node(s) if anything changed; returns its CID and
    /// cumulative size (what a parent links to).
    pub(crate) fn encode<S: Store + ?Sized>(&self, ctx: &mut Ctx<'_, S>) -> Result<(Cid, u64), MfsError> {
        if let Some((cid, tsize)) = self.orig
            && !self.dirty
            && same_format(&cid, &self.prefix)
        {
            return Ok((cid, tsize));
        }
        match &self.state {
            State::Basic { data, links } => {
                let mut sorted: Vec<&DirEntry> = links.iter().collect();
                sorted.sort_by(|a, b| a.name.cmp(&b.name));
                let pb_links = sorted.iter().map(|e| PbLink::new(e.cid, e.name.clone(), e.tsize)).collect();
                let tsizes = links.iter().fold(0u64, |a, e| a.saturating_add(e.tsize));
                let node = PbNode { links: pb_links, data: Some(data.clone()) };
                put_node(ctx, &self.prefix, node, tsizes)
            }
            State::Hamt { entries: Some(entries), fanout, .. } => {
                let mut err = None;
                let mut put = |b: Block| -> Result<(), ()> {
                    if let Err(e) = ctx.put(b) {
                        err = Some(e);
                        return Err(());
                    }
                    Ok(())
                };
                let res = hamt::build(entries, *fanout, &self.prefix, self.mode, self.mtime, &mut put);
                match res {
                    Ok(r) => Ok(r),
                    Err(hamt::BuildError::Put(())) => {
                        Err(err.unwrap_or_else(|| StoreError::new("storing a HAMT shard failed").into()))
                    }
                    Err(hamt::BuildError::Hamt(e)) => Err(e.into()),
                    Err(hamt::BuildError::Block(e)) => Err(e.into()),
                }
            }
            State::Hamt { root_links, root_data, .. } => {
                let tsizes = root_links.iter().fold(0u64, |a, l| a.saturating_add(l.tsize.unwrap_or(0)));
                let mut links = root_links.clone();
                links.sort_by(|a, b| {
                    a.name.as_deref().map_or(&[][..], |n| n).cmp(b.name.as_deref().map_or(&[][..], |n| n))
                });
                let node = PbNode { links, data: Some(Bytes::from(root_data.encode())) };
                put_node(ctx, &self.prefix, node, tsizes)
            }
        }
    }
}

fn put_node<S: Store + ?Sized>(
    ctx: &mut Ctx<'_, S>,
    prefix: &CidPrefix,
    node: PbNode,
    tsizes: u64,
) -> Result<(Cid, u64), MfsError> {
    let bytes = node.encode();
    let size = (bytes.len() as u64).saturating_add(tsizes);
    let block = prefix.dag_pb(bytes)?;
    let cid = *block.cid();
    ctx.put(block)?;
    Ok((cid, size))
}

fn empty_shard(fanout: Fanout) -> Result<Shard, MfsError> {
    let mut d = Data::new(DataType::HamtShard);
    d.hash_type = Some(hamt::HASH_MURMUR3);
    d.fanout = Some(fanout.width());
    Ok(Shard::from_parts(PbNode::default(), &d, None)?)
}

/// An entry as boxo sizes it when it comes out of a shard: under the link's
/// name there, the slot's hex prefix followed by the name. (boxo adds new
/// entries under the bare name, so replacing one shrinks its `sizeChange`.)
fn in_shard(e: &DirEntry, pad: usize) -> DirEntry {
    let mut name = BString::from("0".repeat(pad));
    name.extend_from_slice(&e.name);
    DirEntry { name, ..e.clone() }
}

/// HAMT `Swap` bookkeeping: replace or insert, adjusting boxo's counters.
fn hamt_swap(entries: &mut Vec<DirEntry>, size_change: &mut i64, total_links: &mut usize, new: DirEntry, pad: usize) {
    let add = link_estimate(&new) as i64;
    match entries.iter().position(|e| e.name == new.name) {
        Some(i) => {
            *size_change -= link_estimate(&in_shard(&entries[i], pad)) as i64;
            entries[i] = new;
        }
        None => {
            entries.push(new);
            *total_links += 1;
        }
    }
    *size_change += add;
}

fn basic_add(state: &mut State, new: DirEntry, max_links: usize) -> Result<(), MfsError> {
    match state {
        State::Basic { links, .. } => basic_add_links(links, new, max_links),
        State::Hamt { .. } => Ok(()),
    }
}

/// boxo `BasicDirectory.addLinkChild`: drop links of that name, check
/// MaxLinks for a new name, append (sorted when encoded).
fn basic_add_links(links: &mut Vec<DirEntry>, new: DirEntry, max_links: usize) -> Result<(), MfsError> {
    let before = links.len();
    links.retain(|l| l.name != new.name);
    if links.len() == before && max_links > 0 && links.len() + 1 > max_links {
        return Err(MfsError::MaxLinks);
    }
    links.push(new);
    Ok(())
}

fn basic_remove(links: &mut Vec<DirEntry>, name: &[u8]) -> Result<(), MfsError> {
    let before = links.len();
    links.retain(|l| l.name != name);
    if links.len() == before {
        return Err(MfsError::NotExist);
    }
    Ok(())
}

fn read_err(e: hamt::ReadError<MfsError>) -> MfsError {
    match e {
        hamt::ReadError::Hamt(h) => h.into(),
        hamt::ReadError::Get(e) | hamt::ReadError::Visit(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::parse_cid;

    fn entry(name: &str) -> DirEntry {
        DirEntry {
            name: name.into(),
            cid: parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap(),
            tsize: 4,
        }
    }

    #[test]
    fn hamt_size_bookkeeping_like_boxo() {
        let mut entries = vec![entry("a"), entry("bb")];
        let (mut change, mut total) = (0i64, 2usize);
        // A new entry counts its bare name (boxo `addToSizeChange`).
        hamt_swap(&mut entries, &mut change, &mut total, entry("ccc"), 2);
        assert_eq!((change, total), (3 + 34, 3));
        // Replacing one counts the old link's name in the shard, prefix included.
        hamt_swap(&mut entries, &mut change, &mut total, entry("bb"), 2);
        assert_eq!((change, total), (3 + 34 - 2, 3));
        assert_eq!(in_shard(&entry("x"), 3).name.len(), 4);
    }

    #[test]
    fn new_fanout_falls_back_like_boxo() {
        let cfg = |fanout| DirConfig { max_links: 0, fanout, threshold: 1, estimation: SizeEstimation::Links };
        assert_eq!(cfg(64).new_fanout().unwrap().width(), 64);
        assert_eq!(cfg(12).new_fanout().unwrap().width(), 256);
        assert_eq!(cfg(4).new_fanout().unwrap().width(), 256);
    }
}
