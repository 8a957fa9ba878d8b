//! Kubo's chunkers, ported from boxo's `chunker` package (v0.42.0) and
//! `github.com/whyrusleeping/chunker` (the Rabin fingerprinter boxo uses).
//!
//! - `size-N` ([`SizeChunker`]): fixed-size chunks, the last one may be short.
//! - `rabin`, `rabin-<avg>`, `rabin-<min>-<avg>-<max>` ([`RabinChunker`]):
//!   content-defined chunks from a Rabin fingerprint over a 16-byte window.
//! - `buzhash` ([`BuzhashChunker`]): content-defined chunks from a cyclic
//!   polynomial (buzhash) over a 32-byte window, 128 KiB to 512 KiB.
//!
//! Boundaries depend only on the bytes, never on how the reader splits its
//! reads. Empty input gives no chunk at all; no chunk is ever empty.
//!
//! [`ChunkerSpec::parse`] follows boxo's `FromString`, error messages included.

mod buzhash;
mod fixed;
mod parse;
mod rabin;
mod window;

use std::fmt;
use std::io::{self, Read};

use bytes::Bytes;

pub use buzhash::{BUZHASH_MAX, BUZHASH_MIN, BuzhashChunker};
pub use fixed::SizeChunker;
pub use parse::{AtoiError, ChunkerError};
pub use rabin::{RABIN_POLYNOMIAL, RabinChunker};

/// boxo's `DefaultBlockSize`: the `size-N` default and the `rabin` average.
pub const DEFAULT_BLOCK_SIZE: usize = 256 * 1024;
/// boxo's `BlockSizeLimit` (the bitswap block limit).
pub const BLOCK_SIZE_LIMIT: usize = 2 * 1024 * 1024;
/// boxo's `ChunkOverheadBudget`, left for dag-pb/UnixFS framing.
pub const CHUNK_OVERHEAD_BUDGET: usize = 256;
/// boxo's `ChunkSizeLimit`: the largest chunk size a chunker string may ask for.
pub const CHUNK_SIZE_LIMIT: usize = BLOCK_SIZE_LIMIT - CHUNK_OVERHEAD_BUDGET;

/// A chunker and its parameters, as a chunker string names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkerSpec {
    /// `size-N`: chunks of exactly N bytes (the last may be shorter).
    Size(usize),
    /// `rabin...`: Rabin fingerprint chunking. Boxo never cuts when
    /// `min < 16` (possible with `rabin-<avg>`, avg < 48): the whole input is
    /// then one chunk, as in Kubo.
    Rabin { min: usize, avg: usize, max: usize },
    /// `buzhash`.
    Buzhash,
}

impl Default for ChunkerSpec {
    /// Kubo's default, `size-262144`.
    fn default() -> Self {
        Self::Size(DEFAULT_BLOCK_SIZE)
    }
}

impl ChunkerSpec {
    /// Parses a chunker string as boxo's `chunk.FromString` does: `""` and
    /// `"default"` (`size-262144`), `size-N`, `rabin`, `rabin-<avg>`,
    /// `rabin-<min>-<avg>-<max>` (each optionally labelled `min:`, `avg:`,
    /// `max:`), `buzhash` (anything after `buzhash-` is ignored, as in boxo).
    pub fn parse(s: &str) -> Result<Self, ChunkerError> {
        parse::parse(s)
    }

    /// Rabin with boxo's `NewRabin` bounds for an average size:
    /// `min = avg / 3`, `max = avg + avg / 2`.
    pub fn rabin(avg: usize) -> Self {
        Self::Rabin { min: avg / 3, avg, max: avg.saturating_add(avg / 2) }
    }

    /// The longest chunk this chunker can return, or `None` when unbounded
    /// (Rabin with `min < 16`, which never cuts).
    pub fn max_chunk_len(&self) -> Option<usize> {
        match *self {
            Self::Size(n) => Some(n),
            Self::Rabin { min, max, .. } => (min >= rabin::WINDOW_SIZE).then_some(min.max(max)),
            Self::Buzhash => Some(BUZHASH_MAX),
        }
    }
}

impl std::str::FromStr for ChunkerSpec {
    type Err = ChunkerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ChunkerSpec {
    /// The canonical chunker string; parsing it gives back the same spec.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Size(n) => write!(f, "size-{n}"),
            Self::Buzhash => f.write_str("buzhash"),
            Self::Rabin { min, avg, max } => {
                if Self::rabin(avg) == *self {
                    if avg == DEFAULT_BLOCK_SIZE { f.write_str("rabin") } else { write!(f, "rabin-{avg}") }
                } else {
                    write!(f, "rabin-{min}-{avg}-{max}")
                }
            }
        }
    }
}

/// A stream of chunks.
pub trait Chunker: Send {
    /// The next chunk, or `None` once the input is exhausted. Chunks are never
    /// empty. After an error the chunker is spent: later calls fail too.
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>>;
}

impl<C: Chunker + ?Sized> Chunker for Box<C> {
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        (**self).next_chunk()
    }
}

/// A chunker for `spec` over `reader`.
pub fn new_chunker(spec: &ChunkerSpec, reader: Box<dyn Read + Send>) -> Box<dyn Chunker> {
    match *spec {
        ChunkerSpec::Size(n) => Box::new(SizeChunker::new(reader, n)),
        ChunkerSpec::Rabin { min, avg, max } => Box::new(RabinChunker::new(reader, min, avg, max)),
        ChunkerSpec::Buzhash => Box::new(BuzhashChunker::new(reader)),
    }
}

/// Iterates over a chunker's chunks.
pub fn chunks<C: Chunker>(mut chunker: C) -> impl Iterator<Item = io::Result<Bytes>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let next = chunker.next_chunk().transpose();
        done = !matches!(next, Some(Ok(_)));
        next
    })
}

/// The error later calls return once a read has failed.
fn spent() -> io::Error {
    io::Error::other("chunker: an earlier read failed")
}
