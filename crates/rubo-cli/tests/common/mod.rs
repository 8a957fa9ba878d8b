//! Helpers for tests that drive the real `rubo` binary.
#![allow(dead_code)]

pub(crate) mod daemon;
pub(crate) mod peers;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test: this build's, or `RUBO_BIN` (to run a test
/// against another build, e.g. to see a regression test fail on old code).
pub(crate) fn rubo_bin() -> String {
    std::env::var("RUBO_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_rubo").to_string())
}

/// A repo in a temporary directory, initialized with the `test` profile.
pub(crate) struct TestRepo {
    pub(crate) dir: tempfile::TempDir,
}

impl TestRepo {
    pub(crate) fn new() -> Self {
        let r = Self::uninit();
        let out = r.run(&["init", "--profile", "test"]);
        assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
        r
    }

    pub(crate) fn uninit() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(rubo_bin());
        c.args(args).env("RUBO_PATH", self.path()).env_remove("RUST_LOG");
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().expect("run rubo")
    }

    pub(crate) fn run_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn rubo");
        {
            let mut stdin = child.stdin.take().expect("stdin");
            // A command may exit before reading everything (too-big input): ignore EPIPE.
            let _ = stdin.write_all(input);
        }
        child.wait_with_output().expect("wait rubo")
    }

    /// Runs and expects success; returns trimmed stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "rubo {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub(crate) fn ok_stdin(&self, args: &[&str], input: &[u8]) -> String {
        let out = self.run_stdin(args, input);
        assert!(out.status.success(), "rubo {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs, expects failure with exit code 1, returns stderr.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        fail_text(args, &out)
    }

    pub(crate) fn fails_stdin(&self, args: &[&str], input: &[u8]) -> String {
        let out = self.run_stdin(args, input);
        fail_text(args, &out)
    }

    /// The flatfs file of a block.
    pub(crate) fn block_file(&self, cid_str: &str) -> PathBuf {
        let cid = rubo_types::parse_cid(cid_str).expect("cid");
        let key = data_encoding_key(&cid.hash().to_bytes());
        let shard = &key[key.len() - 3..key.len() - 1];
        self.path().join("blocks").join(shard).join(format!("{key}.data"))
    }
}

fn fail_text(args: &[&str], out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "rubo {args:?} should fail with 1; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "rubo {args:?} panicked: {err}");
    err
}

/// Unpadded upper-case RFC 4648 base32, written out here rather than taken
/// from the code under test.
pub(crate) fn data_encoding_key(bytes: &[u8]) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buf: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHA[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHA[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub(crate) fn exists(p: &Path) -> bool {
    p.exists()
}

/// Whether some process holds a `flock` on `path`, by the kernel's table of
/// locks (rubo's lock file stays empty, as Kubo's).
pub(crate) fn flock_held(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(ino) = std::fs::metadata(path).map(|m| m.ino()) else { return false };
    let table = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    table.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 5 && f[1] == "FLOCK" && f[5].rsplit(':').next() == Some(&ino.to_string())
    })
}
