//! IPLD paths: splitting them, looking segments up inside a decoded block, and
//! resolving across blocks as Kubo's `dag get`, `dag resolve`, `refs` and
//! `pin add` do through boxo's path resolver.
//!
//! Kubo resolves `/ipfs/<cid>/a/b/c` (and a bare `<cid>/a/b/c`) with the UnixFS
//! resolver and `/ipld/<cid>/...` with the plain IPLD one ([`PathMode`]). Both
//! follow every link met before the last segment, then look the last segment
//! up in its parent: a link there resolves to its CID (the block it names is
//! not loaded), anything else to the CID of the block holding the parent plus
//! the segments from that block's root (`dag resolve` prints
//! `<cid>/<remainder>`; `dag get` then walks the remainder in that block with
//! [`get`]). The difference is dag-pb: under `/ipld/` a dag-pb block is the
//! typed data model form (`Links/0/Hash`, `Data`), under `/ipfs/` its links
//! are looked up by name (a UnixFS directory, or any non-file dag-pb node),
//! which a [`PbLookup`] decides.

use rubo_types::Cid;
use thiserror::Error;

use crate::codec::{Codec, CodecError, PbForm, RawPbNode, dagpb};
use crate::node::{Kind, Node};
use crate::source::{BlockSource, SourceError, load};

/// Splits a content path as boxo's `path.StringToSegments` does: Go's
/// `path.Clean` first (`.` dropped, `..` removes the previous segment, repeated
/// slashes collapse), then empty segments are dropped. Kubo turns a bare
/// `<cid>/a/b` argument into `/ipfs/<cid>/a/b` before splitting; callers
/// should too, so that `..` cannot climb above the namespace.
pub fn split_path(p: &str) -> Vec<String> {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    out.into_iter().map(str::to_string).collect()
}

/// Splits an in-block path as go-ipld-prime's `ParsePath`: on `/`, empty
/// segments dropped, nothing else cleaned.
pub fn split_ipld_path(p: &str) -> Vec<String> {
    p.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Why a segment could not be looked up in a value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LookupError {
    /// A plain map without the key (go-ipld-prime's `ErrNotExists`).
    #[error("key not found: {0:?}")]
    NotFound(String),
    /// A list index past the end (or negative).
    #[error("key not found: {0:?}")]
    OutOfRange(String),
    /// A field a schema-typed node (a dag-pb block) does not have.
    #[error("no such field: {0}")]
    NoSuchField(String),
    #[error("invalid segment for lookup on a list: {0:?}: strconv.ParseInt: parsing {0:?}: invalid syntax")]
    BadIndex(String),
    #[error(
        "func called on wrong kind: \"LookupBySegment\" called on a {0} node (kind: {0}), but only makes sense on map or list"
    )]
    WrongKind(Kind),
}

/// Looks one segment up in a value: a map key, or a list index. `typed` marks
/// a schema-typed dag-pb value, whose missing fields are `NoSuchField`.
pub fn lookup<'a>(node: &'a Node, seg: &str, typed: bool) -> Result<&'a Node, LookupError> {
    match node {
        Node::Map(_) => node.get(seg).ok_or_else(|| {
            if typed { LookupError::NoSuchField(seg.to_string()) } else { LookupError::NotFound(seg.to_string()) }
        }),
        Node::List(items) => {
            // go-ipld-prime's `ParseInt(seg, 10, 64)`.
            let i = rubo_types::go::parse_int(seg, 10, 64).map_err(|_| LookupError::BadIndex(seg.to_string()))?;
            usize::try_from(i).ok().and_then(|i| items.get(i)).ok_or_else(|| LookupError::OutOfRange(seg.to_string()))
        }
        other => Err(LookupError::WrongKind(other.kind())),
    }
}

/// Why [`get`] failed, worded as go-ipld-prime's `traversal.Get`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PathError {
    #[error("error traversing segment {seg:?} on node at {at:?}: {err}")]
    Segment { seg: String, at: String, err: LookupError },
    #[error(
        "error traversing segment {seg:?} on node at {at:?}: the segment cannot be parsed as a number and the node is a list"
    )]
    NotAnIndex { seg: String, at: String },
    #[error("cannot traverse node at {at:?}: cannot traverse terminals")]
    Terminal { at: String },
    #[error("cannot traverse node at {at:?}: the path crosses a link to {cid}")]
    Link { at: String, cid: Box<Cid> },
}

