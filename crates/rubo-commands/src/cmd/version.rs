//! `rubo version`.

use crate::def::Command;
use serde::{Deserialize, Serialize};

use crate::output::{FnText, Output, Printer, typed};
use crate::registry::{ArgKind, Ctx, RepoUse, Spec, bool_opt};
use crate::{CmdError, Request};

/// Version information (Kubo's `VersionInfo`, with Rust where Kubo has Golang).
#[derive(Debug, Serialize, Deserialize)]
struct VersionInfo {
    #[serde(rename = "Version")]
    version: String,
    #[serde(rename = "Commit")]
    commit: String,
    #[serde(rename = "Repo")]
    repo: String,
    #[serde(rename = "System")]
    system: String,
    #[serde(rename = "Rust")]
    rust: String,
}

/// GOARCH/GOOS-style platform names, as Kubo prints them.
fn system() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        a => a,
    };
    format!("{arch}/{}", std::env::consts::OS)
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![Spec {
        path: "version",
        repo_for: None,
        repo: RepoUse::None,
        args: ArgKind::Strings,
        local_only: false,
        def: || {
            Command::new("version")
                .about("Show rubo version information.")
                .long_about("Returns the current version of rubo and exits.")
                .arg(bool_opt("number", "Only show the version number.").short('n'))
                .arg(bool_opt("commit", "Show the commit hash."))
                .arg(bool_opt("repo", "Show repo version."))
                .arg(bool_opt("all", "Show all version information"))
        },
        run: |ctx, req| Box::pin(run(ctx, req)),
        text: |req| {
            let all = req.opts.flag("all").unwrap_or(false);
            let repo = req.opts.flag("repo").unwrap_or(false);
            let number = req.opts.flag("number").unwrap_or(false);
            let commit = req.opts.flag("commit").unwrap_or(false);
            Box::new(FnText(move |v, p: &mut Printer<'_>| {
                let v: VersionInfo = typed(v)?;
                let suffix =
                    if !v.commit.is_empty() && (commit || all) { format!("-{}", v.commit) } else { String::new() };
                let text = if all {
                    format!(
                        "Rubo version: {}{suffix}\nRepo version: {}\nSystem version: {}\nRust version: {}\n",
                        v.version, v.repo, v.system, v.rust
                    )
                } else if repo {
                    format!("{}\n", v.repo)
                } else if number {
                    format!("{}{suffix}\n", v.version)
                } else {
                    format!("rubo version {}{suffix}\n", v.version)
                };
                p.out(&text)
            }))
        },
    }]
}

async fn run(_ctx: Ctx, _req: Request) -> Result<crate::Output, CmdError> {
    Output::value(VersionInfo {
        version: rubo_node::VERSION.into(),
        commit: rubo_node::COMMIT.into(),
        repo: rubo_repo::REPO_VERSION.to_string(),
        system: system(),
        rust: rubo_node::RUSTC.into(),
    })
}
