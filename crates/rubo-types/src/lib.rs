//! Core IPFS types for rubo, the bottom of the crate graph.
//!
//! - [`cid`]: CIDs and multihashes, strict parsing, any-base formatting.
//! - [`hash`]: multihash functions (go-multihash names), Kubo's allowlist.
//! - [`multibase`]: go-multibase's codec and names; [`codec`]: names as Kubo spells them.
//! - [`go`]: Go's integer parsing and quoting, as Kubo's inputs and messages use them.
//! - [`block`]: bytes bound to a verified CID; codec validation.
//! - [`dagpb`], [`cbor`], [`pb`]: bounded decoders for the IPLD wire formats.
//!
//! Nothing here does I/O.

pub mod block;
pub mod cbor;
pub mod cid;
pub mod codec;
pub mod dagpb;
pub mod go;
pub mod hash;
pub mod multibase;
pub mod pb;

pub use crate::block::{BLOCK_SIZE_LIMIT, Block, BlockError};
pub use crate::cid::{Cid, CidError, Multihash, Version, cid_from_bytes, parse_cid};
pub use ::multibase::Base;
pub use bstr::{BStr, BString, ByteSlice};
pub use bytes::Bytes;
