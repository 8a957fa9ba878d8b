//! rubo-node and rubo-commands: what turns remote or user input into disk
//! writes and requests: `get`'s archive of a hostile DAG unpacked into a
//! folder (never a write outside it), raw tar streams unpacked the same way,
//! command lines, content paths and Go-style numbers.

use std::io::Write;
use std::path::{Path, PathBuf};

use rubo_commands::extract::extract;
use rubo_commands::request::{Opts, parse_bool, parse_int};
use rubo_node::IpfsPath;
use rubo_node::get::write_tar;
use rubo_types::{BStr, Cid, codec};

use crate::bundle::Bundle;

/// Most archive bytes made from one input (diamond DAGs repeat blocks).
const MAX_TAR: usize = 4 << 20;

/// A `Write` that refuses to grow past [`MAX_TAR`].
struct Capped(Vec<u8>);

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_TAR {
            return Err(std::io::Error::other("archive too large for a fuzz input"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sandbox: `victim/` (with a file) and `out/` holding symlinks into it,
/// beside each other in a temporary folder. Extraction targets `out`.
struct Sandbox {
    dir: tempfile::TempDir,
}

const SENTINEL: &[u8] = b"must not change\n";
/// Names a hostile archive is likely to use: each is a symlink out of `out`.
const TRAPS: &[&str] = &["e0", "e1", "a", "x", "root", "link"];

impl Sandbox {
    fn new() -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let victim = dir.path().join("victim");
        std::fs::create_dir(&victim).ok()?;
        std::fs::write(victim.join("file"), SENTINEL).ok()?;
        let out = dir.path().join("out");
        std::fs::create_dir(&out).ok()?;
        for (i, t) in TRAPS.iter().enumerate() {
            let target = if i % 2 == 0 { victim.clone() } else { victim.join("file") };
            std::os::unix::fs::symlink(target, out.join(t)).ok()?;
        }
        Some(Self { dir })
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Nothing outside `out` changed: the victim holds its one file, as it
    /// was, and the sandbox holds only `victim` and `out`.
    fn check(&self) {
        let victim = self.dir.path().join("victim");
        let names: Vec<_> =
            std::fs::read_dir(&victim).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
        assert_eq!(names.len(), 1, "something was written into the victim folder: {names:?}");
        assert_eq!(std::fs::read(victim.join("file")).ok().as_deref(), Some(SENTINEL), "the victim file changed");
        let mut top: Vec<_> = std::fs::read_dir(self.dir.path())
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        top.sort();
        assert_eq!(top, ["out", "victim"], "something was written beside the output folder");
    }
}

fn unpack(tar: &[u8], out: &Path) {
    let _ = extract(tar, out, &mut |_| {});
}

/// A hostile DAG, archived as `get` archives it, then unpacked: whatever the
/// DAG holds (symlinks, repeated names, `..`, slashes), nothing lands
/// outside the output folder.
pub fn extract_dag(data: &[u8]) {
    let bundle = Bundle::parse(data);
    let root = bundle.root(codec::DAG_PB);
    let mut get = |c: &Cid| bundle.get(c).ok_or_else(|| rubo_node::NodeError::not_found(c));
    let Ok(tar) = write_tar(Capped(Vec::new()), BStr::new("root"), &root, &mut get) else { return };
    let Some(sb) = Sandbox::new() else { return };
    unpack(&tar.0, &sb.out());
    sb.check();
    // Extracted again over itself: replacing, never following.
    unpack(&tar.0, &sb.out());
    sb.check();
}

/// Any tar stream, unpacked: nothing outside the output folder, no panic.
pub fn extract_tar(data: &[u8]) {
    let Some(sb) = Sandbox::new() else { return };
    unpack(data, &sb.out());
    sb.check();
    // And with the output path itself a symlink to the victim.
    let link = sb.dir.path().join("out").join("a");
    unpack(data, &link);
    sb.check();
}

/// Command lines through the command tree (the CLI's clap parser and the
/// request it fills), then every option read the ways handlers read them.
pub fn argv(data: &[u8]) {
    let args: Vec<String> = std::iter::once("rubo".to_string())
        .chain(data.split(|&b| b == 0).map(|a| String::from_utf8_lossy(a).into_owned()))
        .collect();
    let mut root = rubo_commands::registry::build_tree(clap::Command::new("rubo"));
    let Ok(m) = root.try_get_matches_from_mut(&args) else { return };
    let (path, _, leaf) = rubo_commands::registry::leaf(&root, &m);
    let mut req = rubo_commands::Request::new(&path.iter().map(String::as_str).collect::<Vec<_>>());
    rubo_commands::registry::fill_request(&path.join(" "), leaf, &mut req);
    read_all(&req.opts);
    let _ = rubo_commands::registry::global_from(&req.opts, rubo_commands::Encoding::Text);
    // The same words as an HTTP query: `arg`s and options by name.
    let pairs: Vec<(String, String)> = args
        .iter()
        .skip(1 + path.len())
        .map(|a| match a.strip_prefix("--").and_then(|o| o.split_once('=')) {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => ("arg".to_string(), a.clone()),
        })
        .collect();
    if let Ok(r) = rubo_commands::registry::request_from_query(&path.join(" "), &pairs) {
        read_all(&r.opts);
    }
    for a in &req.args {
        let _ = IpfsPath::parse(a);
        let _ = rubo_commands::cid_arg(a);
    }
}

fn read_all(o: &Opts) {
    let names: Vec<String> = o.names().map(str::to_string).collect();
    for n in names {
        let _ = (o.bool(&n), o.int(&n), o.str(&n), o.all(&n));
    }
}

/// Content paths and the Go-style numbers and booleans options take.
pub fn path_and_numbers(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(p) = IpfsPath::parse(&s) {
        // A parsed path prints to a path that parses to the same.
        let again = IpfsPath::parse(&p.to_string()).unwrap_or_else(|e| panic!("{p} does not parse back: {e}"));
        assert_eq!(again, p);
        assert!(p.rest.iter().all(|e| !e.is_empty() && e != "." && e != ".."));
    }
    let _ = rubo_commands::cid_arg(&s);
    if let Some(v) = parse_int(&s) {
        // Decimal output parses back to the same value.
        assert_eq!(parse_int(&v.to_string()), Some(v));
    }
    if let Some(b) = parse_bool(&s) {
        assert_eq!(parse_bool(if b { "true" } else { "false" }), Some(b));
    }
}
