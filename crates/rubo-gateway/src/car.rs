//! CAR responses (trustless-gateway spec, IPIP-402 and IPIP-412): the
//! request parameters, and the walk that writes the blocks while it reads
//! them (path blocks first, then the terminal entity as `dag-scope` and
//! `entity-bytes` say), depth-first in link order.

use std::collections::HashSet;
use std::io::Write;

use rubo_dag::car::CarWriter;
use rubo_types::dagpb::PbNode;
use rubo_types::{Block, Cid, codec};
use rubo_unixfs::hamt::{Shard, ShardLink};
use rubo_unixfs::pb::{Data, DataType};

use crate::store::Store;

/// `dag-scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Block,
    Entity,
    All,
}

/// `entity-bytes=from:to`: inclusive, negative from the end, `*` the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityBytes {
    pub from: i64,
    pub to: Option<i64>,
}

/// Parses `entity-bytes` as boxo's `NewDagByteRange`.
pub fn parse_entity_bytes(s: &str) -> Result<EntityBytes, String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 2 {
        return Err("range must have two numbers separated with ':'".into());
    }
    let from = go_int(parts[0])?;
    if parts[1] == "*" {
        return Ok(EntityBytes { from, to: None });
    }
    let to = go_int(parts[1])?;
    // Only comparable when both count from the same end.
    if from > to && (from >= 0) == (to >= 0) {
        return Err("cannot have an entity-bytes range where 'from' is after 'to'".into());
    }
    Ok(EntityBytes { from, to: Some(to) })
}

fn go_int(s: &str) -> Result<i64, String> {
    rubo_types::go::parse_int(s, 10, 64).map_err(|_| format!("strconv.ParseInt: parsing {s:?}: invalid syntax"))
}

impl EntityBytes {
    /// The inclusive byte span this selects in a file of `size` bytes, or
    /// `None` if it selects nothing (then only the root block is sent).
    pub fn span(&self, size: u64) -> Option<(u64, u64)> {
        let size = i128::from(size);
        let from = if self.from < 0 { (size + i128::from(self.from)).max(0) } else { i128::from(self.from) };
        let to = match self.to {
            None => size - 1,
            Some(t) if t < 0 => size + i128::from(t),
            Some(t) => i128::from(t).min(size - 1),
        };
        if from > to || from >= size || to < 0 {
            return None;
        }
        Some((u64::try_from(from).ok()?, u64::try_from(to).ok()?))
    }
}

/// Everything a CAR request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarParams {
    pub scope: Scope,
    pub bytes: Option<EntityBytes>,
    /// `order=dfs` (the default) or `unk`; either way the blocks come DFS.
    pub order_unknown: bool,
    pub dups: bool,
}

impl CarParams {
    /// From the query (`dag-scope`, `entity-bytes`, `car-*`, which win) and
    /// the Accept entry's parameters (`version`, `order`, `dups`).
    pub fn from_request(query: &[(String, String)], accept: &[(String, String)]) -> Result<Self, String> {
        let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let a = |k: &str| accept.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let bytes = match q("entity-bytes") {
            Some(s) => Some(
                parse_entity_bytes(s)
                    .map_err(|e| format!("invalid application/vnd.ipld.car entity-bytes URL parameter: {e}"))?,
            ),
            None => None,
        };
        let scope = match q("dag-scope") {
            None => Scope::All,
            Some("all") => Scope::All,
            Some("entity") => Scope::Entity,
            Some("block") => Scope::Block,
            Some(_) => return Err("unsupported application/vnd.ipld.car scope parameter".into()),
        };
        let pick = |qk: &str, ak: &str| q(qk).filter(|v| !v.is_empty()).or_else(|| a(ak)).unwrap_or("");
        match pick("car-version", "version") {
            "" | "1" => {}
            _ => return Err("unsupported application/vnd.ipld.car version: only version=1 is supported".into()),
        }
        let order_unknown = match pick("car-order", "order") {
            "" | "dfs" => false,
            "unk" => true,
            _ => return Err("unsupported application/vnd.ipld.car order parameter".into()),
        };
        let dups = match pick("car-dups", "dups") {
            "" | "n" => false,
            "y" => true,
            _ => return Err("unsupported application/vnd.ipld.car dups parameter".into()),
        };
        Ok(Self { scope, bytes, order_unknown, dups })
    }

    pub fn content_type(&self) -> String {
        format!(
            "application/vnd.ipld.car; version=1; order={}; dups={}",
            if self.order_unknown { "unk" } else { "dfs" },
            if self.dups { "y" } else { "n" }
        )
    }

