//! Kubo's basic connection manager: above `HighWater` connections, close whole peers down to
//! `LowWater`, never touching protected peers or peers younger than the grace period, and
//! choosing first the peers that carry no streams and have been idle longest.

use std::time::Instant;

use libp2p::PeerId;

use crate::config::{ConnMgrConfig, ConnMgrType};

/// A peer that may be trimmed (the caller leaves protected peers out).
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub(crate) peer: PeerId,
    pub(crate) connections: usize,
    /// When its oldest open connection was established.
    pub(crate) first_seen: Instant,
    pub(crate) open_streams: usize,
    pub(crate) last_active: Instant,
}

/// Peers to disconnect, given `total` established connections.
pub(crate) fn select(cfg: &ConnMgrConfig, total: usize, mut candidates: Vec<Candidate>, now: Instant) -> Vec<PeerId> {
    if cfg.kind == ConnMgrType::None || total <= cfg.high_water {
        return Vec::new();
    }
    let mut excess = total - cfg.low_water;
    candidates.retain(|c| now.saturating_duration_since(c.first_seen) >= cfg.grace_period);
    candidates.sort_by_key(|c| (c.open_streams, c.last_active, c.first_seen));
    let mut out = Vec::new();
    for c in candidates {
        if excess == 0 {
            break;
        }
        excess = excess.saturating_sub(c.connections);
        out.push(c.peer);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn cfg() -> ConnMgrConfig {
        ConnMgrConfig {
            kind: ConnMgrType::Basic,
            low_water: 2,
            high_water: 4,
            grace_period: Duration::from_secs(10),
            check_interval: Duration::from_secs(1),
        }
    }

    #[test]
    fn trims_idle_old_peers_down_to_low_water() {
        let t0 = Instant::now();
        let now = t0 + Duration::from_secs(60);
        let mk = |streams, idle_since: u64| Candidate {
            peer: PeerId::random(),
            connections: 1,
            first_seen: t0,
            open_streams: streams,
            last_active: t0 + Duration::from_secs(idle_since),
        };
        let busy = mk(3, 50);
        let recent = mk(0, 40);
        let idle = mk(0, 1);
        let young = Candidate { first_seen: now - Duration::from_secs(1), ..mk(0, 0) };
        let idle2 = mk(0, 2);
        let all = vec![busy.clone(), recent.clone(), idle.clone(), young.clone(), idle2.clone()];

        assert!(select(&cfg(), 4, all.clone(), now).is_empty(), "at HighWater nothing happens");
        let out = select(&cfg(), 6, all.clone(), now);
        assert_eq!(out, vec![idle.peer, idle2.peer, recent.peer, busy.peer], "down to 2; the young peer is spared");
        let out = select(&cfg(), 5, all.clone(), now);
        assert_eq!(out, vec![idle.peer, idle2.peer, recent.peer]);
        let none = ConnMgrConfig { kind: ConnMgrType::None, ..cfg() };
        assert!(select(&none, 100, all, now).is_empty());
    }
}
