//! Unpacks `get`'s tar stream onto disk with the rules of boxo's extractor
//! (`tar/extractor.go`), so that content from strangers cannot write outside
//! the output path:
//!
//! - the first entry is the root: one name, no `/`; a file or symlink root is
//!   written at the output path, or inside it when that is an existing
//!   directory (like `cp`); a directory root is created at the output path;
//! - every other entry must lie below the root (no `..`, no empty, `.` or
//!   absolute elements); its parents must be real directories already made:
//!   a symlink on the way is refused ("cannot traverse symlinks"), never
//!   followed, whether the archive made it or it was there before;
//! - the last element is replaced, not written through: an existing file or
//!   symlink there is removed first, and a directory is never made over a
//!   symlink ("cannot extract to symlink");
//! - names are bytes and are written unchanged; modes (without set-id bits)
//!   and mtimes are restored, directories' after their contents.

use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why an archive could not be unpacked.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExtractError {
    #[error("empty tar file")]
    Empty,
    #[error("tar has invalid root: {0}")]
    InvalidRoot(String),
    #[error("invalid tar path {0:?}")]
    InvalidPath(String),
    #[error("cannot traverse symlinks")]
    TraverseSymlink,
    #[error("cannot traverse non-directory objects")]
    TraverseNonDir,
    #[error("cannot extract to symlink")]
    DirOverSymlink,
    #[error("unrecognized tar header type: {0}")]
    EntryType(u8),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("tar: {0}")]
    Tar(std::io::Error),
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> ExtractError + '_ {
    move |source| ExtractError::Io { path: path.display().to_string(), source }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A mode and mtime to set once a directory's contents are written.
struct Deferred {
    path: PathBuf,
    mode: u32,
    mtime: (i64, u32),
}

/// Unpacks `reader` at `out` (see the module docs). `progress` gets the
/// bytes of file contents as they are written.
pub fn extract(reader: impl Read, out: &Path, progress: &mut dyn FnMut(u64)) -> Result<(), ExtractError> {
    if out == Path::new("/dev/null") {
        return Ok(());
    }
    let mut ar = tar::Archive::new(reader);
    let mut entries = ar.entries().map_err(ExtractError::Tar)?;
    let mut first = entries.next().ok_or(ExtractError::Empty)?.map_err(ExtractError::Tar)?;
    let root_name = first.path_bytes().into_owned();
    let root_name = strip_trailing_slash(&root_name).to_vec();
    if root_name.contains(&b'/') {
        return Err(ExtractError::InvalidRoot(format!(
            "root name contains multiple components: {:?}",
            lossy(&root_name)
        )));
    }
    if matches!(root_name.as_slice(), b"" | b"." | b"..") || root_name.contains(&0) {
        return Err(ExtractError::InvalidRoot(format!("invalid root path: {:?}", lossy(&root_name))));
    }
    let mut deferred = Vec::new();
    let root_is_dir = match first.header().entry_type() {
        tar::EntryType::Directory => {
            extract_dir(out)?;
            deferred.push(Deferred { path: out.to_path_buf(), mode: mode_of(&first), mtime: mtime_of(&mut first) });
            true
        }
        kind @ (tar::EntryType::Regular | tar::EntryType::Symlink) => {
            // Where a file root goes: the output path, or inside it when it is
            // a directory (not a symlink to one: lstat, as boxo).
            let target = match fs::symlink_metadata(out) {
                Ok(m) if m.is_dir() => out.join(std::ffi::OsStr::from_bytes(&root_name)),
                Ok(_) => out.to_path_buf(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.to_path_buf(),
                Err(e) => return Err(io_at(out)(e)),
            };
            write_leaf(first, kind, &target, progress)?;
            false
        }
        other => return Err(ExtractError::EntryType(other.as_byte())),
    };
    for entry in entries {
        let mut entry = entry.map_err(ExtractError::Tar)?;
        if !root_is_dir {
            return Err(ExtractError::InvalidRoot(
                "the root was not a directory and the tar has multiple entries".into(),
            ));
        }
        let raw = entry.path_bytes().into_owned();
        let name = strip_trailing_slash(&raw);
        let rel = below_root(name, &root_name)?;
        let dest = output_path(out, rel)?;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                extract_dir(&dest)?;
                deferred.push(Deferred { mode: mode_of(&entry), mtime: mtime_of(&mut entry), path: dest });
            }
            kind @ (tar::EntryType::Regular | tar::EntryType::Symlink) => write_leaf(entry, kind, &dest, progress)?,
            other => return Err(ExtractError::EntryType(other.as_byte())),
        }
    }
    // Deepest last in walk order: set them in reverse so a parent's mtime is
    // not disturbed by its children, and a read-only directory is filled first.
    for d in deferred.iter().rev() {
        set_meta(&d.path, d.mode, d.mtime, false)?;
    }
    Ok(())
}

fn strip_trailing_slash(p: &[u8]) -> &[u8] {
    let mut p = p;
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    p
}

