//! `rubo key`: the node's named keys, with Kubo's JSON, text and errors
//! (`core/commands/keystore.go`).

use base64::Engine as _;
use rubo_node::Node;
use rubo_node::keys::{KeyInfo, SELF};
use rubo_node::rubo_repo::identity::{KeyType, PrivateKey};
use rubo_node::rubo_repo::keystore::Keystore;
use rubo_types::multibase::Encoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::def::{Arg, ArgAction, Command};
use crate::output::{FnText, JsonText, Output, Printer, TextEncoder, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

const LIBP2P_FORMAT: &str = "libp2p-protobuf-cleartext";
const PEM_FORMAT: &str = "pem-pkcs8-cleartext";
/// The largest key file read (an RSA-16384 key is about 9 KiB).
const MAX_KEY_FILE: usize = 64 << 10;
/// The largest message `key sign|verify` take.
const MAX_MESSAGE: usize = 16 << 20;

/// PKCS#8 DER of an Ed25519 private key up to the 32-byte seed (RFC 8410, as
/// Go's `x509.MarshalPKCS8PrivateKey` writes it).
const ED25519_PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

pub(crate) fn groups() -> Vec<Group> {
    vec![Group {
        path: "key",
        about: "Create and list IPNS name keypairs",
        long_about: "'rubo key gen' generates a new keypair for usage with IPNS and 'rubo name\n\
            publish'.\n\n  > rubo key gen --type=rsa --size=2048 mykey\n  > rubo name publish --key=mykey QmSomeHash\n\n\
            'rubo key ls' lists the available keys.\n\n  > rubo key ls\n  self\n  mykey",
    }]
}

pub(crate) fn ipns_base_opt() -> Arg {
    str_opt(
        "ipns-base",
        "Encoding used for keys: Can either be a multibase encoded CID or a base58btc encoded multihash. \
         Takes {b58mh|base36|k|base32|b...}. Default: base36.",
    )
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

fn type_opt() -> Arg {
    str_opt("type", "type of the key to create: rsa, ed25519, secp256k1. Default: ed25519.").short('t')
}

fn size_opt() -> Arg {
    str_opt("size", "size of the key to generate").short('s')
}

fn format_opt(what: &'static str) -> Arg {
    str_opt("format", what).short('f')
}

fn data_arg(help: &'static str) -> Arg {
    Arg::new("data").help(help).file()
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        spec(
            "key gen",
            RepoUse::Write,
            || {
                Command::new("gen")
                    .about("Create a new keypair")
                    .arg(Arg::new("name").help("name of key to create").required(true))
                    .arg(type_opt())
                    .arg(size_opt())
                    .arg(ipns_base_opt())
            },
            |ctx, req| Box::pin(gen_key(ctx, req)),
            |_| Box::new(FnText(id_text)),
        ),
        spec(
            "key ls",
            RepoUse::Read,
            || {
                Command::new("ls")
                    .about("List all local keypairs.")
                    .arg(bool_opt("l", "Show extra information about keys.").short('l'))
                    .arg(ipns_base_opt())
            },
            |ctx, req| Box::pin(list(ctx, req)),
            list_text,
        ),
        spec(
            "key list",
            RepoUse::Read,
            || {
                Command::new("list")
                    .about("Deprecated: use 'rubo key ls' instead.")
                    .arg(bool_opt("l", "Show extra information about keys.").short('l'))
                    .arg(ipns_base_opt())
            },
            |ctx, req| Box::pin(list(ctx, req)),
            list_text,
        ),
        spec(
            "key rename",
            RepoUse::Write,
            || {
                Command::new("rename")
                    .about("Rename a keypair.")
                    .arg(Arg::new("name").help("name of key to rename").required(true))
                    .arg(Arg::new("newName").help("new name of the key").required(true))
                    .arg(bool_opt("force", "Allow to overwrite an existing key.").short('f'))
                    .arg(ipns_base_opt())
            },
            |ctx, req| Box::pin(rename(ctx, req)),
            |_| Box::new(FnText(rename_text)),
        ),
        spec(
            "key rm",
            RepoUse::Write,
            || {
                Command::new("rm")
                    .about("Remove a keypair.")
                    .arg(
                        Arg::new("name")
                            .help("names of keys to remove")
                            .required(true)
                            .num_args(1..)
                            .action(ArgAction::Append),
                    )
                    .arg(bool_opt("l", "Show extra information about keys.").short('l'))
                    .arg(ipns_base_opt())
            },
            |ctx, req| Box::pin(rm(ctx, req)),
            list_text,
        ),
        spec(
            "key import",
            RepoUse::Write,
            || {
                Command::new("import")
                    .about("Import a key and prints imported key id")
                    .long_about(
                        "Imports a key and stores it under the provided name.\n\n\
                         By default, the key is assumed to be in 'libp2p-protobuf-cleartext' format,\n\
                         however it is possible to import private keys wrapped in interoperable PEM PKCS8\n\
                         by passing '--format=pem-pkcs8-cleartext' (Ed25519 keys).",
                    )
                    .arg(Arg::new("name").help("name to associate with key in keychain").required(true))
                    .arg(Arg::new("key").help("key provided by generate or export").required(true).file())
                    .arg(ipns_base_opt())
                    .arg(format_opt(
                        "The format of the private key to import, libp2p-protobuf-cleartext or pem-pkcs8-cleartext.",
                    ))
                    .arg(bool_opt("allow-any-key-type", "Allow importing any key type."))
            },
            |ctx, req| Box::pin(import(ctx, req)),
            |_| Box::new(FnText(id_text)),
        ),
        Spec {
            path: "key export",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: true,
            def: || {
                Command::new("export")
                    .about("Export a keypair")
                    .long_about(
                        "Exports a named libp2p key to disk.\n\n\
                         By default, the output will be stored at './<key-name>.key', but an alternate\n\
                         path can be specified with '--output=<path>' or '-o=<path>'.",
                    )
                    .arg(Arg::new("name").help("name of key to export").required(true))
                    .arg(str_opt("output", "The path where the output should be stored.").short('o'))
                    .arg(format_opt(
                        "The format of the exported private key, libp2p-protobuf-cleartext or pem-pkcs8-cleartext.",
                    ))
            },
            run: |ctx, req| Box::pin(export(ctx, req)),
            text: export_text,
        },
        Spec {
            path: "key rotate",
            // The handler takes the repo itself, to answer Kubo's words when
            // a daemon holds it.
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: true,
            def: || {
                Command::new("rotate")
                    .about("Rotates the IPFS identity.")
                    .long_about(
                        "Generates a new ipfs identity and saves it to the ipfs config file.\n\
                         Your existing identity key will be backed up in the Keystore.\n\
                         The daemon must not be running when calling this command.",
                    )
                    .arg(str_opt("oldkey", "Keystore name to use for backing up your existing identity").short('o'))
                    .arg(type_opt())
                    .arg(size_opt())
            },
            run: |ctx, req| Box::pin(rotate(ctx, req)),
            text: |_| Box::new(FnText(rotate_text)),
        },
        spec(
            "key sign",
            RepoUse::Read,
            || {
                Command::new("sign")
                    .about(
                        "Generates a signature for the given data with a specified key. Useful for proving the key ownership.",
                    )
                    .long_about(
                        "Sign arbitrary bytes, such as to prove ownership of a Peer ID or an IPNS Name.\n\
                         To avoid signature reuse, the signed payload is always prefixed with\n\
                         \"libp2p-key signed message:\".",
                    )
                    .arg(data_arg("The data to sign."))
                    .arg(str_opt("key", "The name of the key to use for signing.").short('k'))
                    .arg(ipns_base_opt())
            },
            |ctx, req| Box::pin(sign(ctx, req)),
            |_| Box::new(JsonText),
        ),
        spec(
            "key verify",
            RepoUse::Read,
            || {
                Command::new("verify")
                    .about("Verify that the given data and signature match.")
                    .long_about(
                        "Verify if the given data and signatures match. To avoid the signature reuse,\n\
                         the signed payload is always prefixed with \"libp2p-key signed message:\".",
                    )
                    .arg(data_arg("The data to verify against the given signature."))
                    .arg(str_opt("key", "The name of the key to use for verifying.").short('k'))
                    .arg(str_opt("signature", "Multibase-encoded signature to verify.").short('s'))
                    .arg(ipns_base_opt())
            },
            |ctx, req| Box::pin(verify(ctx, req)),
            |_| Box::new(JsonText),
        ),
    ]
}

/// Kubo's `KeyOutput`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct KeyOutput {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Id")]
    id: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyOutputList {
    #[serde(rename = "Keys")]
    keys: Vec<KeyOutput>,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyRenameOutput {
    #[serde(rename = "Was")]
    was: String,
    #[serde(rename = "Now")]
    now: String,
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Overwrite")]
    overwrite: bool,
}

#[derive(Debug, Serialize)]
struct KeySignOutput {
    #[serde(rename = "Key")]
    key: KeyOutput,
    #[serde(rename = "Signature")]
    signature: String,
}

#[derive(Debug, Serialize)]
struct KeyVerifyOutput {
    #[serde(rename = "Key")]
    key: KeyOutput,
    #[serde(rename = "SignatureValid")]
    signature_valid: bool,
}

/// Kubo's `keyencode.KeyEncoder`: how IDs are printed (`--ipns-base`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyEncoder(Option<Encoder>);

impl KeyEncoder {
    pub(crate) fn from_request(req: &Request) -> Result<Self, CmdError> {
        match req.opts.str("ipns-base").unwrap_or("base36") {
            "b58mh" | "v0" => Ok(Self(None)),
            label => Encoder::by_name(label).map(|e| Self(Some(e))).map_err(|e| CmdError::client(e.to_string())),
        }
    }

    pub(crate) fn format(&self, id: &rubo_node::rubo_net::libp2p::PeerId) -> String {
        match self.0 {
            None => id.to_string(),
            Some(enc) => {
                let mut b = vec![0x01, 0x72];
                b.extend_from_slice(&id.to_bytes());
                String::from_utf8_lossy(&enc.encode(&b)).into_owned()
            }
        }
    }

    fn output(&self, k: &KeyInfo) -> KeyOutput {
        KeyOutput { name: k.name.clone(), id: self.format(&k.id) }
    }
}

fn key_type(req: &Request) -> Result<(KeyType, Option<u32>), CmdError> {
    let kind = KeyType::parse(req.opts.str("type").unwrap_or("ed25519"))
        .map_err(|_| CmdError::client(format!("unrecognized key type: {}", req.opts.str("type").unwrap_or(""))))?;
    let size = match req.opts.int("size")? {
        None => None,
        Some(s) => Some(u32::try_from(s).map_err(|_| CmdError::client(format!("invalid key size {s}")))?),
    };
    Ok((kind, size))
}

async fn gen_key(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?;
    let enc = KeyEncoder::from_request(&req)?;
    let name = req.arg(0, "name")?;
    let (kind, size) = key_type(&req)?;
    let k = node.key_gen(name, kind, size).await?;
    Output::value(enc.output(&k))
}

fn id_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    p.out(&format!("{}\n", typed::<KeyOutput>(v)?.id))
}

async fn list(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let enc = KeyEncoder::from_request(&req).map_err(|e| e.context("cannot get key encoder"))?;
    let keys = ctx.node()?.key_list().map_err(|e| CmdError::from(e).context("listing keys failed"))?;
    Output::value(KeyOutputList { keys: keys.iter().map(|k| enc.output(k)).collect() })
}

/// Kubo's list encoder: names, or with `-l` IDs and names through a
/// tabwriter (minwidth 1, padding 1; every cell ends with a tab, so both
/// columns are padded).
struct ListText {
    long: bool,
}

fn list_text(req: &Request) -> Box<dyn TextEncoder> {
    Box::new(ListText { long: req.opts.flag("l").unwrap_or(false) })
}

impl TextEncoder for ListText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let list: KeyOutputList = typed(v)?;
        let mut s = String::new();
        if self.long {
            let wid = list.keys.iter().map(|k| k.id.chars().count()).max().unwrap_or(0) + 1;
            let wname = list.keys.iter().map(|k| k.name.chars().count()).max().unwrap_or(0) + 1;
            for k in &list.keys {
                s.push_str(&format!("{:<wid$}{:<wname$}\n", k.id, k.name));
            }
        } else {
            for k in &list.keys {
                s.push_str(&k.name);
                s.push('\n');
            }
        }
        p.out(&s)
    }
}