/// Walks `segments` inside one decoded block (`dag get`'s remainder), as
/// `traversal.Get` does without a link system.
pub fn get<'a, S: AsRef<str>>(node: &'a Node, segments: &[S], typed: bool) -> Result<&'a Node, PathError> {
    let mut n = node;
    for (i, seg) in segments.iter().enumerate() {
        let seg = seg.as_ref();
        let at = || segments[..i].iter().map(AsRef::as_ref).collect::<Vec<_>>().join("/");
        n = match n {
            Node::Map(_) => {
                lookup(n, seg, typed).map_err(|err| PathError::Segment { seg: seg.into(), at: at(), err })?
            }
            Node::List(_) => match lookup(n, seg, typed) {
                Err(LookupError::BadIndex(_)) => return Err(PathError::NotAnIndex { seg: seg.into(), at: at() }),
                r => r.map_err(|err| PathError::Segment { seg: seg.into(), at: at(), err })?,
            },
            _ => return Err(PathError::Terminal { at: at() }),
        };
        if let Node::Link(c) = n
            && i + 1 < segments.len()
        {
            return Err(PathError::Link {
                at: segments[..=i].iter().map(AsRef::as_ref).collect::<Vec<_>>().join("/"),
                cid: Box::new(*c),
            });
        }
    }
    Ok(n)
}

/// Where a segment leads inside one block.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<'a> {
    /// The walk reached a value after all segments.
    Value(&'a Node),
    /// A link was met after `consumed` segments; the rest continue in its block.
    Link { cid: Cid, consumed: usize },
}

/// Walks `segments` inside one value, stopping at the first link met (which
/// may be the last segment's value) so the caller can load the next block.
pub fn walk_in_node<'a, S: AsRef<str>>(node: &'a Node, segments: &[S], typed: bool) -> Result<Step<'a>, LookupError> {
    let mut n = node;
    for (i, seg) in segments.iter().enumerate() {
        n = lookup(n, seg.as_ref(), typed)?;
        if let Node::Link(c) = n {
            return Ok(Step::Link { cid: *c, consumed: i + 1 });
        }
    }
    Ok(Step::Value(n))
}

/// What a named lookup in a dag-pb node found, under UnixFS path semantics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PbStep {
    Link(Cid),
    /// No entry of that name (Kubo: `no link named "x" under <cid>`).
    NotFound,
    /// The node cannot be looked into (a UnixFS file); `kind` is its data
    /// model kind for the error message.
    NotTraversable(Kind),
}

/// How a segment is looked up in a dag-pb node under `/ipfs/` paths.
/// rubo-unixfs can supply one that walks HAMT shards.
pub trait PbLookup {
    fn lookup(&self, src: &dyn BlockSource, cid: &Cid, node: &RawPbNode, name: &str) -> Result<PbStep, ResolveError>;
}

/// go-unixfsnode's reification without HAMT support: dag-pb nodes are looked
/// up by link name (the first link with that exact name), except UnixFS files
/// and raw nodes, which cannot be looked into. A HAMT shard is
/// [`ResolveError::Unsupported`]; an unknown UnixFS type an error, as in Kubo.
///
/// The UnixFS `Data` is only sniffed for its `Type` (field 1): Kubo treats a
/// node whose Data fails its full UnixFS parse as a plain (named-link) node,
/// which this approximates as "no parsable Type field".
#[derive(Debug, Clone, Copy, Default)]
pub struct NamedLinks;

/// The UnixFS type in a dag-pb `Data` field, if it parses as far as that.
fn unixfs_type(data: &[u8]) -> Option<u64> {
    let mut ty = None;
    for field in rubo_types::pb::FieldReader::new(data) {
        match field.ok()? {
            (1, rubo_types::pb::FieldValue::Varint(v)) => ty = Some(v),
            (1, _) => return None,
            _ => {}
        }
    }
    ty
}

