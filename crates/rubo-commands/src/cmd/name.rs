//! `rubo name`: IPNS names (`publish`, `resolve`) and records (`inspect`,
//! `get`, `put`), with Kubo's JSON, text and errors
//! (`core/commands/name/*.go`).

use std::time::{Duration, SystemTime};

use rubo_node::keys::rubo_ipns::{self, Name};
use rubo_node::keys::{PUT_OFFLINE_ERROR, PublishOptions};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cmd::key::{KeyEncoder, ipns_base_opt};
use crate::def::{Arg, Command};
use crate::output::{FnText, Output, Printer, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::text::TabWriter;
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group {
        path: "name",
        about: "Publish and resolve IPNS names.",
        long_about: "IPNS is a PKI namespace, where names are the hashes of public keys, and\n\
            the private key enables publishing new (signed) values. In both publish\n\
            and resolve, the default name used is the node's own PeerID,\n\
            which is the hash of its public key.",
    }]
}

fn spec(
    path: &'static str,
    repo: RepoUse,
    def: fn() -> Command,
    run: crate::registry::Handler,
    text: crate::registry::TextFn,
) -> Spec {
    Spec { path, repo, repo_for: None, args: ArgKind::Strings, local_only: false, def, run, text }
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        spec(
            "name publish",
            RepoUse::Write,
            || {
                Command::new("publish")
                    .about("Publish IPNS names.")
                    .long_about(
                        "IPNS is a PKI namespace, where names are the hashes of public keys, and\n\
                         the private key enables publishing new (signed) values. In publish, the\n\
                         default name used is the node's own PeerID, which is the hash of its\n\
                         public key.",
                    )
                    .arg(Arg::new("ipfs-path").help("ipfs path of the object to be published.").required(true))
                    .arg(
                        str_opt("key", "Name of the key to be used or a valid PeerID, as listed by 'rubo key list -l'. Default: self.")
                            .short('k'),
                    )
                    .arg(bool_opt("resolve", "Check if the given path can be resolved before publishing. Default: true."))
                    .arg(
                        str_opt(
                            "lifetime",
                            "Time duration the signed record will be valid for. Accepts durations such as \"300s\", \"1.5h\" or \"7d2h45m\". Default: 48h0m0s",
                        )
                        .short('t'),
                    )
                    .arg(str_opt(
                        "ttl",
                        "Time duration to cache this record before checking for updates. Must not exceed --lifetime. Default: 5m0s (capped to --lifetime).",
                    ))
                    .arg(bool_opt("quieter", "Write only final IPNS Name encoded as CIDv1 (for use in /ipns content paths).").short('Q'))
                    .arg(bool_opt(
                        "v1compat",
                        "Produce a backward-compatible IPNS Record by including fields for both V1 and V2 signatures. Default: true.",
                    ))
                    .arg(bool_opt(
                        "allow-offline",
                        "Allow publishing when offline - publishes to local datastore without requiring network connectivity.",
                    ))
                    .arg(str_opt("sequence", "Set a custom sequence number for the IPNS record (must be higher than current)."))
                    .arg(ipns_base_opt())
            },
            |ctx, req| Box::pin(publish(ctx, req)),
            |req| {
                let quieter = req.opts.flag("quieter").unwrap_or(false);
                Box::new(FnText(move |v, p: &mut Printer<'_>| {
                    let e: IpnsEntry = typed(v)?;
                    if quieter {
                        p.out(&format!("{}\n", crate::text::esc_non_print(&e.name)))
                    } else {
                        p.out(&format!(
                            "Published to {}: {}\n",
                            crate::text::esc_non_print(&e.name),
                            crate::text::esc_non_print(&e.value)
                        ))
                    }
                }))
            },
        ),
        spec(
            "name resolve",
            RepoUse::Read,
            || {
                Command::new("resolve")
                    .about("Resolve IPNS names.")
                    .long_about(
                        "IPNS is a PKI namespace, where names are the hashes of public keys, and\n\
                         the private key enables publishing new (signed) values. In resolve, the\n\
                         default name used is the node's own PeerID, which is the hash of its\n\
                         public key.",
                    )
                    .arg(Arg::new("name").help("The IPNS name to resolve. Defaults to your node's peerID."))
                    .arg(
                        bool_opt("recursive", "Resolve until the result is not an IPNS name. Default: true.")
                            .short('r'),
                    )
                    .arg(bool_opt("nocache", "Do not use cached entries.").short('n'))
                    .arg(str_opt("dht-record-count", "Number of records to request for DHT resolution.").short('c'))
                    .arg(
                        str_opt(
                            "dht-timeout",
                            "Max time to collect values during DHT resolution eg \"30s\". Pass 0 for no timeout.",
                        )
                        .short('t'),
                    )
                    .arg(bool_opt("stream", "Stream entries as they are found.").short('s'))
            },
            |ctx, req| Box::pin(resolve(ctx, req)),
            |_| {
                Box::new(FnText(|v, p: &mut Printer<'_>| {
                    let r: ResolvedPath = typed(v)?;
                    p.out(&format!("{}\n", r.path))
                }))
            },
        ),
        spec(
            "name inspect",
            RepoUse::None,
            || {
                Command::new("inspect")
                    .about("Inspects an IPNS Record")
                    .long_about(
                        "Prints values inside of IPNS Record protobuf and its DAG-CBOR Data field.\n\
                         Passing --verify will verify signature against provided public key.",
                    )
                    .arg(Arg::new("record").help("The IPNS record payload to be verified.").file())
                    .arg(str_opt("verify", "CID of the public IPNS key to validate against."))
                    .arg(bool_opt("dump", "Include a full hex dump of the raw Protobuf record. Default: true."))
            },
            |ctx, req| Box::pin(inspect(ctx, req)),
            |_| Box::new(FnText(inspect_text)),
        ),
        spec(
            "name get",
            RepoUse::Read,
            || {
                Command::new("get")
                    .about("Retrieve a signed IPNS record.")
                    .long_about(
                        "Retrieves the signed IPNS record for a given name from the routing system,\n\
                         and writes it to stdout as is. Of several records, returns the one the\n\
                         routing system considers most current.",
                    )
                    .arg(Arg::new("name").help("The IPNS name to look up.").required(true))
            },
            |ctx, req| Box::pin(get(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "name put",
            RepoUse::Write,
            || {
                Command::new("put")
                    .about("Store a pre-signed IPNS record in the routing system.")
                    .long_about(
                        "Stores a signed IPNS record, as 'rubo name get' gives it, for its name: here,\n\
                         and in the routing system when online. The record is validated first,\n\
                         unless --force is given.",
                    )
                    .arg(
                        Arg::new("name")
                            .help("The IPNS name to store the record for (e.g., k51... or /ipns/k51...).")
                            .required(true),
                    )
                    .arg(Arg::new("record").help("Path to file containing the signed IPNS record.").file())
                    .arg(bool_opt("force", "Skip validation (signature, sequence, size).").short('f'))
                    .arg(bool_opt("allow-offline", "Store locally without broadcasting to the network."))
                    .arg(bool_opt("quiet", "Write no output.").short('q'))
            },
            |ctx, req| Box::pin(put(ctx, req)),
            |req| {
                let quiet = req.opts.flag("quiet").unwrap_or(false);
                Box::new(FnText(move |v, p: &mut Printer<'_>| {
                    let e: IpnsEntry = typed(v)?;
                    if quiet { Ok(()) } else { p.out(&format!("{}\n", crate::text::esc_non_print(&e.name))) }
                }))
            },
        ),
    ]
}

