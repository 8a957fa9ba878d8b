//! The CLI prints the same bytes through a daemon as on the bare repo.
//!
//! Two repos with the same state (one initialized, the other a copy of its
//! directory: same identity, config, blocks, pins and MFS root) and two
//! working directories with the same input files. A daemon runs on B only.
//! Every invocation below runs on A (locally) and on B (through the daemon,
//! found by B's `api` file), and stdout, stderr and the exit code must be
//! equal, byte for byte, but for the few process-specific fields normalized
//! explicitly (each with its reason). The invocations walk the whole command
//! table: the test fails if a command of the registry has none, unless it is
//! in [`NOT_BOTH_WAYS`], whose commands are checked one way each instead
//! (through the daemon they work; locally they give Kubo's error).

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::TestRepo;
use common::daemon::Daemon;
use common::peers::in_netns;

/// Commands that cannot run both ways: they need the daemon (a network, a
/// log to change, a process to stop). Each is checked below, through the
/// daemon (works) and locally (Kubo's error).
const NOT_BOTH_WAYS: &[&str] = &[
    // The network: Kubo's "must be run in online mode" locally.
    "swarm peers",
    "swarm connect",
    "swarm disconnect",
    "swarm addrs",
    "swarm addrs local",
    "swarm addrs listen",
    "swarm filters",
    "swarm filters add",
    "swarm filters rm",
    "swarm peering add",
    "swarm peering ls",
    "swarm peering rm",
    "swarm resources",
    "ping",
    "stats bw",
    // Bitswap runs on the daemon only.
    "bitswap stat",
    "stats bitswap",
    "bitswap wantlist",
    "bitswap ledger",
    "bitswap reprovide",
    // Routing needs the daemon's DHT.
    "routing findprovs",
    "routing findpeer",
    "routing provide",
    "routing get",
    "routing put",
    "provide once",
    "provide stat",
    "stats provide",
    "dht query",
    "stats dht",
    // The daemon's log (Kubo's NoLocal).
    "log level",
    // Needs the repo to itself (Kubo's DaemonNotRunning) and makes a random
    // identity: tests/keys_names.rs checks it.
    "key rotate",
    // Stops the daemon: run last.
    "shutdown",
];
// (`daemon` itself is not in the registry: it is the CLI's own subcommand,
// tested in tests/daemon.rs. `id <peer>` is checked beside the online-only
// commands; `id` without a peer is in the table.)

const OFFLINE: &str = "Error: this command must be run in online mode. Try running 'rubo daemon' first\n";

/// Deterministic pseudo-random bytes.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed * 2 + 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
    std::fs::set_permissions(to, std::fs::metadata(from).unwrap().permissions()).unwrap();
}

