//! Reproviding by sweeping the keyspace, as Kubo's "sweep" provider (v0.38+) does, so that a
//! node holding millions of blocks re-announces them in time and in little memory.
//!
//! One lookup per key (the naive way) costs a DHT walk of ~10 requests for each CID. But the k
//! closest peers of keys that share a long enough prefix are the same peers: the peers of the
//! smallest keyspace region around them that holds at least k peers. So:
//! 1. the keys to announce are kept on disk sorted by their DHT key (SHA-256 of the multihash:
//!    the [`Keystore`]);
//! 2. the network is explored by lookups aimed at keyspace prefixes (a prefix whose lookup
//!    comes back full of peers inside it is split in two), which finds every peer of a region
//!    with a number of lookups that grows with the network's size, not with the number of keys;
//! 3. regions (prefixes with at least k peers) are swept in keyspace order: each key goes to
//!    the k peers of its region closest to it, each peer receiving all its keys as a run of
//!    ADD_PROVIDER messages on one stream.
//!
//! Progress (the keyspace position reached in the current cycle) is saved after each region:
//! a restart resumes where it stopped instead of starting over.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_net::{DhtNet, NetHandle};
use rubo_repo::{Batch, Datastore};
use rubo_types::Multihash;
use tokio::sync::mpsc;

use crate::NodeError;

/// Keys to provide: `/provider/keys/<DHT key, 32 bytes>` → generation (u32 BE) + multihash.
const KEYS: &[u8] = b"/provider/keys/";
/// The sweep's progress, see [`SweepState`].
const STATE: &[u8] = b"/provider/sweep/state";
/// Kademlia's k (Amino: 20): peers each key is sent to.
pub const K: usize = 20;
/// Deepest prefix explored (2^24 regions: more than any network has peers).
const MAX_DEPTH: u16 = 24;
/// Keys committed to the keystore at once.
const BATCH: usize = 16_384;
/// Keys waiting per peer while a region is sent.
const PEER_QUEUE: usize = 1024;
/// Peers of one region written to at once.
const PEERS_AT_ONCE: usize = 32;
/// How long one region's peers may take to accept its keys.
const REGION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A position in the DHT keyspace.
pub type KadKey = [u8; 32];

/// Where a multihash (or peer id) sits in the keyspace: SHA-256 of its bytes, as Kademlia has it.
pub fn kad_key(bytes: &[u8]) -> KadKey {
    let mh = rubo_types::hash::sha2_256(bytes);
    let mut k = [0u8; 32];
    k.copy_from_slice(&mh.digest()[..32]);
    k
}

fn bit(k: &KadKey, i: u16) -> bool {
    k[usize::from(i / 8)] & (0x80 >> (i % 8)) != 0
}

/// The keys sharing their first `len` bits with `bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    bits: KadKey,
    len: u16,
}

impl Prefix {
    pub const ROOT: Prefix = Prefix { bits: [0; 32], len: 0 };

    pub fn contains(&self, k: &KadKey) -> bool {
        (0..self.len).all(|i| bit(k, i) == bit(&self.bits, i))
    }

    fn child(&self, one: bool) -> Prefix {
        let mut bits = self.bits;
        if one {
            bits[usize::from(self.len / 8)] |= 0x80 >> (self.len % 8);
        }
        Prefix { bits, len: self.len + 1 }
    }

    /// The first key of the region.
    pub fn start(&self) -> KadKey {
        self.bits
    }

    /// The first key after the region (`None` past the end of the keyspace).
    pub fn end(&self) -> Option<KadKey> {
        if self.len == 0 {
            return None;
        }
        // Add one at the prefix's last bit, carrying.
        let mut k = self.bits;
        let mut i = self.len - 1;
        loop {
            let (byte, mask) = (usize::from(i / 8), 0x80u8 >> (i % 8));
            if k[byte] & mask == 0 {
                k[byte] |= mask;
                return Some(k);
            }
            k[byte] &= !mask;
            if i == 0 {
                return None;
            }
            i -= 1;
        }
    }

    /// A lookup target inside the region: a preimage whose DHT key has this prefix (found by
    /// trying, 2^len tries on average; `len` stays small).
    fn target(&self, seed: &mut u64) -> Vec<u8> {
        loop {
            *seed = seed.wrapping_add(1);
            let pre = seed.to_be_bytes().to_vec();
            if self.contains(&kad_key(&pre)) {
                return pre;
            }
        }
    }

    /// The position of the region's start in the keyspace, from 0 to 1.
    fn fraction(&self) -> f64 {
        let mut x = 0f64;
        for (i, b) in self.bits[..8].iter().enumerate() {
            x += f64::from(*b) / 256f64.powi(i as i32 + 1);
        }
        x
    }
}

