//! `rabin`: boxo's `Rabin` splitter, which is `github.com/whyrusleeping/chunker`
//! (a fork of restic's chunker) with boxo's polynomial.

use std::io::{self, Read};

use bytes::Bytes;

use super::window::Window;
use super::{Chunker, spent};

/// boxo's `IpfsRabinPoly`, an irreducible polynomial of degree 53 over GF(2).
pub const RABIN_POLYNOMIAL: u64 = 17437180132763653;
/// The sliding window (`windowSize`).
pub(super) const WINDOW_SIZE: usize = 16;
/// How much is read at a time beyond the current chunk (`chunkerBufSize`).
const READ_BLOCK: usize = 512 * 1024;

/// Degree of a polynomial; -1 for 0 (`Pol.Deg`).
const fn deg(x: u64) -> i32 {
    63 - x.leading_zeros() as i32
}

/// `x mod d` over GF(2) (`Pol.Mod`).
const fn pol_mod(mut x: u64, d: u64) -> u64 {
    let dd = deg(d);
    let mut diff = deg(x) - dd;
    while diff >= 0 {
        x ^= d << diff;
        diff = deg(x) - dd;
    }
    x
}

/// `appendByte`.
const fn append_byte(hash: u64, b: u8, pol: u64) -> u64 {
    pol_mod((hash << 8) | b as u64, pol)
}

/// The digest's top 8 bits start here (`polShift`).
const POL_SHIFT: u32 = (deg(RABIN_POLYNOMIAL) - 8) as u32;

/// Low bits of a digest that survive a 16-bit shift unreduced.
const LOW37: u64 = (1 << 37) - 1;

struct Tables {
    /// `out[b]`: the hash of b followed by 15 zero bytes, which XORed into a
    /// digest removes b from the window's far end.
    out: [u64; 256],
    /// `mod[b]`: `(b·x^53 mod P) | b·x^53`, one XOR reducing the top 8 bits.
    modulo: [u64; 256],
    // For two bytes per step (everything is linear over GF(2)):
    /// `out[b]·x^8 mod P`.
    out_x8: [u64; 256],
    /// `out[b]·x^16 mod P`.
    out_x16: [u64; 256],
    /// `b·x^61 mod P`: a digest's top byte (bits 45..53) shifted by 16.
    top_x16: [u64; 256],
    /// `b·x^53 mod P`: its next byte (bits 37..45) shifted by 16.
    next_x16: [u64; 256],
}

/// `v·x^8 mod P` for a reduced `v` (degree < 53).
const fn times_x8(v: u64) -> u64 {
    pol_mod(v << 8, RABIN_POLYNOMIAL)
}

/// `fillTables`, at compile time, plus the two-byte tables.
const TABLES: Tables = {
    let mut t = Tables {
        out: [0; 256],
        modulo: [0; 256],
        out_x8: [0; 256],
        out_x16: [0; 256],
        top_x16: [0; 256],
        next_x16: [0; 256],
    };
    let k = deg(RABIN_POLYNOMIAL) as u32;
    let mut b = 0;
    while b < 256 {
        let mut h = append_byte(0, b as u8, RABIN_POLYNOMIAL);
        let mut i = 0;
        while i < WINDOW_SIZE - 1 {
            h = append_byte(h, 0, RABIN_POLYNOMIAL);
            i += 1;
        }
        t.out[b] = h;
        t.modulo[b] = pol_mod((b as u64) << k, RABIN_POLYNOMIAL) | ((b as u64) << k);
        t.out_x8[b] = times_x8(h);
        t.out_x16[b] = times_x8(times_x8(h));
        t.next_x16[b] = pol_mod((b as u64) << k, RABIN_POLYNOMIAL);
        t.top_x16[b] = times_x8(t.next_x16[b]);
        b += 1;
    }
    t
};

