//! File CIDs from Kubo's own tests (test/cli add_test.go, cid_profiles_test.go),
//! whose inputs are ChaCha20 keystreams keyed by sha256(seed), zero nonce
//! (Kubo's testutils.DeterministicRandomReader).

use bytes::Bytes;
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use rubo_types::Version;
use rubo_unixfs::CidPrefix;
use rubo_unixfs::file::{BuildError, FileOptions, build_file, leaf};
use sha2::Digest;

/// Imports `size` deterministic bytes from `seed`, chunked at `chunk` bytes,
/// generating the input on the fly (memory stays at one chunk).
fn import(seed: &str, size: u64, chunk: usize, opts: &FileOptions) -> String {
    let key: [u8; 32] = sha2::Sha256::digest(seed.as_bytes()).into();
    let mut cipher = ChaCha20::new(&key.into(), &[0u8; 12].into());
    let mut left = size;
    let chunks = std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let n = left.min(chunk as u64) as usize;
        left -= n as u64;
        let mut buf = vec![0u8; n];
        cipher.apply_keystream(&mut buf);
        Some(Bytes::from(buf))
    });
    let leaves = chunks.map(|c| leaf(c, opts).map_err(BuildError::from));
    let root = build_file(leaves, opts, &mut |_| Ok(())).unwrap();
    root.cid.to_string()
}

fn v0() -> FileOptions {
    FileOptions::default()
}

fn v1_2025() -> FileOptions {
    FileOptions {
        prefix: CidPrefix { version: Version::V1, ..Default::default() },
        raw_leaves: true,
        max_links: 1024,
        ..Default::default()
    }
}

#[test]
fn unixfs_v0_2015_boundaries() {
    assert_eq!(import("chunk-v0-seed", 262144, 262144, &v0()), "QmWmRj3dFDZdb6ABvbmKhEL6TmPbAfBZ1t5BxsEyJrcZhE");
    assert_eq!(import("chunk-v0-seed", 262145, 262144, &v0()), "QmYyLxtzZyW22zpoVAtKANLRHpDjZtNeDjQdJrcQNWoRkJ");
    assert_eq!(import("v0-seed", 174 * 262144, 262144, &v0()), "QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2");
    assert_eq!(import("v0-seed", 174 * 262144 + 1, 262144, &v0()), "QmV81WL765sC8DXsRhE5fJv2rwhS4icHRaf3J9Zk5FdRnW");
}

#[test]
fn unixfs_v1_2025_boundaries() {
    let mib = 1 << 20;
    assert_eq!(
        import("chunk-v1-seed", mib, mib as usize, &v1_2025()),
        "bafkreiacndfy443ter6qr2tmbbdhadvxxheowwf75s6zehscklu6ezxmta"
    );
    assert_eq!(
        import("chunk-v1-seed", mib + 1, mib as usize, &v1_2025()),
        "bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64"
    );
}

#[test]
fn unixfs_v1_2025_max_links_1gib() {
    let mib = 1u64 << 20;
    assert_eq!(
        import("v1-2025-seed", 1024 * mib, mib as usize, &v1_2025()),
        "bafybeihmf37wcuvtx4hpu7he5zl5qaf2ineo2lqlfrapokkm5zzw7zyhvm"
    );
    assert_eq!(
        import("v1-2025-seed", 1024 * mib + 1, mib as usize, &v1_2025()),
        "bafybeibdsi225ugbkmpbdohnxioyab6jsqrmkts3twhpvfnzp77xtzpyhe"
    );
}

#[test]
fn max_file_links_1024() {
    // add_test.go: 256 MiB of "hello world"-seeded data, --max-file-links 1024.
    let opts = FileOptions { max_links: 1024, ..Default::default() };
    assert_eq!(import("hello world", 268_435_456, 262144, &opts), "QmbBftNHWmjSWKLC49dMVrfnY8pjrJYntiAXirFJ7oJrNk");
}
