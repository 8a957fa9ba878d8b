//! Walks the local paths given to `rubo add` into import entries, as Kubo's
//! CLI does before it sends them: names sorted, hidden files and ignore rules
//! applied, symlinks kept as symlinks unless dereferenced.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rubo_node::NodeError;
use rubo_node::rubo_unixfs::import::{Entry, EntryKind};
use rubo_node::rubo_unixfs::pb::UnixTime;
use rubo_types::BString;

/// How the walk treats what it finds.
#[derive(Debug, Clone, Default)]
pub(crate) struct WalkOptions {
    pub(crate) recursive: bool,
    pub(crate) hidden: bool,
    pub(crate) dereference: bool,
    pub(crate) ignore: Vec<String>,
    pub(crate) ignore_rules_path: Option<PathBuf>,
    pub(crate) stdin_name: Option<String>,
}

fn meta_of(meta: &fs::Metadata) -> (Option<u32>, Option<UnixTime>) {
    let mode = meta.permissions().mode() & 0o7777;
    let nanos = meta.mtime_nsec().clamp(0, 999_999_999) as u32;
    let mtime = UnixTime { seconds: meta.mtime(), nanos: (nanos != 0).then_some(nanos) };
    (Some(mode), Some(mtime))
}

/// The name an argument is added under (Kubo: the base name of the path).
fn top_name(p: &Path) -> BString {
    match p.file_name() {
        Some(n) if n != "." && n != ".." => BString::from(n.as_bytes()),
        _ => fs::canonicalize(p)
            .ok()
            .and_then(|c| c.file_name().map(|n| BString::from(n.as_bytes())))
            .unwrap_or_default(),
    }
}

/// Checks and orders the path arguments as go-ipfs-cmds does before an add:
/// each is added under its base name; the same path twice counts once, two
/// paths with one base name in different folders are an error; the rest is
/// sorted by base name.
pub(crate) fn order_args(args: Vec<String>, stdin_name: &str) -> Result<Vec<String>, NodeError> {
    let mut seen: Vec<(BString, PathBuf, String)> = Vec::new();
    for a in args {
        let (base, dir) = if a == "-" {
            (BString::from(stdin_name), PathBuf::new())
        } else {
            let p = clean(Path::new(&a));
            let base = top_name(&p);
            let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
            (base, dir)
        };
        match seen.iter().find(|(b, _, _)| *b == base) {
            Some((_, d, _)) if *d == dir => continue,
            Some((_, d, _)) => {
                return Err(NodeError::InvalidInput(format!(
                    "file name {base} repeated under different import directories: {} and {}",
                    display_dir(&dir),
                    display_dir(d)
                )));
            }
            None => seen.push((base, dir, a)),
        }
    }
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(seen.into_iter().map(|(_, _, a)| a).collect())
}

fn display_dir(d: &Path) -> String {
    if d.as_os_str().is_empty() { ".".into() } else { d.display().to_string() }
}

/// Go's `filepath.Clean`, lexically.
fn clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

enum Pending {
    /// A path to visit, with its entry path.
    Visit { fs_path: PathBuf, path: BString },
}

/// A lazy walk over the arguments, depth first, siblings sorted by name.
pub(crate) struct Walk {
    opts: WalkOptions,
    args: std::vec::IntoIter<PathBuf>,
    stack: Vec<Pending>,
    ignore: Option<Gitignore>,
    stdin_used: bool,
    no_args: bool,
}

impl Walk {
    pub(crate) fn new(args: Vec<String>, opts: WalkOptions) -> Self {
        let no_args = args.is_empty();
        Self {
            opts,
            args: args.into_iter().map(PathBuf::from).collect::<Vec<_>>().into_iter(),
            stack: Vec::new(),
            ignore: None,
            stdin_used: false,
            no_args,
        }
    }