/// A peer found by exploring, with where it sits in the keyspace.
#[derive(Clone, Debug)]
pub struct RegionPeer {
    pub id: PeerId,
    pub key: KadKey,
    pub addrs: Vec<Multiaddr>,
}

/// The keys to provide, on disk, in keyspace order.
#[derive(Clone)]
pub struct Keystore {
    ds: Arc<dyn Datastore>,
}

/// A walk of the keys to provide: hands each to the callback until it returns false.
pub type Walk<'a> = dyn FnMut(&mut dyn FnMut(Multihash) -> bool) + 'a;

/// Figures of one sweep, for `provide stat` and the benchmark.
#[derive(Clone, Debug, Default)]
pub struct SweepReport {
    pub regions: u64,
    pub lookups: u64,
    pub peers: u64,
    pub keys: u64,
    /// ADD_PROVIDER messages written.
    pub messages: u64,
    /// Peers a region's keys could not be sent to.
    pub failed_peers: u64,
}

impl Keystore {
    pub fn new(ds: Arc<dyn Datastore>) -> Self {
        Self { ds }
    }

    /// Replaces the keys with what `walk` yields (streamed, committed in batches): entries of an
    /// earlier generation left over are deleted afterwards. How many keys it holds.
    pub fn rebuild(&self, walk: &mut Walk<'_>) -> Result<u64, NodeError> {
        let generation = self.generation().wrapping_add(1);
        let mut batch = Batch::new();
        let mut err = None;
        let mut n = 0u64;
        walk(&mut |mh| {
            let bytes = mh.to_bytes();
            let mut k = KEYS.to_vec();
            k.extend_from_slice(&kad_key(&bytes));
            let mut v = generation.to_be_bytes().to_vec();
            v.extend_from_slice(&bytes);
            batch.put(k, v);
            n += 1;
            if batch.len() >= BATCH
                && let Err(e) = self.ds.commit(std::mem::take(&mut batch))
            {
                err = Some(e);
                return false;
            }
            true
        });
        if let Some(e) = err {
            return Err(NodeError::Internal(format!("provider keystore: {e}")));
        }
        self.commit(batch)?;
        // Keys not seen this time (blocks removed since) go.
        let mut stale = Batch::new();
        let mut stale_batches = Vec::new();
        self.ds
            .scan(KEYS, &mut |k, v| {
                if v.get(..4).is_none_or(|g| g != generation.to_be_bytes()) {
                    stale.delete(k.to_vec());
                    if stale.len() >= BATCH {
                        stale_batches.push(std::mem::take(&mut stale));
                    }
                }
                ControlFlow::Continue(())
            })
            .map_err(|e| NodeError::Internal(format!("provider keystore: {e}")))?;
        stale_batches.push(stale);
        for b in stale_batches {
            self.commit(b)?;
        }
        let mut gen_key = STATE.to_vec();
        gen_key.extend_from_slice(b"/generation");
        self.ds
            .put(&gen_key, &generation.to_be_bytes())
            .map_err(|e| NodeError::Internal(format!("provider keystore: {e}")))?;
        Ok(n)
    }

    fn commit(&self, b: Batch) -> Result<(), NodeError> {
        self.ds.commit(b).map_err(|e| NodeError::Internal(format!("provider keystore: {e}")))
    }

    fn generation(&self) -> u32 {
        let mut gen_key = STATE.to_vec();
        gen_key.extend_from_slice(b"/generation");
        self.ds
            .get(&gen_key)
            .ok()
            .flatten()
            .and_then(|v| v.get(..4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes))
            .unwrap_or(0)
    }