/// Kubo's `IpnsEntry`.
#[derive(Debug, Serialize, Deserialize)]
struct IpnsEntry {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Value")]
    value: String,
}

/// Kubo's `ResolvedPath`.
#[derive(Debug, Serialize, Deserialize)]
struct ResolvedPath {
    #[serde(rename = "Path")]
    path: String,
}

/// A duration as Kubo's publish takes it: Go's `time.ParseDuration`, plus
/// whole days before the rest (`7d2h45m`).
fn parse_lifetime(s: &str) -> Result<Duration, String> {
    let (days, rest) = match s.split_once('d') {
        Some((d, rest)) if !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()) => {
            (d.parse::<u64>().map_err(|e| e.to_string())?, rest)
        }
        _ => (0, s),
    };
    let rest =
        if rest.is_empty() { Duration::ZERO } else { rubo_node::rubo_repo::config::units::parse_duration(rest)? };
    days.checked_mul(86_400)
        .and_then(|secs| Duration::from_secs(secs).checked_add(rest))
        .ok_or_else(|| format!("invalid duration {s:?}"))
}

/// Go's `time.Duration.String` (`48h0m0s`, `1.5s`, `300ms`).
fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        let (unit, div) = match ns {
            n if n < 1_000 => return format!("{n}ns"),
            n if n < 1_000_000 => ("µs", 1_000u128),
            _ => ("ms", 1_000_000u128),
        };
        return format!("{}{unit}", fraction(ns, div));
    }
    let secs = ns / 1_000_000_000;
    let frac = fraction(ns % 60_000_000_000, 1_000_000_000);
    match (secs / 3600, secs / 60 % 60) {
        (0, 0) => format!("{frac}s"),
        (0, m) => format!("{m}m{frac}s"),
        (h, m) => format!("{h}h{m}m{frac}s"),
    }
}

