//! Announcing what this node holds to the DHT (Kubo's `Provide.*`).
//!
//! What is announced is `Provide.Strategy` ([`Strategy`]). New content is queued as it appears
//! (blocks as they are stored with `all`, Kubo's default; pins as they are made with `pinned` and
//! `roots`; MFS changes with `mfs`) and announced by a few workers (`Provide.DHT.MaxWorkers`);
//! everything is announced again every `Provide.DHT.Interval`. The queue of new content
//! ([`ProvideQueue`]) is bounded: what does not fit is counted and left for the next reprovide
//! rather than held in memory; `provide clear` empties it.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use rubo_net::NetHandle;
use rubo_types::{Block, Multihash};
use serde_json::Value;
use tokio::sync::{Notify, Semaphore, mpsc};

use crate::NodeError;

/// CIDs waiting to be announced.
const QUEUE: usize = 65_536;
/// Keys handed to the workers ahead of them: the rest wait in the [`ProvideQueue`], where
/// `provide clear` can reach them.
const FEED: usize = 64;
/// Multihashes announced lately, not announced again until the set is cleared.
const RECENT: usize = 100_000;

/// What to announce (`Provide.Strategy`): Kubo's `all`, `pinned`, `roots` and `mfs`, joined with
/// `+`, with the modifiers `unique` (one walk over every DAG: blocks shared by several pins are
/// walked once, remembered by a bloom filter) and `entities` (only the roots of files,
/// directories, HAMT shards and symlinks, not the chunks of files; implies `unique`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Strategy(u8);

impl Strategy {
    const ALL_BIT: u8 = 1;
    const PINNED: u8 = 1 << 1;
    const ROOTS: u8 = 1 << 2;
    const MFS: u8 = 1 << 3;
    const UNIQUE: u8 = 1 << 4;
    const ENTITIES: u8 = 1 << 5;

    /// Every block stored (Kubo's default).
    pub const ALL: Strategy = Strategy(Self::ALL_BIT);

    /// Parses Kubo's names (config `Provide.Strategy`), with Kubo's rules and errors: `""` is
    /// `all`, `flat` its old name; `all` stands alone; `unique` and `entities` need a strategy
    /// that walks DAGs (`pinned`, `mfs`) and do not go with `roots`.
    pub fn parse(s: &str) -> Result<Self, StrategyError> {
        if s.is_empty() {
            return Ok(Self::ALL);
        }
        let mut bits = 0u8;
        for part in s.split('+') {
            bits |= match part {
                "all" | "flat" => Self::ALL_BIT,
                "pinned" => Self::PINNED,
                "roots" => Self::ROOTS,
                "mfs" => Self::MFS,
                "unique" => Self::UNIQUE,
                "entities" => Self::ENTITIES | Self::UNIQUE,
                "" => return Err(StrategyError::EmptyToken(s.into())),
                other => return Err(StrategyError::UnknownToken { token: other.into(), input: s.into() }),
            };
        }
        if bits & Self::ALL_BIT != 0 && bits != Self::ALL_BIT {
            return Err(StrategyError::AllCombined(s.into()));
        }
        if bits & Self::UNIQUE != 0 {
            if bits & (Self::PINNED | Self::MFS) == 0 {
                return Err(StrategyError::DedupWithoutDags(s.into()));
            }
            if bits & Self::ROOTS != 0 {
                return Err(StrategyError::DedupWithRoots(s.into()));
            }
        }
        Ok(Self(bits))
    }

    /// `all`: every block stored.
    pub fn is_all(self) -> bool {
        self.0 & Self::ALL_BIT != 0
    }

    /// `pinned`: recursive pins with their DAGs, and direct pins.
    pub fn pinned(self) -> bool {
        self.0 & Self::PINNED != 0
    }

    /// `roots`: the CIDs pinned, not what is under them.
    pub fn roots(self) -> bool {
        self.0 & Self::ROOTS != 0
    }

    /// `mfs`: the local blocks of the MFS tree (`files`).
    pub fn mfs(self) -> bool {
        self.0 & Self::MFS != 0
    }

    /// `+unique` (or `+entities`): one bloom filter across every DAG walked.
    pub fn unique(self) -> bool {
        self.0 & Self::UNIQUE != 0
    }

