//! `rubo config`: get and set values, show, replace, edit, profiles.

use std::path::PathBuf;

use crate::def::{Arg, Command};
use rubo_repo::config::{
    ConfigError, ConfigFile, PROFILES, apply_profile, is_pinning_secret, is_private_key, scrub, sorted,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::output::{FnText, JsonText, Output, Printer, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group {
        path: "config profile",
        about: "Apply profiles to config.",
        long_about: "Profiles are sets of changes to the config: 'rubo config profile' lists them,\n\
                     'rubo config profile apply <name>' applies one.",
    }]
}

/// Kubo's `ConfigField`.
#[derive(Debug, Serialize, Deserialize)]
struct Field {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value")]
    value: Value,
}

/// Kubo's `ConfigUpdateOutput`.
#[derive(Debug, Serialize, Deserialize)]
struct Update {
    #[serde(rename = "OldCfg")]
    old: Value,
    #[serde(rename = "NewCfg")]
    new: Value,
}

/// The config file in use: the one the node opened (`--config-file`), else
/// the repo's own.
fn config_path(ctx: &Ctx) -> PathBuf {
    match ctx {
        Ctx::Node(n) => n.repo().config().path().to_path_buf(),
        Ctx::None { config_file: Some(f), .. } => f.clone(),
        Ctx::None { repo_path, .. } => repo_path.join(rubo_repo::config::CONFIG_FILE),
    }
}

fn guard(key: &str) -> Result<(), CmdError> {
    if is_private_key(key) {
        return Err(CmdError::new("cannot show or change private key through API"));
    }
    if is_pinning_secret(key) {
        return Err(CmdError::new("cannot show or change pinning services credentials"));
    }
    Ok(())
}