async fn rename(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let enc = KeyEncoder::from_request(&req)?;
    let old = req.arg(0, "name")?;
    let new = req.arg(1, "newName")?;
    let (k, overwrite) = ctx.node()?.key_rename(old, new, req.opts.flag("force")?)?;
    Output::value(KeyRenameOutput { was: old.into(), now: new.into(), id: enc.format(&k.id), overwrite })
}

fn rename_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let r: KeyRenameOutput = typed(v)?;
    let with = if r.overwrite { " with overwriting" } else { "" };
    p.out(&format!("Key {} renamed to {}{with}\n", r.id, r.now))
}

async fn rm(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let enc = KeyEncoder::from_request(&req)?;
    let node = ctx.node()?;
    let mut keys = Vec::new();
    for name in &req.args {
        keys.push(enc.output(&node.key_remove(name)?));
    }
    Output::value(KeyOutputList { keys })
}

/// An Ed25519 key in PEM PKCS#8, as Go's `x509` and `pem` write it.
fn to_pem(key: &PrivateKey) -> Result<Vec<u8>, CmdError> {
    let kp = key.keypair().clone().try_into_ed25519().map_err(|_| {
        CmdError::new(format!(
            "marshalling key to PKCS8 format: only ed25519 keys are supported, not {}",
            key.type_name()
        ))
    })?;
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(kp.secret().as_ref());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    Ok(out.into_bytes())
}