    /// `+entities`: entity roots only, not the chunks of files.
    pub fn entities(self) -> bool {
        self.0 & Self::ENTITIES != 0
    }

    /// Whether the strategy walks DAGs (`pinned`, `mfs`): what `--fast-provide-dag` needs.
    pub fn walks_dags(self) -> bool {
        self.0 & (Self::PINNED | Self::MFS) != 0
    }

    /// Whether content that is so announced under this strategy (Kubo's
    /// `ShouldProvideForStrategy`): `pinned` content under `pinned`, a pin's root under `roots`,
    /// MFS content under `mfs`, everything under `all`.
    pub fn covers(self, pinned: bool, pinned_root: bool, mfs: bool) -> bool {
        self.is_all() || (self.pinned() && pinned) || (self.roots() && pinned_root) || (self.mfs() && mfs)
    }
}

impl Default for Strategy {
    fn default() -> Self {
        Self::ALL
    }
}

/// Kubo's names, joined with `+` (`entities` stands for `unique` too, as it implies it).
impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<&str> = Vec::new();
        for (bit, name) in
            [(Self::ALL_BIT, "all"), (Self::PINNED, "pinned"), (Self::ROOTS, "roots"), (Self::MFS, "mfs")]
        {
            if self.0 & bit != 0 {
                parts.push(name);
            }
        }
        if self.entities() {
            parts.push("entities");
        } else if self.unique() {
            parts.push("unique");
        }
        f.write_str(&parts.join("+"))
    }
}

impl std::str::FromStr for Strategy {
    type Err = StrategyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A `Provide.Strategy` Kubo would refuse, in Kubo's words (`config.ParseProvideStrategy`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StrategyError {
    #[error("invalid provide strategy: empty token in {0:?}")]
    EmptyToken(String),
    #[error("unknown provide strategy token: {token:?} in {input:?}")]
    UnknownToken { token: String, input: String },
    #[error("\"all\" strategy cannot be combined with other strategies in {0:?}")]
    AllCombined(String),
    #[error("+unique/+entities must combine with pinned and/or mfs in {0:?}")]
    DedupWithoutDags(String),
    #[error("+unique/+entities is incompatible with roots in {0:?}")]
    DedupWithRoots(String),
}

/// Kubo's default `Provide.BloomFPRate`: one false positive in this many lookups.
pub const DEFAULT_BLOOM_FP_RATE: u64 = 4_750_000;
/// The lowest `Provide.BloomFPRate` Kubo accepts.
pub const MIN_BLOOM_FP_RATE: u64 = 1_000_000;

/// `Provide.*` (and the older `Reprovider.*` keys Kubo still reads).
#[derive(Clone, Debug)]
pub struct ProvideConfig {
    pub enabled: bool,
    pub strategy: Strategy,
    pub interval: Option<Duration>,
    pub workers: usize,
    /// `Provide.BloomFPRate`: the bloom filters of `+unique` walks and of `--fast-provide-dag`.
    pub bloom_fp_rate: u64,
}

impl ProvideConfig {
    pub fn from_config(doc: &Value) -> Result<Self, NodeError> {
        let enabled = doc.pointer("/Provide/Enabled").and_then(Value::as_bool).unwrap_or(true);
        let raw = doc
            .pointer("/Provide/Strategy")
            .or_else(|| doc.pointer("/Reprovider/Strategy"))
            .and_then(Value::as_str)
            .unwrap_or("all");
        let strategy = parse_strategy(raw)?;
        let interval = match doc.pointer("/Provide/DHT/Interval").or_else(|| doc.pointer("/Reprovider/Interval")) {
            Some(Value::String(s)) if !s.is_empty() => {
                let d = rubo_repo::config::units::parse_duration(s)
                    .map_err(|e| NodeError::InvalidInput(format!("config Provide.DHT.Interval: {e}")))?;
                // "0" turns reproviding off, as in Kubo.
                (!d.is_zero()).then_some(d)
            }
            _ => Some(Duration::from_secs(22 * 3600)),
        };
        let workers = doc
            .pointer("/Provide/DHT/MaxWorkers")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
            .map_or(16, |n| n.min(256) as usize);
        let bloom_fp_rate = match doc.pointer("/Provide/BloomFPRate") {
            None | Some(Value::Null) => DEFAULT_BLOOM_FP_RATE,
            Some(v) => match v.as_i64() {
                Some(n) if n >= MIN_BLOOM_FP_RATE as i64 => n as u64,
                Some(n) => {
                    return Err(NodeError::InvalidInput(format!(
                        "Provide.BloomFPRate must be >= {MIN_BLOOM_FP_RATE} (1 in 1M), got {n}"
                    )));
                }
                None => return Err(NodeError::InvalidInput(format!("Provide.BloomFPRate: not an integer: {v}"))),
            },
        };
        Ok(Self { enabled, strategy, interval, workers, bloom_fp_rate })
    }
}

