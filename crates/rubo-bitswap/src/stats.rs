//! What `bitswap stat`, `bitswap wantlist` and `bitswap ledger` show, with Kubo's JSON names.

use rubo_types::Cid;
use serde::Serialize;
use serde::ser::{SerializeSeq as _, Serializer};

/// `bitswap stat` (Kubo's `bitswap.Stat`).
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Stat {
    pub provide_buf_len: i64,
    #[serde(serialize_with = "cid_links")]
    pub wantlist: Vec<Cid>,
    pub peers: Vec<String>,
    pub blocks_received: u64,
    pub data_received: u64,
    pub dup_blks_received: u64,
    pub dup_data_received: u64,
    pub blocks_sent: u64,
    pub data_sent: u64,
    pub messages_received: u64,
}

/// `bitswap wantlist`: `{"Keys": [{"/": cid}, ...]}`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WantlistInfo {
    #[serde(rename = "Keys", serialize_with = "cid_links")]
    pub keys: Vec<Cid>,
}

/// `bitswap ledger <peer>` (Kubo's `decision.Receipt`).
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct LedgerInfo {
    pub peer: String,
    /// Bytes sent / (bytes received + 1), as Kubo computes its "debt ratio".
    pub value: f64,
    pub sent: u64,
    pub recv: u64,
    pub exchanged: u64,
}

/// CIDs as IPLD links, the way Kubo's JSON shows them.
fn cid_links<S: Serializer>(cids: &[Cid], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Link {
        #[serde(rename = "/")]
        cid: String,
    }
    let mut seq = s.serialize_seq(Some(cids.len()))?;
    for c in cids {
        seq.serialize_element(&Link { cid: c.to_string() })?;
    }
    seq.end()
}
