//! `rubo repo`: gc, stat, verify, version.

use crate::def::Command;
use rubo_node::VerifyEvent;
use rubo_repo::config::units::humanize_bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::output::{FnText, Output, Printer, STREAM_BUFFER, TextEncoder, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group {
        path: "repo",
        about: "Manipulate the rubo repository.",
        long_about: "'rubo repo' is a plumbing command used to manipulate the repo.",
    }]
}

/// Kubo's `repo stat` JSON (`corerepo.Stat`).
#[derive(Debug, Serialize, Deserialize)]
struct StatOut {
    #[serde(rename = "RepoSize")]
    repo_size: u64,
    #[serde(rename = "StorageMax")]
    storage_max: u64,
    #[serde(rename = "NumObjects")]
    num_objects: u64,
    #[serde(rename = "RepoPath")]
    repo_path: String,
    #[serde(rename = "Version")]
    version: String,
}

/// Kubo's `VerifyProgress`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct VerifyOut {
    #[serde(rename = "Msg")]
    msg: String,
    #[serde(rename = "Progress")]
    progress: u64,
}

/// Kubo's `RepoVersion`.
#[derive(Debug, Serialize, Deserialize)]
struct VersionOut {
    #[serde(rename = "Version")]
    version: String,
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "repo gc",
            repo_for: None,
            repo: RepoUse::Write,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("gc")
                    .about("Perform a garbage collection sweep on the repo.")
                    .long_about(
                        "'rubo repo gc' is a plumbing command that will sweep the local\n\
                         set of stored objects and remove ones that are not pinned in\n\
                         order to reclaim hard disk space.",
                    )
                    .arg(bool_opt("stream-errors", "Stream errors."))
                    .arg(bool_opt("quiet", "Write minimal output.").short('q'))
                    .arg(bool_opt("silent", "Write no output."))
            },
            run: |ctx, req| Box::pin(gc(ctx, req)),
            text: |req| {
                let quiet = req.opts.flag("quiet").unwrap_or(false);
                let silent = req.opts.flag("silent").unwrap_or(false);
                Box::new(FnText(move |v: Value, p: &mut Printer<'_>| {
                    if silent {
                        return Ok(());
                    }
                    if let Some(e) = v.get("Error").and_then(Value::as_str) {
                        return p.out(&format!("Error: {e}\n"));
                    }
                    let key = v.pointer("/Key/~1").and_then(Value::as_str).unwrap_or_default();
                    if quiet { p.out(&format!("{key}\n")) } else { p.out(&format!("removed {key}\n")) }
                }))
            },
        },
        Spec {
            path: "repo stat",
            repo_for: None,
            repo: RepoUse::Read,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("stat")
                    .about("Get stats for the currently used repo.")
                    .long_about(
                        "'rubo repo stat' provides information about the local set of\n\
                         stored objects. It outputs:\n\n\
                         RepoSize        int Size in bytes that the repo is currently taking.\n\
                         StorageMax      string Maximum datastore size (from configuration)\n\
                         NumObjects      int Number of objects in the local repo.\n\
                         RepoPath        string The path to the repo being currently used.\n\
                         Version         string The repo version.",
                    )
                    .arg(bool_opt("size-only", "Only report RepoSize and StorageMax.").short('s'))
                    .arg(bool_opt("human", "Print sizes in human readable format (e.g., 1K 234M 2G)").short('H'))
            },
            run: |ctx, req| Box::pin(stat(ctx, req)),
            text: |req| {
                let size_only = req.opts.flag("size-only").unwrap_or(false);
                let human = req.opts.flag("human").unwrap_or(false);
                Box::new(FnText(move |v, p: &mut Printer<'_>| {
                    let s: StatOut = typed(v)?;
                    let size = |n: u64| {
                        if human { humanize_bytes(n) } else { n.to_string() }
                    };
                    let mut out = String::new();
                    if !size_only {
                        out.push_str(&format!("NumObjects: {}\n", s.num_objects));
                    }
                    out.push_str(&format!("RepoSize:   {}\n", size(s.repo_size)));
                    out.push_str(&format!("StorageMax: {}\n", size(s.storage_max)));
                    if !size_only {
                        out.push_str(&format!("RepoPath:   {}\n", s.repo_path));
                        out.push_str(&format!("Version:    {}\n", s.version));
                    }
                    p.out(&out)
                }))
            },
        },
        Spec {
            path: "repo verify",
            repo_for: Some(|req| if req.opts.flag("drop").unwrap_or(false) { RepoUse::Write } else { RepoUse::Read }),
            repo: RepoUse::Read,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("verify")
                    .about("Verify all blocks in repo are not corrupted.")
                    .long_about(
                        "'rubo repo verify' re-hashes every block in the repo and reports the\n\
                         ones whose content no longer matches their hash. It exits with an\n\
                         error if any block is corrupt, unless --drop removed them all.",
                    )
                    .arg(bool_opt("drop", "Remove corrupt blocks from datastore (destructive operation)."))
            },
            run: |ctx, req| Box::pin(verify(ctx, req)),
            text: |_| Box::new(VerifyText::default()),
        },
        Spec {
            path: "repo version",
            repo_for: None,
            repo: RepoUse::None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("version")
                    .about("Show the repo version.")
                    .long_about("'rubo repo version' returns the current repo version.")
                    .arg(bool_opt("quiet", "Write minimal output.").short('q'))
            },
            run: |_ctx, _req| Box::pin(async { Output::value(VersionOut { version: rubo_node::version_string() }) }),
            text: |req| {
                let quiet = req.opts.flag("quiet").unwrap_or(false);
                Box::new(FnText(move |v, p: &mut Printer<'_>| {
                    let v: VersionOut = typed(v)?;
                    if quiet {
                        p.out(&format!("{}\n", v.version))
                    } else {
                        p.out(&format!("rubo repo version {}\n", v.version))
                    }
                }))
            },
        },
    ]
}

