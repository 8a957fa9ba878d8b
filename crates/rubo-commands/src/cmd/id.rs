//! `rubo id`.

use crate::def::{Arg, Command};
use base64::Engine as _;
use rubo_repo::identity::PrivateKey;
use rubo_types::{Cid, codec};
use serde::{Deserialize, Serialize};

use crate::output::{FnText, Output, Printer, typed};
use crate::registry::{ArgKind, Ctx, RepoUse, Spec, str_opt};
use crate::{CmdError, Request};

/// Kubo's `IdOutput`.
#[derive(Debug, Serialize, Deserialize)]
struct IdOutput {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "PublicKey")]
    public_key: String,
    #[serde(rename = "Addresses")]
    addresses: Option<Vec<String>>,
    #[serde(rename = "AgentVersion")]
    agent_version: String,
    #[serde(rename = "Protocols")]
    protocols: Option<Vec<String>>,
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![Spec {
        path: "id",
        repo_for: None,
        repo: RepoUse::Read,
        args: ArgKind::Strings,
        local_only: false,
        def: || {
            Command::new("id")
                .about("Show rubo node id info.")
                .long_about(
                    "Prints out information about the specified peer.\n\
                     If no peer is specified, prints out information for local peers.\n\n\
                     'rubo id' supports the format option for output with the following keys:\n\
                     <id> : The peers id.\n<aver>: Agent version.\n<pubkey>: Public key.\n\
                     <addrs>: Addresses (newline delimited).\n<protocols>: Libp2p Protocol registrations (newline delimited).",
                )
                .arg(Arg::new("peerid").help("Peer.ID of node to look up."))
                .arg(str_opt("format", "Optional output format.").short('f'))
                .arg(str_opt(
                    "peerid-base",
                    "Encoding used for peer IDs: Can either be a multibase encoded CID or a base58btc encoded multihash. \
                     Takes {b58mh|base36|k|base32|b...}. [default: b58mh]",
                ))
        },
        run: |ctx, req| Box::pin(run(ctx, req)),
        text: |req| {
            let format = req.opts.str("format").map(str::to_string);
            Box::new(FnText(move |v, p: &mut Printer<'_>| {
                let out: IdOutput = typed(v)?;
                match &format {
                    Some(f) => p.out(&apply_format(f, &out)),
                    None => {
                        let s = to_tab_json(&out)?;
                        p.out(&format!("{s}\n\n"))
                    }
                }
            }))
        },
    }]
}

fn to_tab_json(v: &impl Serialize) -> Result<String, CmdError> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    v.serialize(&mut ser).map_err(|e| CmdError::new(e.to_string()))?;
    String::from_utf8(buf).map_err(|e| CmdError::new(e.to_string()))
}

fn apply_format(f: &str, o: &IdOutput) -> String {
    f.replace("<id>", &o.id)
        .replace("<aver>", &o.agent_version)
        .replace("<pubkey>", &o.public_key)
        .replace("<addrs>", &o.addresses.clone().unwrap_or_default().join("\n"))
        .replace("<protocols>", &o.protocols.clone().unwrap_or_default().join("\n"))
        .replace("\\n", "\n")
        .replace("\\t", "\t")
}

/// Formats a peer ID in the requested base, as Kubo's `keyencode` does.
fn encode_peer(peer: &libp2p_identity::PeerId, base: Option<&str>) -> Result<String, CmdError> {
    match base {
        None | Some("b58mh") | Some("v0") => Ok(peer.to_base58()),
        Some(name) => {
            let b = rubo_types::multibase::by_name(name)
                .ok_or_else(|| CmdError::client(format!("unsupported multibase encoding: {name}")))?;
            let mh =
                rubo_types::cid::multihash_from_bytes(&peer.to_bytes()).map_err(|e| CmdError::new(e.to_string()))?;
            let cid = Cid::new_v1(codec::LIBP2P_KEY, mh);
            Ok(rubo_types::cid::cid_to_string(&cid, b)?)
        }
    }
}

async fn run(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?;
    let base = req.opts.str("peerid-base");
    let me: &PrivateKey = node.repo().identity();
    let my_id = me.peer_id();
    let b64 = |k: &libp2p_identity::PublicKey| base64::engine::general_purpose::STANDARD.encode(k.encode_protobuf());
    if let Some(arg) = req.args.first() {
        let peer = parse_peer(arg)?;
        if peer != my_id {
            // `--offline`: no identify, even on an online node (a daemon
            // asked with --offline answers as the bare repo does).
            if req.global.offline {
                return Output::value(IdOutput {
                    id: encode_peer(&peer, base)?,
                    public_key: String::new(),
                    addresses: None,
                    agent_version: String::new(),
                    protocols: None,
                });
            }
            let net = match node.net() {
                Ok(n) => n.clone(),
                Err(_) => {
                    return Err(CmdError::new(
                        "'rubo id' cannot query information on remote peers without a running daemon; \
                         if you only want to convert --peerid-base, pass --offline option",
                    ));
                }
            };
            // Kubo asks the peer itself (identify), connecting if needed.
            let info = net.identify(peer).await.map_err(|e| CmdError::new(e.to_string()))?;
            let mut addrs: Vec<String> = info.listen_addrs.iter().map(|a| format!("{a}/p2p/{peer}")).collect();
            addrs.sort();
            let mut protocols = info.protocols.clone();
            protocols.sort();
            return Output::value(IdOutput {
                id: encode_peer(&peer, base)?,
                public_key: b64(&info.public_key),
                addresses: (!addrs.is_empty()).then_some(addrs),
                agent_version: info.agent_version,
                protocols: (!protocols.is_empty()).then_some(protocols),
            });
        }
    }
    let (addresses, protocols) = match node.net() {
        Ok(net) => {
            let mut a: Vec<String> = net
                .announced_addrs()
                .await
                .map_err(|e| CmdError::new(e.to_string()))?
                .iter()
                .map(|a| format!("{a}/p2p/{my_id}"))
                .collect();
            a.sort();
            let mut p: Vec<String> = node.protocols().iter().map(|s| s.to_string()).collect();
            p.sort();
            (Some(a), Some(p))
        }
        Err(_) => (None, None),
    };
    Output::value(IdOutput {
        id: encode_peer(&my_id, base)?,
        public_key: b64(&me.public()),
        addresses,
        agent_version: rubo_node::agent_version(),
        protocols,
    })
}

/// A peer ID as base58 multihash or as a CIDv1 (libp2p-key) in any base.
pub(crate) fn parse_peer(s: &str) -> Result<libp2p_identity::PeerId, CmdError> {
    if let Ok(p) = s.parse::<libp2p_identity::PeerId>() {
        return Ok(p);
    }
    let cid = rubo_types::parse_cid(s).map_err(|_| CmdError::client("invalid peer id"))?;
    libp2p_identity::PeerId::from_bytes(&cid.hash().to_bytes()).map_err(|_| CmdError::client("invalid peer id"))
}
