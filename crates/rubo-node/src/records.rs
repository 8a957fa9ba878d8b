//! Value records in the DHT (`routing get|put`, `/routing/v1/ipns`): what keys mean, and the
//! validator the DHT uses for them. Kubo takes two namespaces: `/pk/<peer id>` (checked inside
//! rubo-net) and `/ipns/<name>` (checked here with rubo-ipns: signature, key, expiry, size;
//! of two valid records the higher sequence, then the later validity, wins).

use std::cmp::Ordering;
use std::time::SystemTime;

use rubo_net::RecordValidator;
use rubo_net::libp2p::PeerId;

use crate::{Node, NodeError};

/// The DHT's validator for `/ipns/` records.
pub struct NodeValidator;

impl RecordValidator for NodeValidator {
    fn validate(&self, key: &[u8], value: &[u8]) -> Result<(), String> {
        if key.starts_with(b"/ipns/") {
            return rubo_ipns::validate_routing_record(key, value, SystemTime::now())
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        Err("record namespace not supported (only /ipns/ and /pk/)".into())
    }

    fn select(&self, key: &[u8], a: &[u8], b: &[u8]) -> Ordering {
        let now = SystemTime::now();
        match (rubo_ipns::validate_routing_record(key, a, now), rubo_ipns::validate_routing_record(key, b, now)) {
            (Ok(ra), Ok(rb)) => rubo_ipns::select(&ra, &rb),
            (Ok(_), Err(_)) => Ordering::Greater,
            (Err(_), Ok(_)) => Ordering::Less,
            (Err(_), Err(_)) => Ordering::Equal,
        }
    }
}

/// A routing key given as text (`/ipns/<name>`, `/pk/<peer id>`), as the DHT stores it.
pub fn routing_key(s: &str) -> Result<Vec<u8>, NodeError> {
    if let Some(name) = s.strip_prefix("/ipns/") {
        let n = rubo_ipns::Name::parse(name).map_err(|e| NodeError::InvalidInput(format!("invalid IPNS name: {e}")))?;
        return Ok(n.routing_key());
    }
    if let Some(p) = s.strip_prefix("/pk/") {
        let id: PeerId = p.parse().map_err(|e| NodeError::InvalidInput(format!("invalid peer id {p:?}: {e}")))?;
        let mut k = b"/pk/".to_vec();
        k.extend_from_slice(&id.to_bytes());
        return Ok(k);
    }
    Err(NodeError::InvalidInput(format!("invalid key {s:?}: only /ipns/ and /pk/ keys are routed")))
}

fn net_error(e: rubo_net::NetError) -> NodeError {
    match e {
        rubo_net::NetError::Dht(m) if m == "not found" => NodeError::InvalidInput("routing: not found".into()),
        rubo_net::NetError::Dht(m) => NodeError::InvalidInput(m),
        other => NodeError::Internal(other.to_string()),
    }
}

impl Node {
    /// The best value the DHT holds under `key` (`routing get`): every answer is validated, and
    /// of IPNS records the best one is returned.
    pub async fn routing_get(&self, key: &str) -> Result<Vec<u8>, NodeError> {
        let k = routing_key(key)?;
        let net = self.net()?;
        // Kubo's default: as many as 16 answers before choosing.
        let found = net.dht_get_value(k.clone(), 16).await.map_err(net_error)?;
        let mut best: Option<Vec<u8>> = None;
        for v in found {
            best = match best {
                None => Some(v.value),
                Some(b) if k.starts_with(b"/ipns/") && NodeValidator.select(&k, &v.value, &b) == Ordering::Greater => {
                    Some(v.value)
                }
                keep => keep,
            };
        }
        best.ok_or_else(|| NodeError::InvalidInput("routing: not found".into()))
    }

    /// Stores `value` under `key` here and with the closest DHT peers (`routing put`), after
    /// checking it as every DHT node will. How many peers took it.
    pub async fn routing_put(&self, key: &str, value: Vec<u8>) -> Result<usize, NodeError> {
        let k = routing_key(key)?;
        if k.starts_with(b"/ipns/") {
            rubo_ipns::validate_routing_record(&k, &value, SystemTime::now())
                .map_err(|e| NodeError::InvalidInput(format!("invalid IPNS record: {e}")))?;
        }
        let net = self.net()?;
        net.dht_put_value(k, value).await.map_err(net_error)
    }

    /// `routing put --allow-offline` without a network: the checked record is kept in the
    /// repo's datastore under its routing key (where the node keeps the IPNS records it
    /// publishes), to be served once online.
    pub fn routing_put_offline(&self, key: &str, value: Vec<u8>) -> Result<(), NodeError> {
        let k = routing_key(key)?;
        if !k.starts_with(b"/ipns/") {
            return Err(NodeError::InvalidInput("only IPNS records can be stored offline".into()));
        }
        let new = rubo_ipns::validate_routing_record(&k, &value, SystemTime::now())
            .map_err(|e| NodeError::InvalidInput(format!("invalid IPNS record: {e}")))?;
        let ds = self.repo().datastore()?;
        if let Some(held) = ds.get(&k)?
            && let Ok(old) = rubo_ipns::validate_routing_record(&k, &held, SystemTime::now())
            && rubo_ipns::select(&old, &new) == Ordering::Greater
        {
            return Err(NodeError::InvalidInput("can't replace a newer value with an older value".into()));
        }
        ds.put(&k, &value)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_kubo_writes_them() {
        let id = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
        let peer: PeerId = id.parse().expect("peer id");
        let mut want = b"/ipns/".to_vec();
        want.extend_from_slice(&peer.to_bytes());
        assert_eq!(routing_key(&format!("/ipns/{id}")).expect("ipns"), want);
        let mut pk = b"/pk/".to_vec();
        pk.extend_from_slice(&peer.to_bytes());
        assert_eq!(routing_key(&format!("/pk/{id}")).expect("pk"), pk);
        assert!(routing_key("/ipfs/bafy").is_err());
        assert!(routing_key("/ipns/not-a-name!").is_err());
    }

    #[test]
    fn the_validator_takes_only_valid_ipns_records() {
        let kp = rubo_net::libp2p::identity::Keypair::generate_ed25519();
        let name = rubo_ipns::Name::from_public_key(&kp.public());
        let key = name.routing_key();
        let v = NodeValidator;
        assert!(v.validate(&key, b"garbage").is_err());
        assert!(v.validate(b"/other/x", b"x").is_err());
        assert_eq!(v.select(&key, b"a", b"b"), Ordering::Equal);
        let eol = SystemTime::now() + std::time::Duration::from_secs(3600);
        let ttl = std::time::Duration::from_secs(60);
        let value = b"/ipfs/bafkqaaa";
        let r1 = rubo_ipns::Record::create(&kp, value, 1, eol, ttl, Default::default()).expect("record");
        let r2 = rubo_ipns::Record::create(&kp, value, 2, eol, ttl, Default::default()).expect("record");
        v.validate(&key, r1.as_bytes()).expect("a record signed by the name's key");
        assert_eq!(v.select(&key, r2.as_bytes(), r1.as_bytes()), Ordering::Greater, "higher sequence wins");
        assert_eq!(v.select(&key, r1.as_bytes(), b"junk"), Ordering::Greater, "valid beats invalid");
        // Another key's record under this name is refused.
        let other = rubo_net::libp2p::identity::Keypair::generate_ed25519();
        let r3 = rubo_ipns::Record::create(&other, value, 9, eol, ttl, Default::default()).expect("record");
        assert!(v.validate(&key, r3.as_bytes()).is_err());
    }
}