    fn rules_for(&self, root: &Path) -> Result<Option<Gitignore>, NodeError> {
        if self.opts.ignore.is_empty() && self.opts.ignore_rules_path.is_none() {
            return Ok(None);
        }
        let mut b = GitignoreBuilder::new(root);
        if let Some(p) = &self.opts.ignore_rules_path
            && let Some(e) = b.add(p)
        {
            return Err(NodeError::InvalidInput(format!("ignore rules {}: {e}", p.display())));
        }
        for rule in &self.opts.ignore {
            b.add_line(None, rule).map_err(|e| NodeError::InvalidInput(format!("ignore rule {rule:?}: {e}")))?;
        }
        b.build().map(Some).map_err(|e| NodeError::InvalidInput(e.to_string()))
    }

    fn entry(&mut self, fs_path: PathBuf, path: BString) -> Result<Option<Entry>, NodeError> {
        let io = |e: std::io::Error| NodeError::InvalidInput(format!("{}: {e}", fs_path.display()));
        let lmeta = fs::symlink_metadata(&fs_path).map_err(io)?;
        let meta = if lmeta.file_type().is_symlink() && self.opts.dereference {
            fs::metadata(&fs_path).map_err(io)?
        } else {
            lmeta
        };
        let (mode, mtime) = meta_of(&meta);
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(&fs_path).map_err(io)?;
            return Ok(Some(Entry {
                path,
                kind: EntryKind::Symlink(BString::from(target.as_os_str().as_bytes())),
                mode,
                mtime,
            }));
        }
        if ft.is_dir() {
            if !self.opts.recursive {
                return Err(NodeError::InvalidInput(format!(
                    "{} is a directory, use the '-r' flag to specify directories",
                    fs_path.display()
                )));
            }
            let mut names: Vec<(Vec<u8>, PathBuf)> = Vec::new();
            for e in fs::read_dir(&fs_path).map_err(io)? {
                let e = e.map_err(io)?;
                let name = e.file_name();
                let bytes = name.as_bytes().to_vec();
                if !self.opts.hidden && bytes.first() == Some(&b'.') {
                    continue;
                }
                let child = e.path();
                if let Some(ig) = &self.ignore {
                    let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                    if ig.matched_path_or_any_parents(&child, is_dir).is_ignore() {
                        continue;
                    }
                }
                names.push((bytes, child));
            }
            // Byte order, as Go sorts directory entries.
            names.sort();
            for (bytes, child) in names.into_iter().rev() {
                let mut child_path = path.clone();
                if !child_path.is_empty() {
                    child_path.push(b'/');
                }
                child_path.extend_from_slice(&bytes);
                self.stack.push(Pending::Visit { fs_path: child, path: child_path });
            }
            return Ok(Some(Entry { path, kind: EntryKind::Dir, mode, mtime }));
        }
        if ft.is_file() {
            let f = fs::File::open(&fs_path).map_err(io)?;
            return Ok(Some(Entry { path, kind: EntryKind::File(Box::new(f)), mode, mtime }));
        }
        // Sockets, devices, fifos: Kubo refuses them too.
        Err(NodeError::InvalidInput(format!("{}: unsupported file type", fs_path.display())))
    }
}

impl Iterator for Walk {
    type Item = Result<Entry, NodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.no_args {
            if self.stdin_used {
                return None;
            }
            self.stdin_used = true;
            let name = BString::from(self.opts.stdin_name.clone().unwrap_or_default());
            return Some(Ok(Entry {
                path: name,
                kind: EntryKind::File(Box::new(std::io::stdin())),
                mode: None,
                mtime: None,
            }));
        }
        loop {
            if let Some(Pending::Visit { fs_path, path }) = self.stack.pop() {
                return self.entry(fs_path, path).transpose();
            }
            let arg = self.args.next()?;
            if arg.as_os_str() == "-" {
                let name = BString::from(self.opts.stdin_name.clone().unwrap_or_default());
                return Some(Ok(Entry {
                    path: name,
                    kind: EntryKind::File(Box::new(std::io::stdin())),
                    mode: None,
                    mtime: None,
                }));
            }
            let root = fs::canonicalize(&arg).unwrap_or_else(|_| arg.clone());
            match self.rules_for(&root) {
                Ok(ig) => self.ignore = ig,
                Err(e) => return Some(Err(e)),
            }
            let name = top_name(&arg);
            self.stack.push(Pending::Visit { fs_path: arg, path: name });
        }
    }
}
