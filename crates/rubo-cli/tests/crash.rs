//! Killing rubo (SIGKILL) in the middle of a stream of block puts leaves a repo
//! that opens, verifies, and holds every block whose put had been reported.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::TestRepo;

fn kill_during_puts(kill_after: usize) {
    let r = TestRepo::new();
    let files = tempfile::tempdir().unwrap();
    let n = 1500;
    let mut paths = Vec::new();
    for i in 0..n {
        let p = files.path().join(format!("f{i}"));
        // Distinct contents, a few KiB each.
        let body = format!("block number {i}\n").repeat(1 + i % 300);
        std::fs::write(&p, body).unwrap();
        paths.push(p);
    }
    let mut args: Vec<String> = vec!["block".into(), "put".into()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = r.cmd(&arg_refs).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut reported = Vec::new();
    let mut line = String::new();
    while reported.len() < kill_after {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        reported.push(line.trim().to_string());
    }
    child.kill().unwrap(); // SIGKILL
    // Lines already written before the kill were reported too.
    for l in reader.lines() {
        match l {
            Ok(l) if !l.trim().is_empty() => reported.push(l.trim().to_string()),
            _ => break,
        }
    }
    child.wait().unwrap();
    assert!(reported.len() >= kill_after.min(n), "only {} puts reported", reported.len());

    // The repo opens and verifies.
    let out = r.run(&["repo", "verify"]);
    assert!(
        out.status.success(),
        "verify failed after kill: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every reported block is there, with its content.
    for (i, cid) in reported.iter().enumerate() {
        let out = r.run(&["block", "get", cid]);
        assert!(out.status.success(), "block {i} ({cid}) reported but missing");
        assert_eq!(out.stdout, std::fs::read(&paths[i]).unwrap(), "block {i} content");
    }
    // The repo takes new writes (no stale lock, temp files cleaned).
    r.ok_stdin(&["block", "put"], b"after the crash\n");
    let temp = r.path().join("blocks/.temp");
    assert_eq!(std::fs::read_dir(&temp).map(|d| d.count()).unwrap_or(0), 0, "temp files left behind");
}

#[test]
fn sigkill_early() {
    kill_during_puts(3);
}

#[test]
fn sigkill_midway() {
    kill_during_puts(400);
}