/// Kubo's GC error when some blocks could not be removed.
const GC_INCOMPLETE: &str = "garbage collection incomplete: could not delete some blocks";

async fn gc(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let silent = req.opts.flag("silent")?;
    let stream_errors = req.opts.flag("stream-errors")?;
    let mut events = ctx.node()?.gc();
    let global = req.global.clone();
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        let mut errors = false;
        while let Some(ev) = events.recv().await {
            let out = match ev {
                Ok(rubo_node::GcEvent::Removed(c)) if silent && !stream_errors => {
                    let _ = c;
                    continue;
                }
                Ok(rubo_node::GcEvent::Removed(c)) => json!({ "Key": { "/": global.cid(&c) } }),
                Ok(rubo_node::GcEvent::Error(e)) => {
                    errors = true;
                    if !stream_errors {
                        tracing::error!("{e}");
                        continue;
                    }
                    json!({ "Key": null, "Error": e })
                }
                // Marking failed: nothing was removed.
                Err(e) => {
                    let _ = tx.send(Err(CmdError::from(e))).await;
                    return;
                }
            };
            if tx.send(Ok(out)).await.is_err() {
                // The client went away; let the collection finish.
                while events.recv().await.is_some() {}
                return;
            }
        }
        if errors {
            let msg = if stream_errors { "encountered errors during gc run" } else { GC_INCOMPLETE };
            let _ = tx.send(Err(CmdError::new(msg))).await;
        }
    });
    Ok(Output::Stream(rx))
}

async fn stat(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let s = ctx.node()?.repo_api().stat(req.opts.flag("size-only")?).await?;
    Output::value(StatOut {
        repo_size: s.repo_size,
        storage_max: s.storage_max,
        num_objects: s.num_objects,
        repo_path: s.repo_path,
        version: s.version,
    })
}

async fn verify(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let drop = req.opts.flag("drop")?;
    if drop && ctx.node()?.repo().mode() != rubo_node::LockMode::Exclusive {
        return Err(CmdError::new("repo verify --drop needs the repo opened for writing"));
    }
    let mut events = ctx.node()?.repo_api().verify(drop);
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let global = req.global.clone();
    let cid = move |c: &rubo_types::Cid| global.cid(c);
    tokio::spawn(async move {
        let (mut corrupt, mut removed, mut failed_rm, mut last) = (0u64, 0u64, 0u64, 0u64);
        let mut fatal = None;
        while let Some(ev) = events.recv().await {
            let out = match ev {
                VerifyEvent::Progress(n) => {
                    last = last.max(n);
                    VerifyOut { msg: String::new(), progress: n }
                }
                VerifyEvent::Corrupt { cid: c, reason, removed: r } => {
                    corrupt += 1;
                    let tail = match r {
                        None => String::new(),
                        Some(Ok(())) => {
                            removed += 1;
                            ", removed".into()
                        }
                        Some(Err(e)) => {
                            failed_rm += 1;
                            format!(", failed to remove ({e})")
                        }
                    };
                    VerifyOut { msg: format!("block {} was corrupt ({reason}){tail}", cid(&c)), progress: 0 }
                }
                VerifyEvent::Foreign(path) => VerifyOut { msg: format!("not a block, ignored: {path}"), progress: 0 },
                VerifyEvent::Failed(e) => {
                    fatal = Some(e);
                    continue;
                }
            };
            if tx.send(serde_json::to_value(out).map_err(|e| CmdError::new(e.to_string()))).await.is_err() {
                return;
            }
        }
        let end = if let Some(e) = fatal {
            Err(CmdError::new(format!("verify failed: {e}")))
        } else if corrupt == 0 {
            serde_json::to_value(VerifyOut { msg: "verify complete, all blocks validated.".into(), progress: 0 })
                .map_err(|e| CmdError::new(e.to_string()))
        } else {
            let mut s = format!("verify complete, {corrupt} blocks corrupt");
            if removed > 0 {
                s.push_str(&format!(", {removed} removed"));
            }
            if failed_rm > 0 {
                s.push_str(&format!(", {failed_rm} failed to remove"));
            }
            if !drop || failed_rm > 0 {
                Err(CmdError::new(s))
            } else {
                serde_json::to_value(VerifyOut { msg: s, progress: 0 }).map_err(|e| CmdError::new(e.to_string()))
            }
        };
        let _ = tx.send(end).await;
    });
    Ok(Output::Stream(rx))
}

/// Corruption reports to stdout; running counts on a terminal only.
#[derive(Default)]
struct VerifyText {
    counted: bool,
}

impl TextEncoder for VerifyText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let v: VerifyOut = typed(v)?;
        if v.msg.is_empty() {
            if p.tty {
                self.counted = true;
                p.err(&format!("{} blocks processed.\r", v.progress))?;
            }
            return Ok(());
        }
        if self.counted {
            self.counted = false;
            p.err("\n")?;
        }
        p.out(&format!("{}\n", v.msg))
    }
}