/// A directory as (relative path, kind and mode, contents), sorted.
fn tree(root: &Path) -> Vec<(String, String, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            if m.is_dir() {
                out.push((rel, format!("dir {mode:o}"), Vec::new()));
                walk(root, &p, out);
            } else if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap().display().to_string();
                out.push((rel, "symlink".into(), t.into_bytes()));
            } else {
                out.push((rel, format!("file {mode:o}"), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    if root.is_dir() {
        walk(root, root, &mut out);
    } else if root.exists() {
        out.push((String::new(), "file".into(), std::fs::read(root).unwrap()));
    }
    out
}

/// Replaces every occurrence of `from` in `hay`.
fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Masks the value of every `"key":` in JSON text (compact or indented):
/// a number, boolean, null, string, array or object becomes `"<masked>"`.
fn mask_json(text: &str, key: &str) -> String {
    let pat = format!("\"{key}\":");
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(&pat) {
        let (head, tail) = rest.split_at(i + pat.len());
        out.push_str(head);
        let ws = tail.len() - tail.trim_start().len();
        out.push_str(&tail[..ws]);
        let v = &tail[ws..];
        let b = v.as_bytes();
        let mut end = 0;
        match b.first() {
            Some(b'"') => {
                end = 1;
                while end < b.len() && b[end] != b'"' {
                    end += if b[end] == b'\\' { 2 } else { 1 };
                }
                end += 1;
            }
            Some(b'[') | Some(b'{') => {
                let mut depth = 0;
                let mut in_str = false;
                while end < b.len() {
                    match b[end] {
                        b'\\' if in_str => end += 1,
                        b'"' => in_str = !in_str,
                        b'[' | b'{' if !in_str => depth += 1,
                        b']' | b'}' if !in_str => {
                            depth -= 1;
                            if depth == 0 {
                                end += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    end += 1;
                }
            }
            _ => {
                while end < b.len() && !matches!(b[end], b',' | b'}' | b'\n' | b' ' | b'\t' | b']') {
                    end += 1;
                }
            }
        }
        out.push_str("\"<masked>\"");
        rest = &v[end.min(v.len())..];
    }
    out.push_str(rest);
    out
}

/// Masks the value after `label` (to the end of its line) in text output.
fn mask_line(text: &str, label: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix(label) {
            Some(_) => format!("{label}<masked>"),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// Normalizes a command's stdout where local and daemon runs legitimately
/// differ. Each use says why.
type Norm = fn(&str) -> String;

/// `repo stat`: `RepoSize` counts the datastore file, whose size depends on
/// whether a process holds the database open (the daemon) or opened and
/// closed it (each local command): the same data, a different file length.
fn norm_repo_size(s: &str) -> String {
    mask_line(&mask_json(s, "RepoSize"), "RepoSize:")
}

/// `diag sys`: the process's memory, the disk's free space at that instant,
/// and whether the node is online (the daemon is; a local command is not).
fn norm_diag_sys(s: &str) -> String {
    let mut s = s.to_string();
    for k in ["free_space", "rss", "virt", "swap", "online"] {
        s = mask_json(&s, k);
    }
    s
}

/// `id` of this node: its addresses and protocols exist only online (the
/// daemon); offline Kubo prints `null` for both, as the local run does.
fn norm_id(s: &str) -> String {
    mask_json(&mask_json(s, "Addresses"), "Protocols")
}

struct Side {
    repo: PathBuf,
    work: PathBuf,
}

struct Ran {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Side {
    fn run(&self, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Ran {
        let mut cmd = Command::new(common::rubo_bin());
        cmd.args(args)
            .current_dir(&self.work)
            .env("RUBO_PATH", &self.repo)
            .env_remove("RUST_LOG")
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run rubo");
        if let Some(input) = stdin {
            let mut w = child.stdin.take().unwrap();
            let input = input.to_vec();
            // A writer thread: the command may print before it has read it all.
            std::thread::spawn(move || {
                let _ = w.write_all(&input);
            });
        }
        let out = child.wait_with_output().expect("wait rubo");
        // Each side's own paths are the same thing named differently.
        let norm = |b: &[u8]| {
            let b = replace_bytes(b, self.repo.display().to_string().as_bytes(), b"$RUBO_PATH");
            replace_bytes(&b, self.work.display().to_string().as_bytes(), b"$WORK")
        };
        Ran { code: out.status.code(), stdout: norm(&out.stdout), stderr: norm(&out.stderr) }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    Ok,
    Err,
}

struct Parity {
    a: Side,
    b: Side,
    covered: BTreeSet<&'static str>,
    failures: Vec<String>,
    cases: usize,
}

fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.len() > 1500 {
        let mut cut = 1500;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}... ({} bytes)", &s[..cut], b.len())
    } else {
        s.into()
    }
}

impl Parity {
    /// The registry command an invocation runs: the longest run of leading
    /// words that names one.
    fn command_of(args: &[&str]) -> &'static str {
        // Global flags may come first (`--offline block get`).
        let words: Vec<&str> =
            args.iter().copied().skip_while(|a| a.starts_with('-')).take_while(|a| !a.starts_with('-')).collect();
        (1..=words.len())
            .rev()
            .find_map(|n| rubo_commands::registry::find(&words[..n].join(" ")).map(|s| s.path))
            .unwrap_or_else(|| panic!("no command in {args:?}"))
    }

    fn case(
        &mut self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
        expect: Expect,
        norm: Option<Norm>,
    ) -> String {
        self.covered.insert(Self::command_of(args));
        self.cases += 1;
        let mut a = self.a.run(args, stdin, env);
        let mut b = self.b.run(args, stdin, env);
        if let Some(n) = norm {
            a.stdout = n(&String::from_utf8_lossy(&a.stdout)).into_bytes();
            b.stdout = n(&String::from_utf8_lossy(&b.stdout)).into_bytes();
        }
        let want = match expect {
            Expect::Ok => Some(0),
            Expect::Err => Some(1),
        };
        if a.code != want {
            self.failures.push(format!(
                "rubo {args:?} locally: exit {:?}, expected {expect:?}\n  stdout: {}\n  stderr: {}",
                a.code,
                show(&a.stdout),
                show(&a.stderr)
            ));
        }
        if a.code != b.code || a.stdout != b.stdout || a.stderr != b.stderr {
            self.failures.push(format!(
                "rubo {args:?} differs:\n  exit: local {:?}, daemon {:?}\n  stdout local:  {}\n  stdout daemon: {}\n  stderr local:  {}\n  stderr daemon: {}",
                a.code,
                b.code,
                show(&a.stdout),
                show(&b.stdout),
                show(&a.stderr),
                show(&b.stderr)
            ));
        }
        String::from_utf8_lossy(&a.stdout).trim().to_string()
    }

    fn ok(&mut self, args: &[&str]) -> String {
        self.case(args, None, &[], Expect::Ok, None)
    }

    fn ok_in(&mut self, args: &[&str], stdin: &[u8]) -> String {
        self.case(args, Some(stdin), &[], Expect::Ok, None)
    }

    fn ok_norm(&mut self, args: &[&str], norm: Norm) -> String {
        self.case(args, None, &[], Expect::Ok, Some(norm))
    }

    fn err(&mut self, args: &[&str]) {
        self.case(args, None, &[], Expect::Err, None);
    }

    fn err_in(&mut self, args: &[&str], stdin: &[u8]) {
        self.case(args, Some(stdin), &[], Expect::Err, None);
    }

    /// What a command wrote in the working directory must be the same too.
    fn same_tree(&mut self, rel: &str) {
        let a = tree(&self.a.work.join(rel));
        let b = tree(&self.b.work.join(rel));
        if a.is_empty() {
            self.failures.push(format!("{rel}: nothing written locally"));
        }
        if a != b {
            let names = |t: &[(String, String, Vec<u8>)]| {
                t.iter().map(|(p, k, c)| format!("{p} ({k}, {} bytes)", c.len())).collect::<Vec<_>>()
            };
            self.failures.push(format!("{rel} differs:\n  local:  {:?}\n  daemon: {:?}", names(&a), names(&b)));
        }
    }
}

#[test]
fn cli_through_the_daemon_prints_what_it_prints_locally() {
    in_netns("cli_through_the_daemon_prints_what_it_prints_locally", || {
        // ---- the same state on both sides ----
        let ra = TestRepo::new();
        let wa = tempfile::tempdir().unwrap();
        let w = wa.path();
        std::fs::write(w.join("small.txt"), b"hello parity\n").unwrap();
        std::fs::write(w.join("multi.bin"), noise(1, 700_000)).unwrap(); // three chunks
        std::fs::create_dir_all(w.join("dir/b")).unwrap();
        std::fs::create_dir_all(w.join("dir/empty")).unwrap();
        std::fs::write(w.join("dir/a.txt"), b"a\n").unwrap();
        std::fs::write(w.join("dir/.hidden"), b"not added without --hidden\n").unwrap();
        std::fs::write(w.join("dir/b/c.txt"), b"c\n").unwrap();
        std::fs::write(w.join("dir/b/d.bin"), noise(2, 300_000)).unwrap();
        std::fs::write(w.join("data.json"), br#"{"a":1,"b":[1,2,3],"c":{"d":"e"}}"#).unwrap();
        std::fs::write(w.join("encoded.txt"), b"mMTIzNDU2Nzg5").unwrap();
        std::fs::write(w.join("garbage.car"), b"not a car at all").unwrap();
        // A key to import (the same on both sides) and a record it signed
        // (Ed25519 signatures are deterministic, the EOL fixed).
        let kp = rubo_node::rubo_net::libp2p::identity::Keypair::generate_ed25519();
        std::fs::write(w.join("k.key"), kp.to_protobuf_encoding().unwrap()).unwrap();
        let eol = std::time::UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100-01-01
        let rec =
            rubo_ipns::Record::create(&kp, b"/ipfs/bafkqaaa", 7, eol, Duration::from_secs(60), Default::default())
                .unwrap();
        std::fs::write(w.join("ipns.rec"), rec.as_bytes()).unwrap();
        std::fs::write(w.join("ipns.name"), rubo_ipns::Name::from_public_key(&kp.public()).to_string()).unwrap();
        // A CAR of a DAG neither repo has, from a scratch repo.
        let scratch = TestRepo::new();
        let car_root = scratch.ok_stdin(&["add", "-q"], &noise(3, 400_000));
        let car = scratch.run(&["dag", "export", &car_root]);
        assert!(car.status.success());
        std::fs::write(w.join("x.car"), &car.stdout).unwrap();
        // Some state before the copy: a pinned file, an MFS entry.
        let seeded = ra.ok_stdin(&["add", "-q"], b"seeded before the copy\n");
        ra.ok(&["files", "cp", &format!("/ipfs/{seeded}"), "/seeded.txt"]);
        // `config replace` input: the config as shown, one value changed.
        let mut cfg: serde_json::Value = serde_json::from_str(&ra.ok(&["config", "show"])).unwrap();
        cfg["Datastore"]["StorageMax"] = "12GB".into();
        std::fs::write(w.join("cfg.json"), serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();

        let rb = TestRepo::uninit();
        copy_dir(&ra.path(), &rb.path());
        let wb = tempfile::tempdir().unwrap();
        copy_dir(wa.path(), wb.path());

        let mut daemon = Daemon::start(&rb, &[]);
        // The daemon holds B's lock for writing: every command on B that
        // opens the repo can only succeed through it.
        assert!(common::flock_held(&rb.path().join("repo.lock")));
        // A peer for the network commands.
        let rc = TestRepo::new();
        let peer = Daemon::start(&rc, &[]);

        let mut p = Parity {
            a: Side { repo: ra.path(), work: wa.path().to_path_buf() },
            b: Side { repo: rb.path(), work: wb.path().to_path_buf() },
            covered: BTreeSet::new(),
            failures: Vec::new(),
            cases: 0,
        };
        table(&mut p, &seeded);
        not_both_ways(&mut p, &ra, &rb, &mut daemon, &peer);

        // Coverage: every command has an invocation or a reason.
        let all: BTreeSet<&str> = rubo_commands::registry::specs().iter().map(|s| s.path).collect();
        for x in NOT_BOTH_WAYS {
            assert!(all.contains(x), "NOT_BOTH_WAYS names {x:?}, which is no command");
            assert!(!p.covered.contains(x), "{x:?} is both in the table and excluded");
        }
        let missing: Vec<&&str> =
            all.iter().filter(|c| !p.covered.contains(*c) && !NOT_BOTH_WAYS.contains(c)).collect();
        assert!(
            p.failures.is_empty() && missing.is_empty(),
            "commands with no invocation in the parity table: {missing:?}\n{} of {} invocations failed:\n\n{}",
            p.failures.len(),
            p.cases,
            p.failures.join("\n\n")
        );
    });
}

/// The invocations, in order: each changes both repos alike.
fn table(p: &mut Parity, seeded: &str) {
    // ---- tools that need no repo ----
    // Nothing queued in a fresh repo, nor on the daemon: both print nothing with -q.
    p.ok(&["provide", "clear", "-q"]);
    p.ok(&["version"]);
    p.ok(&["version", "--all"]);
    p.ok(&["version", "-n"]);
    p.ok(&["version", "--enc=json"]);
    p.ok(&["commands"]);
    p.ok(&["commands", "--flags"]);
    p.ok(&["commands", "--enc=json"]);
    p.ok(&["cid", "base32", "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"]);
    p.err(&["cid", "base32", "notacid"]);
    p.ok(&["cid", "format", "-v", "1", "-b", "base36", "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"]);
    p.ok(&["cid", "format", "-f", "%P %c", "bafkreiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"]);
    p.ok(&["cid", "inspect", "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"]);
    p.ok(&["cid", "bases"]);
    p.ok(&["cid", "codecs", "--numeric"]);
    p.ok(&["cid", "hashes", "--enc=json"]);
    p.ok(&["multibase", "list"]);
    p.ok(&["multibase", "encode", "small.txt"]);
    p.ok_in(&["multibase", "encode", "-b", "base32"], b"from stdin");
    p.ok(&["multibase", "decode", "encoded.txt"]);
    p.ok(&["multibase", "transcode", "-b", "base58btc", "encoded.txt"]);
    p.err(&["multibase", "encode", "missing.txt"]);
    // Never sent to a daemon (Kubo's NoRemote), on either side the same error.
    p.err(&["init", "--profile", "test"]);
    p.case(&["config", "edit"], None, &[("EDITOR", "true")], Expect::Ok, None);

    // ---- add ----
    let small = p.ok(&["add", "-q", "small.txt"]);
    p.ok(&["add", "small.txt"]);
    p.ok(&["add", "--enc=json", "small.txt"]);
    p.ok(&["add", "--cid-version=1", "--raw-leaves", "small.txt"]);
    p.ok(&["add", "--cid-base=base32", "--only-hash", "multi.bin"]);
    let multi = p.ok(&["add", "-Q", "multi.bin"]);
    p.ok(&["add", "-w", "small.txt", "multi.bin"]);
    p.ok_in(&["add"], b"added from stdin\n");
    p.ok_in(&["add", "--stdin-name=named.txt", "--enc=json"], b"named\n");
    let dir = p.ok(&["add", "-r", "-Q", "--progress=false", "dir"]);
    p.ok(&["add", "-r", "--progress=false", "dir"]);
    p.ok(&["add", "-r", "--hidden", "--enc=json", "--progress=false", "dir"]);
    p.ok(&["add", "-r", "--trickle", "--chunker=size-1000", "-q", "dir"]);
    p.ok(&["add", "--pin=false", "--to-files=/added.txt", "small.txt"]);
    p.err(&["add", "missing.txt"]);
    p.err(&["add", "dir"]);
    p.err(&["add", "--chunker=nonsense", "small.txt"]);
    p.err(&["add", "--nope", "small.txt"]);

    // ---- reading files and DAGs ----
    p.ok(&["cat", &multi]); // three blocks, 700 kB on stdout
    p.ok(&["cat", "--offset=5", "--length=4", &small]);
    p.ok(&["cat", &format!("/ipfs/{dir}/b/c.txt")]);
    p.err(&["cat", "notacid"]);
    p.err(&["cat", &dir]);
    p.err(&["cat", &format!("/ipfs/{dir}/nope")]);
    p.ok(&["ls", &dir]);
    p.ok(&["ls", "-v", "--size=false", &dir]);
    p.ok(&["ls", "--enc=json", &dir]);
    p.ok(&["ls", &multi]);
    p.err(&["ls", "notacid"]);
    p.ok(&["get", "-o", "got-dir", &dir]);
    p.same_tree("got-dir");
    p.ok(&["get", "-o", "got-file", &multi]);
    p.same_tree("got-file");
    p.ok(&["get", &dir]); // into ./<cid>
    p.same_tree(&dir);
    p.ok(&["get", "-a", "-o", "got.tar", &dir]);
    p.same_tree("got.tar");
    p.ok(&["get", "-a", "-C", "-o", "got.tar.gz", &dir]);
    p.same_tree("got.tar.gz");
    p.err(&["get", "-o", "nowhere", "notacid"]);
    p.ok(&["refs", &dir]);
    p.ok(&["refs", "-r", "-u", &dir]);
    p.ok(&["refs", "-r", "--format=<src> -> <dst> (<linkname>)", &dir]);
    p.ok(&["refs", "--max-depth=1", "--enc=json", &dir]);
    p.err(&["refs", "notacid"]);

    // ---- blocks ----
    let raw = p.ok_in(&["block", "put"], b"a raw block");
    p.ok(&["block", "put", "small.txt"]);
    p.ok(&["block", "put", "--enc=json", "--mhtype=sha2-512", "small.txt"]);
    p.ok_in(&["block", "put", "--cid-codec=dag-cbor", "--pin"], &[0xa1, 0x61, 0x61, 0x01]);
    p.err(&["block", "put", "missing.txt"]);
    p.ok(&["block", "get", &raw]);
    p.ok(&["block", "get", &multi]);
    p.err(&["block", "get", "notacid"]);
    // An absent block: --offline, so that a daemon never asks the network.
    p.err(&["--offline", "block", "get", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"]);
    p.ok(&["block", "stat", &raw]);
    p.ok(&["block", "stat", "--enc=json", &multi]);
    p.err(&["block", "rm", &multi]); // pinned
    p.ok(&["block", "rm", &raw]);
    p.err(&["block", "rm", &raw]); // gone
    p.ok(&["block", "rm", "-f", "-q", &raw]);

    // ---- DAGs ----
    let obj = p.ok_in(&["dag", "put"], br#"{"hello":"world","n":[1,2]}"#);
    p.ok(&["dag", "put", "--store-codec=dag-json", "data.json"]);
    p.ok_in(&["dag", "put", "--pin", "--enc=json"], br#"{"pinned":true}"#);
    p.err_in(&["dag", "put"], b"{not json");
    p.ok(&["dag", "get", &obj]);
    p.ok(&["dag", "get", &format!("{obj}/n/1")]);
    p.ok(&["dag", "get", "--output-codec=dag-cbor", &obj]);
    p.ok(&["dag", "get", &dir]);
    p.err(&["dag", "get", &format!("{obj}/nope")]);
    p.ok(&["dag", "resolve", &format!("/ipfs/{dir}/b/c.txt")]);
    p.ok(&["dag", "resolve", "--enc=json", &format!("{obj}/n")]);
    p.ok(&["dag", "stat", "--progress=false", &dir]);
    p.ok(&["dag", "stat", "--progress=false", "--enc=json", &multi, &dir]);
    p.ok(&["dag", "export", &multi]); // CAR bytes on stdout
    p.ok(&["dag", "export", &dir]);
    p.err(&["dag", "export", "notacid"]);
    p.ok(&["dag", "import", "x.car"]);
    p.ok(&["dag", "import", "--stats", "--enc=json", "x.car"]);
    p.ok_in(&["dag", "import", "--pin-roots=false", "--stats"], &std::fs::read(p.a.work.join("x.car")).unwrap());
    p.err(&["dag", "import", "garbage.car"]);
    p.err(&["dag", "import", "missing.car"]);

    // ---- pins ----
    p.ok(&["pin", "ls"]);
    p.ok(&["pin", "ls", "--type=recursive", "-q"]);
    p.ok(&["pin", "ls", "--type=indirect", "--enc=json"]);
    p.ok(&["pin", "ls", &small]);
    p.ok(&["pin", "ls", "--names", "--type=all", "--stream"]);
    let loose = p.ok_in(&["block", "put"], b"to pin directly");
    p.ok(&["pin", "add", "--recursive=false", &loose]);
    p.ok(&["pin", "add", "--name=mine", "--progress=false", &obj]);
    p.ok(&["pin", "add", "--enc=json", &dir]);
    p.err(&["pin", "ls", &loose, "--type=recursive"]);
    p.err(&["pin", "add", "notacid"]);
    p.ok(&["pin", "update", "--unpin=false", &obj, &dir]);
    p.ok(&["pin", "update", &small, seeded]);
    p.err(&["pin", "update", &small, seeded]); // small is no longer pinned
    p.ok(&["pin", "verify"]);
    p.ok(&["pin", "verify", "--verbose", "--enc=json"]);
    p.ok(&["pin", "rm", &loose]);
    p.ok(&["pin", "rm", "--enc=json", &obj]);
    p.err(&["pin", "rm", &loose]);

    // ---- MFS ----
    p.ok(&["files", "ls"]);
    p.ok(&["files", "mkdir", "/d"]);
    p.ok(&["files", "mkdir", "-p", "/d/e/f"]);
    p.err(&["files", "mkdir", "/d"]);
    p.ok_in(&["files", "write", "--create", "/d/w.txt"], b"written through files write\n");
    p.ok(&["files", "write", "--create", "--truncate", "/d/small.txt", "small.txt"]);
    p.ok_in(&["files", "write", "--offset=8", "/d/w.txt"], b"THROUGH");
    p.ok_in(&["files", "write", "--create", "--raw-leaves", "--cid-version=1", "/d/big"], &noise(4, 600_000));
    p.ok(&["files", "read", "/d/w.txt"]);
    p.ok(&["files", "read", "--offset=2", "--count=5", "/d/w.txt"]);
    p.ok(&["files", "read", "/d/big"]);
    p.err(&["files", "read", "/d/nope"]);
    p.err(&["files", "read", "/d"]);
    p.ok(&["files", "ls", "/d"]);
    p.ok(&["files", "ls", "-l", "/d"]);
    p.ok(&["files", "ls", "--enc=json", "-l", "/"]);
    p.ok(&["files", "stat", "/d"]);
    p.ok(&["files", "stat", "--hash", "/d/w.txt"]);
    p.ok(&["files", "stat", "--format=<type> <size> <cumulsize> <childs>", "/d/big"]);
    p.ok(&["files", "stat", "--with-local", "--enc=json", "/"]);
    p.ok(&["files", "cp", &format!("/ipfs/{dir}"), "/d/copied"]);
    p.err(&["files", "cp", "/ipfs/notacid", "/d/x"]);
    p.ok(&["files", "mv", "/d/copied", "/d/moved"]);
    p.ok(&["files", "rm", "-r", "/d/moved"]);
    p.err(&["files", "rm", "/d/e"]);
    p.ok(&["files", "rm", "-r", "/d/e"]);
    p.ok(&["files", "chcid", "--cid-version=1", "/d"]);
    p.ok(&["files", "chmod", "0640", "/d/w.txt"]);
    p.ok(&["files", "touch", "--mtime=1700000000", "/d/w.txt"]);
    p.ok(&["files", "stat", "--enc=json", "/d/w.txt"]);
    p.ok(&["files", "flush", "/d"]);
    p.err(&["files", "chroot"]);
    let root = p.ok(&["files", "stat", "--hash", "/"]);
    p.ok(&["files", "chroot", "--confirm", &format!("/ipfs/{dir}")]);
    p.ok(&["files", "ls", "/"]);
    p.ok(&["files", "chroot", "--confirm", &root]);

    // ---- the repo ----
    p.ok(&["refs", "local"]);
    p.ok(&["repo", "ls"]);
    p.ok_norm(&["repo", "stat"], norm_repo_size);
    p.ok_norm(&["repo", "stat", "--human"], norm_repo_size);
    p.ok_norm(&["repo", "stat", "-s", "--enc=json"], norm_repo_size);
    p.ok(&["repo", "version"]);
    p.ok(&["repo", "version", "-q", "--enc=json"]);
    p.ok(&["repo", "verify"]);
    p.ok(&["repo", "gc"]);
    p.ok_in(&["block", "put"], b"garbage for gc");
    p.ok(&["repo", "gc", "--enc=json"]);
    p.ok(&["repo", "gc", "-q"]);
    p.ok(&["refs", "local"]);
    p.ok_norm(&["diag", "sys"], norm_diag_sys);
    p.ok(&["log", "ls"]);

    // ---- the node and its config ----
    p.ok_norm(&["id"], norm_id);
    p.ok_norm(&["id", "--enc=json"], norm_id);
    p.ok(&["id", "-f", "<id>\\n<aver>\\n<pubkey>\\n"]);
    p.ok(&["id", "--peerid-base=base36", "-f", "<id>"]);
    let me = p.ok(&["id", "-f", "<id>"]);
    p.ok_norm(&["id", &me], norm_id);
    p.ok(&["--offline", "id", "-f", "<id>", "12D3KooWQjRJxihF8Eavh5xdVrSd3KK1rCJXtXJu9AqBRdsunbSc"]);
    p.err(&["id", "not-a-peer"]);
    p.ok(&["config", "Identity.PeerID"]);
    p.ok(&["config", "Datastore"]);
    p.ok(&["config", "--json", "Swarm.ConnMgr.HighWater", "200"]);
    p.ok(&["config", "--bool", "Discovery.MDNS.Enabled", "false"]);
    p.ok(&["config", "Datastore.StorageMax", "11GB"]);
    p.ok(&["config", "--enc=json", "Datastore.StorageMax"]);
    p.err(&["config", "No.Such.Key"]);
    p.err(&["config", "Identity.PrivKey"]);
    p.ok(&["config", "show"]);
    p.ok(&["config", "replace", "cfg.json"]);
    p.err(&["config", "replace", "missing.json"]);
    p.ok(&["config", "Datastore.StorageMax"]);
    p.ok(&["config", "profile"]);
    p.ok(&["config", "profile", "apply", "--dry-run", "server"]);
    p.ok(&["config", "profile", "apply", "test"]);
    p.err(&["config", "profile", "apply", "no-such-profile"]);
    keys_and_names(p, seeded);
    let boot = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQjRJxihF8Eavh5xdVrSd3KK1rCJXtXJu9AqBRdsunbSc";
    p.ok(&["bootstrap", "add", boot]);
    p.ok(&["bootstrap"]);
    p.ok(&["bootstrap", "list", "--enc=json"]);
    p.err(&["bootstrap", "add", "/ip4/1.2.3.4"]);
    p.ok(&["bootstrap", "rm", boot]);
    p.ok(&["bootstrap", "add", boot]);
    p.ok(&["bootstrap", "rm", "all"]);
    p.ok(&["bootstrap", "list"]);
}

/// `key` and `name`: a key imported on both sides signs alike; generated
/// keys differ only in their IDs; names are published and resolved without
/// the network (`--offline`), records read from the same file.
fn keys_and_names(p: &mut Parity, seeded: &str) {
    fn mask_id(s: &str) -> String {
        mask_json(s, "Id")
    }
    let name = std::fs::read_to_string(p.a.work.join("ipns.name")).unwrap();
    let imported = p.ok(&["key", "import", "imported", "k.key"]);
    p.err(&["key", "import", "imported", "k.key"]);
    p.err(&["key", "import", "self", "k.key"]);
    p.ok(&["key", "rename", "imported", "renamed"]);
    p.err(&["key", "rename", "self", "x"]);
    p.ok(&["key", "ls", "-l"]);
    p.ok(&["key", "list", "--enc=json"]);
    let signed = p.ok(&["key", "sign", "--key=renamed", "small.txt", "--enc=json"]);
    let sig: serde_json::Value = serde_json::from_str(&signed).unwrap_or_default();
    let sig = sig["Signature"].as_str().unwrap_or("").to_string();
    p.ok(&["key", "verify", "--key=renamed", &format!("--signature={sig}"), "small.txt"]);
    p.ok(&["key", "verify", &format!("--key={imported}"), &format!("--signature={sig}"), "small.txt"]);
    p.ok(&["key", "export", "renamed", "-o", "exported.key"]);
    p.err(&["key", "export", "self"]);
    p.ok_norm(&["key", "gen", "generated", "--enc=json"], mask_id);
    p.err(&["key", "gen", "generated"]);
    p.ok_norm(&["key", "rm", "generated", "renamed", "--enc=json"], mask_id);
    p.err(&["key", "rm", "nope"]);
    p.ok(&["name", "inspect", "ipns.rec"]);
    p.ok(&["name", "inspect", "--verify", &name, "ipns.rec", "--enc=json"]);
    p.err(&["name", "inspect", "small.txt"]);
    p.ok(&["--offline", "name", "put", "--allow-offline", &name, "ipns.rec"]);
    p.err(&["--offline", "name", "put", &name, "small.txt"]);
    p.ok(&["--offline", "name", "resolve", &name]);
    p.ok(&["--offline", "name", "get", &name]);
    p.err(&["--offline", "name", "publish", &format!("/ipfs/{seeded}")]);
    p.ok(&["--offline", "name", "publish", "--allow-offline", &format!("/ipfs/{seeded}")]);
    p.ok(&["--offline", "name", "resolve"]);
}

/// Runs `args` locally on A and through the daemon on B: the daemon answers,
/// the local run fails with `local_err` (on stderr, exit 1).
fn one_way(p: &mut Parity, args: &[&str], local_err: &str) -> String {
    let a = p.a.run(args, None, &[]);
    if a.code != Some(1) || String::from_utf8_lossy(&a.stderr) != local_err {
        p.failures.push(format!(
            "rubo {args:?} locally: exit {:?}, stderr {:?}; expected 1, {local_err:?}",
            a.code,
            String::from_utf8_lossy(&a.stderr)
        ));
    }
    let b = p.b.run(args, None, &[]);
    if b.code != Some(0) {
        p.failures.push(format!("rubo {args:?} through the daemon: exit {:?}, {}", b.code, show(&b.stderr)));
    }
    String::from_utf8_lossy(&b.stdout).into_owned()
}

/// The commands of [`NOT_BOTH_WAYS`], and `id <peer>`.
fn not_both_ways(p: &mut Parity, ra: &TestRepo, rb: &TestRepo, daemon: &mut Daemon, peer: &Daemon) {
    let pid = peer.peer_id();
    let port = peer
        .output
        .iter()
        .find_map(|l| l.strip_prefix("Swarm listening on 127.0.0.1:").and_then(|s| s.strip_suffix(" (TCP)")))
        .expect("the peer's swarm address")
        .to_string();
    let addr = format!("/ip4/127.0.0.1/tcp/{port}/p2p/{pid}");
    let check = |p: &mut Parity, args: &[&str], local_err: &str, want: &dyn Fn(&str) -> bool| {
        let out = one_way(p, args, local_err);
        if !want(&out) {
            p.failures.push(format!("rubo {args:?} through the daemon printed {out:?}"));
        }
    };
    let has = |s: &str| {
        let s = s.to_string();
        move |out: &str| out.contains(&s)
    };
    check(p, &["swarm", "connect", &addr], OFFLINE, &has(&format!("connect {pid} success")));
    check(p, &["swarm", "peers"], OFFLINE, &has(&addr));
    check(p, &["swarm", "peers", "-v", "--direction", "--enc=json"], OFFLINE, &has(&pid));
    check(p, &["swarm", "addrs"], OFFLINE, &has(&pid));
    check(p, &["swarm", "addrs", "local"], OFFLINE, &has("/ip4/127.0.0.1/tcp/"));
    check(p, &["swarm", "addrs", "listen"], OFFLINE, &has("/ip4/127.0.0.1/tcp/"));
    check(p, &["swarm", "filters", "add", "/ip4/10.0.0.0/ipcidr/8"], OFFLINE, &has("/ip4/10.0.0.0/ipcidr/8"));
    check(p, &["swarm", "filters"], OFFLINE, &has("/ip4/10.0.0.0/ipcidr/8"));
    check(p, &["swarm", "filters", "rm", "/ip4/10.0.0.0/ipcidr/8"], OFFLINE, &has("/ip4/10.0.0.0/ipcidr/8"));
    check(p, &["swarm", "peering", "add", &addr], OFFLINE, &has(&pid));
    check(p, &["swarm", "peering", "ls"], OFFLINE, &has(&pid));
    check(p, &["swarm", "peering", "rm", &pid], OFFLINE, &has(&pid));
    check(p, &["swarm", "resources"], OFFLINE, &|_: &str| true);
    check(p, &["ping", "-n", "1", &pid], OFFLINE, &has("Average latency"));
    check(p, &["bitswap", "stat", "-v"], OFFLINE, &has(&format!("\tpartners [1]\n\t\t{pid}\n")));
    check(p, &["stats", "bitswap", "--human"], OFFLINE, &has("\tdata received: 0 B\n"));
    check(p, &["bitswap", "wantlist"], OFFLINE, &|out: &str| out.is_empty());
    check(p, &["bitswap", "wantlist", "-p", &pid], OFFLINE, &|out: &str| out.is_empty());
    check(p, &["bitswap", "ledger", &pid], OFFLINE, &has(&format!("Ledger for {pid}\nDebt ratio:\t0.000000\n")));
    check(p, &["bitswap", "reprovide"], OFFLINE, &|out: &str| out.is_empty());
    // Routing: the daemon asks its DHT (the peer is its one DHT neighbour), the bare repo is
    // offline. Nobody provides this key.
    let key = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    check(p, &["routing", "findprovs", key], OFFLINE, &|out: &str| out.is_empty());
    check(p, &["routing", "findpeer", &pid], OFFLINE, &has(&format!("/ip4/127.0.0.1/tcp/{port}\n")));
    check(p, &["stats", "dht", "lan"], OFFLINE, &has("DHT lan ("));
    check(p, &["dht", "query", &pid], OFFLINE, &|_: &str| true);
    check(p, &["provide", "stat"], OFFLINE, &has("Strategy:\tall\n"));
    check(p, &["stats", "provide"], OFFLINE, &has("Strategy:\tall\n"));
    // The same block both sides: the repos are compared at the end.
    p.a.run(&["block", "put"], Some(b"provided through the parity test"), &[]);
    let put = p.b.run(&["block", "put"], Some(b"provided through the parity test"), &[]);
    let block = String::from_utf8_lossy(&put.stdout).trim().to_string();
    check(p, &["routing", "provide", "-v", &block], OFFLINE, &has(&format!("provided {block} to ")));
    check(p, &["provide", "once", &block], OFFLINE, &|out: &str| out.is_empty());
    // A value record: stored through the daemon's DHT, read back from it.
    let kp = rubo_node::rubo_net::libp2p::identity::Keypair::generate_ed25519();
    let name = rubo_ipns::Name::from_public_key(&kp.public());
    let eol = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let rec = rubo_ipns::Record::create(&kp, b"/ipfs/bafkqaaa", 1, eol, std::time::Duration::ZERO, Default::default())
        .expect("record");
    let rec_file = ra.path().join("ipns-record");
    std::fs::write(&rec_file, rec.as_bytes()).expect("write record");
    let key = format!("/ipns/{name}");
    let rec_path = rec_file.to_str().expect("utf-8");
    check(p, &["routing", "put", &key, rec_path], OFFLINE, &|out: &str| !out.trim().is_empty());
    check(p, &["routing", "get", &key], OFFLINE, &has("/ipfs/bafkqaaa"));
    check(
        p,
        &["stats", "bw"],
        &format!("Error: unable to run offline: {}", &OFFLINE["Error: ".len()..]),
        &has("TotalIn"),
    );
    check(
        p,
        &["id", "-f", "<id> <aver>", &pid],
        "Error: 'rubo id' cannot query information on remote peers without a running daemon; \
         if you only want to convert --peerid-base, pass --offline option\n",
        &has(&format!("{pid} rubo/")),
    );
    check(p, &["swarm", "disconnect", &addr], OFFLINE, &has(&format!("disconnect {pid} success")));
    check(
        p,
        &["log", "level", "all", "info"],
        "Error: command must be run on the daemon: [log level]\n",
        &has("Changed log level of '*' to 'info'"),
    );

    // What `norm_id` masks: offline (A) the node has no addresses nor
    // protocols, online (B) it has both.
    let id_a: serde_json::Value = serde_json::from_slice(&p.a.run(&["id", "--enc=json"], None, &[]).stdout).unwrap();
    let id_b: serde_json::Value = serde_json::from_slice(&p.b.run(&["id", "--enc=json"], None, &[]).stdout).unwrap();
    if !id_a["Addresses"].is_null() || !id_a["Protocols"].is_null() {
        p.failures.push(format!("id offline has addresses or protocols: {id_a}"));
    }
    if id_b["Addresses"].as_array().is_none_or(Vec::is_empty) || id_b["Protocols"].as_array().is_none_or(Vec::is_empty)
    {
        p.failures.push(format!("id online lacks addresses or protocols: {id_b}"));
    }

    // Last: `shutdown` stops B's daemon; A has none.
    check(p, &["shutdown"], "Error: daemon not running\n", &|out: &str| out.is_empty());
    let st = daemon.wait_exit(Duration::from_secs(60));
    assert!(st.success(), "B's daemon after shutdown: {:?}", daemon.output);
    // Both repos, now local, hold the same blocks, pins and MFS tree.
    for args in [&["refs", "local"][..], &["pin", "ls"], &["files", "stat", "--hash", "/"]] {
        let mut a: Vec<String> = ra.ok(args).lines().map(str::to_string).collect();
        let mut b: Vec<String> = rb.ok(args).lines().map(str::to_string).collect();
        a.sort();
        b.sort();
        if a != b {
            p.failures.push(format!("after the run, rubo {args:?} differs:\n  A: {a:?}\n  B: {b:?}"));
        }
    }
}