/// [`Strategy::parse`] for the config, its error as Kubo's config check words it.
pub fn parse_strategy(s: &str) -> Result<Strategy, NodeError> {
    Strategy::parse(s).map_err(|e| NodeError::InvalidInput(format!("Provide.Strategy: {e}")))
}

/// What the sweeping reprovider did last (see [`crate::sweep`]).
#[derive(Clone, Debug, Default)]
pub struct SweepStatus {
    /// Keys in the keystore at the last cycle's start.
    pub keys: u64,
    /// Unix seconds the current (or last) cycle began.
    pub cycle_start: u64,
    /// Cycles completed since start.
    pub cycles: u64,
    /// Totals over the sweeps since start.
    pub report: crate::sweep::SweepReport,
    pub last_error: Option<String>,
}

/// Counters for `provide stat` (and `stats provide`).
#[derive(Default)]
pub struct ProvideCounters {
    pub queued: AtomicU64,
    pub provided: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
    pub in_flight: AtomicU64,
    /// Unix seconds of the last reprovide run's start.
    pub last_reprovide: AtomicU64,
    /// Milliseconds of all announcements together (for the average).
    pub total_ms: AtomicU64,
}

/// Walks what the strategy announces, handing each CID to the callback until it returns false.
pub type KeyWalk = dyn Fn(&mut dyn FnMut(Multihash) -> bool) + Send + Sync;

/// The announcing side of an online node.
pub struct Provider {
    pub(crate) cfg: ProvideConfig,
    queue: Arc<ProvideQueue>,
    pub(crate) counters: Arc<ProvideCounters>,
    sweep: Arc<Mutex<SweepStatus>>,
    kick: Arc<Notify>,
}