fn from_pem(data: &[u8]) -> Result<PrivateKey, CmdError> {
    let text = String::from_utf8_lossy(data);
    let Some(start) = text.find("-----BEGIN ") else {
        return Err(CmdError::client(format!("PEM block not found in input data:\n{text}")));
    };
    let rest = &text[start + "-----BEGIN ".len()..];
    let (kind, body) = rest.split_once("-----").unwrap_or((rest, ""));
    if kind != "PRIVATE KEY" {
        return Err(CmdError::client(format!("expected PRIVATE KEY type in PEM block but got: {kind}")));
    }
    let end = body.find("-----END").unwrap_or(body.len());
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| CmdError::client(format!("PEM block not found in input data: {e}")))?;
    let seed = der
        .strip_prefix(&ED25519_PKCS8_PREFIX[..])
        .filter(|s| s.len() == 32)
        .ok_or_else(|| CmdError::client("parsing PKCS8 format: only ed25519 keys are supported"))?;
    let mut seed = seed.to_vec();
    let kp = rubo_node::rubo_net::libp2p::identity::Keypair::ed25519_from_bytes(&mut seed)
        .map_err(|e| CmdError::client(format!("converting std Go key to libp2p key: {e}")))?;
    let encoded = kp.to_protobuf_encoding().map_err(|e| CmdError::new(e.to_string()))?;
    PrivateKey::decode(&encoded).map_err(|e| CmdError::client(e.to_string()))
}

