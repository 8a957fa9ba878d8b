//! The DHT's record store, kept in the repo's datastore as Kubo keeps it (a restart keeps what
//! others asked us to hold). kad calls the store synchronously from the swarm's task, so writes
//! are gathered in a small buffer and committed together (one flush per [`FLUSH_AT`] records or
//! per actor tick), and reads look at the buffer first. Nothing here is cached beyond that
//! buffer: a node holding millions of provider records keeps them on disk, not in memory.
//!
//! Layout under the table's prefix (`/dht/<wan|lan>/`):
//! - `p/<key len u8><key><peer id>` → expiry (unix seconds, u64 BE), then addresses, each
//!   `<len u16 BE><multiaddr bytes>`;
//! - `r/<key>` → expiry (u64 BE), publisher (`<len u8><peer id>`, len 0 for none), value.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::kad::store::{Error, RecordStore, Result};
use libp2p::kad::{ProviderRecord, Record, RecordKey};
use libp2p::{Multiaddr, PeerId};
use rubo_repo::{Batch, Datastore};

/// Buffered writes committed together.
const FLUSH_AT: usize = 4096;
/// Addresses kept per provider record.
const MAX_ADDRS: usize = 32;
/// Longest a record is kept, whatever its expiry says.
const MAX_LIFETIME_SECS: u64 = 7 * 24 * 3600;
/// Longest key taken (multihashes are far shorter; `/pk/` and `/ipns/` keys too).
const MAX_KEY: usize = 255;

/// Limits of one store.
#[derive(Clone, Copy, Debug)]
pub struct StoreLimits {
    pub max_records: usize,
    pub max_value_bytes: usize,
    pub max_providers_per_key: usize,
    /// Provider records (key, provider) held in all.
    pub max_provider_records: u64,
}

/// A kad record store over a [`Datastore`].
pub struct DhtStore {
    ds: Arc<dyn Datastore>,
    prefix: Vec<u8>,
    local: PeerId,
    limits: StoreLimits,
    /// Provider records not yet committed, by datastore key.
    pending: HashMap<Vec<u8>, Vec<u8>>,
    /// Provider records stored (committed and pending), counted at open.
    provider_records: u64,
    records: usize,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// kad's expiry (a monotonic instant) as wall-clock seconds, which survive a restart.
fn to_unix(expires: Option<Instant>) -> u64 {
    match expires {
        None => u64::MAX,
        Some(at) => unix_now().saturating_add(at.saturating_duration_since(Instant::now()).as_secs()),
    }
}

fn to_instant(unix: u64) -> Option<Instant> {
    if unix == u64::MAX {
        return None;
    }
    // A damaged or hostile expiry far in the future must not overflow the clock: no record
    // lives longer than a week in the DHT (Amino: 48 h).
    let left = Duration::from_secs(unix.saturating_sub(unix_now()).min(MAX_LIFETIME_SECS));
    Instant::now().checked_add(left)
}

impl DhtStore {
    /// Opens the store kept under `prefix`, counting what it holds.
    pub(crate) fn open(ds: Arc<dyn Datastore>, prefix: &str, local: PeerId, limits: StoreLimits) -> Self {
        let mut s = Self {
            ds,
            prefix: prefix.as_bytes().to_vec(),
            local,
            limits,
            pending: HashMap::new(),
            provider_records: 0,
            records: 0,
        };
        let (mut p, mut r) = (0u64, 0usize);
        let pp = s.key_prefix(b"p/");
        let _ = s.ds.scan(&pp, &mut |_, _| {
            p += 1;
            ControlFlow::Continue(())
        });
        let rp = s.key_prefix(b"r/");
        let _ = s.ds.scan(&rp, &mut |_, _| {
            r += 1;
            ControlFlow::Continue(())
        });
        s.provider_records = p;
        s.records = r;
        s
    }

    fn key_prefix(&self, kind: &[u8]) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(kind);
        k
    }