/// Kubo's `HumanOutput`: strings raw, everything else as indented JSON.
fn human(v: &Value) -> Result<String, CmdError> {
    match v {
        Value::String(s) => Ok(format!("{}\n", s.trim_matches('\n'))),
        other => {
            let s = serde_json::to_string_pretty(&sorted(other)).map_err(|e| CmdError::new(e.to_string()))?;
            Ok(format!("{s}\n"))
        }
    }
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "config",
            repo: RepoUse::None,
            repo_for: Some(|req| if req.args.len() >= 2 { RepoUse::Write } else { RepoUse::None }),
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("config")
                    .about("Get and set rubo config values.")
                    .long_about(
                        "'rubo config' controls configuration variables. It works like 'git config'.\n\
                         The configuration values are stored in a config file inside your repo\n\
                         ($RUBO_PATH/config), with Kubo's keys.\n\n\
                         EXAMPLES:\n\n\
                         Get the value of the 'Datastore.Path' key:\n\n  $ rubo config Datastore.Path\n\n\
                         Set the value of the 'Datastore.Path' key:\n\n  $ rubo config Datastore.Path ~/.rubo/datastore",
                    )
                    .args_conflicts_with_subcommands(true)
                    .arg(Arg::new("key").help("The key of the config entry (e.g. \"Addresses.API\")."))
                    .arg(Arg::new("value").help("The value to set the config entry to."))
                    .arg(bool_opt("bool", "Set a boolean value."))
                    .arg(bool_opt("json", "Parse stringified JSON."))
            },
            run: |ctx, req| Box::pin(get_set(ctx, req)),
            text: |req| {
                let setting = req.args.len() >= 2;
                Box::new(FnText(move |v, p: &mut Printer<'_>| {
                    if setting {
                        return Ok(());
                    }
                    let f: Field = typed(v)?;
                    p.out(&human(&f.value)?)
                }))
            },
        },
        Spec {
            path: "config show",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("show").about("Output config file contents.").long_about(
                    "Prints the config file, keys sorted.\n\n\
                     NOTE: For security reasons, this command will omit your private key and remote services.\n\
                     If you would like to make a full backup of your config (private key included), you must\n\
                     copy the config file from your repo.",
                )
            },
            run: |ctx, _req| {
                Box::pin(async move {
                    let cfg = ConfigFile::load(&config_path(&ctx))?;
                    Ok(Output::Value(cfg.show()))
                })
            },
            text: |_| Box::new(JsonText),
        },
        Spec {
            path: "config replace",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::Files,
            local_only: false,
            def: || {
                Command::new("replace")
                    .about("Replace the config with <file>.")
                    .long_about(
                        "Make sure to back up the config file first if necessary, as this operation\n\
                         can't be undone. The node's identity (private key) is kept.",
                    )
                    .arg(Arg::new("file").help("The file to use as the new config ('-' for stdin).").required(true))
            },
            run: |ctx, req| Box::pin(replace(ctx, req)),
            text: |_| Box::new(FnText(|_, _: &mut Printer<'_>| Ok(()))),
        },
        Spec {
            path: "config edit",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: true,
            def: || {
                Command::new("edit").about("Open the config file for editing in $EDITOR.").long_about(
                    "To use 'rubo config edit', you must have the $EDITOR environment\n\
                     variable set to your preferred text editor. The file is checked when\n\
                     the editor exits.",
                )
            },
            run: |ctx, _req| Box::pin(edit(ctx)),
            text: |_| Box::new(FnText(|_, _: &mut Printer<'_>| Ok(()))),
        },
        Spec {
            path: "config profile",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || Command::new("profile").about("Apply profiles to config.").args_conflicts_with_subcommands(true),
            run: |_ctx, _req| {
                Box::pin(async {
                    let list: Vec<Value> = PROFILES
                        .iter()
                        .map(|p| serde_json::json!({"Name": p.name, "Description": p.description}))
                        .collect();
                    Ok(Output::Value(Value::Array(list)))
                })
            },
            text: |_| {
                Box::new(FnText(|v: Value, p: &mut Printer<'_>| {
                    let mut s = String::from("Available profiles:\n");
                    for item in v.as_array().cloned().unwrap_or_default() {
                        let name = item["Name"].as_str().unwrap_or_default();
                        s.push_str(&format!("  '{name}':\n"));
                        for line in item["Description"].as_str().unwrap_or_default().lines() {
                            s.push_str(&format!("    {line}\n"));
                        }
                    }
                    p.out(&s)
                }))
            },
        },
        Spec {
            path: "config profile apply",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("apply")
                    .about("Apply profile to config.")
                    .arg(Arg::new("profile").help("The profile to apply to the config.").required(true))
                    .arg(bool_opt(
                        "dry-run",
                        "print difference between the current config and the config that would be generated",
                    ))
            },
            run: |ctx, req| Box::pin(profile_apply(ctx, req)),
            text: |_| {
                Box::new(FnText(|v, p: &mut Printer<'_>| {
                    let u: Update = typed(v)?;
                    let mut lines = Vec::new();
                    diff(&u.old, &u.new, "", &mut lines);
                    if lines.is_empty() {
                        return p.out("no changes\n");
                    }
                    p.out(&(lines.join("\n") + "\n"))
                }))
            },
        },
    ]
}

async fn get_set(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let key = req.arg(0, "key")?.to_string();
    guard(&key)?;
    let Some(raw) = req.args.get(1).cloned() else {
        let cfg = ConfigFile::load(&config_path(&ctx))?;
        let value =
            cfg.get(&key).map_err(|e| CmdError::new(format!("failed to get config value: {:?}", e.to_string())))?;
        return Output::value(Field { key, value });
    };
    let set_err = |e: String| CmdError::new(format!("failed to set config value: {e} (maybe use --json?)"));
    let value = if req.opts.flag("json")? {
        serde_json::from_str(&raw).map_err(|e| set_err(format!("failed to unmarshal json. {e}")))?
    } else if req.opts.flag("bool")? {
        Value::Bool(raw == "true")
    } else {
        Value::String(raw)
    };
    let node = ctx.node()?;
    if key.eq_ignore_ascii_case("Identity.PeerID") {
        let want = node.repo().identity().peer_id().to_string();
        let given = value.as_str().map(crate::cmd::id::parse_peer).transpose()?.map(|p| p.to_string());
        if given.as_deref() != Some(want.as_str()) {
            return Err(CmdError::new(
                "cannot set Identity.PeerID to a value that does not match the node's private key",
            ));
        }
    }
    let stored = node
        .repo()
        .update_config(|c: &mut ConfigFile| -> Result<Value, ConfigError> {
            c.set(&key, value)?;
            c.get(&key)
        })
        .map_err(|e| set_err(e.to_string()))?;
    Output::value(Field { key, value: stored })
}