fn fraction(n: u128, div: u128) -> String {
    let whole = n / div;
    let rem = n % div;
    if rem == 0 {
        return whole.to_string();
    }
    let digits = div.ilog10() as usize;
    let f = format!("{rem:0digits$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

async fn publish(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?;
    let enc = KeyEncoder::from_request(&req)?;
    let lifetime = match req.opts.str("lifetime") {
        None => rubo_ipns::DEFAULT_LIFETIME,
        Some(s) => {
            let d = parse_lifetime(s).map_err(|e| CmdError::client(format!("error parsing lifetime option: {e}")))?;
            if d.is_zero() {
                return Err(CmdError::client(format!("lifetime must be greater than zero, got {s}")));
            }
            d
        }
    };
    let ttl = match req.opts.str("ttl") {
        None => None,
        Some(s) => {
            let d = parse_lifetime(s).map_err(|e| CmdError::client(format!("error parsing ttl option: {e}")))?;
            if d > lifetime {
                return Err(CmdError::client(format!(
                    "ttl ({}) must not be greater than lifetime ({})",
                    go_duration(d),
                    go_duration(lifetime)
                )));
            }
            Some(d)
        }
    };
    let sequence = match req.opts.str("sequence") {
        None => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| CmdError::client(format!("invalid sequence {s:?}")))?),
    };
    let arg = req.arg(0, "ipfs-path")?;
    let value = if arg.starts_with('/') { arg.to_string() } else { format!("/ipfs/{arg}") };
    if req.opts.bool("resolve")?.unwrap_or(true) && value.starts_with("/ipfs/") {
        let path = rubo_node::IpfsPath::parse(&value)?;
        node.unixfs().resolve(&path).await?;
    }
    let opts = PublishOptions {
        key: req.opts.str("key").unwrap_or("self").to_string(),
        lifetime,
        ttl,
        sequence,
        allow_offline: req.opts.flag("allow-offline")?,
    };
    let record = node.name_publish(&value, &opts).await?;
    Output::value(IpnsEntry { name: enc.format(&record.name().peer_id()), value: record.value().to_string() })
}

async fn resolve(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?;
    let name = req.args.first().map(String::as_str).unwrap_or("");
    let recursive = req.opts.bool("recursive")?.unwrap_or(true);
    let fut = node.name_resolve(name, recursive);
    let path = match req.opts.str("dht-timeout") {
        Some(t) => {
            let d = parse_lifetime(t).map_err(|e| CmdError::client(format!("error parsing dht-timeout: {e}")))?;
            if d.is_zero() {
                fut.await?
            } else {
                tokio::time::timeout(d, fut)
                    .await
                    .map_err(|_| CmdError::new("could not resolve name: context deadline exceeded"))??
            }
        }
        None => fut.await?,
    };
    Output::value(ResolvedPath { path })
}

async fn read_record(req: &mut Request) -> Result<Vec<u8>, CmdError> {
    let mut inputs = req.take_inputs("record")?;
    let limit = rubo_ipns::MAX_RECORD_SIZE * 4;
    match inputs.next_file().await {
        Some(f) => f?.read_up_to(Some(limit)).await,
        None => Err(CmdError::client("argument \"record\" is required")),
    }
}

async fn inspect(_ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let verify = match req.opts.str("verify") {
        Some(v) => Some(Name::parse(v).map_err(|e| CmdError::client(e.to_string()))?),
        None => None,
    };
    let bytes = read_record(&mut req).await?;
    let mut out =
        rubo_ipns::inspect(&bytes, verify.as_ref(), SystemTime::now()).map_err(|e| CmdError::client(e.to_string()))?;
    if !req.opts.bool("dump")?.unwrap_or(true) {
        out.hex_dump.clear();
    }
    Output::value(out)
}