impl PbLookup for NamedLinks {
    fn lookup(&self, _src: &dyn BlockSource, cid: &Cid, node: &RawPbNode, name: &str) -> Result<PbStep, ResolveError> {
        if let Some(data) = &node.data
            && let Some(t) = unixfs_type(data)
        {
            match t {
                0 | 2 => return Ok(PbStep::NotTraversable(Kind::Bytes)),
                1 | 3 | 4 => {}
                5 => {
                    return Err(ResolveError::Unsupported(format!(
                        "{cid} is a HAMT-sharded directory; looking up {name:?} needs a UnixFS-aware resolver"
                    )));
                }
                _ => return Err(ResolveError::Other("no reification for this UnixFS node type".into())),
            }
        }
        let found = node.links.iter().find(|l| l.name.as_ref().map_or(name.is_empty(), |n| n == name));
        Ok(found.map_or(PbStep::NotFound, |l| PbStep::Link(l.cid)))
    }
}

/// Which of Kubo's path resolvers to act as.
#[derive(Clone, Copy)]
pub enum PathMode<'a> {
    /// `/ipld/` paths: dag-pb blocks in their typed data model form.
    Ipld,
    /// `/ipfs/` paths: dag-pb links by name, through the given lookup.
    UnixFs(&'a dyn PbLookup),
}

/// Why a path could not be resolved.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// boxo's `ErrNoLink`.
    #[error("no link named {name:?} under {node}")]
    NoLink { name: String, node: Box<Cid> },
    #[error("block {0} not found")]
    NotFound(Box<Cid>),
    #[error("cannot read block {cid}: {err}")]
    Source { cid: Box<Cid>, err: SourceError },
    #[error("cannot decode block {cid}: {err}")]
    Decode { cid: Box<Cid>, err: CodecError },
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Other(String),
}

/// The result of resolving a path to its last block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The block the path ends in (or whose CID the last link names).
    pub cid: Cid,
    /// Segments left to walk inside that block; empty if the path ended on a link.
    pub remainder: Vec<String>,
}

/// A decoded block on the way: the value and how to look into it.
enum Loaded {
    Value { node: Node, typed: bool },
    Pb(RawPbNode),
}

/// Resolves paths across blocks; see the module documentation.
pub struct Resolver<'a> {
    src: &'a dyn BlockSource,
    mode: PathMode<'a>,
}

impl<'a> Resolver<'a> {
    pub fn new(src: &'a dyn BlockSource, mode: PathMode<'a>) -> Self {
        Self { src, mode }
    }

    fn load(&self, cid: &Cid) -> Result<Loaded, ResolveError> {
        let block = load(self.src, cid)
            .map_err(|err| ResolveError::Source { cid: Box::new(*cid), err })?
            .ok_or_else(|| ResolveError::NotFound(Box::new(*cid)))?;
        let dec = |err| ResolveError::Decode { cid: Box::new(*cid), err };
        let codec = Codec::decoder(cid.codec()).map_err(dec)?;
        match (codec, self.mode) {
            (Codec::DagPb, PathMode::UnixFs(_)) => Ok(Loaded::Pb(dagpb::decode_raw(block.data()).map_err(dec)?)),
            (Codec::DagPb, PathMode::Ipld) => {
                Ok(Loaded::Value { node: codec.decode_with(block.data(), PbForm::Typed).map_err(dec)?, typed: true })
            }
            _ => Ok(Loaded::Value { node: codec.decode(block.data()).map_err(dec)?, typed: false }),
        }
    }

    /// Looks `seg` up in a loaded block, below the segments `within` it
    /// already walked (which only plain values can have).
    fn lookup_in(&self, cid: &Cid, block: &Loaded, within: &[&str], seg: &str) -> Result<Found, ResolveError> {
        match block {
            Loaded::Pb(pb) => {
                let PathMode::UnixFs(l) = self.mode else {
                    return Err(ResolveError::Other("dag-pb lookup outside UnixFS mode".into()));
                };
                Ok(match l.lookup(self.src, cid, pb, seg)? {
                    PbStep::Link(c) => Found::Link(c),
                    PbStep::NotFound => Found::NoSuchField,
                    PbStep::NotTraversable(k) => Found::Err(LookupError::WrongKind(k)),
                })
            }
            Loaded::Value { node, typed } => {
                let mut parent = node;
                for s in within {
                    // These lookups succeeded on the way here.
                    parent = lookup(parent, s, *typed)?;
                }
                Ok(match lookup(parent, seg, *typed) {
                    Ok(Node::Link(c)) => Found::Link(*c),
                    Ok(_) => Found::Value,
                    Err(LookupError::NoSuchField(_)) => Found::NoSuchField,
                    Err(e) => Found::Err(e),
                })
            }
        }
    }