/// Rabin fingerprint chunks.
///
/// Each chunk starts afresh: the window holds a single 1 byte (boxo's
/// `reset` slides in 1), the first `min - 16` bytes are skipped unhashed,
/// and the chunk ends after the first byte, at length `min` or more, where
/// the digest's low `log2(avg)` bits are zero, or at length `max`. With
/// `min < 16` boxo's skip count underflows and it never cuts: the whole input
/// is one chunk (held in memory, as Kubo does).
pub struct RabinChunker<R> {
    reader: R,
    window: Window,
    min: usize,
    /// The longest chunk: `max(min, max)`.
    cut_max: usize,
    mask: u64,
    done: bool,
    failed: bool,
}

impl<R: Read + Send> RabinChunker<R> {
    /// boxo's `NewRabinMinMax(r, min, avg, max)`.
    pub fn new(reader: R, min: usize, avg: usize, max: usize) -> Self {
        // Go: sizeMask = 1<<uint(math.Log2(avg)) - 1. Log2(0) is -Inf, which
        // amd64 converts to 1<<63, and the shift then gives 0: all ones.
        let mask = match u64::try_from(avg) {
            Ok(0) => u64::MAX,
            Ok(avg) => (1u64 << avg.ilog2()) - 1,
            Err(_) => u64::MAX >> 1,
        };
        let cut_max = min.max(max);
        let capacity = if min < WINDOW_SIZE { READ_BLOCK } else { cut_max.saturating_add(READ_BLOCK) };
        Self { reader, window: Window::new(capacity), min, cut_max, mask, done: false, failed: false }
    }

    fn fail(&mut self, e: io::Error) -> io::Result<Option<Bytes>> {
        self.failed = true;
        self.window.release();
        Err(e)
    }

    /// The whole input as one chunk (`min < 16`).
    fn next_uncut(&mut self) -> io::Result<Option<Bytes>> {
        self.done = true;
        let mut all = self.window.pending().to_vec();
        self.window.release();
        loop {
            match self.reader.read_to_end(&mut all) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail(e),
            }
        }
        Ok((!all.is_empty()).then(|| Bytes::from(all)))
    }
}

impl<R: Read + Send> Chunker for RabinChunker<R> {
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if self.failed {
            return Err(spent());
        }
        if self.done {
            return Ok(None);
        }
        if self.min < WINDOW_SIZE {
            return self.next_uncut();
        }
        // Bytes [0, pre) are skipped; hashing starts at pre.
        let pre = self.min - WINDOW_SIZE;
        let mut digest: u64 = 1;
        let mut pos = pre;
        loop {
            let data = self.window.pending();
            let limit = data.len().min(self.cut_max);
            if pos < limit {
                if let Some(cut) = roll(data, pre, pos, limit, &mut digest, self.mask) {
                    return Ok(Some(self.window.take(cut)));
                }
                pos = limit;
            }
            if pos >= self.cut_max {
                return Ok(Some(self.window.take(self.cut_max)));
            }
            if self.window.eof() {
                self.done = true;
                let n = self.window.len();
                let last = (n > 0).then(|| self.window.take(n));
                self.window.release();
                return Ok(last);
            }
            match self.window.read_some(&mut self.reader) {
                Ok(0) if !self.window.eof() => {
                    // Cannot happen: the window holds a whole chunk and a read.
                    let e = io::Error::other("rabin chunker: window full");
                    return self.fail(e);
                }
                Ok(_) => {}
                Err(e) => return self.fail(e),
            }
        }
    }
}

