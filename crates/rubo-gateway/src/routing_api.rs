//! The delegated routing server (`/routing/v1`, ipfs/specs
//! `src/routing/http-routing-v1.md`) on the gateway port, as Kubo serves it
//! with `Gateway.ExposeRoutingAPI`: providers and peers from the node's
//! routers (its DHT and local records), JSON or NDJSON as `Accept` asks.
//! IPNS records (GET) come from the DHT, validated, as
//! `application/vnd.ipfs.ipns-record`, cached for their TTL.

use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode, header};
use rubo_node::Node;
use serde_json::{Value, json};

/// Providers per answer (the spec's servers return about 20).
const LIMIT: usize = 20;

fn ndjson_wanted(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().any(|v| v.as_bytes().windows(20).any(|w| w == b"application/x-ndjson"))
}

fn plain(status: StatusCode, msg: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("x-content-type-options", "nosniff")
        .body(Body::from(format!("{msg}\n")))
        .unwrap_or_default()
}

/// Records as JSON (`{"<field>": [...]}`) or NDJSON, with the spec's caching.
fn records(ndjson: bool, field: &str, items: Vec<Value>, head: bool) -> Response<Body> {
    // Found: cache for 5 min; nothing found: 15 s (the spec's suggestion), then 404.
    let (status, cache) = if items.is_empty() {
        (StatusCode::NOT_FOUND, "public, max-age=15, stale-while-revalidate=172800, stale-if-error=172800")
    } else {
        (StatusCode::OK, "public, max-age=300, stale-while-revalidate=172800, stale-if-error=172800")
    };
    let (ctype, body) = if ndjson {
        let mut s = String::new();
        for i in &items {
            s.push_str(&i.to_string());
            s.push('\n');
        }
        ("application/x-ndjson", s)
    } else {
        ("application/json", json!({ field: items }).to_string())
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, ctype)
        .header(header::CACHE_CONTROL, cache)
        .header(header::VARY, "Accept")
        .body(if head { Body::empty() } else { Body::from(body) })
        .unwrap_or_default()
}

fn node_error(e: &rubo_node::NodeError) -> Response<Body> {
    let status = match e.kind() {
        rubo_node::ErrorKind::Client => StatusCode::BAD_REQUEST,
        rubo_node::ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    plain(status, &e.to_string())
}

/// An IPNS record as the spec serves it: raw bytes, cached for the record's TTL (and never past
/// its validity).
fn ipns_record(name: &rubo_ipns::Name, bytes: Vec<u8>, head: bool) -> Response<Body> {
    let now = std::time::SystemTime::now();
    let Ok(rec) = rubo_ipns::validate(name, &bytes, now) else {
        return plain(StatusCode::NOT_FOUND, &format!("no valid IPNS record found for {name}"));
    };
    let left = rec.validity().duration_since(now).unwrap_or_default();
    let max_age = rec.ttl().min(left).as_secs();
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/vnd.ipfs.ipns-record")
        .header(header::CACHE_CONTROL, format!("public, max-age={max_age}"))
        .header(header::VARY, "Accept")
        .header(header::CONTENT_LENGTH, bytes.len())
        .body(if head { Body::empty() } else { Body::from(bytes) })
        .unwrap_or_default()
}

/// Answers `path` (below `/routing/v1`).
pub(crate) async fn serve(node: &Node, path: &str, headers: &HeaderMap, head: bool) -> Response<Body> {
    let ndjson = ndjson_wanted(headers);
    let rest = path.strip_prefix("/routing/v1").unwrap_or_default();
    let mut segs = rest.trim_start_matches('/').splitn(2, '/');
    let (kind, arg) = (segs.next().unwrap_or_default(), segs.next().unwrap_or_default());
    if arg.is_empty() || arg.contains('/') {
        return plain(StatusCode::NOT_FOUND, "404 page not found");
    }
    match kind {
        "providers" => {
            let Ok(cid) = rubo_types::parse_cid(arg) else {
                return plain(StatusCode::BAD_REQUEST, &format!("invalid CID {arg:?}"));
            };
            match node.find_providers(&cid, LIMIT).await {
                Ok(found) => {
                    let items = found
                        .into_iter()
                        .map(|p| {
                            json!({
                                "Schema": "peer",
                                "ID": p.id.to_string(),
                                "Addrs": p.addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                                "Protocols": if p.protocols.is_empty() { vec!["transport-bitswap".to_string()] } else { p.protocols },
                            })
                        })
                        .collect();
                    records(ndjson, "Providers", items, head)
                }
                Err(e) => node_error(&e),
            }
        }
        "peers" => {
            // A peer id in base58 or as a libp2p-key CID.
            let peer = rubo_node::rubo_net::libp2p::PeerId::from_bytes(
                &rubo_types::parse_cid(arg).map(|c| c.hash().to_bytes()).unwrap_or_default(),
            )
            .ok()
            .or_else(|| arg.parse().ok());
            let Some(peer) = peer else {
                return plain(StatusCode::BAD_REQUEST, &format!("invalid peer ID {arg:?}"));
            };
            match node.find_peer(peer).await {
                Ok(addrs) => {
                    let item = json!({
                        "Schema": "peer",
                        "ID": peer.to_string(),
                        "Addrs": addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "Protocols": Vec::<String>::new(),
                    });
                    records(ndjson, "Peers", vec![item], head)
                }
                Err(e) if e.to_string().contains("not found") => records(ndjson, "Peers", Vec::new(), head),
                Err(e) => node_error(&e),
            }
        }
        "ipns" => {
            let Ok(name) = rubo_ipns::Name::parse(arg) else {
                return plain(StatusCode::BAD_REQUEST, &format!("invalid IPNS name {arg:?}"));
            };
            match node.routing_get(&format!("/ipns/{name}")).await {
                Ok(bytes) => ipns_record(&name, bytes, head),
                Err(e) if e.to_string().contains("not found") => {
                    plain(StatusCode::NOT_FOUND, &format!("no IPNS record found for {name}"))
                }
                Err(e) => node_error(&e),
            }
        }
        _ => plain(StatusCode::NOT_FOUND, "404 page not found"),
    }
}
