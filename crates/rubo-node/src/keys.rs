//! Named keys and IPNS names (Kubo's `KeyAPI` and `NameAPI`,
//! `core/coreapi/key.go` and `name.go`): the keystore beside the node's own
//! key ("self"), signatures over Kubo's prefixed messages, and IPNS records
//! published, kept and resolved.
//!
//! The node's latest record for each of its names is kept in the repo's
//! datastore under `/ipns/` + the name's multihash bytes, so that a later
//! publish continues the sequence and an offline node resolves its own names.

use std::time::{Duration, SystemTime};

use rubo_ipns::{IpnsError, Name, Record};
use rubo_repo::identity::{KeyType, PrivateKey};
use rubo_repo::keystore::KeystoreError;
use thiserror::Error;

use crate::{Node, NodeError};

pub use rubo_ipns;

/// The name the node's own key goes by.
pub const SELF: &str = "self";

/// What every signature of `key sign` covers before the data (Kubo's
/// `signedMessagePrefix`), so that a signature cannot be reused elsewhere.
pub const SIGNED_MESSAGE_PREFIX: &[u8] = b"libp2p-key signed message:";

/// How deep `name resolve` follows names pointing at names (boxo's
/// `DefaultDepthLimit`).
pub const MAX_RESOLVE_DEPTH: usize = 32;

/// Kubo's refusal to publish without the network.
pub const PUBLISH_OFFLINE_ERROR: &str = "can't publish while offline: pass `--allow-offline` to override or `--allow-delegated` if Ipns.DelegatedPublishers are set up";

/// Kubo's refusal to put a record without the network.
pub const PUT_OFFLINE_ERROR: &str = "can't put while offline: pass `--allow-offline` to store locally or `--allow-delegated` if Ipns.DelegatedPublishers are set up";

/// Why a key or name operation failed, in Kubo's words.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeysError {
    #[error("cannot create key with name 'self'")]
    CreateSelf,
    #[error("key with name '{0}' already exists")]
    Exists(String),
    #[error("cannot rename key with name 'self'")]
    RenameSelf,
    #[error("cannot overwrite key with name 'self'")]
    OverwriteSelf,
    #[error("cannot remove key with name 'self'")]
    RemoveSelf,
    #[error("cannot import key with name 'self'")]
    ImportSelf,
    #[error("cannot export key with name 'self'")]
    ExportSelf,
    #[error("no key named {0} was found")]
    NotFound(String),
    #[error("key with name '{0}' doesn't exist")]
    NoSuchKey(String),
    #[error("'\"{0}\"' is not a known key, an IPNS Name, or a valid PeerID")]
    UnknownKey(String),
    #[error("cannot extract the public key of {0}: the name does not inline it")]
    NoPublicKey(String),
    #[error("key by that name already exists, refusing to overwrite")]
    RefuseOverwrite,
    #[error("{0}")]
    Key(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("{0}")]
    Keystore(KeystoreError),
    #[error("{0}")]
    Ipns(IpnsError),
    #[error("invalid IPNS name: {0}")]
    Name(rubo_ipns::NameError),
    #[error("provided sequence number ({given}) must be greater than the current one ({current})")]
    Sequence { given: u64, current: u64 },
    #[error("could not resolve name: {0}")]
    Unresolved(String),
    #[error("could not resolve name: recursion limit of {MAX_RESOLVE_DEPTH} exceeded")]
    TooDeep,
    #[error("{0}")]
    Offline(&'static str),
}

impl From<KeysError> for NodeError {
    fn from(e: KeysError) -> Self {
        match e {
            KeysError::Keystore(KeystoreError::Io { .. }) => NodeError::Internal(e.to_string()),
            KeysError::Offline(m) => NodeError::Offline(m.into()),
            other => NodeError::InvalidInput(other.to_string()),
        }
    }
}

/// A named key: its name and peer ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: String,
    pub id: rubo_net::libp2p::PeerId,
}

/// What `name publish` is asked.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The key's name or its peer ID / IPNS name.
    pub key: String,
    pub lifetime: Duration,
    /// `None`: Kubo's default (5 minutes), capped to the lifetime.
    pub ttl: Option<Duration>,
    /// A sequence number to use, if higher than the held one.
    pub sequence: Option<u64>,
    pub allow_offline: bool,
}

fn record_key(name: &Name) -> Vec<u8> {
    let mut k = b"/ipns/".to_vec();
    k.extend_from_slice(&name.to_multihash_bytes());
    k
}