    /// Streams the keys of `region` from `from` on, in order, in chunks, from a blocking thread.
    fn stream(&self, region: Prefix, from: KadKey) -> mpsc::Receiver<Vec<(KadKey, Vec<u8>)>> {
        let (tx, rx) = mpsc::channel(4);
        let ds = self.ds.clone();
        tokio::task::spawn_blocking(move || {
            let mut start = KEYS.to_vec();
            start.extend_from_slice(&from.max(region.start()));
            let mut chunk = Vec::with_capacity(256);
            let _ = ds.scan_from(KEYS, &start, &mut |k, v| {
                let Some(key) = k.get(KEYS.len()..).and_then(|b| KadKey::try_from(b).ok()) else {
                    return ControlFlow::Continue(());
                };
                if !region.contains(&key) {
                    return ControlFlow::Break(());
                }
                if let Some(mh) = v.get(4..) {
                    chunk.push((key, mh.to_vec()));
                }
                if chunk.len() >= 256 && tx.blocking_send(std::mem::take(&mut chunk)).is_err() {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
            if !chunk.is_empty() {
                let _ = tx.blocking_send(chunk);
            }
        });
        rx
    }
}

/// Where a cycle stands, saved after each region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepState {
    /// Unix seconds the cycle began.
    pub cycle_start: u64,
    /// Keys below this position are done this cycle (`None`: the cycle is complete).
    pub next: Option<KadKey>,
}

impl SweepState {
    pub fn load(ds: &dyn Datastore, table: DhtNet) -> Option<SweepState> {
        let v = ds.get(&state_key(table)).ok()??;
        let cycle_start = u64::from_be_bytes(v.get(..8)?.try_into().ok()?);
        let next = match v.get(8..) {
            Some(k) if k.len() == 32 => Some(KadKey::try_from(k).ok()?),
            _ => None,
        };
        Some(SweepState { cycle_start, next })
    }

    pub fn save(&self, ds: &dyn Datastore, table: DhtNet) -> Result<(), NodeError> {
        let mut v = self.cycle_start.to_be_bytes().to_vec();
        if let Some(n) = self.next {
            v.extend_from_slice(&n);
        }
        ds.put(&state_key(table), &v).map_err(|e| NodeError::Internal(format!("provider state: {e}")))
    }
}

fn state_key(table: DhtNet) -> Vec<u8> {
    let mut k = STATE.to_vec();
    k.push(b'/');
    k.extend_from_slice(table.name().as_bytes());
    k
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Every peer of `region` in `table`, by lookups aimed inside it (see the module's comment).
pub async fn explore(
    net: &NetHandle,
    table: DhtNet,
    region: Prefix,
    report: &mut SweepReport,
) -> Result<Vec<RegionPeer>, NodeError> {
    let mut seed = unix_now().wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut found: std::collections::HashMap<PeerId, RegionPeer> = std::collections::HashMap::new();
    let mut todo = vec![region];
    let mut any = false;
    while let Some(p) = todo.pop() {
        report.lookups += 1;
        let peers = match net.dht_closest_peers_on(table, p.target(&mut seed)).await {
            Ok(peers) => peers,
            Err(e) => {
                if any {
                    continue;
                }
                return Err(NodeError::InvalidInput(format!("reprovide: lookup failed: {e}")));
            }
        };
        any = true;
        let mut inside = 0;
        for d in peers {
            let key = kad_key(&d.id.to_bytes());
            if p.contains(&key) {
                inside += 1;
            }
            let e = found.entry(d.id).or_insert(RegionPeer { id: d.id, key, addrs: Vec::new() });
            for a in d.addrs {
                if !e.addrs.contains(&a) {
                    e.addrs.push(a);
                }
            }
        }
        // A lookup that came back with k peers inside the prefix may not have seen all of them.
        if inside >= K && p.len < MAX_DEPTH {
            todo.push(p.child(false));
            todo.push(p.child(true));
        }
    }
    Ok(found.into_values().filter(|p| region.contains(&p.key)).collect())
}

/// Splits the keyspace into regions of at least `K` peers each (the whole keyspace when the
/// network is smaller), in keyspace order.
pub fn plan(peers: &[RegionPeer]) -> Vec<Prefix> {
    fn go(p: Prefix, peers: &[&RegionPeer], out: &mut Vec<Prefix>) {
        let (zero, one): (Vec<&RegionPeer>, Vec<&RegionPeer>) =
            peers.iter().partition(|r| !p.child(true).contains(&r.key));
        if p.len < MAX_DEPTH && zero.len() >= K && one.len() >= K {
            go(p.child(false), &zero, out);
            go(p.child(true), &one, out);
        } else {
            out.push(p);
        }
    }
    let all: Vec<&RegionPeer> = peers.iter().collect();
    let mut out = Vec::new();
    go(Prefix::ROOT, &all, &mut out);
    out
}

/// The `K` peers of `candidates` closest to `key` (indexes).
fn closest(key: &KadKey, candidates: &[RegionPeer], out: &mut Vec<usize>) {
    let mut d: Vec<(KadKey, usize)> = candidates
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut x = [0u8; 32];
            for (j, b) in x.iter_mut().enumerate() {
                *b = key[j] ^ p.key[j];
            }
            (x, i)
        })
        .collect();
    let n = K.min(d.len());
    if n < d.len() {
        d.select_nth_unstable(n - 1);
    }
    out.clear();
    out.extend(d[..n].iter().map(|(_, i)| *i));
}

/// Sends the keys of `region` (from `from` on) to its peers: each key to its `K` closest.
#[allow(clippy::too_many_arguments)] // One call site; a struct would only rename them.
pub async fn send_region(
    net: &NetHandle,
    table: DhtNet,
    keystore: &Keystore,
    region: Prefix,
    from: KadKey,
    peers: &[RegionPeer],
    my_addrs: &[Multiaddr],
    report: &mut SweepReport,
) {
    // One writer task per peer, fed through a bounded queue: a slow peer slows the sweep, a
    // dead one is dropped (its queue closes) and the others go on.
    let mut queues: Vec<Option<mpsc::Sender<Vec<u8>>>> = Vec::with_capacity(peers.len());
    let mut tasks = Vec::with_capacity(peers.len());
    let slots = Arc::new(tokio::sync::Semaphore::new(PEERS_AT_ONCE));
    for p in peers {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(PEER_QUEUE);
        queues.push(Some(tx));
        let (net, p, addrs, slots) = (net.clone(), p.clone(), my_addrs.to_vec(), slots.clone());
        tasks.push(tokio::spawn(async move {
            // Nothing is opened for a peer that gets no keys.
            let Some(first) = rx.recv().await else { return Ok(0) };
            let _slot = slots.acquire_owned().await;
            let work = async {
                let mut sink = net.dht_provider_sink(table, p.id, &p.addrs, addrs).await?;
                sink.push(&first).await?;
                while let Some(k) = rx.recv().await {
                    sink.push(&k).await?;
                }
                sink.finish().await
            };
            match tokio::time::timeout(REGION_TIMEOUT, work).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err("timed out".to_string()),
            }
        }));
    }
    let mut chunks = keystore.stream(region, from);
    let mut pick = Vec::with_capacity(K);
    while let Some(chunk) = chunks.recv().await {
        for (key, mh) in chunk {
            report.keys += 1;
            closest(&key, peers, &mut pick);
            for &i in &pick {
                if let Some(q) = &queues[i]
                    && q.send(mh.clone()).await.is_err()
                {
                    queues[i] = None;
                }
            }
        }
    }
    drop(queues);
    for (t, p) in tasks.into_iter().zip(peers) {
        match t.await {
            Ok(Ok(n)) => report.messages += n as u64,
            Ok(Err(e)) => {
                tracing::debug!(peer = %p.id, "reprovide: {e}");
                report.failed_peers += 1;
            }
            Err(_) => report.failed_peers += 1,
        }
    }
}

/// Pacing of a cycle: region by region over `interval` from `cycle_start`, or all at once.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    Now,
    Spread { interval: Duration },
}