async fn import(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let name = req.arg(0, "name")?.to_string();
    if name == SELF {
        return Err(CmdError::client("cannot import key with name 'self'"));
    }
    let enc = KeyEncoder::from_request(&req)?;
    let format = req.opts.str("format").unwrap_or(LIBP2P_FORMAT).to_string();
    let allow_any = req.opts.flag("allow-any-key-type")?;
    let mut inputs = req.take_inputs("key")?;
    let data = match inputs.next_file().await {
        Some(f) => f?.read_up_to(Some(MAX_KEY_FILE)).await?,
        None => return Err(CmdError::client("argument \"key\" is required")),
    };
    if data.len() > MAX_KEY_FILE {
        return Err(CmdError::client(format!("key file over {MAX_KEY_FILE} bytes")));
    }
    let key = match format.as_str() {
        PEM_FORMAT => from_pem(&data)?,
        LIBP2P_FORMAT => PrivateKey::decode(&data).map_err(|e| {
            if data.starts_with(b"-----BEGIN") {
                CmdError::client(format!(
                    "unexpected PEM block for format={LIBP2P_FORMAT}: try again with format={PEM_FORMAT}"
                ))
            } else {
                CmdError::client(format!("unable to unmarshall format={LIBP2P_FORMAT}: {e}"))
            }
        })?,
        other => return Err(CmdError::client(format!("unrecognized import format: {other}"))),
    };
    if !allow_any && !matches!(key.type_name(), "rsa" | "ed25519" | "secp256k1") {
        return Err(CmdError::client(format!(
            "key type {} is not allowed to be imported, only RSA, Ed25519, or Secp256k1; \
             use flag --allow-any-key-type if you are sure of what you're doing",
            key.type_name()
        )));
    }
    let k = ctx.node()?.key_import(&name, &key)?;
    Output::value(enc.output(&k))
}