/// A record that passed every check but, maybe, its expiry.
fn record_ignoring_expiry(name: &Name, bytes: &[u8], now: SystemTime) -> Option<Record> {
    match rubo_ipns::validate(name, bytes, now) {
        Ok(r) => Some(r),
        Err(IpnsError::Expired(e)) => Some(e.into_stale_record()),
        Err(_) => None,
    }
}

impl Node {
    fn keystore_get(&self, name: &str) -> Result<Option<PrivateKey>, KeysError> {
        match self.repo().keystore().get(name) {
            Ok(k) => Ok(Some(k)),
            Err(KeystoreError::NotFound) => Ok(None),
            Err(e) => Err(KeysError::Keystore(e)),
        }
    }

    /// The private key named `name` ("self" or "" for the node's own).
    pub fn key_private(&self, name: &str) -> Result<PrivateKey, NodeError> {
        if name.is_empty() || name == SELF {
            return Ok(self.repo().identity().clone());
        }
        Ok(self.keystore_get(name)?.ok_or_else(|| KeysError::NoSuchKey(name.to_string()))?)
    }

    /// Makes a key named `name` (`key gen`); `bits` for RSA only.
    pub async fn key_gen(&self, name: &str, kind: KeyType, bits: Option<u32>) -> Result<KeyInfo, NodeError> {
        if name == SELF {
            return Err(KeysError::CreateSelf.into());
        }
        let name = name.to_string();
        self.run_blocking(move |node| {
            if node.repo().keystore().has(&name).map_err(KeysError::Keystore)? {
                return Err(KeysError::Exists(name).into());
            }
            let key = PrivateKey::generate(kind, bits.unwrap_or(2048)).map_err(|e| KeysError::Key(e.to_string()))?;
            node.key_store_new(&name, &key)?;
            Ok(KeyInfo { name, id: key.peer_id() })
        })
        .await
    }

    fn key_store_new(&self, name: &str, key: &PrivateKey) -> Result<(), KeysError> {
        match self.repo().keystore().put(name, key) {
            Ok(()) => Ok(()),
            Err(KeystoreError::Exists) => Err(KeysError::Exists(name.to_string())),
            Err(e) => Err(KeysError::Keystore(e)),
        }
    }

    /// Every key: "self" first, then the keystore's by name (`key ls`).
    pub fn key_list(&self) -> Result<Vec<KeyInfo>, NodeError> {
        let mut out = vec![KeyInfo { name: SELF.into(), id: self.repo().identity().peer_id() }];
        let ks = self.repo().keystore();
        for name in ks.list().map_err(KeysError::Keystore)? {
            if name == SELF {
                continue;
            }
            match ks.get(&name) {
                Ok(k) => out.push(KeyInfo { id: k.peer_id(), name }),
                // Kubo logs an unreadable key and lists the others.
                Err(e) => tracing::warn!("cannot get key {name} from keystore: {e}"),
            }
        }
        Ok(out)
    }

    /// Renames a key (`key rename`); whether another key was overwritten.
    pub fn key_rename(&self, old: &str, new: &str, force: bool) -> Result<(KeyInfo, bool), NodeError> {
        if old == SELF {
            return Err(KeysError::RenameSelf.into());
        }
        if new == SELF {
            return Err(KeysError::OverwriteSelf.into());
        }
        let key = self.keystore_get(old)?.ok_or_else(|| KeysError::NotFound(old.to_string()))?;
        let id = key.peer_id();
        if old == new {
            return Ok((KeyInfo { name: new.into(), id }, false));
        }
        let ks = self.repo().keystore();
        let mut overwrite = false;
        if force && ks.has(new).map_err(KeysError::Keystore)? {
            ks.delete(new).map_err(KeysError::Keystore)?;
            overwrite = true;
        }
        match ks.put(new, &key) {
            Ok(()) => {}
            Err(KeystoreError::Exists) => return Err(KeysError::RefuseOverwrite.into()),
            Err(e) => return Err(KeysError::Keystore(e).into()),
        }
        ks.delete(old).map_err(KeysError::Keystore)?;
        Ok((KeyInfo { name: new.into(), id }, overwrite))
    }

    /// Removes a key (`key rm`), giving what it was.
    pub fn key_remove(&self, name: &str) -> Result<KeyInfo, NodeError> {
        if name == SELF {
            return Err(KeysError::RemoveSelf.into());
        }
        let key = self.keystore_get(name)?.ok_or_else(|| KeysError::NotFound(name.to_string()))?;
        self.repo().keystore().delete(name).map_err(KeysError::Keystore)?;
        Ok(KeyInfo { name: name.into(), id: key.peer_id() })
    }

