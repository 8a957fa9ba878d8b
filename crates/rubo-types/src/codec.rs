//! IPLD multicodecs: the codes, their go-multicodec names, and which ones rubo decodes.

pub const IDENTITY: u64 = 0x00;
pub const CBOR: u64 = 0x51;
pub const RAW: u64 = 0x55;
pub const DAG_PB: u64 = 0x70;
pub const DAG_CBOR: u64 = 0x71;
pub const LIBP2P_KEY: u64 = 0x72;
pub const GIT_RAW: u64 = 0x78;
pub const DAG_JOSE: u64 = 0x85;
pub const DAG_COSE: u64 = 0x86;
pub const DAG_JSON: u64 = 0x0129;
pub const JSON: u64 = 0x0200;

/// IPLD codecs of the multicodec table (tag `ipld`), by code, as go-multicodec names them.
pub const IPLD_CODECS: &[(u64, &str)] = &[
    (0x51, "cbor"),
    (0x55, "raw"),
    (0x70, "dag-pb"),
    (0x71, "dag-cbor"),
    (0x72, "libp2p-key"),
    (0x78, "git-raw"),
    (0x7b, "torrent-info"),
    (0x7c, "torrent-file"),
    (0x80, "blake3-hashseq"),
    (0x81, "leofcoin-block"),
    (0x82, "leofcoin-tx"),
    (0x83, "leofcoin-pr"),
    (0x85, "dag-jose"),
    (0x86, "dag-cose"),
    (0x90, "eth-block"),
    (0x91, "eth-block-list"),
    (0x92, "eth-tx-trie"),
    (0x93, "eth-tx"),
    (0x94, "eth-tx-receipt-trie"),
    (0x95, "eth-tx-receipt"),
    (0x96, "eth-state-trie"),
    (0x97, "eth-account-snapshot"),
    (0x98, "eth-storage-trie"),
    (0x99, "eth-receipt-log-trie"),
    (0x9a, "eth-receipt-log"),
    (0xb0, "bitcoin-block"),
    (0xb1, "bitcoin-tx"),
    (0xb2, "bitcoin-witness-commitment"),
    (0xc0, "zcash-block"),
    (0xc1, "zcash-tx"),
    (0xd0, "stellar-block"),
    (0xd1, "stellar-tx"),
    (0xe0, "decred-block"),
    (0xe1, "decred-tx"),
    (0xf0, "dash-block"),
    (0xf1, "dash-tx"),
    (0xfa, "swarm-manifest"),
    (0xfb, "swarm-feed"),
    (0xfc, "beeson"),
    (0x129, "dag-json"),
    (0x1f0, "swhid-1-snp"),
    (0x200, "json"),
    (0xb403, "rdfc-1"),
    (0xb601, "json-jcs"),
];

/// Codecs rubo can decode and validate, besides accepting any IPLD code in CIDs.
/// (`cid codecs --supported`; Kubo also lists its git-raw and dag-jose plugins.)
pub const SUPPORTED: &[u64] = &[CBOR, RAW, DAG_PB, DAG_CBOR, LIBP2P_KEY, DAG_JSON, JSON];

/// go-multicodec's name for an IPLD code.
pub fn name_of(code: u64) -> Option<&'static str> {
    IPLD_CODECS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The code for a codec name, or a number (`85`, `0x55`) as go-multicodec's
/// `Code.Set` accepts. Also accepts `identity`, a multicodec that is not IPLD.
pub fn code_of(name: &str) -> Option<u64> {
    if name == "identity" {
        return Some(IDENTITY);
    }
    if let Some((c, _)) = IPLD_CODECS.iter().find(|(_, n)| *n == name) {
        return Some(*c);
    }
    let num = match name.strip_prefix("0x").or_else(|| name.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => name.parse::<u64>().ok()?,
    };
    let reserved = (0x30_0000..=0x3f_ffff).contains(&num);
    (reserved || name_of(num).is_some()).then_some(num)
}

/// A printable name: the table's, or the hex code.
pub fn display_name(code: u64) -> String {
    name_of(code).map_or_else(|| format!("codec {code:#x}"), str::to_string)
}
