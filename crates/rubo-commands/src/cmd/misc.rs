//! `bootstrap`, `log`, `diag sys`, `commands`: Kubo's node tools.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::def::{Arg, ArgAction, Command};
use crate::output::{FnText, Output, Printer, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![
        Group { path: "log", about: "Interact with the daemon log output.", long_about: "" },
        Group { path: "diag", about: "Generate diagnostic reports.", long_about: "" },
    ]
}

fn peers_arg() -> Arg {
    Arg::new("peer")
        .help("A peer to add to the bootstrap list (in the format '<multiaddr>/<peerID>')")
        .num_args(0..)
        .action(ArgAction::Append)
}

pub(crate) fn specs() -> Vec<Spec> {
    let list = Spec {
        path: "bootstrap list",
        repo: RepoUse::Read,
        repo_for: None,
        args: ArgKind::Strings,
        local_only: false,
        def: || {
            Command::new("list")
                .about("Show peers in the bootstrap list.")
                .long_about("Peers are output in the format '<multiaddr>/<peerID>'.")
                .arg(bool_opt("expand-auto", "Expand 'auto' placeholders from AutoConf service."))
        },
        run: |ctx, req| Box::pin(bootstrap_list(ctx, req)),
        text: |_| Box::new(FnText(|v, p: &mut Printer<'_>| write_peers("", v, p))),
    };
    vec![
        Spec {
            path: "bootstrap",
            def: || {
                Command::new("bootstrap").about("Show or edit the list of bootstrap peers.").long_about(
                    "Running 'rubo bootstrap' with no arguments will run 'rubo bootstrap list'.\n\n\
                     SECURITY WARNING:\n\n\
                     The bootstrap command manipulates the \"bootstrap list\", which contains\n\
                     the addresses of bootstrap nodes. These are the *trusted peers* from\n\
                     which to learn about other peers in the network. Only edit this list\n\
                     if you understand the risks of adding or removing nodes from this list.",
                )
            },
            ..list_spec_clone(&list)
        },
        list,
        Spec {
            path: "bootstrap add",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("add")
                    .about("Add peers to the bootstrap list.")
                    .long_about(
                        "Outputs a list of peers that were added (that weren't already\n\
                         in the bootstrap list). 'default' (or 'auto') adds Kubo's default peers.",
                    )
                    .arg(peers_arg())
            },
            run: |ctx, req| Box::pin(bootstrap_add(ctx, req)),
            text: |_| Box::new(FnText(|v, p: &mut Printer<'_>| write_peers("added ", v, p))),
        },
        Spec {
            path: "bootstrap rm",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("rm")
                    .about("Remove peers from the bootstrap list.")
                    .long_about("Outputs the list of peers that were removed.")
                    .arg(peers_arg())
                    .arg(bool_opt("all", "Remove all bootstrap peers. (Deprecated, use 'all' subcommand)"))
            },
            run: |ctx, req| Box::pin(bootstrap_rm(ctx, req, false)),
            text: |_| Box::new(FnText(|v, p: &mut Printer<'_>| write_peers("removed ", v, p))),
        },
        Spec {
            path: "bootstrap rm all",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || Command::new("all").about("Remove all peers from the bootstrap list."),
            run: |ctx, req| Box::pin(bootstrap_rm(ctx, req, true)),
            text: |_| Box::new(FnText(|v, p: &mut Printer<'_>| write_peers("removed ", v, p))),
        },
        Spec {
            path: "log level",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("level")
                    .about("Change the logging level.")
                    .long_about(
                        "Change the verbosity of one or all subsystems of the daemon's log output.\n\
                         Subsystems are rubo's crates (see 'rubo log ls'); 'all' or '*' means every one.\n\
                         Levels: error, warn, info, debug, trace.",
                    )
                    .arg(
                        Arg::new("subsystem")
                            .help("The subsystem logging identifier. Use 'all' for all subsystems.")
                            .required(true),
                    )
                    .arg(
                        Arg::new("level")
                            .help("The log level, with 'debug' the most verbose and 'error' the least.")
                            .required(true),
                    )
            },
            run: |ctx, req| Box::pin(log_level(ctx, req)),
            text: |_| {
                Box::new(FnText(|v: Value, p: &mut Printer<'_>| {
                    p.out(v.get("Message").and_then(Value::as_str).unwrap_or_default())
                }))
            },
        },
        Spec {
            path: "log ls",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("ls").about("List the logging subsystems.").long_about(
                    "'rubo log ls' is a utility command used to list the logging subsystems of a running daemon.",
                )
            },
            run: |_, _| Box::pin(async { Output::value(json!({ "Strings": crate::logctl::subsystems() })) }),
            text: |_| {
                Box::new(FnText(|v: Value, p: &mut Printer<'_>| {
                    for s in v.get("Strings").and_then(Value::as_array).into_iter().flatten() {
                        p.out(&format!("{}\n", s.as_str().unwrap_or_default()))?;
                    }
                    Ok(())
                }))
            },
        },
        Spec {
            path: "diag sys",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("sys")
                    .about("Print system diagnostic information.")
                    .long_about("Prints out information about your computer to aid in easier debugging.")
            },
            run: |ctx, _| Box::pin(diag_sys(ctx)),
            text: |_| Box::new(crate::output::JsonText),
        },
        Spec {
            path: "commands",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("commands")
                    .about("List all available commands.")
                    .long_about("Lists all available commands (and subcommands) and exits.")
                    .arg(bool_opt("flags", "Show command flags").short('f'))
            },
            run: |_, req| Box::pin(async move { commands(req) }),
            text: |req| {
                let flags = req.opts.flag("flags").unwrap_or(false);
                Box::new(FnText(move |v, p: &mut Printer<'_>| {
                    let root: CmdOut = typed(v)?;
                    let mut lines = Vec::new();
                    path_strings("", &root, flags, &mut lines);
                    lines.sort();
                    for l in lines {
                        p.out(&format!("{l}\n"))?;
                    }
                    Ok(())
                }))
            },
        },
    ]
}