/// One sweep of `table` through the keystore, resuming at `state.next`, saving progress after
/// each region to `ds`. Peers found by one exploration serve every region swept within
/// ten minutes of it; later regions are explored again first.
pub async fn sweep(
    net: &NetHandle,
    table: DhtNet,
    keystore: &Keystore,
    mut state: SweepState,
    pace: Pace,
    report: &mut SweepReport,
) -> Result<(), NodeError> {
    let Some(from) = state.next else { return Ok(()) };
    let my_addrs = net.announced_addrs().await.map_err(|e| NodeError::Internal(e.to_string()))?;
    let mut peers = explore(net, table, Prefix::ROOT, report).await?;
    let mut explored_at = Instant::now();
    if peers.is_empty() {
        return Err(NodeError::InvalidInput("reprovide: no DHT peers".into()));
    }
    report.peers = peers.len() as u64;
    let regions = plan(&peers);
    for region in regions {
        if region.end().is_some_and(|end| end <= from) {
            continue;
        }
        if let Pace::Spread { interval } = pace {
            let due = state.cycle_start as f64 + region.fraction() * interval.as_secs_f64();
            let wait = due - SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
            if wait > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
            }
        }
        if explored_at.elapsed() > Duration::from_secs(600) {
            let fresh = explore(net, table, region, report).await?;
            peers.retain(|p| !region.contains(&p.key));
            peers.extend(fresh);
            explored_at = Instant::now();
        }
        let mut members: Vec<RegionPeer> = peers.iter().filter(|p| region.contains(&p.key)).cloned().collect();
        if members.len() < K {
            // A network smaller than k: every peer is among the closest of every key.
            members = peers.clone();
        }
        report.regions += 1;
        send_region(net, table, keystore, region, from, &members, &my_addrs, report).await;
        state.next = region.end();
        state.save(&*keystore.ds, table)?;
    }
    state.next = None;
    state.save(&*keystore.ds, table)
}

