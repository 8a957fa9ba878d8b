//! IPLD for rubo, behaving as Kubo's go-ipld-prime stack does.
//!
//! - [`node`]: the data model ([`Node`]), with Go's string and map-order rules.
//! - [`codec`]: dag-pb, dag-cbor, dag-json, raw, json, cbor, byte-exact with
//!   Kubo's `dag put` / `dag get` transcoding.
//! - [`links`]: the CIDs a block links to, in stored order.
//! - [`path`]: IPLD paths in a block and across blocks (`dag get`, `dag resolve`).
//! - [`car`]: streaming CARv1/v2 reader, CARv1 writer (`dag import` / `dag export`).
//! - [`walk`]: DAG walks in Kubo's order (`dag export`, `dag stat`, `refs`, pins, GC).
//!
//! Blocks come from a [`BlockSource`]; nothing here does storage or network.
//! Every decoder is iterative or depth-bounded before recursion, every length
//! read from input is checked before it is used, and no input panics.

pub mod car;
pub mod codec;
pub mod links;
pub mod node;
pub mod path;
pub mod source;
pub mod walk;

pub use crate::car::{CarError, CarHeader, CarReader, CarReaderOptions, CarWriter, Section};
pub use crate::codec::{Codec, CodecError, PbForm, transcode};
pub use crate::links::{NamedLink, block_links, links, named_links};
pub use crate::node::{IpldString, Kind, Node};
pub use crate::path::{PathMode, ResolveError, Resolved, Resolver};
pub use crate::source::{BlockSource, SourceError};
pub use crate::walk::{DagWalker, Dedup, Ref, RefsOptions, RefsWalker, Visit, Visited, WalkError, WalkOptions};