impl Provider {
    /// Starts the workers (and the reprovide timer, given the blocks to walk).
    pub fn start(
        net: NetHandle,
        cfg: ProvideConfig,
        all_keys: Arc<KeyWalk>,
        ds: Arc<dyn rubo_repo::Datastore>,
    ) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(FEED);
        let counters = Arc::new(ProvideCounters::default());
        let sweep = Arc::new(Mutex::new(SweepStatus::default()));
        let kick = Arc::new(Notify::new());
        tokio::spawn(work(net.clone(), rx, cfg.workers, counters.clone()));
        if let Some(every) = cfg.interval {
            tokio::spawn(reprovide(net, ds, all_keys, every, counters.clone(), sweep.clone(), kick.clone()));
        }
        let queue = ProvideQueue::new(QUEUE);
        tokio::spawn(queue.clone().pump(tx));
        Arc::new(Self { cfg, queue, counters, sweep, kick })
    }

    /// Starts a reprovide cycle now (`bitswap reprovide`), over everything the strategy covers.
    pub fn reprovide_now(&self) {
        self.kick.notify_one();
    }

    /// The reprovider's last sweep, for `provide stat`.
    pub fn sweep_status(&self) -> SweepStatus {
        self.sweep.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// What is announced.
    pub fn strategy(&self) -> Strategy {
        self.cfg.strategy
    }

    /// Queues keys for announcement; what does not fit waits for the next reprovide. Identity
    /// multihashes (the data is the CID) are never announced.
    pub fn provide(&self, keys: impl IntoIterator<Item = Multihash>) {
        for c in keys.into_iter().filter(|c| c.code() != 0) {
            if self.queue.push(c) {
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
            } else {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Queues one key, waiting for room (a walk paced by the workers; blocking threads only).
    /// False once the workers are gone.
    pub fn provide_wait(&self, key: Multihash) -> bool {
        if key.code() == 0 {
            return true;
        }
        let queued = self.queue.push_wait(key);
        if queued {
            self.counters.queued.fetch_add(1, Ordering::Relaxed);
        }
        queued
    }

    /// Empties the queue of new content (`provide clear`); how many keys were removed. What
    /// the workers already took, and the reprovide, go on.
    pub fn clear(&self) -> usize {
        self.queue.clear()
    }

    /// Keys waiting in the queue.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Blocks just stored here.
    pub fn blocks_added(&self, blocks: &[Block]) {
        if self.cfg.strategy.is_all() {
            self.provide(blocks.iter().map(|b| *b.cid().hash()));
        }
    }
}

/// New content waiting for the workers (Kubo's provide queue): bounded, and emptied by
/// `provide clear`. A pump hands keys on to the workers' channel as they take them, so that
/// only a few ([`FEED`]) are out of `clear`'s reach.
pub struct ProvideQueue {
    keys: Mutex<VecDeque<Multihash>>,
    cap: usize,
    /// The pump waits here for keys.
    ready: Notify,
    /// Producers that wait for room ([`ProvideQueue::push_wait`]) wait here.
    room: Condvar,
    /// The workers are gone: nothing will make room any more.
    closed: AtomicBool,
}

impl ProvideQueue {
    /// An empty queue holding at most `cap` keys.
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            keys: Mutex::new(VecDeque::new()),
            cap: cap.max(1),
            ready: Notify::new(),
            room: Condvar::new(),
            closed: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Multihash>> {
        // A panic elsewhere leaves a queue that is still a queue.
        self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a key unless the queue is full.
    pub fn push(&self, key: Multihash) -> bool {
        let mut q = self.lock();
        if q.len() >= self.cap || self.closed.load(Ordering::Relaxed) {
            return false;
        }
        q.push_back(key);
        drop(q);
        self.ready.notify_one();
        true
    }

    /// Adds a key, waiting for room (blocking threads only); false once the workers are gone.
    pub fn push_wait(&self, key: Multihash) -> bool {
        let mut q = self.lock();
        loop {
            if self.closed.load(Ordering::Relaxed) {
                return false;
            }
            if q.len() < self.cap {
                q.push_back(key);
                drop(q);
                self.ready.notify_one();
                return true;
            }
            q = self.room.wait(q).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Removes every key waiting; how many.
    pub fn clear(&self) -> usize {
        let n = {
            let mut q = self.lock();
            let n = q.len();
            q.clear();
            n
        };
        self.room.notify_all();
        n
    }

    /// Keys waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oldest key, if any.
    pub fn pop(&self) -> Option<Multihash> {
        let key = self.lock().pop_front();
        if key.is_some() {
            self.room.notify_one();
        }
        key
    }

    /// Hands keys to the workers' channel, as it has room, until it closes.
    pub async fn pump(self: Arc<Self>, tx: mpsc::Sender<Multihash>) {
        loop {
            match self.pop() {
                Some(key) => {
                    if tx.send(key).await.is_err() {
                        break;
                    }
                }
                // A key pushed since `pop` left a permit: this returns at once then.
                None => self.ready.notified().await,
            }
        }
        self.closed.store(true, Ordering::Relaxed);
        // Taken under the lock, so that no producer misses the wake-up between its check and
        // its wait.
        drop(self.lock());
        self.room.notify_all();
    }
}

/// The smallest bloom filter made (boxo's `MinBloomCapacity`): smaller ones miss their rate.
const MIN_BLOOM_CAPACITY: u64 = 10_000;
/// Each new filter of a chain holds this many times the keys of the one before.
const BLOOM_GROWTH: u64 = 4;

/// Blocks already seen, in bounded memory: bloom filters (boxo's `BloomTracker`, which `+unique`
/// and `--fast-provide-dag` walk with), about `log2(fp_rate) / ln 2` bits per key. When one
/// fills, a filter [`BLOOM_GROWTH`] times larger is chained to it. A false positive (one in
/// `fp_rate`) makes a walk skip a block it had not seen, with what is under it.
pub struct BloomTracker {
    chain: Vec<Bloom>,
    /// Keys the newest filter was made for, and holds.
    capacity: u64,
    held: u64,
    total: u64,
    bits_per_key: u64,
    hashes: u32,
}

impl BloomTracker {
    /// A tracker sized for `capacity` keys to start with, at one false positive in `fp_rate`.
    pub fn new(capacity: u64, fp_rate: u64) -> Self {
        let hashes = (fp_rate.max(2) as f64).log2().round().max(1.0);
        let bits_per_key = (hashes / std::f64::consts::LN_2).ceil() as u64;
        let capacity = capacity.max(MIN_BLOOM_CAPACITY);
        Self {
            chain: vec![Bloom::new(capacity * bits_per_key)],
            capacity,
            held: 0,
            total: 0,
            bits_per_key,
            hashes: hashes as u32,
        }
    }

    /// Records `key`; false if it was (probably) seen before.
    pub fn visit(&mut self, key: &[u8]) -> bool {
        let (newest, older) = match self.chain.split_last_mut() {
            Some(split) => split,
            None => return true,
        };
        if older.iter().any(|b| b.has(key, self.hashes)) || !newest.add(key, self.hashes) {
            return false;
        }
        self.held += 1;
        self.total += 1;
        if self.held > self.capacity {
            self.capacity = self.capacity.saturating_mul(BLOOM_GROWTH);
            self.chain.push(Bloom::new(self.capacity.saturating_mul(self.bits_per_key)));
            self.held = 0;
        }
        true
    }

    /// Keys recorded.
    pub fn count(&self) -> u64 {
        self.total
    }
}

/// One bloom filter: a power of two of bits, probed by double hashing with two random SipHash keys.
struct Bloom {
    bits: Vec<u64>,
    mask: u64,
    h1: std::hash::RandomState,
    h2: std::hash::RandomState,
}

impl Bloom {
    fn new(bits: u64) -> Self {
        let n = bits.max(64).next_power_of_two();
        Self {
            bits: vec![0; (n / 64) as usize],
            mask: n - 1,
            h1: std::hash::RandomState::new(),
            h2: std::hash::RandomState::new(),
        }
    }

    /// The two hashes the probes are made of.
    fn hashes(&self, key: &[u8]) -> (u64, u64) {
        (self.h1.hash_one(key), self.h2.hash_one(key) | 1)
    }

    /// The word and mask of probe `i`.
    fn probe(&self, (a, b): (u64, u64), i: u64) -> (usize, u64) {
        let bit = a.wrapping_add(i.wrapping_mul(b)) & self.mask;
        ((bit / 64) as usize, 1u64 << (bit % 64))
    }

    fn has(&self, key: &[u8], hashes: u32) -> bool {
        let h = self.hashes(key);
        (0..u64::from(hashes)).all(|i| {
            let (w, m) = self.probe(h, i);
            self.bits.get(w).is_some_and(|x| x & m != 0)
        })
    }

    /// Sets `key`'s bits; false if they were all set already.
    fn add(&mut self, key: &[u8], hashes: u32) -> bool {
        let h = self.hashes(key);
        let mut new = false;
        for i in 0..u64::from(hashes) {
            let (w, m) = self.probe(h, i);
            if let Some(x) = self.bits.get_mut(w) {
                new |= *x & m == 0;
                *x |= m;
            }
        }
        new
    }
}

async fn work(net: NetHandle, mut rx: mpsc::Receiver<Multihash>, workers: usize, counters: Arc<ProvideCounters>) {
    let slots = Arc::new(Semaphore::new(workers.max(1)));
    let mut recent: HashSet<Vec<u8>> = HashSet::new();
    while let Some(mh) = rx.recv().await {
        let key = mh.to_bytes();
        if recent.len() >= RECENT {
            recent.clear();
        }
        if !recent.insert(key.clone()) {
            continue;
        }
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let (net, counters) = (net.clone(), counters.clone());
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let start = std::time::Instant::now();
            match net.dht_provide(key).await {
                Ok(_) => counters.provided.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    tracing::debug!(key = ?mh, "provide: {e}");
                    counters.failed.fetch_add(1, Ordering::Relaxed)
                }
            };
            counters.total_ms.fetch_add(start.elapsed().as_millis() as u64, Ordering::Relaxed);
            counters.in_flight.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}

/// Re-announces everything the strategy covers, every `every`, by sweeping the keyspace (see
/// [`crate::sweep`]): the keys go to a keystore on disk sorted by DHT key, and each DHT table is
/// swept region by region, spread over the interval. The first cycle after a start runs at
/// once (as Kubo reprovides at start) unless a cycle saved on disk is still under way, which is
/// resumed where it stopped.
async fn reprovide(
    net: NetHandle,
    ds: Arc<dyn rubo_repo::Datastore>,
    walk: Arc<KeyWalk>,
    every: Duration,
    counters: Arc<ProvideCounters>,
    status: Arc<Mutex<SweepStatus>>,
    kick: Arc<Notify>,
) {
    use crate::sweep::{Keystore, Pace, SweepState};
    use rubo_net::DhtNet;
    let keystore = Keystore::new(ds.clone());
    let tables = [DhtNet::Lan, DhtNet::Wan];
    let now = || SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // At start (and when kicked, `bitswap reprovide`) everything goes out at once, until a run
    // succeeds; later cycles are spread over the interval.
    let mut urgent = true;
    let mut fresh_cycle = false;
    loop {
        let saved: Vec<Option<SweepState>> = tables.iter().map(|t| SweepState::load(&*ds, *t)).collect();
        let resuming = !fresh_cycle
            && saved
                .iter()
                .flatten()
                .any(|s| s.next.is_some() && s.cycle_start.saturating_add(every.as_secs()) > now());
        fresh_cycle = false;
        let (states, pace) = if resuming {
            (saved, if urgent { Pace::Now } else { Pace::Spread { interval: every } })
        } else {
            let (ks, w) = (keystore.clone(), walk.clone());
            let built = tokio::task::spawn_blocking(move || ks.rebuild(&mut |each| w(each))).await;
            match built {
                Ok(Ok(n)) => {
                    if let Ok(mut s) = status.lock() {
                        s.keys = n;
                    }
                }
                Ok(Err(e)) => tracing::warn!("reprovide: {e}"),
                Err(_) => return,
            }
            let cycle = crate::sweep::new_cycle();
            for t in tables {
                let _ = cycle.save(&*ds, t);
            }
            let pace = if urgent { Pace::Now } else { Pace::Spread { interval: every } };
            (vec![Some(cycle); tables.len()], pace)
        };
        counters.last_reprovide.store(now(), Ordering::Relaxed);
        let mut ok = true;
        let runs = tables.iter().zip(states).filter_map(|(t, s)| s.map(|s| (*t, s))).map(|(t, s)| {
            let (net, keystore) = (net.clone(), keystore.clone());
            async move {
                let mut report = crate::sweep::SweepReport::default();
                let r = crate::sweep::sweep(&net, t, &keystore, s, pace, &mut report).await;
                (t, s, report, r)
            }
        });
        for (t, s, report, r) in futures::future::join_all(runs).await {
            if let Ok(mut st) = status.lock() {
                st.cycle_start = s.cycle_start;
                let tot = &mut st.report;
                tot.regions += report.regions;
                tot.lookups += report.lookups;
                tot.peers = tot.peers.max(report.peers);
                tot.keys += report.keys;
                tot.messages += report.messages;
                tot.failed_peers += report.failed_peers;
                match &r {
                    Ok(()) => st.last_error = None,
                    // A table nobody is in (the WAN on a LAN-only node) is not an error.
                    Err(e) if t == DhtNet::Wan => tracing::debug!("reprovide (wan): {e}"),
                    Err(e) => st.last_error = Some(e.to_string()),
                }
            }
            counters.provided.fetch_add(report.keys, Ordering::Relaxed);
            if let Err(e) = r {
                tracing::debug!(dht = t.name(), "reprovide: {e}");
                if t == DhtNet::Lan {
                    ok = false;
                }
            }
        }
        if let Ok(mut st) = status.lock() {
            st.cycles += u64::from(ok);
        }
        // A cycle that could not run (no peers yet) is tried again soon; its state is on disk.
        let wait = if ok {
            let start = status.lock().map(|s| s.cycle_start).unwrap_or(0);
            Duration::from_secs(start.saturating_add(every.as_secs()).saturating_sub(now()).max(1))
        } else {
            Duration::from_secs(60)
        };
        if ok {
            urgent = false;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = kick.notified() => {
                urgent = true;
                fresh_cycle = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategies_parse_and_print_as_kubo_names_them() {
        // docs/config.md `Provide.Strategy` and config.ParseProvideStrategy.
        for (input, shown) in [
            ("all", "all"),
            ("", "all"),
            ("flat", "all"),
            ("all+all", "all"),
            ("pinned", "pinned"),
            ("roots", "roots"),
            ("mfs", "mfs"),
            ("pinned+mfs", "pinned+mfs"),
            ("mfs+pinned", "pinned+mfs"),
            ("pinned+unique", "pinned+unique"),
            ("pinned+mfs+unique", "pinned+mfs+unique"),
            ("pinned+entities", "pinned+entities"),
            ("pinned+mfs+entities", "pinned+mfs+entities"),
            ("mfs+unique+entities", "mfs+entities"),
            ("pinned+roots", "pinned+roots"),
        ] {
            let s = Strategy::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(s.to_string(), shown, "{input:?}");
            assert_eq!(Strategy::parse(shown), Ok(s), "{shown:?} reads back");
        }
        let p = Strategy::parse("pinned+mfs+entities").unwrap();
        assert!(p.pinned() && p.mfs() && p.unique() && p.entities() && !p.roots() && !p.is_all());
        let r = Strategy::parse("roots").unwrap();
        assert!(r.roots() && !r.pinned() && !r.walks_dags() && !r.unique());
        assert!(Strategy::parse("pinned+unique").unwrap().unique());
        assert!(!Strategy::parse("pinned+unique").unwrap().entities());
        assert_eq!("mfs".parse::<Strategy>().map(Strategy::mfs), Ok(true));
    }

    #[test]
    fn bad_strategies_fail_with_kubos_errors() {
        let err = |s: &str| Strategy::parse(s).unwrap_err().to_string();
        assert_eq!(err("everything"), r#"unknown provide strategy token: "everything" in "everything""#);
        assert_eq!(err("pinned+bogus"), r#"unknown provide strategy token: "bogus" in "pinned+bogus""#);
        assert_eq!(err("pinned+"), r#"invalid provide strategy: empty token in "pinned+""#);
        assert_eq!(err("all+pinned"), r#""all" strategy cannot be combined with other strategies in "all+pinned""#);
        assert_eq!(err("all+unique"), r#""all" strategy cannot be combined with other strategies in "all+unique""#);
        assert_eq!(err("unique"), r#"+unique/+entities must combine with pinned and/or mfs in "unique""#);
        assert_eq!(
            err("roots+entities"),
            r#"+unique/+entities must combine with pinned and/or mfs in "roots+entities""#
        );
        assert_eq!(
            err("pinned+roots+unique"),
            r#"+unique/+entities is incompatible with roots in "pinned+roots+unique""#
        );
        // The config check puts the key in front, as Kubo's ValidateProvideConfig.
        let e = ProvideConfig::from_config(&json!({"Provide": {"Strategy": "bogus"}})).unwrap_err();
        assert_eq!(e.to_string(), r#"Provide.Strategy: unknown provide strategy token: "bogus" in "bogus""#);
    }

    #[test]
    fn what_each_strategy_announces_at_once() {
        // config.ShouldProvideForStrategy(strategy, isPinned, isPinnedRoot, isMFS).
        let s = |x: &str| Strategy::parse(x).unwrap();
        assert!(s("all").covers(false, false, false));
        assert!(s("pinned").covers(true, true, false));
        assert!(!s("pinned").covers(false, false, true));
        assert!(s("roots").covers(true, true, false));
        assert!(!s("roots").covers(true, false, false));
        assert!(s("mfs").covers(false, false, true));
        assert!(!s("mfs").covers(true, true, false));
        assert!(s("pinned+mfs").covers(false, false, true));
    }

    #[test]
    fn config_defaults_are_kubos() {
        let c = ProvideConfig::from_config(&json!({})).unwrap();
        assert!(c.enabled);
        assert_eq!(c.strategy, Strategy::ALL);
        assert_eq!(c.interval, Some(Duration::from_secs(22 * 3600)));
        assert_eq!(c.workers, 16);
        assert_eq!(c.bloom_fp_rate, 4_750_000);
        let off = ProvideConfig::from_config(&json!({"Provide": {"DHT": {"Interval": "0"}}})).unwrap();
        assert_eq!(off.interval, None);
        let old = ProvideConfig::from_config(&json!({"Reprovider": {"Strategy": "roots", "Interval": "1h"}})).unwrap();
        assert_eq!((old.strategy.to_string(), old.interval), ("roots".to_string(), Some(Duration::from_secs(3600))));
        let rate = ProvideConfig::from_config(&json!({"Provide": {"BloomFPRate": 2_000_000}})).unwrap();
        assert_eq!(rate.bloom_fp_rate, 2_000_000);
        let low = ProvideConfig::from_config(&json!({"Provide": {"BloomFPRate": 10_000}})).unwrap_err();
        assert_eq!(low.to_string(), "Provide.BloomFPRate must be >= 1000000 (1 in 1M), got 10000");
    }

    fn mh(i: u32) -> Multihash {
        rubo_types::hash::sha2_256(&i.to_be_bytes())
    }

    #[test]
    fn the_queue_is_bounded_and_clear_says_how_many_it_removed() {
        let q = ProvideQueue::new(5);
        for i in 0..5 {
            assert!(q.push(mh(i)));
        }
        assert!(!q.push(mh(5)), "full: the key waits for the next reprovide");
        assert_eq!(q.pop(), Some(mh(0)), "first in, first out");
        assert_eq!(q.len(), 4);
        assert_eq!(q.clear(), 4);
        assert!(q.is_empty());
        assert_eq!(q.clear(), 0);
        assert!(q.push(mh(6)));
        assert_eq!(q.pop(), Some(mh(6)));
    }

    #[test]
    fn a_waiting_producer_goes_on_once_there_is_room() {
        let q = ProvideQueue::new(1);
        assert!(q.push(mh(0)));
        let q2 = q.clone();
        let producer = std::thread::spawn(move || q2.push_wait(mh(1)));
        // The producer can only finish once the first key is taken.
        assert_eq!(q.pop(), Some(mh(0)));
        assert!(producer.join().unwrap());
        assert_eq!(q.pop(), Some(mh(1)));
    }

    #[tokio::test]
    async fn the_pump_feeds_the_workers_and_stops_with_them() {
        let q = ProvideQueue::new(100);
        let (tx, mut rx) = mpsc::channel(2);
        let pump = tokio::spawn(q.clone().pump(tx));
        for i in 0..10 {
            assert!(q.push(mh(i)));
        }
        for i in 0..10 {
            assert_eq!(rx.recv().await, Some(mh(i)));
        }
        // A key pushed while the pump waits for keys reaches the workers too.
        assert!(q.push(mh(10)));
        assert_eq!(rx.recv().await, Some(mh(10)));
        drop(rx);
        assert!(q.push(mh(11)));
        pump.await.unwrap();
        let q2 = q.clone();
        let refused = tokio::task::spawn_blocking(move || q2.push_wait(mh(12))).await.unwrap();
        assert!(!refused, "nobody takes keys any more");
    }

    #[test]
    fn the_bloom_tracker_remembers_without_false_negatives_and_grows() {
        let mut t = BloomTracker::new(10_000, DEFAULT_BLOOM_FP_RATE);
        let keys: Vec<Vec<u8>> = (0..50_000u32).map(|i| mh(i).to_bytes()).collect();
        // Five times the first filter's capacity: the chain grows.
        let fresh = keys.iter().filter(|k| t.visit(k)).count();
        // A false positive is one in 4.75 million: a couple at most among 50,000.
        assert!(fresh >= keys.len() - 2, "{fresh}");
        assert!(t.chain.len() >= 2, "the tracker grew");
        assert!(keys.iter().all(|k| !t.visit(k)), "every key seen is remembered");
        assert_eq!(t.count(), fresh as u64);
    }
}