fn list_spec_clone(s: &Spec) -> Spec {
    Spec {
        path: s.path,
        repo: s.repo,
        repo_for: s.repo_for,
        args: s.args,
        local_only: s.local_only,
        def: s.def,
        run: s.run,
        text: s.text,
    }
}

// ---- bootstrap ----

#[derive(Debug, Default, Serialize, Deserialize)]
struct BootstrapOutput {
    #[serde(rename = "Peers")]
    peers: Vec<String>,
}

fn write_peers(prefix: &str, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let mut out: BootstrapOutput = typed(v)?;
    out.peers.sort();
    for peer in out.peers {
        p.out(&format!("{prefix}{peer}\n"))?;
    }
    Ok(())
}

fn current(ctx: &Ctx) -> Result<Vec<String>, CmdError> {
    let cfg = ctx.node()?.repo().config();
    Ok(match cfg.doc().get("Bootstrap") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    })
}

async fn bootstrap_list(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let mut peers = current(&ctx)?;
    if req.opts.flag("expand-auto")? {
        peers = peers
            .into_iter()
            .flat_map(|p| {
                if p == "auto" {
                    rubo_node::net::DEFAULT_BOOTSTRAP.iter().map(|s| s.to_string()).collect()
                } else {
                    vec![p]
                }
            })
            .collect();
    }
    Output::value(BootstrapOutput { peers })
}

/// A bootstrap entry must be a multiaddr with a transport and a peer id.
fn check_peer(p: &str) -> Result<(), CmdError> {
    use rubo_node::rubo_net::libp2p::Multiaddr;
    use rubo_node::rubo_net::libp2p::multiaddr::Protocol;
    let a: Multiaddr = p.parse().map_err(|_| CmdError::new(format!("invalid bootstrap address: {p}")))?;
    let protos: Vec<Protocol<'_>> = a.iter().collect();
    match protos.last() {
        Some(Protocol::P2p(_)) if protos.len() > 1 => Ok(()),
        Some(Protocol::P2p(_)) => Err(CmdError::new(format!("bootstrap address without a transport: {p}"))),
        _ => Err(CmdError::new(format!("invalid bootstrap address: {p}"))),
    }
}

async fn bootstrap_add(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    if req.args.is_empty() {
        return Err(CmdError::new("no bootstrap peers to add"));
    }
    let wanted: Vec<String> =
        req.args.iter().map(|p| if p == "default" { "auto".to_string() } else { p.clone() }).collect();
    for p in wanted.iter().filter(|p| *p != "auto") {
        check_peer(p)?;
    }
    let mut list = current(&ctx)?;
    let mut added = Vec::new();
    for p in wanted {
        if !list.contains(&p) {
            list.push(p.clone());
            added.push(p);
        }
    }
    ctx.node()?.repo().update_config(|c| c.set("Bootstrap", json!(list)))?;
    Output::value(BootstrapOutput { peers: added })
}

