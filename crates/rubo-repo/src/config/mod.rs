//! The config file: Kubo's JSON layout and key names, so that users' habits,
//! scripts and `config` commands carry over.
//!
//! The document is kept as JSON (unknown keys survive a round trip) and checked
//! against a schema of every known key on load and on every change. Code reads
//! it through the typed [`Config`] view.

mod profiles;
mod schema;
pub mod units;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value, json};
use thiserror::Error;

pub use profiles::{PROFILES, Profile, apply_profile};

/// The config file name in a repo.
pub const CONFIG_FILE: &str = "config";

/// A config failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("config {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("failure to decode config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("failure to decode config: {0}")]
    Invalid(String),
    #[error("{0}")]
    Key(String),
    #[error("{0} is not a profile")]
    UnknownProfile(String),
    #[error("{0}")]
    Profile(String),
}

/// The node's identity section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IdentityConfig {
    #[serde(rename = "PeerID")]
    pub peer_id: String,
    #[serde(rename = "PrivKey")]
    pub priv_key: String,
}

/// The `Datastore` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DatastoreConfig {
    #[serde(rename = "StorageMax")]
    pub storage_max: String,
    #[serde(rename = "StorageGCWatermark")]
    pub storage_gc_watermark: i64,
    #[serde(rename = "GCPeriod")]
    pub gc_period: String,
    #[serde(rename = "Spec")]
    pub spec: Value,
    #[serde(rename = "HashOnRead")]
    pub hash_on_read: bool,
}

/// The `Addresses` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AddressesConfig {
    #[serde(rename = "Swarm")]
    pub swarm: Option<Vec<String>>,
    #[serde(rename = "Announce")]
    pub announce: Option<Vec<String>>,
    #[serde(rename = "AppendAnnounce")]
    pub append_announce: Option<Vec<String>>,
    #[serde(rename = "NoAnnounce")]
    pub no_announce: Option<Vec<String>>,
    #[serde(rename = "API")]
    pub api: Strings,
    #[serde(rename = "Gateway")]
    pub gateway: Strings,
}

/// Kubo's `Strings`: one string, several, or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Strings(pub Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
            None(()),
        }
        Ok(match Option::<Raw>::deserialize(d)? {
            Some(Raw::One(s)) if s.is_empty() => Strings(vec![]),
            Some(Raw::One(s)) => Strings(vec![s]),
            Some(Raw::Many(v)) => Strings(v),
            Some(Raw::None(())) | None => Strings(vec![]),
        })
    }
}

/// The `Import` section: UnixFS import defaults (`null` = built-in default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ImportConfig {
    #[serde(rename = "CidVersion")]
    pub cid_version: Option<i64>,
    #[serde(rename = "UnixFSRawLeaves")]
    pub raw_leaves: Option<bool>,
    #[serde(rename = "UnixFSChunker")]
    pub chunker: Option<String>,
    #[serde(rename = "HashFunction")]
    pub hash_function: Option<String>,
    #[serde(rename = "UnixFSFileMaxLinks")]
    pub file_max_links: Option<i64>,
    #[serde(rename = "UnixFSDirectoryMaxLinks")]
    pub directory_max_links: Option<i64>,
    #[serde(rename = "UnixFSHAMTDirectoryMaxFanout")]
    pub hamt_max_fanout: Option<i64>,
    #[serde(rename = "UnixFSHAMTDirectorySizeThreshold")]
    pub hamt_size_threshold: Option<Value>,
    #[serde(rename = "UnixFSHAMTDirectorySizeEstimation")]
    pub hamt_size_estimation: Option<String>,
    #[serde(rename = "UnixFSDAGLayout")]
    pub dag_layout: Option<String>,
}

/// The typed view of the config that rubo reads. Sections rubo does not act on
/// yet stay in the JSON document only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(rename = "Identity")]
    pub identity: IdentityConfig,
    #[serde(rename = "Datastore")]
    pub datastore: DatastoreConfig,
    #[serde(rename = "Addresses")]
    pub addresses: AddressesConfig,
    #[serde(rename = "Bootstrap")]
    pub bootstrap: Option<Vec<String>>,
    #[serde(rename = "Import")]
    pub import: ImportConfig,
}

