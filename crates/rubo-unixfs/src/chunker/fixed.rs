//! `size-N`: boxo's `sizeSplitterv2`.

use std::io::{self, Read};

use bytes::Bytes;

use super::window::read_full;
use super::{Chunker, spent};

/// boxo's `maxOverAllocBytes`: a short last chunk keeps its buffer when at
/// most this much of it is unused, otherwise it is copied to a fitting one.
const MAX_OVER_ALLOC: usize = 1024;

/// Fixed-size chunks: each read straight into its own buffer, which becomes
/// the chunk. The last chunk may be short; empty input gives no chunk.
pub struct SizeChunker<R> {
    reader: R,
    size: usize,
    done: bool,
    failed: bool,
}

impl<R: Read + Send> SizeChunker<R> {
    /// Chunks of `size` bytes. A size of 0 (which no chunker string yields)
    /// makes `next_chunk` fail.
    pub fn new(reader: R, size: usize) -> Self {
        Self { reader, size, done: false, failed: false }
    }
}

impl<R: Read + Send> Chunker for SizeChunker<R> {
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if self.failed {
            return Err(spent());
        }
        if self.done {
            return Ok(None);
        }
        if self.size == 0 {
            self.failed = true;
            return Err(io::Error::new(io::ErrorKind::InvalidInput, super::ChunkerError::Size));
        }
        let mut buf = vec![0u8; self.size];
        let n = match read_full(&mut self.reader, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                self.failed = true;
                return Err(e);
            }
        };
        if n == self.size {
            return Ok(Some(Bytes::from(buf)));
        }
        // End of input (Go: io.ErrUnexpectedEOF or io.EOF).
        self.done = true;
        Ok(match n {
            0 => None,
            n if self.size - n <= MAX_OVER_ALLOC => {
                buf.truncate(n);
                Some(Bytes::from(buf))
            }
            n => Some(Bytes::copy_from_slice(&buf[..n])),
        })
    }
}