/// The part of `name` below the root, checked element by element.
fn below_root<'a>(name: &'a [u8], root: &[u8]) -> Result<&'a [u8], ExtractError> {
    let bad = || ExtractError::InvalidPath(lossy(name));
    if name.first() == Some(&b'/') {
        return Err(bad());
    }
    if name.split(|&b| b == b'/').any(|e| matches!(e, b"" | b"." | b"..") || e.contains(&0)) {
        return Err(bad());
    }
    let rest = name.strip_prefix(root).and_then(|r| r.strip_prefix(b"/"));
    rest.ok_or_else(|| ExtractError::InvalidRoot(format!("contains more than one root: {:?}", lossy(name))))
}

/// `out` joined with `rel`, every element but the last a real directory.
fn output_path(out: &Path, rel: &[u8]) -> Result<PathBuf, ExtractError> {
    let elems: Vec<&[u8]> = rel.split(|&b| b == b'/').collect();
    let mut p = out.to_path_buf();
    for (i, e) in elems.iter().enumerate() {
        p.push(std::ffi::OsStr::from_bytes(e));
        // The last element is replaced by whatever writes it.
        if i + 1 == elems.len() {
            break;
        }
        let m = fs::symlink_metadata(&p).map_err(io_at(&p))?;
        if m.file_type().is_symlink() {
            return Err(ExtractError::TraverseSymlink);
        }
        if !m.is_dir() {
            return Err(ExtractError::TraverseNonDir);
        }
    }
    Ok(p)
}

fn extract_dir(path: &Path) -> Result<(), ExtractError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(m) if m.file_type().is_symlink() => return Err(ExtractError::DirOverSymlink),
        Ok(_) => {
            return Err(ExtractError::Io {
                path: path.display().to_string(),
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
        }
        Err(_) => {}
    }
    // Parents of the output path itself may need making (`-o a/b/c`); below
    // it, output_path has checked every parent.
    fs::create_dir_all(path).map_err(io_at(path))?;
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(ExtractError::DirOverSymlink),
        Err(e) => Err(io_at(path)(e)),
    }
}

/// Removes what is at `path` so that it can be replaced: a file, a symlink
/// (never its target) or an empty directory.
fn clear(path: &Path) -> Result<(), ExtractError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir(path).map_err(io_at(path)),
        Ok(_) => fs::remove_file(path).map_err(io_at(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_at(path)(e)),
    }
}

fn write_leaf<R: Read>(
    mut entry: tar::Entry<'_, R>,
    kind: tar::EntryType,
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<(), ExtractError> {
    let (mode, mtime) = (mode_of(&entry), mtime_of(&mut entry));
    clear(path)?;
    if kind == tar::EntryType::Symlink {
        let target = entry.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default();
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&target), path).map_err(io_at(path))?;
        return set_meta(path, mode, mtime, true);
    }
    // Written beside its final name and renamed into place, as boxo does.
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_at(dir))?;
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = entry.read(&mut buf).map_err(ExtractError::Tar)?;
        if n == 0 {
            break;
        }
        std::io::Write::write_all(tmp.as_file_mut(), &buf[..n]).map_err(io_at(path))?;
        progress(n as u64);
    }
    tmp.persist(path).map_err(|e| io_at(path)(e.error))?;
    set_meta(path, mode, mtime, false)
}

fn mode_of<R: Read>(e: &tar::Entry<'_, R>) -> u32 {
    e.header().mode().unwrap_or(0)
}

/// Seconds and nanoseconds: a PAX `mtime` record when there is one (Go
/// writes sub-second times there), else the header's seconds.
fn mtime_of<R: Read>(e: &mut tar::Entry<'_, R>) -> (i64, u32) {
    let secs = i64::try_from(e.header().mtime().unwrap_or(0)).unwrap_or(i64::MAX);
    let pax = e.pax_extensions().ok().flatten().and_then(|mut exts| {
        exts.find_map(|x| x.ok().filter(|x| x.key() == Ok("mtime")).and_then(|x| x.value().ok().map(str::to_string)))
    });
    pax.and_then(|v| parse_pax_time(&v)).unwrap_or((secs, 0))
}

/// `1603539720.000054321` (at most 9 fraction digits count).
fn parse_pax_time(v: &str) -> Option<(i64, u32)> {
    let (s, frac) = v.split_once('.').unwrap_or((v, ""));
    let secs: i64 = s.parse().ok()?;
    if secs < 0 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac.chars().take(9).collect();
    let nanos = if digits.is_empty() { 0 } else { format!("{digits:0<9}").parse().ok()? };
    Some((secs, nanos))
}

/// Restores a mode and mtime (boxo's `updateMeta`; symlinks get their mtime
/// only). Set-user/group-id bits are dropped: content from the network must
/// not make privileged programs.
fn set_meta(path: &Path, mode: u32, mtime: (i64, u32), symlink: bool) -> Result<(), ExtractError> {
    if mtime != (0, 0) {
        let t = filetime::FileTime::from_unix_time(mtime.0, mtime.1);
        let r =
            if symlink { filetime::set_symlink_file_times(path, t, t) } else { filetime::set_file_times(path, t, t) };
        r.map_err(io_at(path))?;
    }
    if !symlink && mode != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o1777)).map_err(io_at(path))?;
    }
    Ok(())
}