    fn provider_prefix(&self, key: &RecordKey) -> Option<Vec<u8>> {
        let key = key.as_ref();
        let len = u8::try_from(key.len()).ok().filter(|l| usize::from(*l) <= MAX_KEY)?;
        let mut k = self.key_prefix(b"p/");
        k.push(len);
        k.extend_from_slice(key);
        Some(k)
    }

    fn record_key(&self, key: &RecordKey) -> Vec<u8> {
        let mut k = self.key_prefix(b"r/");
        k.extend_from_slice(key.as_ref());
        k
    }

    /// Commits buffered writes; called when the buffer fills and on the actor's tick.
    pub(crate) fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut b = Batch::new();
        for (k, v) in self.pending.drain() {
            b.put(k, v);
        }
        if let Err(e) = self.ds.commit(b) {
            // The records are soft state (their providers announce them again); say so loudly.
            tracing::warn!("dht: provider records lost, datastore commit failed: {e}");
        }
    }

    /// Deletes expired records, a bounded number per call; how many were removed.
    pub(crate) fn expire(&mut self, max: usize) -> usize {
        self.flush();
        let now = unix_now();
        let mut dead: Vec<Vec<u8>> = Vec::new();
        let pp = self.key_prefix(b"p/");
        let _ = self.ds.scan(&pp, &mut |k, v| {
            if decode_provider_value(v).is_none_or(|(exp, _)| exp <= now) {
                dead.push(k.to_vec());
            }
            if dead.len() >= max { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        let providers = dead.len();
        let rp = self.key_prefix(b"r/");
        let _ = self.ds.scan(&rp, &mut |k, v| {
            if v.len() < 8 || u64::from_be_bytes(v[..8].try_into().unwrap_or([0; 8])) <= now {
                dead.push(k.to_vec());
            }
            if dead.len() >= max { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        let records = dead.len() - providers;
        if dead.is_empty() {
            return 0;
        }
        let mut b = Batch::new();
        for k in &dead {
            b.delete(k.clone());
        }
        if self.ds.commit(b).is_ok() {
            self.provider_records = self.provider_records.saturating_sub(providers as u64);
            self.records = self.records.saturating_sub(records);
        }
        dead.len()
    }

    /// Provider records held (others' and ours).
    pub(crate) fn provider_records(&self) -> u64 {
        self.provider_records
    }

    /// Value records held.
    pub(crate) fn value_records(&self) -> usize {
        self.records
    }
}

fn encode_provider_value(expires: u64, addrs: &[Multiaddr]) -> Vec<u8> {
    let mut v = expires.to_be_bytes().to_vec();
    for a in addrs.iter().take(MAX_ADDRS) {
        let b = a.to_vec();
        if let Ok(len) = u16::try_from(b.len()) {
            v.extend_from_slice(&len.to_be_bytes());
            v.extend_from_slice(&b);
        }
    }
    v
}

/// Expiry and addresses; `None` for a value this store did not write.
fn decode_provider_value(v: &[u8]) -> Option<(u64, Vec<Multiaddr>)> {
    let exp = u64::from_be_bytes(v.get(..8)?.try_into().ok()?);
    let mut rest = &v[8..];
    let mut addrs = Vec::new();
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?));
        let a = rest.get(2..2 + len)?;
        addrs.push(Multiaddr::try_from(a.to_vec()).ok()?);
        rest = &rest[2 + len..];
    }
    Some((exp, addrs))
}

fn encode_record(r: &Record) -> Vec<u8> {
    let mut v = to_unix(r.expires).to_be_bytes().to_vec();
    match r.publisher {
        Some(p) => {
            let b = p.to_bytes();
            v.push(b.len() as u8);
            v.extend_from_slice(&b);
        }
        None => v.push(0),
    }
    v.extend_from_slice(&r.value);
    v
}

fn decode_record(key: &RecordKey, v: &[u8]) -> Option<Record> {
    let exp = u64::from_be_bytes(v.get(..8)?.try_into().ok()?);
    let plen = usize::from(*v.get(8)?);
    let publisher = match plen {
        0 => None,
        n => Some(PeerId::from_bytes(v.get(9..9 + n)?).ok()?),
    };
    Some(Record { key: key.clone(), value: v.get(9 + plen..)?.to_vec(), publisher, expires: to_instant(exp) })
}

impl RecordStore for DhtStore {
    type RecordsIter<'a> = std::vec::IntoIter<Cow<'a, Record>>;
    type ProvidedIter<'a> = std::vec::IntoIter<Cow<'a, ProviderRecord>>;

    fn get(&self, k: &RecordKey) -> Option<Cow<'_, Record>> {
        let v = self.ds.get(&self.record_key(k)).ok()??;
        let r = decode_record(k, &v)?;
        // Expired records are as good as gone (the periodic sweep deletes them).
        if r.expires.is_some_and(|at| at <= Instant::now()) {
            return None;
        }
        Some(Cow::Owned(r))
    }

    fn put(&mut self, r: Record) -> Result<()> {
        if r.value.len() > self.limits.max_value_bytes {
            return Err(Error::ValueTooLarge);
        }
        let key = self.record_key(&r.key);
        let new = !self.ds.has(&key).unwrap_or(false);
        if new && self.records >= self.limits.max_records {
            return Err(Error::MaxRecords);
        }
        self.ds.put(&key, &encode_record(&r)).map_err(|_| Error::MaxRecords)?;
        if new {
            self.records += 1;
        }
        Ok(())
    }

    fn remove(&mut self, k: &RecordKey) {
        let key = self.record_key(k);
        if self.ds.has(&key).unwrap_or(false) && self.ds.delete(&key).is_ok() {
            self.records = self.records.saturating_sub(1);
        }
    }

    fn records(&self) -> Self::RecordsIter<'_> {
        // Only for kad's re-publication, which is off (Kubo does not re-put others' records).
        let mut out = Vec::new();
        let rp = self.key_prefix(b"r/");
        let _ = self.ds.scan(&rp, &mut |k, v| {
            let key = RecordKey::new(&&k[rp.len()..]);
            if let Some(r) = decode_record(&key, v) {
                out.push(Cow::Owned(r));
            }
            if out.len() >= self.limits.max_records { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        out.into_iter()
    }

    fn add_provider(&mut self, record: ProviderRecord) -> Result<()> {
        let Some(mut dk) = self.provider_prefix(&record.key) else { return Err(Error::ValueTooLarge) };
        let per_key = dk.clone();
        dk.extend_from_slice(&record.provider.to_bytes());
        let known = self.pending.contains_key(&dk) || self.ds.has(&dk).unwrap_or(false);
        if !known {
            if self.provider_records >= self.limits.max_provider_records {
                return Err(Error::MaxProvidedKeys);
            }
            if self.count_providers(&per_key) >= self.limits.max_providers_per_key {
                return Err(Error::MaxProvidedKeys);
            }
            self.provider_records += 1;
        }
        self.pending.insert(dk, encode_provider_value(to_unix(record.expires), &record.addresses));
        if self.pending.len() >= FLUSH_AT {
            self.flush();
        }
        Ok(())
    }

    fn providers(&self, key: &RecordKey) -> Vec<ProviderRecord> {
        let Some(pk) = self.provider_prefix(key) else { return Vec::new() };
        let now = unix_now();
        let mut found: HashMap<Vec<u8>, (u64, Vec<Multiaddr>)> = HashMap::new();
        let _ = self.ds.scan(&pk, &mut |k, v| {
            if let Some(d) = decode_provider_value(v) {
                found.insert(k.to_vec(), d);
            }
            if found.len() > self.limits.max_providers_per_key * 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        for (k, v) in self.pending.iter().filter(|(k, _)| k.starts_with(&pk)) {
            if let Some(d) = decode_provider_value(v) {
                found.insert(k.clone(), d);
            }
        }
        found
            .into_iter()
            .filter(|(_, (exp, _))| *exp > now)
            .filter_map(|(k, (exp, addresses))| {
                let provider = PeerId::from_bytes(&k[pk.len()..]).ok()?;
                Some(ProviderRecord { key: key.clone(), provider, expires: to_instant(exp), addresses })
            })
            .take(self.limits.max_providers_per_key)
            .collect()
    }

    fn provided(&self) -> Self::ProvidedIter<'_> {
        // Only for kad's own re-providing, which is off: the node's provider module announces
        // (and sweeps) what this node holds.
        let _ = self.local;
        Vec::new().into_iter()
    }

    fn remove_provider(&mut self, k: &RecordKey, p: &PeerId) {
        let Some(mut dk) = self.provider_prefix(k) else { return };
        dk.extend_from_slice(&p.to_bytes());
        let was_pending = self.pending.remove(&dk).is_some();
        let stored = self.ds.has(&dk).unwrap_or(false);
        if stored {
            let _ = self.ds.delete(&dk);
        }
        if was_pending || stored {
            self.provider_records = self.provider_records.saturating_sub(1);
        }
    }
}

impl DhtStore {
    fn count_providers(&self, per_key: &[u8]) -> usize {
        let mut n = self.pending.keys().filter(|k| k.starts_with(per_key)).count();
        let cap = self.limits.max_providers_per_key;
        let _ = self.ds.scan(per_key, &mut |_, _| {
            n += 1;
            if n >= cap { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        });
        n
    }
}

/// Fuzzing entry (rubo-fuzz `dht_store`): a store whose datastore holds `data` as provider and
/// value records (a damaged repo) answers, expires and lists without panicking.
#[doc(hidden)]
pub fn fuzz_store(data: &[u8]) {
    let ds: Arc<dyn Datastore> = Arc::new(rubo_repo::MemDatastore::new());
    let key = RecordKey::new(&b"k");
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (a, b) = data.split_at(split);
    let mut batch = Batch::new();
    let peer = PeerId::random();
    let mut pk = b"/dht/lan/p/\x01k".to_vec();
    pk.extend_from_slice(&peer.to_bytes());
    batch.put(pk, a.to_vec());
    // A key of arbitrary bytes after the prefix: not a valid peer id, or not even a length.
    let mut odd = b"/dht/lan/p/".to_vec();
    odd.extend_from_slice(b);
    batch.put(odd, b.to_vec());
    batch.put(b"/dht/lan/r/k".to_vec(), b.to_vec());
    if ds.commit(batch).is_err() {
        return;
    }
    let limits = StoreLimits { max_records: 4, max_value_bytes: 64, max_providers_per_key: 3, max_provider_records: 8 };
    let mut s = DhtStore::open(ds, "/dht/lan/", PeerId::random(), limits);
    let got = s.providers(&key);
    assert!(got.len() <= limits.max_providers_per_key);
    let _ = s.get(&key);
    let _ = s.records().count();
    let _ = s.expire(16);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_repo::MemDatastore;

    fn limits() -> StoreLimits {
        StoreLimits { max_records: 4, max_value_bytes: 64, max_providers_per_key: 3, max_provider_records: 10 }
    }

    fn prov(key: &[u8], peer: PeerId, secs: u64) -> ProviderRecord {
        ProviderRecord {
            key: RecordKey::new(&key),
            provider: peer,
            expires: Some(Instant::now() + Duration::from_secs(secs)),
            addresses: vec!["/ip4/127.0.0.1/tcp/4001".parse().expect("addr")],
        }
    }

    #[test]
    fn provider_records_survive_reopening_and_respect_limits() {
        let ds: Arc<dyn Datastore> = Arc::new(MemDatastore::new());
        let local = PeerId::random();
        let mut s = DhtStore::open(ds.clone(), "/dht/lan/", local, limits());
        let key = b"some-multihash".to_vec();
        let peers: Vec<PeerId> = (0..4).map(|_| PeerId::random()).collect();
        for p in &peers[..3] {
            s.add_provider(prov(&key, *p, 3600)).expect("room for three");
        }
        // Seen before the flush, from the buffer.
        assert_eq!(s.providers(&RecordKey::new(&key)).len(), 3);
        assert!(s.add_provider(prov(&key, peers[3], 3600)).is_err(), "a fourth provider of one key is refused");
        // The same provider again is an update, not a new record.
        s.add_provider(prov(&key, peers[0], 7200)).expect("update");
        s.flush();
        let again = DhtStore::open(ds, "/dht/lan/", local, limits());
        let got = again.providers(&RecordKey::new(&key));
        assert_eq!(got.len(), 3);
        assert_eq!(again.provider_records(), 3);
        assert!(got.iter().all(|r| r.addresses == vec!["/ip4/127.0.0.1/tcp/4001".parse::<Multiaddr>().expect("a")]));
        let mut ids: Vec<PeerId> = got.iter().map(|r| r.provider).collect();
        ids.sort();
        let mut want = peers[..3].to_vec();
        want.sort();
        assert_eq!(ids, want);
    }

    #[test]
    fn expired_records_are_not_served_and_are_swept() {
        let ds: Arc<dyn Datastore> = Arc::new(MemDatastore::new());
        let mut s = DhtStore::open(ds, "/dht/wan/", PeerId::random(), limits());
        let p = PeerId::random();
        let mut old = prov(b"k1", p, 0);
        old.expires = Some(Instant::now());
        s.add_provider(old).expect("add");
        s.add_provider(prov(b"k2", p, 3600)).expect("add");
        assert!(s.providers(&RecordKey::new(&b"k1")).is_empty());
        assert_eq!(s.expire(100), 1);
        assert_eq!(s.provider_records(), 1);
        assert_eq!(s.providers(&RecordKey::new(&b"k2")).len(), 1);
    }

    #[test]
    fn value_records_round_trip_and_are_capped() {
        let ds: Arc<dyn Datastore> = Arc::new(MemDatastore::new());
        let mut s = DhtStore::open(ds.clone(), "/dht/wan/", PeerId::random(), limits());
        let publisher = PeerId::random();
        let mut r = Record::new(b"/pk/a".to_vec(), b"value".to_vec());
        r.publisher = Some(publisher);
        r.expires = Some(Instant::now() + Duration::from_secs(60));
        s.put(r.clone()).expect("put");
        let got = s.get(&r.key).expect("stored");
        assert_eq!((got.value.as_slice(), got.publisher), (&b"value"[..], Some(publisher)));
        assert!(matches!(s.put(Record::new(b"/pk/b".to_vec(), vec![0; 65])), Err(Error::ValueTooLarge)));
        for i in 0..3 {
            s.put(Record::new(format!("/pk/{i}").into_bytes(), vec![1])).expect("room");
        }
        assert!(matches!(s.put(Record::new(b"/pk/z".to_vec(), vec![1])), Err(Error::MaxRecords)));
        let reopened = DhtStore::open(ds, "/dht/wan/", PeerId::random(), limits());
        assert_eq!(reopened.value_records(), 4);
        assert!(reopened.get(&RecordKey::new(&b"/pk/a")).is_some());
    }

    #[test]
    fn foreign_bytes_in_the_datastore_are_skipped() {
        assert!(decode_provider_value(&[1, 2, 3]).is_none());
        assert!(decode_provider_value(&[0, 0, 0, 0, 0, 0, 0, 9, 0, 200, 1]).is_none());
        assert!(decode_record(&RecordKey::new(&b"k"), &[0; 8]).is_none());
        assert!(decode_record(&RecordKey::new(&b"k"), &[0, 0, 0, 0, 0, 0, 0, 1, 40, 1]).is_none());
    }
}
