//! `rubo init`.

use crate::def::{Arg, Command};
use rubo_repo::identity::KeyType;
use rubo_repo::{InitOptions, Repo, RepoError};
use serde::{Deserialize, Serialize};

use crate::output::{FnText, Output, Printer, typed};
use crate::registry::{ArgKind, Ctx, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

/// The empty UnixFS directory (`EMPTY_DIR_BLOCK`).
const EMPTY_DIR: &str = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";

#[derive(Debug, Serialize, Deserialize)]
struct InitOut {
    #[serde(rename = "PeerID")]
    peer_id: String,
    #[serde(rename = "KeyType")]
    key_type: String,
    #[serde(rename = "Bits")]
    bits: u32,
    #[serde(rename = "Path")]
    path: String,
    #[serde(rename = "Generated")]
    generated: bool,
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![Spec {
        path: "init",
        repo: RepoUse::None,
        repo_for: None,
        args: ArgKind::Files,
        local_only: true,
        def: || {
            Command::new("init")
                .about("Initializes rubo config file.")
                .long_about(
                    "Initializes rubo configuration files and generates a new keypair.\n\n\
                     If you are going to run rubo in a server environment, you may want to\n\
                     initialize it using the 'server' profile. For the available profiles\n\
                     see 'rubo config profile --help'\n\n\
                     rubo uses a repository in the local file system. By default, the repo is\n\
                     located at ~/.rubo. To change the repo location, set the $RUBO_PATH\n\
                     environment variable:\n\n    export RUBO_PATH=/path/to/rubo/repo",
                )
                .arg(Arg::new("default-config").help("Initialize with the given configuration."))
                .arg(
                    str_opt("algorithm", "Cryptographic algorithm to use for key generation. [default: ed25519]")
                        .short('a'),
                )
                .arg(str_opt("bits", "Number of bits to use in the generated RSA private key.").short('b'))
                .arg(
                    bool_opt("empty-repo", "Don't add and pin help files to the local storage. [default: true]")
                        .short('e'),
                )
                .arg(
                    str_opt("profile", "Apply profile settings to config. Multiple profiles can be separated by ','")
                        .short('p'),
                )
        },
        run: |ctx, req| Box::pin(run(ctx, req)),
        text: |_| {
            Box::new(FnText(|v, p: &mut Printer<'_>| {
                let o: InitOut = typed(v)?;
                let mut s = String::new();
                if o.generated {
                    match o.key_type.as_str() {
                        "rsa" => s.push_str(&format!("generating {}-bit RSA keypair...done\n", o.bits)),
                        "ed25519" => s.push_str("generating ED25519 keypair...done\n"),
                        t => s.push_str(&format!("generating {t} keypair...done\n")),
                    }
                    s.push_str(&format!("peer identity: {}\n", o.peer_id));
                }
                s.push_str(&format!("initializing rubo node at {}\n", o.path));
                p.out(&s)
            }))
        },
    }]
}

async fn run(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let path = ctx.repo_path().to_path_buf();
    let algo = req.opts.str("algorithm").unwrap_or("ed25519").to_ascii_lowercase();
    let key_type = KeyType::parse(&algo).map_err(|e| CmdError::client(e.to_string()))?;
    let bits = match req.opts.int("bits")? {
        None => 2048,
        Some(b) if key_type == KeyType::Ed25519 => {
            return Err(CmdError::client(format!("invalid key size {b}: ed25519 keys are always 256 bits")));
        }
        Some(b) => u32::try_from(b).map_err(|_| CmdError::client(format!("invalid key size {b}")))?,
    };
    if req.opts.bool("empty-repo")? == Some(false) {
        return Err(CmdError::client("--empty-repo=false: rubo has no help files to add yet"));
    }
    let profiles: Vec<String> = req
        .opts
        .all("profile")
        .iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let file = match req.inputs.as_mut() {
        Some(inputs) => inputs.next_file().await.transpose()?,
        None => None,
    };
    let config = match file {
        Some(f) => {
            let text = f.read_up_to(Some(16 << 20)).await?;
            Some(serde_json::from_slice(&text).map_err(|e| CmdError::client(format!("invalid config file: {e}")))?)
        }
        None => None,
    };
    let generated = config.is_none();
    let opts = InitOptions { key_type, bits, profiles, config };
    let p = path.clone();
    let id = tokio::task::spawn_blocking(move || Repo::init(&p, &opts)).await?.map_err(|e| match e {
        RepoError::Lock(_) => {
            CmdError::client(format!("{e}\nrubo daemon is running? please stop it to run this command"))
        }
        e => CmdError::new(e.to_string()),
    })?;
    // Kubo pins the empty directory in a fresh repo (its block is stored by
    // Repo::init), so that GC keeps what MFS and `object new` start from.
    let p = path.clone();
    tokio::task::spawn_blocking(move || -> Result<(), CmdError> {
        let node = rubo_node::Node::open(&p, rubo_node::LockMode::Exclusive, "rubo init")?;
        let empty = rubo_types::parse_cid(EMPTY_DIR).map_err(|e| CmdError::new(e.to_string()))?;
        node.pin().add_recursive_trusted(&empty, "")?;
        Ok(())
    })
    .await??;
    Output::value(InitOut {
        peer_id: id.peer_id().to_string(),
        key_type: id.type_name().to_string(),
        bits,
        path: path.display().to_string(),
        generated,
    })
}