/// The default block/metadata layout: Kubo's flatfs for blocks, redb (rubo's
/// transactional store) where Kubo has leveldb.
pub fn default_datastore_spec() -> Value {
    json!({
        "mounts": [
            {
                "mountpoint": "/blocks",
                "path": "blocks",
                "prefix": "flatfs.datastore",
                "shardFunc": crate::flatfs::DEFAULT_SHARDING,
                "sync": true,
                "type": "flatfs"
            },
            {
                "mountpoint": "/",
                "path": "datastore.redb",
                "prefix": "redb.datastore",
                "type": "redb"
            }
        ],
        "type": "mount"
    })
}

/// The default `Addresses` section: every interface, Kubo's ports.
pub fn default_addresses() -> Value {
    json!({
        "Swarm": [
            "/ip4/0.0.0.0/tcp/4001",
            "/ip6/::/tcp/4001",
            "/ip4/0.0.0.0/udp/4001/quic-v1",
            "/ip6/::/udp/4001/quic-v1"
        ],
        "Announce": [],
        "AppendAnnounce": [],
        "NoAnnounce": [],
        "API": "/ip4/127.0.0.1/tcp/5001",
        "Gateway": "/ip4/127.0.0.1/tcp/8080"
    })
}

/// The config `init` writes, in Kubo's key order.
pub fn default_config(peer_id: &str, priv_key_b64: &str) -> Value {
    json!({
        "Identity": { "PeerID": peer_id, "PrivKey": priv_key_b64 },
        "Datastore": {
            "StorageMax": "10GB",
            "StorageGCWatermark": 90,
            "GCPeriod": "1h",
            "Spec": default_datastore_spec(),
            "HashOnRead": false,
            "BloomFilterSize": 0,
            "BlockKeyCacheSize": null
        },
        "Addresses": default_addresses(),
        "Mounts": {
            "IPFS": "/ipfs", "IPNS": "/ipns", "MFS": "/mfs",
            "FuseAllowOther": null, "StoreMtime": null, "StoreMode": null
        },
        "Discovery": { "MDNS": { "Enabled": true } },
        "Routing": { "DelegatedRouters": ["auto"] },
        "Ipns": {
            "RepublishPeriod": "",
            "RecordLifetime": "",
            "ResolveCacheSize": 128,
            "DelegatedPublishers": ["auto"]
        },
        "Bootstrap": ["auto"],
        "Gateway": {
            "HTTPHeaders": {},
            "RootRedirect": "",
            "NoFetch": false,
            "NoDNSLink": false,
            "DeserializedResponses": null,
            "AllowCodecConversion": null,
            "DisableHTMLErrors": null,
            "PublicGateways": null,
            "ExposeRoutingAPI": null
        },
        "API": { "HTTPHeaders": {} },
        "Swarm": {
            "AddrFilters": null,
            "DisableBandwidthMetrics": false,
            "DisableNatPortMap": false,
            "RelayClient": {},
            "RelayService": {},
            "Transports": { "Network": {}, "Security": {}, "Multiplexers": {} },
            "ConnMgr": {},
            "ResourceMgr": {}
        },
        "AutoNAT": {},
        "AutoTLS": {},
        "Pubsub": { "Router": "", "DisableSigning": false },
        "Peering": { "Peers": null },
        "DNS": { "Resolvers": { ".": "auto" } },
        "Migration": {},
        "AutoConf": {},
        "Provide": { "DHT": {} },
        "Provider": {},
        "Reprovider": {},
        "HTTPRetrieval": {},
        "Experimental": {
            "FilestoreEnabled": false,
            "UrlstoreEnabled": false,
            "Libp2pStreamMounting": false,
            "P2pHttpProxy": false,
            "OptimisticProvide": false,
            "OptimisticProvideJobsPoolSize": 0
        },
        "Plugins": { "Plugins": null },
        "Pinning": { "RemoteServices": {} },
        "Import": {
            "CidVersion": null,
            "UnixFSRawLeaves": null,
            "UnixFSChunker": null,
            "HashFunction": null,
            "UnixFSFileMaxLinks": null,
            "UnixFSDirectoryMaxLinks": null,
            "UnixFSHAMTDirectoryMaxFanout": null,
            "UnixFSHAMTDirectorySizeThreshold": null,
            "UnixFSHAMTDirectorySizeEstimation": null,
            "UnixFSDAGLayout": null,
            "BatchMaxNodes": null,
            "BatchMaxSize": null,
            "FastProvideRoot": null,
            "FastProvideDAG": null,
            "FastProvideWait": null
        },
        "Version": {},
        "Internal": {},
        "Bitswap": {}
    })
}