    /// Stores a key made elsewhere (`key import`).
    pub fn key_import(&self, name: &str, key: &PrivateKey) -> Result<KeyInfo, NodeError> {
        if name == SELF {
            return Err(KeysError::ImportSelf.into());
        }
        if self.keystore_get(name)?.is_some() {
            return Err(KeysError::Exists(name.to_string()).into());
        }
        self.key_store_new(name, key)?;
        Ok(KeyInfo { name: name.into(), id: key.peer_id() })
    }

    /// A key to export: never "self" (Kubo keeps the identity in the config).
    pub fn key_export(&self, name: &str) -> Result<PrivateKey, NodeError> {
        if name == SELF {
            return Err(KeysError::ExportSelf.into());
        }
        Ok(self.keystore_get(name)?.ok_or_else(|| KeysError::NoSuchKey(name.to_string()))?)
    }

    /// Signs `SIGNED_MESSAGE_PREFIX ++ data` with a key (`key sign`).
    pub fn key_sign(&self, name: &str, data: &[u8]) -> Result<(KeyInfo, Vec<u8>), NodeError> {
        let name = if name.is_empty() { SELF } else { name };
        let key = self.key_private(name)?;
        let msg = [SIGNED_MESSAGE_PREFIX, data].concat();
        let sig = key.keypair().sign(&msg).map_err(|e| KeysError::Sign(e.to_string()))?;
        Ok((KeyInfo { name: name.into(), id: key.peer_id() }, sig))
    }

    /// Checks a `key sign` signature against a key: one of ours by name, or
    /// any name or peer ID that inlines its public key (`key verify`). The
    /// name is empty in the latter case, as Kubo prints it.
    pub fn key_verify(&self, key_or_name: &str, sig: &[u8], data: &[u8]) -> Result<(KeyInfo, bool), NodeError> {
        let (name, public) = if key_or_name.is_empty() || key_or_name == SELF {
            (SELF.to_string(), self.repo().identity().public())
        } else if let Some(k) = self.keystore_get(key_or_name)? {
            (key_or_name.to_string(), k.public())
        } else {
            let n = Name::parse(key_or_name).map_err(|_| KeysError::UnknownKey(key_or_name.to_string()))?;
            let pk = n.peer_id().as_ref().digest().to_vec();
            let public = rubo_net::libp2p::identity::PublicKey::try_decode_protobuf(&pk)
                .map_err(|_| KeysError::NoPublicKey(key_or_name.to_string()))?;
            (String::new(), public)
        };
        let msg = [SIGNED_MESSAGE_PREFIX, data].concat();
        let valid = public.verify(&msg, sig);
        Ok((KeyInfo { name, id: public.to_peer_id() }, valid))
    }

    /// The key `key` names: a key name, or the peer ID / IPNS name of one.
    fn publish_key(&self, key: &str) -> Result<PrivateKey, NodeError> {
        if key.is_empty() || key == SELF {
            return Ok(self.repo().identity().clone());
        }
        if let Some(k) = self.keystore_get(key)? {
            return Ok(k);
        }
        if let Ok(n) = Name::parse(key) {
            if n.peer_id() == self.repo().identity().peer_id() {
                return Ok(self.repo().identity().clone());
            }
            for info in self.key_list()? {
                if info.id == n.peer_id() {
                    return self.key_private(&info.name);
                }
            }
        }
        Err(KeysError::NoSuchKey(key.to_string()).into())
    }

