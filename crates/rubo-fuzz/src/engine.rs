//! The mutation engine: a small deterministic PRNG, byte-level mutations,
//! and a runner that catches panics.
//!
//! There is no coverage feedback (the stable toolchain has no sanitizer
//! coverage), so every input is derived from the seed corpus alone: input
//! number `i` is a stack of mutations of a seed, drawn from a PRNG seeded with
//! `(seed, target, i)`. Any input can therefore be rebuilt from its number,
//! which is how the driver recovers the input that killed a worker (an abort
//! from a failed allocation, a stack overflow).

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

/// xorshift64*: small, fast, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        let s = splitmix64(seed);
        Self(if s == 0 { 0x9E37_79B9_7F4A_7C15 } else { s })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

/// splitmix64: spreads nearby seeds (iteration numbers) far apart.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a: names crash files and mixes target names into seeds.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

const INTERESTING_8: [u8; 10] = [0, 1, 0x10, 0x17, 0x18, 0x20, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_64: [u64; 14] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];
/// Numbers that stress text parsers (overflow edges, exponents, signs).
const INTERESTING_NUMBERS: [&str; 16] = [
    "0",
    "-0",
    "-1",
    "+1",
    "255",
    "65536",
    "2147483648",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "99999999999999999999999999",
    "1e308",
    "1.7976931348623157e309",
    "0.000000001",
];
/// Tokens every target may find useful.
const GENERIC_TOKENS: [&[u8]; 8] =
    [b"/", b"..", b"\0", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\"", b"-", b".", b"\xc3\x28"];

/// Where mutations come from: the seeds (for splicing) and a dictionary.
#[derive(Debug, Clone, Copy)]
pub struct Mutator<'a> {
    pub corpus: &'a [Vec<u8>],
    pub dict: &'a [&'a [u8]],
    pub max_len: usize,
}

impl Mutator<'_> {
    /// Input number `iteration`: a few stacked mutations of one seed.
    pub fn input(&self, seed: u64, target: &str, iteration: u64) -> Vec<u8> {
        let mut rng = Rng::new(seed ^ fnv1a(target.as_bytes()) ^ iteration.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut data = if self.corpus.is_empty() {
            (0..rng.below(64)).map(|_| rng.byte()).collect()
        } else {
            self.corpus[rng.below(self.corpus.len())].clone()
        };
        // Mostly one or two mutations, sometimes many (a geometric count).
        let mut n = 1;
        while n < 16 && rng.one_in(2) {
            n += 1;
        }
        for _ in 0..n {
            self.mutate(&mut data, &mut rng);
        }
        data.truncate(self.max_len);
        data
    }

    /// Applies one random mutation.
    pub fn mutate(&self, data: &mut Vec<u8>, rng: &mut Rng) {
        let len = data.len();
        match rng.below(16) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING_8[rng.below(INTERESTING_8.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.byte();
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let delta = rng.below(33) as u8;
                data[i] = data[i].wrapping_add(delta).wrapping_sub(16);
            }
            4 if len > 0 => {
                // A 2-, 4- or 8-byte interesting value, either byte order.
                let width = [2usize, 4, 8][rng.below(3)];
                let v = INTERESTING_64[rng.below(INTERESTING_64.len())];
                let bytes = if rng.one_in(2) { v.to_be_bytes() } else { v.to_le_bytes() };
                let src = if rng.one_in(2) { &bytes[8 - width..] } else { &bytes[..width] };
                let at = rng.below(len);
                let end = (at + width).min(len);
                data[at..end].copy_from_slice(&src[..end - at]);
            }
            5 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let ins: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                data.splice(at..at, ins);
            }
            6 => {
                // A run of one byte: deep nesting ([[[..., 0x81 0x81 ...).
                let at = rng.below(len + 1);
                let b = if len > 0 && rng.one_in(2) { data[rng.below(len)] } else { rng.byte() };
                let cap = if rng.one_in(4) { 4096 } else { 64 };
                let n = 1 + rng.below(cap);
                data.splice(at..at, std::iter::repeat_n(b, n));
            }
            7 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                data.drain(at..at + n);
            }
            8 if len > 0 => {
                // Duplicate a range somewhere (repeated fields, sections).
                let from = rng.below(len);
                let n = 1 + rng.below((len - from).min(256));
                let chunk = data[from..from + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            9 if len > 1 => {
                // Overwrite a range with another part of the input.
                let from = rng.below(len);
                let to = rng.below(len);
                let n = 1 + rng.below((len - from).min(len - to).min(64));
                let chunk = data[from..from + n].to_vec();
                data[to..to + n].copy_from_slice(&chunk);
            }
            10 if !self.corpus.is_empty() => {
                // Splice: our head, another seed's tail.
                let other = &self.corpus[rng.below(self.corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            11 if len > 0 => {
                data.truncate(rng.below(len));
            }
            12 if len > 0 => varint_bump(data, rng),
            13 => {
                let tok: &[u8] = if !self.dict.is_empty() && !rng.one_in(4) {
                    self.dict[rng.below(self.dict.len())]
                } else {
                    GENERIC_TOKENS[rng.below(GENERIC_TOKENS.len())]
                };
                let at = rng.below(len + 1);
                if rng.one_in(2) {
                    data.splice(at..at, tok.iter().copied());
                } else {
                    let end = (at + tok.len()).min(len);
                    data.splice(at..end, tok.iter().copied());
                }
            }
            14 => number_swap(data, rng),
            15 if len > 0 => {
                // Swap two bytes.
                let (a, b) = (rng.below(len), rng.below(len));
                data.swap(a, b);
            }
            _ => {
                // The chosen mutation did not apply (empty input): grow.
                data.push(rng.byte());
            }
        }
    }
}

/// Re-encodes the LEB128 varint starting at a random position with another
/// value: lengths and counts just past what is there, or absurdly large.
fn varint_bump(data: &mut Vec<u8>, rng: &mut Rng) {
    let at = rng.below(data.len());
    let mut v: u64 = 0;
    let mut n = 0;
    while at + n < data.len() && n < 10 {
        let b = data[at + n];
        v |= u64::from(b & 0x7f).wrapping_shl(7 * n as u32);
        n += 1;
        if b < 0x80 {
            break;
        }
    }
    let new = match rng.below(8) {
        0 => v.wrapping_add(1),
        1 => v.wrapping_sub(1),
        2 => v.wrapping_add(1 + rng.below(256) as u64),
        3 => v.wrapping_mul(2),
        4 => 0,
        5 => u64::MAX >> rng.below(64),
        6 => 1u64 << rng.below(64),
        _ => v.wrapping_sub(1 + rng.below(16) as u64),
    };
    let mut enc = Vec::with_capacity(10);
    let mut x = new;
    while x >= 0x80 {
        enc.push((x as u8) | 0x80);
        x >>= 7;
    }
    enc.push(x as u8);
    if rng.one_in(8) {
        // Non-minimal: a redundant continuation byte.
        if let Some(last) = enc.last_mut() {
            *last |= 0x80;
        }
        enc.push(0);
    }
    data.splice(at..at + n, enc);
}

/// Replaces a run of ASCII digits (or inserts a number) with an edge value.
fn number_swap(data: &mut Vec<u8>, rng: &mut Rng) {
    let num = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())].as_bytes();
    let starts: Vec<usize> =
        (0..data.len()).filter(|&i| data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit())).collect();
    if starts.is_empty() {
        let at = rng.below(data.len() + 1);
        data.splice(at..at, num.iter().copied());
        return;
    }
    let start = starts[rng.below(starts.len())];
    let end = (start..data.len()).find(|&i| !data[i].is_ascii_digit()).unwrap_or(data.len());
    data.splice(start..end, num.iter().copied());
}

