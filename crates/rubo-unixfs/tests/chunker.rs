//! Chunker behaviour: parsing (boxo's messages), empty input, streaming with
//! tiny and odd reads, read errors, and properties (chunks concatenate to the
//! input, sizes within bounds, boundaries independent of read sizes).

use std::io::{self, Read};

use bytes::Bytes;
use proptest::prelude::*;
use rubo_unixfs::chunker::{
    BUZHASH_MAX, BUZHASH_MIN, CHUNK_SIZE_LIMIT, Chunker, ChunkerError, ChunkerSpec, RabinChunker, SizeChunker, chunks,
    new_chunker,
};

fn parse_err(s: &str) -> String {
    ChunkerSpec::parse(s).unwrap_err().to_string()
}

#[test]
fn parse_valid() {
    let cases = [
        ("", ChunkerSpec::Size(262144)),
        ("default", ChunkerSpec::Size(262144)),
        ("size-262144", ChunkerSpec::Size(262144)),
        ("size-1", ChunkerSpec::Size(1)),
        ("size-+5", ChunkerSpec::Size(5)),
        ("size-2096896", ChunkerSpec::Size(CHUNK_SIZE_LIMIT)),
        ("rabin", ChunkerSpec::Rabin { min: 87381, avg: 262144, max: 393216 }),
        ("rabin-262144", ChunkerSpec::Rabin { min: 87381, avg: 262144, max: 393216 }),
        ("rabin-1024", ChunkerSpec::Rabin { min: 341, avg: 1024, max: 1536 }),
        ("rabin-1397931", ChunkerSpec::Rabin { min: 465977, avg: 1397931, max: 2096896 }),
        ("rabin-10", ChunkerSpec::Rabin { min: 3, avg: 10, max: 15 }),
        ("rabin-0", ChunkerSpec::Rabin { min: 0, avg: 0, max: 0 }),
        ("rabin-512-1024-2048", ChunkerSpec::Rabin { min: 512, avg: 1024, max: 2048 }),
        ("rabin-16-32-64", ChunkerSpec::Rabin { min: 16, avg: 32, max: 64 }),
        ("rabin-18-25-32", ChunkerSpec::Rabin { min: 18, avg: 25, max: 32 }),
        ("rabin-min:16-avg:32-max:64", ChunkerSpec::Rabin { min: 16, avg: 32, max: 64 }),
        ("rabin-19-21-2096896", ChunkerSpec::Rabin { min: 19, avg: 21, max: 2096896 }),
        ("buzhash", ChunkerSpec::Buzhash),
        ("buzhash-anything", ChunkerSpec::Buzhash),
    ];
    for (s, want) in cases {
        assert_eq!(ChunkerSpec::parse(s), Ok(want), "{s:?}");
        assert_eq!(s.parse::<ChunkerSpec>(), Ok(want), "{s:?}");
    }
    assert_eq!(ChunkerSpec::default(), ChunkerSpec::Size(262144));
}