/// Starts a new cycle's state (position 0, now).
pub fn new_cycle() -> SweepState {
    SweepState { cycle_start: unix_now(), next: Some([0; 32]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_with(first: u8) -> KadKey {
        let mut k = [0u8; 32];
        k[0] = first;
        k
    }

    #[test]
    fn prefixes_cover_their_range() {
        let p = Prefix::ROOT.child(true).child(false); // 10...
        assert!(p.contains(&key_with(0b1000_0000)));
        assert!(p.contains(&key_with(0b1011_1111)));
        assert!(!p.contains(&key_with(0b1100_0000)));
        assert_eq!(p.start(), key_with(0b1000_0000));
        assert_eq!(p.end(), Some(key_with(0b1100_0000)));
        assert_eq!(Prefix::ROOT.child(true).end(), None, "the last region ends the keyspace");
        assert_eq!(Prefix::ROOT.end(), None);
        assert!((p.fraction() - 0.5).abs() < 1e-9);
        let mut seed = 0;
        let t = p.target(&mut seed);
        assert!(p.contains(&kad_key(&t)));
    }

    #[test]
    fn kad_keys_are_sha256() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(kad_key(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf],);
    }

    fn peer_at(first: u8) -> RegionPeer {
        RegionPeer { id: PeerId::random(), key: key_with(first), addrs: Vec::new() }
    }

    #[test]
    fn regions_hold_at_least_k_peers() {
        // 20 peers under 0..., 25 under 10..., 5 under 11...: "0" is a region; "1" cannot split.
        let mut peers: Vec<RegionPeer> = (0..20).map(peer_at).collect();
        peers.extend((0..25).map(|i| peer_at(0x80 | i)));
        peers.extend((0..5).map(|i| peer_at(0xc0 | i)));
        let r = plan(&peers);
        assert_eq!(r, vec![Prefix::ROOT.child(false), Prefix::ROOT.child(true)]);
        assert_eq!(plan(&peers[..30]), vec![Prefix::ROOT], "fewer than k on one side: no split");
    }

    #[test]
    fn keys_go_to_their_k_closest_peers() {
        let peers: Vec<RegionPeer> = (0..40u8).map(|i| peer_at(i * 6)).collect();
        let mut pick = Vec::new();
        closest(&key_with(0), &peers, &mut pick);
        let mut got: Vec<u8> = pick.iter().map(|&i| peers[i].key[0]).collect();
        got.sort();
        // XOR distance to 0 is the value itself: the 20 smallest first bytes.
        let want: Vec<u8> = (0..20u8).map(|i| i * 6).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn keystore_streams_a_region_in_order_and_forgets_removed_keys() {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
        let ds: Arc<dyn Datastore> = Arc::new(rubo_repo::MemDatastore::new());
        let ks = Keystore::new(ds.clone());
        let mhs: Vec<Multihash> = (0..500u32).map(|i| rubo_types::hash::sha2_256(&i.to_le_bytes())).collect();
        let n = ks
            .rebuild(&mut |each| {
                for m in &mhs {
                    if !each(*m) {
                        return;
                    }
                }
            })
            .expect("rebuild");
        assert_eq!(n, 500);
        // Again without the first 100: they go.
        ks.rebuild(&mut |each| {
            for m in &mhs[100..] {
                if !each(*m) {
                    return;
                }
            }
        })
        .expect("rebuild");
        let region = Prefix::ROOT.child(true);
        let got: Vec<(KadKey, Vec<u8>)> = rt.block_on(async {
            let mut rx = ks.stream(region, [0; 32]);
            let mut all = Vec::new();
            while let Some(c) = rx.recv().await {
                all.extend(c);
            }
            all
        });
        let mut want: Vec<(KadKey, Vec<u8>)> = mhs[100..]
            .iter()
            .map(|m| (kad_key(&m.to_bytes()), m.to_bytes()))
            .filter(|(k, _)| k[0] & 0x80 != 0)
            .collect();
        want.sort();
        assert_eq!(got, want);
        assert!(!got.is_empty());
    }

    #[test]
    fn state_round_trips_per_table() {
        let ds = rubo_repo::MemDatastore::new();
        let s = SweepState { cycle_start: 42, next: Some(key_with(7)) };
        s.save(&ds, DhtNet::Lan).expect("save");
        assert_eq!(SweepState::load(&ds, DhtNet::Lan), Some(s));
        assert_eq!(SweepState::load(&ds, DhtNet::Wan), None);
        let done = SweepState { cycle_start: 42, next: None };
        done.save(&ds, DhtNet::Lan).expect("save");
        assert_eq!(SweepState::load(&ds, DhtNet::Lan), Some(done));
    }
}