async fn export(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let name = req.arg(0, "name")?;
    if name == SELF {
        return Err(CmdError::client("cannot export key with name 'self'"));
    }
    let ks = Keystore::open(&ctx.repo_path().join("keystore")).map_err(|e| CmdError::new(e.to_string()))?;
    let key = ks.get(name).map_err(|_| CmdError::client(format!("key with name '{name}' doesn't exist")))?;
    let data = match req.opts.str("format").unwrap_or(LIBP2P_FORMAT) {
        PEM_FORMAT => to_pem(&key)?,
        LIBP2P_FORMAT => key.encoded().to_vec(),
        other => return Err(CmdError::client(format!("unrecognized export format: {other}"))),
    };
    Ok(Output::bytes("application/octet-stream", data.into()))
}

/// Kubo's PostRun: the key goes to a file (`<name>.key|pem` here, or `-o`),
/// owner-only.
struct ExportText {
    path: std::path::PathBuf,
    file: Option<std::fs::File>,
}

fn export_text(req: &Request) -> Box<dyn TextEncoder> {
    let path = match req.opts.str("output") {
        Some(p) if !p.is_empty() => std::path::PathBuf::from(p),
        _ => {
            let ext = if req.opts.str("format") == Some(PEM_FORMAT) { "pem" } else { "key" };
            let name = req.args.first().map(String::as_str).unwrap_or("key");
            let file = format!("{name}.{ext}");
            let base = file.trim_end_matches('/').rsplit('/').next().unwrap_or("key").to_string();
            std::path::PathBuf::from(base)
        }
    };
    Box::new(ExportText { path, file: None })
}

impl TextEncoder for ExportText {
    fn emit(&mut self, _v: Value, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        Ok(())
    }

    fn bytes(&mut self, chunk: bytes::Bytes, _p: &mut Printer<'_>) -> Result<bool, CmdError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        if self.file.is_none() {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&self.path)
                .map_err(|e| CmdError::new(format!("open {}: {e}", self.path.display())))?;
            self.file = Some(f);
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(&chunk).map_err(|e| CmdError::new(format!("write {}: {e}", self.path.display())))?;
        }
        Ok(true)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct RotateOutput {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Bits")]
    bits: u32,
    #[serde(rename = "PeerID")]
    peer_id: String,
}

/// Kubo's `DaemonNotRunning` refusal.
const DAEMON_RUNNING: &str = "rubo daemon is running. please stop it to run this command";

fn open_exclusive(ctx: &Ctx) -> Result<Node, CmdError> {
    use rubo_node::rubo_repo::{LockMode, RepoError, lock::LockError};
    let (path, config) = match ctx {
        Ctx::Node(n) => return Ok(n.clone()),
        Ctx::None { repo_path, config_file } => (repo_path, config_file.as_deref()),
    };
    match Node::open_with_config(path, config, LockMode::Exclusive, "rubo key rotate") {
        Ok(n) => Ok(n),
        Err(rubo_node::NodeError::Repo(RepoError::Lock(LockError::Held { .. }))) => {
            Err(CmdError::client(DAEMON_RUNNING))
        }
        Err(e) => Err(e.into()),
    }
}

async fn rotate(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let Some(old) = req.opts.str("oldkey").map(str::to_string) else {
        return Err(CmdError::client("keystore name for backing up old key must be provided"));
    };
    if old == SELF {
        return Err(CmdError::client("keystore name for back up cannot be named 'self'"));
    }
    let node = open_exclusive(&ctx)?;
    let (kind, size) = key_type(&req)?;
    let bits = size.unwrap_or(2048);
    let key = tokio::task::spawn_blocking(move || PrivateKey::generate(kind, bits))
        .await
        .map_err(|e| CmdError::new(e.to_string()))?
        .map_err(|e| CmdError::client(format!("creating identity ({e})")))?;
    let current = node.repo().identity().clone();
    node.repo()
        .keystore()
        .put(&old, &current)
        .map_err(|e| CmdError::new(format!("saving old key in keystore ({e})")))?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(key.encoded());
    let peer_id = key.peer_id().to_string();
    node.repo()
        .update_config(|c| {
            c.set("Identity.PrivKey", Value::String(b64))?;
            c.set("Identity.PeerID", Value::String(peer_id.clone()))
        })
        .map_err(|e| CmdError::new(format!("saving new key to config ({e})")))?;
    Output::value(RotateOutput { kind: key.type_name().into(), bits, peer_id })
}

fn rotate_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let o: RotateOutput = typed(v)?;
    let head = match o.kind.as_str() {
        "rsa" => format!("generating {}-bit RSA keypair...done\n", o.bits),
        "ed25519" => "generating ED25519 keypair...done\n".to_string(),
        t => format!("generating {t} keypair...done\n"),
    };
    p.out(&format!("{head}peer identity: {}\n", o.peer_id))
}

