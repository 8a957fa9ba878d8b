//! MurmurHash3 x64_128, as github.com/spaolacci/murmur3 computes it.
//!
//! The HAMT hashes entry names with `murmur3.New64()`, which is the first half
//! (`h1`) of x64_128 with seed 0, written out big-endian.

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

#[inline]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

#[inline]
fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

#[inline]
fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

/// MurmurHash3 x64_128 of `data` with `seed`: `(h1, h2)`.
pub fn x64_128(data: &[u8], seed: u32) -> (u64, u64) {
    let mut h1 = u64::from(seed);
    let mut h2 = u64::from(seed);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        let k1 = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
        let k2 = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        h1 ^= mix_k1(k1);
        h1 = h1.rotate_left(27).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2.rotate_left(31).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        // Little-endian words from the tail bytes: bytes 0..8 make k1, 8..16 k2.
        let mut k1 = 0u64;
        let mut k2 = 0u64;
        for (i, &b) in tail.iter().enumerate() {
            if i < 8 {
                k1 |= u64::from(b) << (8 * i);
            } else {
                k2 |= u64::from(b) << (8 * (i - 8));
            }
        }
        if tail.len() > 8 {
            h2 ^= mix_k2(k2);
        }
        h1 ^= mix_k1(k1);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

/// spaolacci/murmur3 `Sum64`: `h1` of x64_128 with seed 0.
pub fn sum64(data: &[u8]) -> u64 {
    x64_128(data, 0).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference vectors of spaolacci/murmur3 (murmur_test.go), which agree
    /// with Appleby's SMHasher MurmurHash3_x64_128.
    const VECTORS: &[(u32, u64, u64, &str)] = &[
        (0x00, 0x0000000000000000, 0x0000000000000000, ""),
        (0x00, 0xcbd8a7b341bd9b02, 0x5b1e906a48ae1d19, "hello"),
        (0x00, 0x342fac623a5ebc8e, 0x4cdcbc079642414d, "hello, world"),
        (0x00, 0xb89e5988b737affc, 0x664fc2950231b2cb, "19 Jan 2038 at 3:14:07 AM"),
        (0x00, 0xcd99481f9ee902c9, 0x695da1a38987b6e7, "The quick brown fox jumps over the lazy dog."),
        (0x01, 0x4610abe56eff5cb5, 0x51622daa78f83583, ""),
        (0x01, 0xa78ddff5adae8d10, 0x128900ef20900135, "hello"),
        (0x01, 0x8b95f808840725c6, 0x1597ed5422bd493b, "hello, world"),
        (0x01, 0x2a929de9c8f97b2f, 0x56a41d99af43a2db, "19 Jan 2038 at 3:14:07 AM"),
        (0x01, 0xfb3325171f9744da, 0xaaf8b92a5f722952, "The quick brown fox jumps over the lazy dog."),
        (0x2a, 0xf02aa77dfa1b8523, 0xd1016610da11cbb9, ""),
        (0x2a, 0xc4b8b3c960af6f08, 0x2334b875b0efbc7a, "hello"),
        (0x2a, 0xb91864d797caa956, 0xd5d139a55afe6150, "hello, world"),
        (0x2a, 0xfd8f19ebdc8c6b6a, 0xd30fdc310fa08ff9, "19 Jan 2038 at 3:14:07 AM"),
        (0x2a, 0x74f33c659cda5af7, 0x4ec7a891caf316f0, "The quick brown fox jumps over the lazy dog."),
    ];

    #[test]
    fn reference_vectors() {
        for &(seed, h1, h2, s) in VECTORS {
            assert_eq!(x64_128(s.as_bytes(), seed), (h1, h2), "seed {seed} {s:?}");
        }
        assert_eq!(sum64(b"hello"), 0xcbd8a7b341bd9b02);
    }

    #[test]
    fn every_tail_length() {
        // SMHasher's verification value for MurmurHash3_x64_128: hash keys
        // {0}, {0,1}, ... {0..254} with seed 256-i, hash the concatenated
        // 16-byte results with seed 0, and take the first 4 bytes (LE).
        let mut key = [0u8; 256];
        let mut hashes = Vec::with_capacity(256 * 16);
        for i in 0..256usize {
            key[i] = i as u8;
            let (h1, h2) = x64_128(&key[..i], (256 - i) as u32);
            hashes.extend_from_slice(&h1.to_le_bytes());
            hashes.extend_from_slice(&h2.to_le_bytes());
        }
        let (h1, _) = x64_128(&hashes, 0);
        assert_eq!(h1 as u32, 0x6384_BA69);
    }
}