    /// The record this node keeps for `name`, if any (valid or expired).
    pub fn ipns_local_record(&self, name: &Name) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.repo().datastore()?.get(&record_key(name))?)
    }

    /// Keeps `bytes` as this node's record for `name`.
    pub fn ipns_keep_record(&self, name: &Name, bytes: &[u8]) -> Result<(), NodeError> {
        Ok(self.repo().datastore()?.put(&record_key(name), bytes)?)
    }

    /// Publishes `value` under a key's name (`name publish`): a record one
    /// sequence number past the held one (or `sequence`, if higher), kept
    /// here and, online, put to the DHT.
    pub async fn name_publish(&self, value: &str, opts: &PublishOptions) -> Result<Record, NodeError> {
        if !opts.allow_offline && !self.ipns_online() {
            return Err(KeysError::Offline(PUBLISH_OFFLINE_ERROR).into());
        }
        let key = self.publish_key(&opts.key)?;
        let name = Name::from_public_key(&key.public());
        let now = SystemTime::now();
        let held = self.ipns_local_record(&name)?.and_then(|b| record_ignoring_expiry(&name, &b, now));
        let next = held.as_ref().map_or(0, |r| r.sequence().saturating_add(1));
        let sequence = match opts.sequence {
            Some(s) if held.is_some() && s < next => {
                return Err(KeysError::Sequence { given: s, current: next.saturating_sub(1) }.into());
            }
            Some(s) => s,
            None => next,
        };
        let ttl = opts.ttl.unwrap_or(rubo_ipns::DEFAULT_TTL.min(opts.lifetime));
        let eol = now.checked_add(opts.lifetime).ok_or_else(|| KeysError::Key("lifetime out of range".into()))?;
        let record =
            Record::create(key.keypair(), value.as_bytes(), sequence, eol, ttl, rubo_ipns::CreateOptions::default())
                .map_err(|e| KeysError::Key(e.to_string()))?;
        self.ipns_keep_record(&name, record.as_bytes())?;
        if self.ipns_online() {
            self.routing_put(&name.to_path(), record.as_bytes().to_vec()).await?;
        }
        Ok(record)
    }

    /// The best record for `name`: the DHT's when online, against the one
    /// kept here; the kept one alone offline. Validated, expiry included.
    pub async fn name_record(&self, name: &Name) -> Result<Record, NodeError> {
        let now = SystemTime::now();
        let local = self.ipns_local_record(name)?;
        let mut best: Option<Record> = None;
        let mut last_err: Option<IpnsError> = None;
        if self.ipns_online() {
            match self.routing_get(&name.to_path()).await {
                Ok(bytes) => match rubo_ipns::validate(name, &bytes, now) {
                    Ok(r) => best = Some(r),
                    Err(e) => last_err = Some(e),
                },
                Err(e) if local.is_none() => return Err(KeysError::Unresolved(e.to_string()).into()),
                Err(_) => {}
            }
        }
        if let Some(bytes) = local {
            match rubo_ipns::validate(name, &bytes, now) {
                Ok(r) => {
                    best = match best {
                        Some(b) if rubo_ipns::select(&b, &r) != std::cmp::Ordering::Less => Some(b),
                        _ => Some(r),
                    }
                }
                Err(e) => last_err = last_err.or(Some(e)),
            }
        }
        match (best, last_err) {
            (Some(r), _) => Ok(r),
            (None, Some(e)) => Err(KeysError::Ipns(e).into()),
            (None, None) => Err(KeysError::Unresolved(format!("no record found for {name}")).into()),
        }
    }

    /// Resolves an IPNS name to its value (`name resolve`), following
    /// `/ipns/` values when `recursive`, up to [`MAX_RESOLVE_DEPTH`] names.
    pub async fn name_resolve(&self, name: &str, recursive: bool) -> Result<String, NodeError> {
        let mut current = if name.is_empty() {
            Name::from_public_key(&self.repo().identity().public())
        } else {
            Name::parse(name).map_err(KeysError::Name)?
        };
        for _ in 0..MAX_RESOLVE_DEPTH {
            let record = self.name_record(&current).await?;
            let value = record.value().to_string();
            if !recursive {
                return Ok(value);
            }
            match value.strip_prefix("/ipns/") {
                Some(rest) => {
                    let (head, tail) = rest.split_once('/').unwrap_or((rest, ""));
                    match Name::parse(head) {
                        Ok(n) if tail.is_empty() => current = n,
                        // A path under a name, or a DNSLink name: as far as it goes.
                        _ => return Ok(value),
                    }
                }
                None => return Ok(value),
            }
        }
        Err(KeysError::TooDeep.into())
    }

    /// Whether names go to and come from the DHT: online, and not a view
    /// asked to stay offline (`--offline` on a running daemon).
    pub fn ipns_online(&self) -> bool {
        self.is_online() && !self.offline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_repo::InitOptions;

    fn node() -> (tempfile::TempDir, Node) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("repo");
        rubo_repo::Repo::init(&path, &InitOptions::default()).expect("init");
        let node = Node::open(&path, rubo_repo::LockMode::Exclusive, "test").expect("open");
        (dir, node)
    }

    #[tokio::test]
    async fn keys_gen_list_rename_remove_as_kubo() {
        let (_d, node) = node();
        let a = node.key_gen("a", KeyType::Ed25519, None).await.expect("gen");
        assert_eq!(
            node.key_gen("a", KeyType::Ed25519, None).await.expect_err("dup").to_string(),
            "key with name 'a' already exists"
        );
        assert_eq!(
            node.key_gen("self", KeyType::Ed25519, None).await.expect_err("self").to_string(),
            "cannot create key with name 'self'"
        );
        let names: Vec<String> = node.key_list().expect("ls").into_iter().map(|k| k.name).collect();
        assert_eq!(names, ["self", "a"]);
        node.key_gen("b", KeyType::Secp256k1, None).await.expect("gen b");
        assert_eq!(
            node.key_rename("a", "b", false).expect_err("exists").to_string(),
            "key by that name already exists, refusing to overwrite"
        );
        let (k, over) = node.key_rename("a", "b", true).expect("force");
        assert!(over);
        assert_eq!(k.id, a.id);
        assert_eq!(
            node.key_rename("self", "x", false).expect_err("self").to_string(),
            "cannot rename key with name 'self'"
        );
        assert_eq!(node.key_remove("a").expect_err("gone").to_string(), "no key named a was found");
        assert_eq!(node.key_remove("b").expect("rm").id, a.id);
    }

    #[test]
    fn signatures_cover_the_prefix() {
        let (_d, node) = node();
        let (k, sig) = node.key_sign("", b"hello").expect("sign");
        assert_eq!(k.name, "self");
        // Verified against the prefixed message by the key itself.
        let public = node.repo().identity().public();
        assert!(public.verify(b"libp2p-key signed message:hello", &sig));
        assert!(!public.verify(b"hello", &sig));
        assert!(node.key_verify("self", &sig, b"hello").expect("verify").1);
        assert!(!node.key_verify("self", &sig, b"other").expect("verify").1);
        // By peer ID: the name is empty, as Kubo prints it.
        let (k, ok) = node.key_verify(&k.id.to_string(), &sig, b"hello").expect("by id");
        assert!(ok);
        assert_eq!(k.name, "");
    }

    #[tokio::test]
    async fn publish_offline_needs_allow_offline_and_continues_the_sequence() {
        let (_d, node) = node();
        let value = "/ipfs/bafkqaaa";
        let mut opts = PublishOptions {
            key: "self".into(),
            lifetime: rubo_ipns::DEFAULT_LIFETIME,
            ttl: None,
            sequence: None,
            allow_offline: false,
        };
        assert_eq!(node.name_publish(value, &opts).await.expect_err("offline").to_string(), PUBLISH_OFFLINE_ERROR);
        opts.allow_offline = true;
        let r0 = node.name_publish(value, &opts).await.expect("first");
        assert_eq!(r0.sequence(), 0);
        assert_eq!(r0.ttl(), rubo_ipns::DEFAULT_TTL);
        let r1 = node.name_publish(value, &opts).await.expect("second");
        assert_eq!(r1.sequence(), 1);
        opts.sequence = Some(10);
        assert_eq!(node.name_publish(value, &opts).await.expect("explicit").sequence(), 10);
        opts.sequence = Some(5);
        assert!(node.name_publish(value, &opts).await.is_err());
        assert_eq!(node.name_resolve("", true).await.expect("resolve"), value);
    }

    #[tokio::test]
    async fn resolve_follows_names_and_refuses_expired_records() {
        let (_d, node) = node();
        let other = node.key_gen("other", KeyType::Ed25519, None).await.expect("gen");
        let other_name = Name::from_public_key(&node.key_private("other").expect("key").public());
        assert_eq!(other_name.peer_id(), other.id);
        let opts = |key: &str| PublishOptions {
            key: key.into(),
            lifetime: rubo_ipns::DEFAULT_LIFETIME,
            ttl: None,
            sequence: None,
            allow_offline: true,
        };
        node.name_publish("/ipfs/bafkqaaa", &opts("other")).await.expect("other");
        node.name_publish(&other_name.to_path(), &opts("self")).await.expect("self");
        assert_eq!(node.name_resolve("", true).await.expect("recursive"), "/ipfs/bafkqaaa");
        assert_eq!(node.name_resolve("", false).await.expect("one step"), other_name.to_path());

        // A record that expired is refused.
        let key = node.key_private("other").expect("key");
        let past = SystemTime::now() - Duration::from_secs(60);
        let r = Record::create(key.keypair(), b"/ipfs/bafkqaaa", 9, past, Duration::ZERO, Default::default())
            .expect("create");
        node.ipns_keep_record(&other_name, r.as_bytes()).expect("keep");
        let err = node.name_resolve(&other_name.to_string(), true).await.expect_err("expired");
        assert!(err.to_string().contains("expired"), "{err}");
    }
}