async fn replace(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let mut inputs = req.take_inputs("file")?;
    let file = inputs.next_file().await.ok_or_else(|| CmdError::client("argument \"file\" is required"))??;
    let text = file.read_up_to(Some(16 << 20)).await?;
    let doc: Value = serde_json::from_slice(&text).map_err(|_| CmdError::new("failed to decode file as config"))?;
    let has_key = doc.get("Identity").and_then(Value::as_object).is_some_and(|id| {
        id.iter().any(|(k, v)| k.eq_ignore_ascii_case("privkey") && v.as_str().is_some_and(|s| !s.is_empty()))
    });
    if has_key {
        return Err(CmdError::new("setting private key with API is not supported"));
    }
    ctx.node()?.repo().update_config(|c| c.replace(doc))?;
    Ok(Output::None)
}

async fn edit(ctx: Ctx) -> Result<Output, CmdError> {
    let path = config_path(&ctx);
    let editor = std::env::var("EDITOR").map_err(|_| CmdError::new("ENV variable $EDITOR not set"))?;
    let mut parts = editor.split_whitespace();
    let prog = parts.next().ok_or_else(|| CmdError::new("ENV variable $EDITOR not set"))?.to_string();
    let args: Vec<String> = parts.map(str::to_string).collect();
    let p = path.clone();
    let status =
        tokio::task::spawn_blocking(move || std::process::Command::new(prog).args(args).arg(p).status()).await??;
    if !status.success() {
        return Err(CmdError::new(format!("editor exited with {status}")));
    }
    // Catch mistakes now rather than at the next start.
    let cfg = ConfigFile::load(&path).map_err(|e| CmdError::new(format!("the edited config is invalid: {e}")))?;
    rubo_repo::validate_config(ctx.repo_path(), &cfg)
        .map_err(|e| CmdError::new(format!("the edited config cannot open this repo: {e}")))?;
    Ok(Output::None)
}

async fn profile_apply(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let name = req.arg(0, "profile")?.to_string();
    let dry = req.opts.flag("dry-run")?;
    let repo = ctx.node()?.repo();
    let current = repo.config();
    let old = current.doc().clone();
    let mut new = old.clone();
    apply_profile(&mut new, &name, false)?;
    if !dry {
        // Keep a copy, as Kubo does, so a profile can be undone by hand.
        let backup = repo.path().join(format!("config-pre-{name}-{}", std::process::id()));
        std::fs::copy(current.path(), &backup).map_err(|e| CmdError::new(format!("backing up config: {e}")))?;
        repo.update_config(|c| c.replace_all(new.clone()))?;
    }
    Output::value(Update { old: scrub(sorted(&old)), new: scrub(sorted(&new)) })
}

/// Changed leaves, as `- Key: old` / `+ Key: new` lines.
fn diff(old: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    let join = |k: &str| {
        if path.is_empty() { k.to_string() } else { format!("{path}.{k}") }
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => diff(x, y, &join(k), out),
                    (Some(x), None) => out.push(format!("- {}: {x}", join(k))),
                    (None, Some(y)) => out.push(format!("+ {}: {y}", join(k))),
                    (None, None) => {}
                }
            }
        }
        (a, b) if a != b => {
            out.push(format!("- {path}: {a}"));
            out.push(format!("+ {path}: {b}"));
        }
        _ => {}
    }
}