/// The message and place of the last panic on this process, recorded by the
/// hook [`quiet_panics`] installs.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Replaces the panic hook with one that records the panic instead of
/// printing it: a fuzzer provokes and catches many.
pub fn quiet_panics() {
    panic::set_hook(Box::new(|info| {
        let msg = match (info.payload().downcast_ref::<&str>(), info.payload().downcast_ref::<String>()) {
            (Some(s), _) => (*s).to_string(),
            (_, Some(s)) => s.clone(),
            _ => "panic with a non-string payload".to_string(),
        };
        let at = info.location().map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column())).unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(format!("{msg}{at}"));
        }
    }));
}

/// Runs `f` on `data`; a panic becomes `Err(message)`.
pub fn run_one(f: fn(&[u8]), data: &[u8]) -> Result<(), String> {
    match panic::catch_unwind(AssertUnwindSafe(|| f(data))) {
        Ok(()) => Ok(()),
        Err(payload) => {
            let recorded = LAST_PANIC.lock().ok().and_then(|mut l| l.take());
            Err(recorded.unwrap_or_else(|| {
                payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string())
            }))
        }
    }
}

/// Shrinks a panicking input: removes chunks, then single bytes, while the
/// target still panics. Bounded, so a slow target cannot stall it for long.
pub fn minimize(f: fn(&[u8]), input: &[u8], max_runs: usize) -> Vec<u8> {
    let mut best = input.to_vec();
    let mut runs = 0;
    let mut chunk = best.len().next_power_of_two().max(1);
    while chunk >= 1 && runs < max_runs {
        let mut at = 0;
        while at < best.len() && runs < max_runs {
            let mut cand = best.clone();
            let end = (at + chunk).min(cand.len());
            cand.drain(at..end);
            runs += 1;
            if run_one(f, &cand).is_err() {
                best = cand;
            } else {
                at += chunk;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk /= 2;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_depend_only_on_seed_target_and_number() {
        let corpus = vec![b"hello world".to_vec(), vec![0x81, 0x82, 0x00]];
        let m = Mutator { corpus: &corpus, dict: &[b"tok"], max_len: 4096 };
        for i in 0..200 {
            assert_eq!(m.input(7, "t", i), m.input(7, "t", i));
        }
        let distinct: std::collections::HashSet<Vec<u8>> = (0..200).map(|i| m.input(7, "t", i)).collect();
        assert!(distinct.len() > 150, "{} distinct inputs", distinct.len());
        assert_ne!(m.input(7, "t", 1), m.input(7, "u", 1));
    }

    #[test]
    fn inputs_respect_the_length_cap() {
        let corpus = vec![vec![7u8; 100]];
        let m = Mutator { corpus: &corpus, dict: &[], max_len: 120 };
        assert!((0..500).all(|i| m.input(1, "t", i).len() <= 120));
    }

    #[test]
    fn varint_bump_rewrites_a_whole_varint() {
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let mut d = vec![0xac, 0x02];
            varint_bump(&mut d, &mut rng);
            assert!(!d.is_empty() && d.len() <= 12);
        }
    }

    fn panics_on_x(d: &[u8]) {
        assert!(!d.contains(&b'x'), "found x");
    }

    #[test]
    fn catches_and_minimizes() {
        quiet_panics();
        assert!(run_one(panics_on_x, b"abc").is_ok());
        let err = run_one(panics_on_x, b"abxc").unwrap_err();
        assert!(err.contains("found x"), "{err}");
        assert_eq!(minimize(panics_on_x, b"aaaaaaaaxbbbbbbbb", 1000), b"x");
        let _ = panic::take_hook();
    }
}
