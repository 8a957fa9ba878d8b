//! Records the git commit and compiler version for `rubo version`.

use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let commit = run("git", &["rev-parse", "--short=7", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=RUBO_COMMIT={commit}");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = run(&rustc, &["--version"]).unwrap_or_default();
    println!("cargo:rustc-env=RUBO_RUSTC={version}");
    // Where git keeps them: in a worktree `.git` is a file, HEAD is the
    // worktree's and refs are the main repo's. Without git, only this file.
    println!("cargo:rerun-if-changed=build.rs");
    for p in ["HEAD", "refs/heads"] {
        if let Some(path) = run("git", &["rev-parse", "--git-path", p]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