async fn bootstrap_rm(ctx: Ctx, req: Request, all_cmd: bool) -> Result<Output, CmdError> {
    let list = current(&ctx)?;
    let all = all_cmd || req.opts.flag("all")?;
    let (keep, removed): (Vec<String>, Vec<String>) = if all {
        (Vec::new(), list)
    } else {
        if req.args.is_empty() {
            return Err(CmdError::new("no peer to remove (use 'rubo bootstrap rm all' to remove them all)"));
        }
        if list.iter().any(|p| p == "auto") {
            return Err(CmdError::new(
                "cannot remove individual bootstrap peers when using 'auto' placeholder: use 'rubo bootstrap rm all' to remove all peers",
            ));
        }
        for p in &req.args {
            check_peer(p)?;
        }
        list.into_iter().partition(|p| !req.args.contains(p))
    };
    ctx.node()?.repo().update_config(|c| c.set("Bootstrap", json!(keep)))?;
    Output::value(BootstrapOutput { peers: removed })
}

// ---- log ----

async fn log_level(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    // The daemon's log, as Kubo's `NoLocal`: a local run has nothing to change.
    if !ctx.node()?.is_daemon() {
        return Err(CmdError::new("command must be run on the daemon: [log level]"));
    }
    let subsystem = req.arg(0, "subsystem")?.to_string();
    let level = req.arg(1, "level")?.to_string();
    let shown = crate::logctl::set_level(&subsystem, &level)?;
    Output::value(json!({ "Message": format!("Changed log level of '{shown}' to '{level}'\n") }))
}

// ---- diag sys ----

async fn diag_sys(ctx: Ctx) -> Result<Output, CmdError> {
    let node = ctx.node()?;
    let path = node.repo().path().to_path_buf();
    let disk = rustix::fs::statvfs(&path).ok();
    let (total, free) = disk.map_or((0, 0), |s| (s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize));
    let mem = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| -> u64 {
        mem.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |v| v * 1024)
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(Output::Value(json!({
        "diskinfo": { "free_space": free, "fstype": "", "total_space": total },
        "environment": {
            "RUBO_PATH": std::env::var("RUBO_PATH").unwrap_or_default(),
        },
        "ipfs_commit": rubo_node::COMMIT,
        "ipfs_version": rubo_node::VERSION,
        "memory": { "swap": kb("VmSwap:"), "virt": kb("VmSize:"), "rss": kb("VmRSS:") },
        "net": { "online": node.is_online() },
        "runtime": {
            "arch": std::env::consts::ARCH,
            "compiler": rubo_node::RUSTC,
            "numcpu": cpus,
            "os": std::env::consts::OS,
            "version": rubo_node::RUSTC,
        }
    })))
}

// ---- commands ----

#[derive(Debug, Default, Serialize, Deserialize)]
struct OptOut {
    #[serde(rename = "Names")]
    names: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CmdOut {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Subcommands")]
    subcommands: Vec<CmdOut>,
    #[serde(rename = "Options")]
    options: Vec<OptOut>,
}

fn commands(_req: Request) -> Result<Output, CmdError> {
    let reg = crate::registry::registry();
    let mut paths: Vec<&str> = reg.specs().iter().map(|s| s.path).chain(reg.groups().iter().map(|g| g.path)).collect();
    paths.sort_unstable();
    paths.dedup();
    fn node(path: &str, name: &str, paths: &[&str]) -> CmdOut {
        let reg = crate::registry::registry();
        let options = reg
            .find(path)
            .map(|(_, d)| d.options().map(|o| OptOut { names: o.names().collect() }).collect())
            .unwrap_or_default();
        let prefix = if path.is_empty() { String::new() } else { format!("{path} ") };
        let subcommands = paths
            .iter()
            .filter(|p| p.starts_with(&prefix) && !p[prefix.len()..].contains(' ') && **p != path)
            .map(|p| node(p, &p[prefix.len()..], paths))
            .collect();
        CmdOut { name: name.to_string(), subcommands, options }
    }
    let mut root = node("", "rubo", &paths);
    root.options = reg.globals().iter().map(|g| OptOut { names: g.names().collect() }).collect();
    Output::value(root)
}

/// Kubo's `cmdPathStrings`: every command path, and with `--flags` one line
/// per option with its names.
fn path_strings(prefix: &str, c: &CmdOut, flags: bool, out: &mut Vec<String>) {
    let path = format!("{prefix}{}", c.name);
    out.push(path.clone());
    if !prefix.is_empty() && flags {
        for o in &c.options {
            let names: Vec<String> = o
                .names
                .iter()
                .map(|n| if n.len() == 1 { format!("{path} -{n}") } else { format!("{path} --{n}") })
                .collect();
            out.push(names.join(" / "));
        }
    }
    for s in &c.subcommands {
        path_strings(&format!("{path} "), s, flags, out);
    }
}