/// Hashes `data[pos..limit]` (chunk-relative offsets; hashing started at
/// `pre`), updating `digest`. Returns the chunk length at the first byte,
/// from `pre + 15` on (length `min`), after which `digest & mask == 0`.
#[inline]
fn roll(data: &[u8], pre: usize, pos: usize, limit: usize, digest: &mut u64, mask: u64) -> Option<usize> {
    let out = &TABLES.out;
    let modulo = &TABLES.modulo;
    let mut d = *digest;
    let mut pos = pos;
    // The first 16 hashed bytes: what leaves the window is the initial
    // window's content (0s, then the 1 that `reset` slid in).
    let head_end = (pre + WINDOW_SIZE).min(limit);
    while pos < head_end {
        let leaving = if pos == pre + WINDOW_SIZE - 1 { 1 } else { 0 };
        d ^= out[leaving];
        let idx = ((d >> POL_SHIFT) & 0xff) as usize;
        d = ((d << 8) | u64::from(data[pos])) ^ modulo[idx];
        pos += 1;
        if pos == pre + WINDOW_SIZE && d & mask == 0 {
            *digest = d;
            return Some(pos);
        }
    }
    if pos < limit {
        // Two bytes per step. With R(v) = v mod P, one step is
        //   d' = R((d ^ out[o])·x^8) ^ b = R(d·x^8) ^ R(out[o]·x^8) ^ b
        // and two steps are
        //   d'' = R(d·x^16) ^ R(out[o1]·x^16) ^ R(out[o2]·x^8) ^ (b1·x^8 ^ b2),
        // R(d·x^16) coming from d's low 37 bits shifted and two lookups for
        // its top 16 bits. d'' does not wait for d': the dependency chain is
        // half as long. Digests stay below 2^53, so indices are < 256.
        let t = &TABLES;
        let ins = &data[pos..limit];
        let outs = &data[pos - WINDOW_SIZE..limit - WINDOW_SIZE];
        let mut pairs_in = ins.chunks_exact(2);
        let mut pairs_out = outs.chunks_exact(2);
        for (k, (i2, o2)) in pairs_in.by_ref().zip(pairs_out.by_ref()).enumerate() {
            let (b1, b2) = (u64::from(i2[0]), u64::from(i2[1]));
            let (o1, o2) = (o2[0] as usize, o2[1] as usize);
            let top = ((d >> POL_SHIFT) & 0xff) as usize;
            let next = ((d >> 37) & 0xff) as usize;
            let d1 = (d << 8) ^ t.modulo[top] ^ t.out_x8[o1] ^ b1;
            let d2 = ((d & LOW37) << 16)
                ^ t.top_x16[top]
                ^ t.next_x16[next]
                ^ t.out_x16[o1]
                ^ t.out_x8[o2]
                ^ ((b1 << 8) | b2);
            if d1 & mask == 0 || d2 & mask == 0 {
                let at = pos + 2 * k;
                return if d1 & mask == 0 {
                    *digest = d1;
                    Some(at + 1)
                } else {
                    *digest = d2;
                    Some(at + 2)
                };
            }
            d = d2;
        }
        let tail = pairs_in.remainder();
        if let (Some(&b), Some(&o)) = (tail.first(), pairs_out.remainder().first()) {
            d ^= out[o as usize];
            let idx = ((d >> POL_SHIFT) & 0xff) as usize;
            d = ((d << 8) | u64::from(b)) ^ modulo[idx];
            if d & mask == 0 {
                *digest = d;
                return Some(limit);
            }
        }
    }
    *digest = d;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomial_degree() {
        assert_eq!(deg(RABIN_POLYNOMIAL), 53);
        assert_eq!(POL_SHIFT, 45);
        assert_eq!(deg(0), -1);
        assert_eq!(deg(1), 0);
    }

    #[test]
    fn tables_reduce() {
        // out[0] is 0; out[1] is x^120 mod P; mod[b] cancels b's bits above 53.
        assert_eq!(TABLES.out[0], 0);
        let mut h = 1u64;
        for _ in 0..15 {
            h = append_byte(h, 0, RABIN_POLYNOMIAL);
        }
        assert_eq!(TABLES.out[1], h);
        for b in 0..256u64 {
            assert_eq!(TABLES.modulo[b as usize] >> 53, b);
            assert!(TABLES.out[b as usize] < 1 << 53);
        }
    }
}