/// A config document and where it lives.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    doc: Value,
}

impl ConfigFile {
    /// A new, unsaved config at `path`.
    pub fn new(path: &Path, doc: Value) -> Result<Self, ConfigError> {
        schema::validate(&doc).map_err(ConfigError::Invalid)?;
        Ok(Self { path: path.to_path_buf(), doc })
    }

    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let bytes = fs::read(path).map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })?;
        if !doc.is_object() {
            return Err(ConfigError::Parse { path: path.to_path_buf(), message: "not a JSON object".into() });
        }
        schema::validate(&doc).map_err(|message| ConfigError::Parse { path: path.to_path_buf(), message })?;
        Ok(Self { path: path.to_path_buf(), doc })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// The typed view.
    pub fn typed(&self) -> Result<Config, ConfigError> {
        Config::deserialize(&self.doc).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// Writes the file atomically and durably, readable by its owner only
    /// (it holds the private key).
    pub fn save(&self) -> Result<(), ConfigError> {
        let io = |source| ConfigError::Io { path: self.path.clone(), source };
        let mut text = serde_json::to_string_pretty(&self.doc).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        text.push('\n');
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".config.tmp-{}", std::process::id()));
        let res = (|| {
            let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
            fs::rename(&tmp, &self.path)?;
            fs::File::open(dir)?.sync_all()
        })();
        if res.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        res.map_err(io)
    }

    /// The value at a dotted key, as Kubo's `config <key>` reads it.
    pub fn get(&self, key: &str) -> Result<Value, ConfigError> {
        let mut cur = &self.doc;
        let mut seen = String::new();
        for part in key.split('.') {
            let parent = seen.clone();
            if !seen.is_empty() {
                seen.push('.');
            }
            seen.push_str(part);
            cur = match cur {
                Value::Object(m) => m.get(part).ok_or_else(|| ConfigError::Key(format!("{seen} not found")))?,
                _ => return Err(ConfigError::Key(format!("{parent} key is not a map"))),
            };
        }
        Ok(cur.clone())
    }

    /// Sets a dotted key, creating intermediate objects, then checks the whole
    /// document. On error nothing changes.
    pub fn set(&mut self, key: &str, value: Value) -> Result<(), ConfigError> {
        schema::check_key(key).map_err(ConfigError::Key)?;
        let mut doc = self.doc.clone();
        set_path(&mut doc, key, value)?;
        schema::validate(&doc).map_err(ConfigError::Invalid)?;
        self.doc = doc;
        Ok(())
    }

    /// Replaces the document, keeping this node's identity.
    pub fn replace(&mut self, mut new: Value) -> Result<(), ConfigError> {
        let Value::Object(m) = &mut new else {
            return Err(ConfigError::Invalid("config must be a JSON object".into()));
        };
        let identity = self.doc.get("Identity").cloned().unwrap_or(Value::Null);
        m.insert("Identity".into(), identity);
        schema::validate(&new).map_err(ConfigError::Invalid)?;
        self.doc = new;
        Ok(())
    }

    /// Replaces the whole document as is (identity included). For `init` and key rotation.
    pub fn replace_all(&mut self, doc: Value) -> Result<(), ConfigError> {
        schema::validate(&doc).map_err(ConfigError::Invalid)?;
        self.doc = doc;
        Ok(())
    }

    /// What `config show` prints: keys sorted, secrets removed.
    pub fn show(&self) -> Value {
        scrub(sorted(&self.doc))
    }
}

/// The document with every object's keys sorted, as Kubo's map-based output is.
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Removes the private key, API secrets and pinning service keys.
pub fn scrub(mut v: Value) -> Value {
    if let Some(id) = v.get_mut("Identity").and_then(Value::as_object_mut) {
        id.remove("PrivKey");
    }
    if let Some(auth) = v.pointer_mut("/API/Authorizations")
        && auth.is_object()
    {
        *auth = json!({});
    }
    if let Some(services) = v.pointer_mut("/Pinning/RemoteServices").and_then(Value::as_object_mut) {
        for svc in services.values_mut() {
            if let Some(api) = svc.get_mut("API").and_then(Value::as_object_mut) {
                api.remove("Key");
            }
        }
    }
    v
}

