//! rubo-repo: the config document and its schema, private keys, keystore
//! names, durations and byte sizes, flatfs keys and shard specs.

use std::path::Path;

use libp2p_identity::{PeerId, PublicKey};
use rubo_repo::config::units::{format_duration, humanize_bytes, parse_bytes, parse_duration};
use rubo_repo::config::{ConfigFile, PROFILES, apply_profile};
use rubo_repo::flatfs::{Shard, key_of, multihash_of_key};
use rubo_repo::identity::PrivateKey;
use rubo_repo::keystore;
use serde_json::Value;

/// A config document as `ConfigFile::load` reads one: JSON, an object, valid
/// against the schema; then the typed view, `config show`, key reads, a
/// save/load round trip and every profile.
pub fn config(data: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else { return };
    if !doc.is_object() {
        return;
    }
    let path = Path::new("/nonexistent/config");
    let Ok(cfg) = ConfigFile::new(path, doc.clone()) else { return };
    let _ = cfg.typed();
    let shown = cfg.show();
    assert!(shown.pointer("/Identity/PrivKey").is_none());
    if let Err(e) = ConfigFile::new(path, shown) {
        panic!("`config show` output is not a valid config: {e}");
    }
    // What `save` writes reads back as the same document.
    let text = serde_json::to_string_pretty(cfg.doc()).expect("a JSON value prints");
    let back: Value = serde_json::from_str(&text).expect("printed JSON parses");
    assert_eq!(back, doc);
    if let Value::Object(m) = &doc {
        for k in m.keys().filter(|k| !k.contains('.')).take(8) {
            assert_eq!(cfg.get(k).ok().as_ref(), m.get(k), "get({k:?})");
        }
    }
    for p in PROFILES {
        let mut d = doc.clone();
        let _ = apply_profile(&mut d, p.name, true);
    }
    let mut edited = cfg.clone();
    let _ = edited.set("Datastore.StorageMax", Value::String("1GB".into()));
    let _ = edited.set("Import.UnixFSChunker", Value::String("rabin".into()));
}

/// libp2p protobuf private keys (raw, and base64 as in `Identity.PrivKey`),
/// public keys and peer IDs.
pub fn identity(data: &[u8]) {
    if let Ok(k) = PrivateKey::decode(data) {
        assert_eq!(k.encoded(), data);
        let pid = k.peer_id();
        let again = PrivateKey::decode(k.encoded()).expect("a decoded key decodes again");
        assert_eq!(again.peer_id(), pid);
        let _ = k.type_name();
        assert_eq!(PeerId::from_bytes(&pid.to_bytes()).ok(), Some(pid));
        if let Ok(enc) = k.keypair().to_protobuf_encoding() {
            let canon = PrivateKey::decode(&enc).expect("libp2p's own encoding decodes");
            assert_eq!(canon.peer_id(), pid);
        }
        let public = k.public().encode_protobuf();
        assert_eq!(PublicKey::try_decode_protobuf(&public).ok(), Some(k.public()));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        use base64::Engine as _;
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim()) {
            let _ = PrivateKey::decode(&bytes);
        }
    }
    if let Ok(pk) = PublicKey::try_decode_protobuf(data) {
        let enc = pk.encode_protobuf();
        assert_eq!(PublicKey::try_decode_protobuf(&enc).ok(), Some(pk.clone()));
        let _ = pk.to_peer_id();
    }
    if let Ok(p) = PeerId::from_bytes(data) {
        assert_eq!(PeerId::from_bytes(&p.to_bytes()).ok(), Some(p));
        assert_eq!(p.to_base58().parse::<PeerId>().ok(), Some(p));
    }
}

/// Keystore file names: name -> file -> name, and file -> name -> file.
pub fn keystore_name(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let file = keystore::file_name(&s);
    assert_eq!(keystore::name_of(&file).as_deref(), Some(&*s), "{file}");
    if let Some(name) = keystore::name_of(&s) {
        let f = keystore::file_name(&name);
        assert!(f.eq_ignore_ascii_case(&s), "{s:?} -> {name:?} -> {f:?}");
    }
}

/// Go durations and byte sizes: what parses formats to text that parses to
/// the same duration, or to a size within go-humanize's rounding.
pub fn units(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(d) = parse_duration(&s) {
        let f = format_duration(d);
        assert_eq!(parse_duration(&f), Ok(d), "{s:?} -> {f:?}");
    }
    if let Ok(n) = parse_bytes(&s) {
        let h = humanize_bytes(n);
        let back = parse_bytes(&h).unwrap_or_else(|e| panic!("{h:?} ({n} bytes) does not parse: {e}"));
        let err = (back as f64 - n as f64).abs();
        // Exact below 10 bytes. Rounded to a tenth, then shown without decimals from 10 up (half to
        // even, as Go): 10.5 kB shows as "10 kB", so up to 0.55/9.95 = 5.53% off.
        assert!(err <= n as f64 * 0.056 + 0.5, "{n} -> {h:?} -> {back}");
    }
}

/// flatfs file names (base32 multihashes) and shard functions.
pub fn flatfs(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Some(mh) = multihash_of_key(&s) {
        assert_eq!(key_of(&mh), s, "flatfs keys are canonical");
    }
    if let Ok(shard) = Shard::parse(&s) {
        assert_eq!(Shard::parse(&shard.spec()).ok(), Some(shard));
    }
    for (shard, n) in
        [(Shard::Prefix(2), 2), (Shard::Suffix(3), 3), (Shard::NextToLast(2), 2), (Shard::NextToLast(16), 16)]
    {
        let d = shard.dir(&s);
        if s.is_ascii() {
            assert_eq!(d.len(), n, "{shard:?} of {s:?} is {d:?}");
        }
    }
}

/// `/proc/locks` tables as the repo lock reads them to name a holder: any
/// text gives a list (no panic), and every pid listed is one of the table's.
pub fn proc_locks(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // The device and inode to look for come from the input's first bytes.
    let word = |i: usize| data.get(i..i + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    for (dev, ino) in [(word(0), word(8)), (0xfe01, 10133507), (0, 0)] {
        for pid in rubo_repo::lock::holders_in(&text, dev, ino) {
            assert!(pid != 0 && text.contains(&pid.to_string()), "pid {pid} is not in the table");
        }
    }
}
