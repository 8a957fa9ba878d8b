//! Reading helpers shared by the chunkers.

use std::io::{self, Read};

use bytes::Bytes;

/// Reads until `buf` is full or the reader reports end of input (Go's
/// `io.ReadFull`, except that a short count is not an error). Retries
/// interrupted reads.
pub(super) fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k.min(buf.len() - n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The bytes read but not yet returned, in one reusable buffer that grows up
/// to a fixed capacity.
pub(super) struct Window {
    buf: Vec<u8>,
    /// Pending bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// The buffer never grows beyond this.
    capacity: usize,
    eof: bool,
}

/// The first allocation: small inputs stay cheap.
const INITIAL: usize = 64 * 1024;

impl Window {
    /// A window that will hold up to `capacity` bytes (at least 1).
    pub(super) fn new(capacity: usize) -> Self {
        Self { buf: Vec::new(), start: 0, end: 0, capacity: capacity.max(1), eof: false }
    }

    pub(super) fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(super) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the reader has reported end of input.
    pub(super) fn eof(&self) -> bool {
        self.eof
    }

    /// Reads until `want` bytes are pending (at most the capacity) or the
    /// input ends. Returns the number of pending bytes.
    pub(super) fn fill<R: Read + ?Sized>(&mut self, reader: &mut R, want: usize) -> io::Result<usize> {
        let want = want.min(self.capacity);
        while self.len() < want && !self.eof {
            if self.read_some(reader)? == 0 {
                break;
            }
        }
        Ok(self.len())
    }

    /// Makes room and reads once (retrying interrupted reads) as much as the
    /// free space allows. Returns the count read; 0 means end of input (or a
    /// full window, which callers avoid by returning chunks first).
    pub(super) fn read_some<R: Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        self.make_room();
        if self.end == self.buf.len() {
            return Ok(0);
        }
        loop {
            match reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(k) => {
                    let k = k.min(self.buf.len() - self.end);
                    self.end += k;
                    return Ok(k);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Ensures free space after `end`: moves the pending bytes to the front
    /// once less than a quarter of the buffer is free, grows the buffer
    /// (doubling, up to the capacity) when it is full.
    fn make_room(&mut self) {
        let free = self.buf.len() - self.end;
        if self.start > 0 && (free == 0 || free < self.buf.len() / 4) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() && self.buf.len() < self.capacity {
            let len = self.buf.len().saturating_mul(2).max(INITIAL).min(self.capacity);
            self.buf.resize(len, 0);
        }
    }

    /// Returns the first `n` pending bytes (at most all of them) as a chunk.
    pub(super) fn take(&mut self, n: usize) -> Bytes {
        let n = n.min(self.len());
        let chunk = Bytes::copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        chunk
    }

    /// Drops the buffer (after the last chunk).
    pub(super) fn release(&mut self) {
        self.buf = Vec::new();
        self.start = 0;
        self.end = 0;
    }
}