    /// boxo's `ResolveToLastNode`: the CID of the last block the path reaches
    /// and the segments left inside it. No block is loaded for an empty path.
    pub fn resolve_to_last_node<S: AsRef<str>>(&self, root: &Cid, segments: &[S]) -> Result<Resolved, ResolveError> {
        let Some((last, inner)) = segments.split_last() else {
            return Ok(Resolved { cid: *root, remainder: Vec::new() });
        };
        let mut block_cid = *root;
        let mut block = self.load(root)?;
        // Segments walked inside `block` from its root (its parent's depth).
        let mut within: Vec<&str> = Vec::new();
        for seg in inner {
            let seg = seg.as_ref();
            // A selector traversal stops matching where a lookup fails.
            match self.lookup_in(&block_cid, &block, &within, seg)? {
                Found::Link(c) => {
                    block = self.load(&c)?;
                    block_cid = c;
                    within.clear();
                }
                Found::Value => within.push(seg),
                Found::NoSuchField | Found::Err(_) => {
                    return Err(ResolveError::NoLink { name: seg.to_string(), node: Box::new(block_cid) });
                }
            }
        }
        let last = last.as_ref();
        match self.lookup_in(&block_cid, &block, &within, last)? {
            Found::Link(c) => Ok(Resolved { cid: c, remainder: Vec::new() }),
            Found::Value => {
                let mut remainder: Vec<String> = within.iter().map(|s| s.to_string()).collect();
                remainder.push(last.to_string());
                Ok(Resolved { cid: block_cid, remainder })
            }
            Found::NoSuchField => Err(ResolveError::NoLink { name: last.to_string(), node: Box::new(block_cid) }),
            Found::Err(e) => Err(ResolveError::Lookup(e)),
        }
    }
}

enum Found {
    Link(Cid),
    Value,
    NoSuchField,
    Err(LookupError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(split_path("/ipfs/Qm/a//b/./c/"), vec!["ipfs", "Qm", "a", "b", "c"]);
        assert_eq!(split_path("/ipfs/Qm/a/../b"), vec!["ipfs", "Qm", "b"]);
        assert_eq!(split_path("/../a"), vec!["a"]);
        assert_eq!(split_path("a/../../b"), vec!["..", "b"]);
        assert_eq!(split_path(""), Vec::<String>::new());
        assert_eq!(split_ipld_path("a//b/../c/"), vec!["a", "b", "..", "c"]);
    }

    #[test]
    fn lookups() {
        let n = Node::map([("l", Node::List(vec![Node::from(1i64), Node::from(2i64)]))]);
        assert_eq!(get(&n, &["l", "1"], false).unwrap(), &Node::from(2i64));
        assert_eq!(get(&n, &["l", "+1"], false).unwrap(), &Node::from(2i64));
        assert_eq!(get(&n, &["l", "01"], false).unwrap(), &Node::from(2i64));
        assert_eq!(
            get(&n, &["x"], false).unwrap_err().to_string(),
            r#"error traversing segment "x" on node at "": key not found: "x""#
        );
        assert!(matches!(get(&n, &["l", "a"], false), Err(PathError::NotAnIndex { .. })));
        assert!(matches!(get(&n, &["l", "-1"], false), Err(PathError::Segment { .. })));
        assert!(matches!(get(&n, &["l", "0", "x"], false), Err(PathError::Terminal { .. })));
        assert_eq!(
            lookup(&Node::from("s"), "x", false).unwrap_err().to_string(),
            "func called on wrong kind: \"LookupBySegment\" called on a string node (kind: string), but only makes sense on map or list"
        );
    }
}