#[test]
fn parse_invalid_with_boxo_messages() {
    let max = "chunker parameters may not exceed the maximum chunk size of 2096896";
    let rabin_fmt = "incorrect format (expected 'rabin' 'rabin-[avg]' or 'rabin-[min]-[avg]-[max]'";
    let cases = [
        ("size-0", "chunker size must be greater than 0"),
        ("size-2096897", max),
        ("size-123-extra", "incorrect chunker string format (expected size-{size})"),
        ("size", "incorrect chunker string format (expected size-{size})"),
        ("size-", r#"strconv.Atoi: parsing "": invalid syntax"#),
        ("size-abc", r#"strconv.Atoi: parsing "abc": invalid syntax"#),
        ("size-99999999999999999999", r#"strconv.Atoi: parsing "99999999999999999999": value out of range"#),
        ("size-\t1", r#"strconv.Atoi: parsing "\t1": invalid syntax"#),
        ("Size-1024", "unrecognized chunker option: Size-1024"),
        ("fixed", "unrecognized chunker option: fixed"),
        ("unknown-chunker", "unrecognized chunker option: unknown-chunker"),
        ("rabin-1397932", max),
        ("rabin-9000000000000000000", max),
        ("rabin-x", r#"strconv.Atoi: parsing "x": invalid syntax"#),
        ("rabin-1-2", rabin_fmt),
        ("rabin-1-2-3-4", rabin_fmt),
        ("rabin--5", rabin_fmt),
        ("rabin-15-23-31", "rabin min must be greater than 16"),
        ("rabin-15-x-64", "rabin min must be greater than 16"),
        ("rabin-20-20-21", "incorrect format: rabin-min must be smaller than rabin-avg"),
        ("rabin-19-21-21", "incorrect format: rabin-avg must be smaller than rabin-max"),
        ("rabin-19-21-2096897", max),
        ("rabin-foo:16-32-64", "first label must be min"),
        ("rabin-16-foo:32-64", "second label must be avg"),
        ("rabin-16-32-foo:64", "final label must be max"),
        ("rabin-16-avg:-64", r#"strconv.Atoi: parsing "": invalid syntax"#),
    ];
    for (s, want) in cases {
        assert_eq!(parse_err(s), want, "{s:?}");
    }
    assert_eq!(ChunkerSpec::parse("size-0"), Err(ChunkerError::Size));
    assert_eq!(ChunkerSpec::parse("rabin-1-17-18"), Err(ChunkerError::RabinMin));
}

#[test]
fn display_is_canonical() {
    let cases = [
        ("", "size-262144"),
        ("size-1000", "size-1000"),
        ("rabin", "rabin"),
        ("rabin-262144", "rabin"),
        ("rabin-1024", "rabin-1024"),
        ("rabin-10", "rabin-10"),
        ("rabin-16-32-64", "rabin-16-32-64"),
        ("rabin-min:341-avg:1024-max:1536", "rabin-1024"),
        ("buzhash-x", "buzhash"),
    ];
    for (s, want) in cases {
        let spec = ChunkerSpec::parse(s).unwrap();
        assert_eq!(spec.to_string(), want, "{s:?}");
        assert_eq!(ChunkerSpec::parse(want), Ok(spec));
    }
}

#[test]
fn max_chunk_len() {
    assert_eq!(ChunkerSpec::Size(1000).max_chunk_len(), Some(1000));
    assert_eq!(ChunkerSpec::parse("rabin").unwrap().max_chunk_len(), Some(393216));
    assert_eq!(ChunkerSpec::parse("rabin-10").unwrap().max_chunk_len(), None);
    assert_eq!(ChunkerSpec::Buzhash.max_chunk_len(), Some(BUZHASH_MAX));
}

/// splitmix64 bytes (as in chunker_vectors.rs).
fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut s = seed;
    while out.len() < len {
        s = s.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Serves `data` in reads of the sizes in `sizes` (cycled).
struct Reads {
    data: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
    step: usize,
}

impl Reads {
    fn new(data: &[u8], sizes: &[usize]) -> Self {
        Self { data: data.to_vec(), pos: 0, sizes: sizes.to_vec(), step: 0 }
    }
}

impl Read for Reads {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.sizes[self.step % self.sizes.len()].max(1);
        self.step += 1;
        let n = want.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn all_chunks(spec: &ChunkerSpec, data: &[u8], sizes: &[usize]) -> Vec<Bytes> {
    let chunker = new_chunker(spec, Box::new(Reads::new(data, sizes)));
    chunks(chunker).collect::<io::Result<Vec<_>>>().unwrap()
}

const SPECS: &[&str] = &["size-1", "size-7", "size-262144", "rabin", "rabin-16-32-64", "rabin-10", "buzhash"];

#[test]
fn empty_input_gives_no_chunk() {
    for s in SPECS {
        let spec = ChunkerSpec::parse(s).unwrap();
        let mut c = new_chunker(&spec, Box::new(io::empty()));
        assert!(c.next_chunk().unwrap().is_none(), "{s}");
        assert!(c.next_chunk().unwrap().is_none(), "{s}");
    }
}

#[test]
fn short_input_is_one_chunk() {
    let data = pseudo_random(5, 1000);
    for s in ["size-262144", "rabin", "buzhash", "rabin-10"] {
        let spec = ChunkerSpec::parse(s).unwrap();
        for sizes in [&[usize::MAX][..], &[1], &[7, 1, 13]] {
            let got = all_chunks(&spec, &data, sizes);
            assert_eq!(got, vec![Bytes::from(data.clone())], "{s}");
        }
    }
}

#[test]
fn fixed_size_edges() {
    let spec = ChunkerSpec::Size(1000);
    for (len, want) in
        [(1, vec![1]), (999, vec![999]), (1000, vec![1000]), (1001, vec![1000, 1]), (3000, vec![1000; 3])]
    {
        let data = pseudo_random(6, len);
        for sizes in [&[usize::MAX][..], &[1], &[7], &[999, 2]] {
            let got: Vec<usize> = all_chunks(&spec, &data, sizes).iter().map(Bytes::len).collect();
            assert_eq!(got, want, "len {len} reads {sizes:?}");
        }
    }
}

#[test]
fn zero_size_fails_without_looping() {
    let mut c = SizeChunker::new(io::repeat(1), 0);
    assert!(c.next_chunk().is_err());
    assert!(c.next_chunk().is_err());
}

/// Boundaries do not depend on how the reader splits its reads.
#[test]
fn streaming_with_tiny_and_odd_reads() {
    let mut data = pseudo_random(8, 3 << 20);
    data[1 << 20..(1 << 20) + 300_000].fill(0);
    for s in SPECS {
        let spec = ChunkerSpec::parse(s).unwrap();
        if *s == "size-1" {
            continue; // three million chunks: covered by fixed_size_edges
        }
        let whole = all_chunks(&spec, &data, &[usize::MAX]);
        for sizes in [&[1][..], &[7], &[1, 7, 13, 4099, 65537, 3, 524_289, 31]] {
            assert_eq!(all_chunks(&spec, &data, sizes), whole, "{s} with reads {sizes:?}");
        }
    }
}

/// Reads `good` bytes, then fails.
struct Failing {
    good: usize,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = self.good.min(buf.len()).min(1000);
        buf[..n].fill(7);
        self.good -= n;
        Ok(n)
    }
}

#[test]
fn read_errors_propagate_and_stick() {
    for s in SPECS {
        let spec = ChunkerSpec::parse(s).unwrap();
        let mut c = new_chunker(&spec, Box::new(Failing { good: 5000 }));
        let mut err = None;
        for _ in 0..10_000 {
            match c.next_chunk() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("{s}: end of input instead of the error"),
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert_eq!(err.expect("an error").to_string(), "disk on fire", "{s}");
        assert!(c.next_chunk().is_err(), "{s}");
    }
}

/// Zero runs, repeated text and random bytes.
fn structured(seed: u64, parts: &[(u8, usize)]) -> Vec<u8> {
    let mut data = Vec::new();
    for (i, &(kind, len)) in parts.iter().enumerate() {
        match kind % 3 {
            0 => data.extend(pseudo_random(seed.wrapping_add(i as u64), len)),
            1 => data.resize(data.len() + len, 0),
            _ => data.extend(b"abcdefghij".iter().cycle().take(len)),
        }
    }
    data
}

fn check_bounds(chunks: &[Bytes], data: &[u8], min: usize, max: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(chunks.concat(), data);
    for (i, c) in chunks.iter().enumerate() {
        prop_assert!(!c.is_empty());
        prop_assert!(c.len() <= max, "chunk {} of {} bytes > {}", i, c.len(), max);
        if i + 1 < chunks.len() {
            prop_assert!(c.len() >= min, "chunk {} of {} bytes < {}", i, c.len(), min);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn rabin_chunks_concatenate_within_bounds(
        min in 16usize..300,
        avg_extra in 1usize..400,
        max_extra in 1usize..600,
        seed in any::<u64>(),
        parts in prop::collection::vec((any::<u8>(), 0usize..6000), 0..8),
        sizes in prop::collection::vec(1usize..5000, 1..6),
    ) {
        let avg = min + avg_extra;
        let max = avg + max_extra;
        let spec = ChunkerSpec::Rabin { min, avg, max };
        let data = structured(seed, &parts);
        let chunks = all_chunks(&spec, &data, &[usize::MAX]);
        check_bounds(&chunks, &data, min, max)?;
        prop_assert_eq!(all_chunks(&spec, &data, &sizes), chunks);
    }

    #[test]
    fn rabin_any_params_never_panic(
        min in 0usize..100,
        avg in 0usize..100,
        max in 0usize..100,
        len in 0usize..3000,
    ) {
        let data = pseudo_random(len as u64, len);
        let c = RabinChunker::new(Reads::new(&data, &[usize::MAX]), min, avg, max);
        let chunks = chunks(c).collect::<io::Result<Vec<_>>>().unwrap();
        if min < 16 {
            prop_assert!(chunks.len() <= 1);
        }
        check_bounds(&chunks, &data, min, if min < 16 { usize::MAX } else { min.max(max) })?;
    }

    #[test]
    fn size_chunks_concatenate(
        size in 1usize..5000,
        len in 0usize..20000,
        sizes in prop::collection::vec(1usize..7000, 1..6),
    ) {
        let data = pseudo_random(size as u64, len);
        let chunks = all_chunks(&ChunkerSpec::Size(size), &data, &sizes);
        check_bounds(&chunks, &data, size, size)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn buzhash_chunks_concatenate_within_bounds(
        seed in any::<u64>(),
        parts in prop::collection::vec((any::<u8>(), 0usize..400_000), 0..8),
        sizes in prop::collection::vec(1usize..300_000, 1..6),
    ) {
        let data = structured(seed, &parts);
        let chunks = all_chunks(&ChunkerSpec::Buzhash, &data, &[usize::MAX]);
        check_bounds(&chunks, &data, BUZHASH_MIN, BUZHASH_MAX)?;
        prop_assert_eq!(all_chunks(&ChunkerSpec::Buzhash, &data, &sizes), chunks);
    }
}