/// Sets `key` in `doc`, creating objects along the way (replacing nulls).
pub(crate) fn set_path(doc: &mut Value, key: &str, value: Value) -> Result<(), ConfigError> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = doc;
    let mut seen = String::new();
    for (i, part) in parts.iter().enumerate() {
        if cur.is_null() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else {
            return Err(ConfigError::Key(format!("{seen} key is not a map")));
        };
        if !seen.is_empty() {
            seen.push('.');
        }
        seen.push_str(part);
        if i == parts.len() - 1 {
            m.insert((*part).to_string(), value);
            return Ok(());
        }
        cur = m.entry((*part).to_string()).or_insert(Value::Null);
    }
    Ok(())
}

/// Whether `key` names the private key, which no command may read or write.
pub fn is_private_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "identity" || k == "identity.privkey"
}

/// Whether `key` reaches into pinning service credentials.
pub fn is_pinning_secret(key: &str) -> bool {
    let pattern = ["pinning", "remoteservices", "*", "api", "key"];
    let parts: Vec<String> = key.split('.').map(str::to_ascii_lowercase).collect();
    let n = parts.len().min(pattern.len());
    parts.iter().zip(pattern.iter()).take(n).all(|(p, want)| *want == "*" || p == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ConfigFile {
        ConfigFile::new(Path::new("/nonexistent/config"), default_config("12D3KooWX", "CAESQ")).unwrap()
    }

    #[test]
    fn default_is_valid_and_ordered() {
        let c = sample();
        let keys: Vec<&String> = c.doc().as_object().unwrap().keys().collect();
        assert_eq!(keys[0], "Identity");
        assert_eq!(keys[1], "Datastore");
        assert_eq!(keys.last().unwrap().as_str(), "Bitswap");
        let t = c.typed().unwrap();
        assert_eq!(t.addresses.api, Strings(vec!["/ip4/127.0.0.1/tcp/5001".into()]));
        assert_eq!(t.datastore.storage_max, "10GB");
    }

    #[test]
    fn get_and_set() {
        let mut c = sample();
        assert_eq!(c.get("Addresses.API").unwrap(), json!("/ip4/127.0.0.1/tcp/5001"));
        assert_eq!(c.get("Foo").unwrap_err().to_string(), "Foo not found");
        assert_eq!(c.get("Addresses.API.x").unwrap_err().to_string(), "Addresses.API key is not a map");
        c.set("Datastore.StorageGCWatermark", json!(80)).unwrap();
        assert_eq!(c.get("Datastore.StorageGCWatermark").unwrap(), json!(80));
        assert!(c.set("Datastore.StorageGCWatermark", json!("eighty")).is_err());
        assert_eq!(c.get("Datastore.StorageGCWatermark").unwrap(), json!(80));
        assert!(c.set("Nope.Key", json!(1)).is_err());
        // Creates missing sections and keys the schema knows.
        c.set("Routing.Type", json!("dht")).unwrap();
        c.set("Gateway.HTTPHeaders.X-Test", json!(["1"])).unwrap();
        assert_eq!(c.get("Gateway.HTTPHeaders.X-Test").unwrap(), json!(["1"]));
    }

    #[test]
    fn show_hides_secrets() {
        let c = sample();
        let shown = c.show();
        assert!(shown.pointer("/Identity/PrivKey").is_none());
        assert_eq!(shown.pointer("/Identity/PeerID"), Some(&json!("12D3KooWX")));
        let keys: Vec<&String> = shown.as_object().unwrap().keys().collect();
        assert_eq!(keys[0], "API");
    }

    #[test]
    fn secret_keys() {
        assert!(is_private_key("Identity.PrivKey"));
        assert!(is_private_key("identity"));
        assert!(!is_private_key("Identity.PeerID"));
        assert!(is_pinning_secret("Pinning"));
        assert!(is_pinning_secret("Pinning.RemoteServices.x.API.Key"));
        assert!(!is_pinning_secret("Pinning.Foo"));
    }

    #[test]
    fn replace_keeps_identity() {
        let mut c = sample();
        let mut new = c.show();
        new.as_object_mut().unwrap().insert("Bootstrap".into(), json!([]));
        c.replace(new).unwrap();
        assert_eq!(c.get("Identity.PrivKey").unwrap(), json!("CAESQ"));
        assert_eq!(c.get("Bootstrap").unwrap(), json!([]));
    }
}