    /// A weak ETag naming the path and every parameter that changes the bytes.
    pub fn etag(&self, content_path: &str, root: &Cid) -> String {
        // FNV-1a, with separators so that distinct parameter sets differ.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |b: &[u8]| {
            for x in b {
                h ^= u64::from(*x);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        feed(content_path.as_bytes());
        match self.scope {
            Scope::All => {}
            Scope::Entity => feed(b"\0scope=entity"),
            Scope::Block => feed(b"\0scope=block"),
        }
        if self.order_unknown {
            feed(b"\0order=unk");
        }
        if self.dups {
            feed(b"\0dups=y");
        }
        if let Some(r) = self.bytes
            && (r.from != 0 || r.to.is_some())
        {
            feed(b"\0range=");
            feed(&r.from.to_le_bytes());
            if let Some(t) = r.to {
                feed(&t.to_le_bytes());
            }
        }
        format!("W/\"{root}.car.{h:x}\"")
    }
}

/// Why a CAR stream stopped early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WalkError {
    #[error("{0}")]
    Node(#[from] rubo_node::NodeError),
    #[error("writing the CAR: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot read the links of {cid}: {why}")]
    Links { cid: Box<Cid>, why: String },
}

/// Writes blocks to the CAR, skipping identity blocks (never sent) and, with
/// `dups=n`, blocks already sent.
struct Emitter<W: Write> {
    car: CarWriter<W>,
    /// 16-byte fingerprints of the CIDs sent (never the blocks).
    sent: Option<HashSet<[u8; 16]>>,
}

impl<W: Write> Emitter<W> {
    /// Returns whether the block was new (a DFS with `dups=n` does not
    /// descend into a block seen before).
    fn emit(&mut self, block: &Block) -> Result<bool, WalkError> {
        if let Some(sent) = &mut self.sent
            && !sent.insert(rubo_dag::walk::fingerprint(&block.cid().to_bytes()))
        {
            return Ok(false);
        }
        if !rubo_dag::source::is_identity(block.cid()) {
            self.car.write_block(block)?;
        }
        Ok(true)
    }
}

/// Writes the CAR: the header (rooted at the terminal CID), the path blocks
/// in the order the resolver read them, then the terminal entity.
pub(crate) fn write_car<W: Write>(
    out: W,
    store: &Store,
    path_blocks: &[Block],
    terminal: &Block,
    remainder_empty: bool,
    params: &CarParams,
) -> Result<W, WalkError> {
    let car = CarWriter::new(out, &[*terminal.cid()])?;
    let mut em = Emitter { car, sent: (!params.dups).then(HashSet::new) };
    for b in path_blocks {
        em.emit(b)?;
    }
    match params.scope {
        Scope::Block => {
            em.emit(terminal)?;
        }
        Scope::All => walk_all(&mut em, store, terminal)?,
        Scope::Entity => walk_entity(&mut em, store, terminal, remainder_empty, params.bytes)?,
    }
    em.car.flush()?;
    Ok(em.car.into_inner())
}

fn links_of(block: &Block) -> Result<Vec<Cid>, WalkError> {
    rubo_dag::links::block_links(block)
        .map_err(|e| WalkError::Links { cid: Box::new(*block.cid()), why: e.to_string() })
}

/// The whole DAG, depth-first, links in stored order.
fn walk_all<W: Write>(em: &mut Emitter<W>, store: &Store, root: &Block) -> Result<(), WalkError> {
    let mut stack: Vec<Cid> = Vec::new();
    let mut next = Some(root.clone());
    loop {
        let block = match next.take() {
            Some(b) => b,
            None => match stack.pop() {
                Some(c) => store.get(&c)?,
                None => return Ok(()),
            },
        };
        if !em.emit(&block)? {
            continue;
        }
        // Raw blocks have no links; anything else undecodable ends the stream.
        if block.cid().codec() == codec::RAW {
            continue;
        }
        let links = links_of(&block)?;
        stack.extend(links.into_iter().rev());
    }
}

/// The terminal entity: a UnixFS file (the blocks of the byte span), a
/// HAMT (its shards, not the entries), anything else its root block only.
fn walk_entity<W: Write>(
    em: &mut Emitter<W>,
    store: &Store,
    root: &Block,
    remainder_empty: bool,
    bytes: Option<EntityBytes>,
) -> Result<(), WalkError> {
    em.emit(root)?;
    if root.cid().codec() != codec::DAG_PB || !remainder_empty {
        return Ok(());
    }
    let Ok(pb) = PbNode::decode(root.data()) else { return Ok(()) };
    let Some(Ok(data)) = pb.data.as_ref().map(Data::decode) else { return Ok(()) };
    match data.kind {
        DataType::File => {
            let range = bytes.unwrap_or(EntityBytes { from: 0, to: None });
            if let Some((from, to)) = range.span(data.file_size()) {
                walk_file(em, store, &pb, &data, from, to)?;
            }
            Ok(())
        }
        DataType::HamtShard => walk_hamt(em, store, root),
        _ => Ok(()),
    }
}

/// The file blocks covering bytes `from..=to`, below an already sent root.
fn walk_file<W: Write>(
    em: &mut Emitter<W>,
    store: &Store,
    root: &PbNode,
    root_data: &Data,
    from: u64,
    to: u64,
) -> Result<(), WalkError> {
    // (cid, first byte's position, depth); children pushed in reverse.
    let mut stack: Vec<(Cid, u64, usize)> = Vec::new();
    let push_children = |stack: &mut Vec<(Cid, u64, usize)>, pb: &PbNode, d: &Data, start: u64, depth: usize| {
        let mut pos = start.saturating_add(d.data.as_ref().map_or(0, |b| b.len() as u64));
        let mut wanted = Vec::new();
        for (l, size) in pb.links.iter().zip(&d.blocksizes) {
            let end = pos.saturating_add(*size);
            if *size > 0 && end > from && pos <= to {
                wanted.push((l.cid, pos, depth + 1));
            }
            pos = end;
        }
        stack.extend(wanted.into_iter().rev());
    };
    push_children(&mut stack, root, root_data, 0, 0);
    while let Some((cid, start, depth)) = stack.pop() {
        if depth > rubo_unixfs::export::MAX_DEPTH {
            return Err(WalkError::Links { cid: Box::new(cid), why: "file DAG too deep".into() });
        }
        let block = store.get(&cid)?;
        if !em.emit(&block)? || cid.codec() != codec::DAG_PB {
            continue;
        }
        let Ok(pb) = PbNode::decode(block.data()) else { continue };
        let Some(Ok(d)) = pb.data.as_ref().map(Data::decode) else { continue };
        push_children(&mut stack, &pb, &d, start, depth);
    }
    Ok(())
}

/// Every shard of a HAMT directory, depth-first in link order.
fn walk_hamt<W: Write>(em: &mut Emitter<W>, store: &Store, root: &Block) -> Result<(), WalkError> {
    let bad = |cid: &Cid, e: String| WalkError::Links { cid: Box::new(*cid), why: e };
    let first = Shard::decode(root, None).map_err(|e| bad(root.cid(), e.to_string()))?;
    let fanout = first.fanout;
    let mut stack: Vec<Cid> = Vec::new();
    let push = |stack: &mut Vec<Cid>, shard: &Shard, cid: &Cid| -> Result<(), WalkError> {
        let mut subs = Vec::new();
        for l in &shard.links {
            if let ShardLink::Shard(c) = shard.classify(l).map_err(|e| bad(cid, e.to_string()))? {
                subs.push(*c);
            }
        }
        stack.extend(subs.into_iter().rev());
        Ok(())
    };
    push(&mut stack, &first, root.cid())?;
    while let Some(cid) = stack.pop() {
        let block = store.get(&cid)?;
        if !em.emit(&block)? {
            continue;
        }
        let shard = Shard::decode(&block, Some(fanout)).map_err(|e| bad(&cid, e.to_string()))?;
        push(&mut stack, &shard, &cid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_bytes() {
        let r = |s: &str| parse_entity_bytes(s).unwrap();
        assert_eq!(r("0:*").span(1026), Some((0, 1025)));
        assert_eq!(r("512:1023").span(1026), Some((512, 1023)));
        assert_eq!(r("512:-256").span(1026), Some((512, 770)));
        assert_eq!(r("-5:*").span(1026), Some((1021, 1025)));
        assert_eq!(r("-9999:*").span(1026), Some((0, 1025)));
        assert_eq!(r("-9999:-3").span(1026), Some((0, 1023)));
        assert_eq!(r("0:0").span(1026), Some((0, 0)));
        assert_eq!(r("2000:*").span(1026), None);
        assert_eq!(r("0:*").span(0), None);
        for bad in ["", "1", "a:b", "5:1", "-1:-5", "1:2:3", "0:+"] {
            assert!(parse_entity_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn params() {
        let q = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        let p = CarParams::from_request(&q(&[("car-dups", "y")]), &q(&[("dups", "n"), ("order", "unk")])).unwrap();
        assert!(p.dups && p.order_unknown);
        assert_eq!(p.content_type(), "application/vnd.ipld.car; version=1; order=unk; dups=y");
        assert!(CarParams::from_request(&q(&[("dag-scope", "x")]), &[]).is_err());
        assert!(CarParams::from_request(&[], &q(&[("version", "2")])).is_err());
        let d = CarParams::from_request(&[], &[]).unwrap();
        assert_eq!(d.scope, Scope::All);
        let root = rubo_types::parse_cid("bafkqaaa").unwrap();
        assert_ne!(d.etag("/ipfs/bafkqaaa", &root), p.etag("/ipfs/bafkqaaa", &root));
    }
}