fn inspect_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let entry = &v["Entry"];
    let mut tw = TabWriter::new(0, 1);
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    if let Some(val) = entry["Value"].as_str().filter(|s| !s.is_empty()) {
        tw.line(&format!("Value:\t{}", quote(val)));
    }
    if let Some(t) = entry["ValidityType"].as_i64() {
        tw.line(&format!("Validity Type:\t{t}"));
    }
    if let Some(t) = entry["Validity"].as_str() {
        tw.line(&format!("Validity:\t{}", quote(t)));
    }
    if let Some(s) = entry["Sequence"].as_u64() {
        tw.line(&format!("Sequence:\t{s}"));
    }
    if let Some(t) = entry["TTL"].as_i64() {
        tw.line(&format!("TTL:\t{}", go_duration(Duration::from_nanos(t.max(0) as u64))));
    }
    tw.line(&format!("Protobuf Size:\t{}", v["PbSize"]));
    tw.line(&format!("Signature Type:\t{}", v["SignatureType"].as_str().unwrap_or("")));
    let mut out = tw.finish();
    match v.get("Validation").filter(|x| !x.is_null()) {
        None => out.push_str("\nThis record was not verified. Pass '--verify k51...' to verify.\n"),
        Some(val) => {
            out.push_str("\nValidation results:\n");
            let mut tw = TabWriter::new(0, 1);
            tw.line(&format!("\tValid:\t{}", val["Valid"].as_bool().unwrap_or(false)));
            if let Some(r) = val["Reason"].as_str().filter(|r| !r.is_empty()) {
                tw.line(&format!("\tReason:\t{r}"));
            }
            tw.line(&format!("\tName:\t{}", val["Name"].as_str().unwrap_or("")));
            out.push_str(&tw.finish());
        }
    }
    if let Some(d) = v["HexDump"].as_str().filter(|d| !d.is_empty()) {
        out.push_str("\nHex Dump:\n");
        out.push_str(d);
    }
    p.out(&out)
}

fn ipns_name(arg: &str) -> Result<Name, CmdError> {
    Name::parse(arg).map_err(|e| CmdError::client(format!("invalid IPNS name: {e}")))
}

async fn get(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?;
    let name = ipns_name(req.arg(0, "name")?)?;
    let bytes = if node.ipns_online() && !req.global.offline {
        node.routing_get(&name.to_path()).await?
    } else {
        node.ipns_local_record(&name)?.ok_or_else(|| CmdError::new("routing: not found"))?
    };
    Ok(Output::bytes("application/vnd.ipfs.ipns-record", bytes.into()))
}

async fn put(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let name = ipns_name(req.arg(0, "name")?)?;
    let force = req.opts.flag("force")?;
    let allow_offline = req.opts.flag("allow-offline")?;
    let bytes = read_record(&mut req).await?;
    if bytes.is_empty() {
        return Err(CmdError::client("record is empty"));
    }
    if !force {
        if bytes.len() > rubo_ipns::MAX_RECORD_SIZE {
            return Err(CmdError::client(format!(
                "record exceeds maximum size of {} bytes, use --force to skip size check",
                rubo_ipns::MAX_RECORD_SIZE
            )));
        }
        let rec = rubo_ipns::validate(&name, &bytes, SystemTime::now())
            .map_err(|e| CmdError::client(format!("record validation failed: {e}")))?;
        if let Some(held) = node.ipns_local_record(&name)?
            && held != bytes
            && let Ok(old) = rubo_ipns::validate(&name, &held, SystemTime::now())
            && old.sequence() >= rec.sequence()
        {
            return Err(CmdError::client(format!(
                "existing IPNS record has sequence {} >= new record sequence {}, use 'rubo name put --force' to skip this check",
                old.sequence(),
                rec.sequence()
            )));
        }
    }
    let online = node.ipns_online() && !req.global.offline;
    if !online && !allow_offline {
        return Err(CmdError::client(PUT_OFFLINE_ERROR));
    }
    node.ipns_keep_record(&name, &bytes)?;
    if online {
        node.routing_put(&name.to_path(), bytes.clone()).await?;
    }
    let value =
        rubo_ipns::inspect(&bytes, None, SystemTime::now()).ok().and_then(|i| i.entry.value).unwrap_or_default();
    Output::value(IpnsEntry { name: name.to_string(), value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_prints_and_kubo_reads_them() {
        assert_eq!(go_duration(Duration::from_secs(48 * 3600)), "48h0m0s");
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(300)), "300ms");
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(parse_lifetime("7d2h45m").expect("days"), Duration::from_secs(7 * 86400 + 2 * 3600 + 45 * 60));
        assert_eq!(parse_lifetime("1.5h").expect("hours"), Duration::from_secs(5400));
        assert_eq!(parse_lifetime("300s").expect("secs"), Duration::from_secs(300));
        assert!(parse_lifetime("soon").is_err());
    }
}
