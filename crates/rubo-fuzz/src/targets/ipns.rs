//! rubo-ipns: IPNS records (validation, inspection) and names, timestamps
//! and content paths (the text they are made of).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libp2p_identity::Keypair;
use rubo_ipns::time::{format_rfc3339, parse_rfc3339};
use rubo_ipns::{IpnsError, Name, Record, RecordData, inspect, normalize_value, validate, validate_routing_record};

/// The key of the fixed name; seed records are signed with it, so that
/// mutations reach past the signature check.
pub(crate) fn fixed_key() -> Option<Keypair> {
    Keypair::ed25519_from_bytes([1u8; 32]).ok()
}

/// The time records are checked at (2025-01-01T00:00:00Z).
pub(crate) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

/// What a record that validated must satisfy: its bytes are the input, its
/// data re-encodes to the signed bytes, its value and EOL are stable, and
/// `name inspect --verify` agrees that it is valid.
fn check_valid(name: &Name, bytes: &[u8], r: &Record, expired: bool) {
    assert_eq!(r.as_bytes(), bytes);
    assert_eq!(r.name(), name);
    let signed = r.entry().data.as_deref().unwrap_or_default();
    assert_eq!(RecordData::decode(signed).as_ref().ok(), Some(r.data()), "data does not decode again");
    assert_eq!(r.data().encode(), signed, "data is not canonical");
    assert_eq!(normalize_value(r.value().as_bytes()).as_deref(), Ok(r.value()), "value is not stable");
    let eol = format_rfc3339(r.validity()).unwrap_or_default();
    assert_eq!(parse_rfc3339(&eol), Some(r.validity()), "EOL {eol} does not parse back");
    let i = inspect(bytes, Some(name), now()).unwrap_or_else(|e| panic!("valid record does not inspect: {e}"));
    let v = i.validation.unwrap_or_else(|| panic!("no validation"));
    assert_eq!(v.valid, !expired, "inspect says {:?}", v.reason);
    assert_eq!(i.entry.value.as_deref(), Some(r.value()));
    assert_eq!(i.entry.sequence, Some(r.sequence()));
}

fn check(name: &Name, bytes: &[u8]) {
    match validate(name, bytes, now()) {
        Ok(r) => check_valid(name, bytes, &r, false),
        Err(IpnsError::Expired(x)) => {
            assert!(x.eol() < now());
            check_valid(name, bytes, x.stale_record(), true);
        }
        Err(_) => {}
    }
}

/// The input as a record for a fixed name, and for its routing key; then,
/// if it starts with a line, that line as a name (text, then routing key)
/// and the rest as the record. No panic; what validates is consistent.
pub fn record(data: &[u8]) {
    if let Some(k) = fixed_key() {
        let name = Name::from_public_key(&k.public());
        check(&name, data);
        let via_key = validate_routing_record(&name.routing_key(), data, now());
        assert_eq!(via_key.is_ok(), validate(&name, data, now()).is_ok(), "routing key and name disagree");
    }
    let _ = inspect(data, None, now());
    let Some(nl) = data.iter().take(200).position(|&b| b == b'\n') else { return };
    let (head, rest) = (&data[..nl], &data[nl + 1..]);
    if let Some(name) = std::str::from_utf8(head).ok().and_then(|s| Name::parse(s).ok()) {
        check(&name, rest);
    }
    if let Ok(name) = Name::from_routing_key(head) {
        check(&name, rest);
        let _ = validate_routing_record(head, rest, now());
    }
}

/// The input as a name (text and routing key), an RFC 3339 timestamp and a
/// content path: no panic, and whatever parses prints and parses back to
/// the same thing.
pub fn name(data: &[u8]) {
    if let Ok(n) = Name::from_routing_key(data) {
        assert_eq!(n.routing_key(), data, "routing key does not round-trip");
    }
    if let Ok(p) = normalize_value(data) {
        assert_eq!(normalize_value(p.as_bytes()).as_ref(), Ok(&p), "path {p} is not stable");
    }
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(n) = Name::parse(s) {
        let text = n.to_string();
        assert!(text.starts_with('k'), "{text} is not base36");
        assert_eq!(Name::parse(&text), Ok(n), "{text} does not parse back");
        assert_eq!(Name::parse(&n.to_path()), Ok(n));
        assert_eq!(Name::parse(&n.peer_id().to_base58()), Ok(n), "base58 form does not parse back");
        assert_eq!(Name::from_routing_key(&n.routing_key()), Ok(n));
        assert_eq!(Name::from_cid(&n.to_cid()), Ok(n));
    }
    if let Some(t) = parse_rfc3339(s) {
        // An offset can move the instant out of years 0000..9999.
        if let Some(f) = format_rfc3339(t) {
            assert_eq!(parse_rfc3339(&f), Some(t), "{f} does not parse back");
        }
    }
}