async fn read_data(req: &mut Request) -> Result<Vec<u8>, CmdError> {
    let mut inputs = req.take_inputs("data")?;
    let data = match inputs.next_file().await {
        Some(f) => f?.read_up_to(Some(MAX_MESSAGE)).await?,
        None => return Err(CmdError::client("argument \"data\" is required")),
    };
    if data.len() > MAX_MESSAGE {
        return Err(CmdError::client(format!("data over {MAX_MESSAGE} bytes")));
    }
    Ok(data)
}

async fn sign(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let enc = KeyEncoder::from_request(&req)?;
    let data = read_data(&mut req).await?;
    let (k, sig) = ctx.node()?.key_sign(req.opts.str("key").unwrap_or(""), &data)?;
    let signature = String::from_utf8_lossy(
        &Encoder::from_base(rubo_types::Base::Base64Url).map_err(|e| CmdError::new(e.to_string()))?.encode(&sig),
    )
    .into_owned();
    Output::value(KeySignOutput { key: enc.output(&k), signature })
}

async fn verify(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let enc = KeyEncoder::from_request(&req)?;
    let encoded = req.opts.str("signature").unwrap_or("").to_string();
    let (_, sig) = rubo_types::multibase::decode(encoded.as_bytes()).map_err(|e| CmdError::client(e.to_string()))?;
    let data = read_data(&mut req).await?;
    let (k, valid) = ctx.node()?.key_verify(req.opts.str("key").unwrap_or(""), &sig, &data)?;
    Output::value(KeyVerifyOutput { key: enc.output(&k), signature_valid: valid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_kubo_prints_them() {
        // An Ed25519 peer ID and its libp2p-key CIDv1 in base36 and base32
        // (as `ipfs key ls -l --ipns-base=...` prints it).
        let id: rubo_node::rubo_net::libp2p::PeerId =
            "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA".parse().expect("peer id");
        let with = |base: Option<&str>| {
            let mut req = Request::new(&["key", "ls"]);
            if let Some(b) = base {
                req.opts.insert("ipns-base", b);
            }
            KeyEncoder::from_request(&req).expect("encoder").format(&id)
        };
        let k = with(None);
        assert!(k.starts_with("k51qzi5uqu5d"), "{k}");
        assert_eq!(with(Some("b58mh")), id.to_string());
        assert!(with(Some("base32")).starts_with("bafzaa"));
        assert!(
            KeyEncoder::from_request(&{
                let mut r = Request::new(&["key", "ls"]);
                r.opts.insert("ipns-base", "nope");
                r
            })
            .is_err()
        );
    }

    #[test]
    fn ed25519_pem_round_trips_in_go_form() {
        let key = PrivateKey::generate(KeyType::Ed25519, 0).expect("key");
        let pem = to_pem(&key).expect("pem");
        let text = String::from_utf8(pem.clone()).expect("utf8");
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"), "{text}");
        assert_eq!(from_pem(&pem).expect("parse").peer_id(), key.peer_id());
    }
}
