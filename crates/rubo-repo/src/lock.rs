//! The repo lock: one writer, or any number of readers.
//!
//! An advisory `flock` on `repo.lock`, released by the kernel when the holder
//! dies, so a crash never leaves a stale lock. Taking it writes nothing (as
//! Kubo's lock): on a full disk a writer must still get in to free space.
//! A refused process names the holders from the kernel's own table of locks
//! (`/proc/locks`) and their command lines, which needs no cooperation from
//! them and is never stale.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

pub const LOCK_FILE: &str = "repo.lock";

/// Longest command line quoted when naming a holder.
const MAX_CMDLINE: usize = 200;

/// Why the lock could not be taken.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LockError {
    #[error(
        "repo {path} is locked by another rubo process ({holder}); \
         stop it, or run this command through its API"
    )]
    Held { path: PathBuf, holder: String },
    #[error("repo lock {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Whether a process will write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Exclusive,
    Shared,
}

/// A held repo lock; released on drop.
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
    mode: LockMode,
}

impl RepoLock {
    /// Takes the lock or fails at once, naming the holder. `_purpose` is
    /// unused: holders are named by their command lines, read by the refused.
    pub fn acquire(repo: &Path, mode: LockMode, _purpose: &str) -> Result<Self, LockError> {
        let path = repo.join(LOCK_FILE);
        let io_err = |source| LockError::Io { path: path.clone(), source };
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io_err)?;
        let res = match mode {
            LockMode::Exclusive => file.try_lock(),
            LockMode::Shared => file.try_lock_shared(),
        };
        match res {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = describe_holders(&file);
                return Err(LockError::Held { path: repo.to_path_buf(), holder });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        if mode == LockMode::Exclusive && file.metadata().is_ok_and(|m| m.len() > 0) {
            // Older rubo wrote its pid here; truncating frees space and never
            // needs any, and a failure changes nothing that matters.
            let _ = file.set_len(0);
        }
        Ok(Self { _file: file, mode })
    }

    pub fn mode(&self) -> LockMode {
        self.mode
    }
}

/// Names the processes holding a lock on `file`: "pid N, `rubo add f`".
fn describe_holders(file: &File) -> String {
    let pids = match (file.metadata(), std::fs::read_to_string("/proc/locks")) {
        (Ok(meta), Ok(table)) => {
            use std::os::unix::fs::MetadataExt;
            holders_in(&table, meta.dev(), meta.ino())
        }
        _ => Vec::new(),
    };
    if pids.is_empty() {
        // Not visible from here (another pid namespace), or it just exited.
        return "a process that could not be identified".to_string();
    }
    pids.iter()
        .map(|&pid| match command_line(pid) {
            Some(cmd) => format!("pid {pid}, `{cmd}`"),
            None => format!("pid {pid}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The pids holding `flock` locks on the inode `ino` of device `dev`,
/// according to a `/proc/locks` table. Waiters (`->` lines) are not holders.
///
/// The table names devices by the inode's superblock, which on some
/// filesystems (btrfs subvolumes) differs from what `stat` reports: when no
/// entry matches both, entries matching the inode alone are taken.
pub fn holders_in(table: &str, dev: u64, ino: u64) -> Vec<u32> {
    let (major, minor) = (dev_major(dev), dev_minor(dev));
    let mut exact = Vec::new();
    let mut by_inode = Vec::new();
    for line in table.lines() {
        let mut fields = line.split_whitespace();
        // "1: FLOCK  ADVISORY  WRITE 30797 fe:00:5318729 0 EOF"
        let (Some(_), Some(kind), Some(_), Some(_), Some(pid), Some(id)) =
            (fields.next(), fields.next(), fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if kind != "FLOCK" {
            continue;
        }
        let Ok(pid) = pid.parse::<u32>() else { continue };
        let mut parts = id.split(':');
        let (Some(ma), Some(mi), Some(i), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if i.parse::<u64>().ok() != Some(ino) || pid == 0 {
            continue;
        }
        let same_dev =
            u64::from_str_radix(ma, 16).ok() == Some(major) && u64::from_str_radix(mi, 16).ok() == Some(minor);
        let list = if same_dev { &mut exact } else { &mut by_inode };
        if !list.contains(&pid) {
            list.push(pid);
        }
    }
    if exact.is_empty() { by_inode } else { exact }
}

// Linux's encoding of dev_t (glibc's gnu_dev_major/minor).
fn dev_major(dev: u64) -> u64 {
    ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)
}

fn dev_minor(dev: u64) -> u64 {
    (dev & 0xff) | ((dev >> 12) & !0xff)
}

/// A process's command line, its program named by file name only.
fn command_line(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let mut args = raw.split(|&b| b == 0).filter(|a| !a.is_empty()).map(String::from_utf8_lossy);
    let prog = args.next()?;
    let prog = prog.rsplit('/').next().unwrap_or(&prog).to_string();
    let mut s = std::iter::once(prog).chain(args.map(|a| a.into_owned())).collect::<Vec<_>>().join(" ");
    if s.len() > MAX_CMDLINE {
        let mut end = MAX_CMDLINE;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let a = RepoLock::acquire(dir.path(), LockMode::Exclusive, "rubo daemon").unwrap();
        // Nothing is written: a full disk does not keep a writer out.
        assert_eq!(std::fs::metadata(dir.path().join(LOCK_FILE)).unwrap().len(), 0);
        let err = RepoLock::acquire(dir.path(), LockMode::Exclusive, "rubo add").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&format!("pid {}", std::process::id())), "{msg}");
        assert!(RepoLock::acquire(dir.path(), LockMode::Shared, "rubo cat").is_err());
        drop(a);
        let r1 = RepoLock::acquire(dir.path(), LockMode::Shared, "rubo cat").unwrap();
        let _r2 = RepoLock::acquire(dir.path(), LockMode::Shared, "rubo cat").unwrap();
        assert!(RepoLock::acquire(dir.path(), LockMode::Exclusive, "rubo add").is_err());
        drop(r1);
    }

    #[test]
    fn proc_locks_table() {
        let table = "1: FLOCK  ADVISORY  WRITE 30797 fe:00:5318729 0 EOF\n\
                     2: FLOCK  ADVISORY  READ 17 fe:01:10133507 0 EOF\n\
                     2: -> FLOCK  ADVISORY  WRITE 18 fe:01:10133507 0 EOF\n\
                     3: POSIX  ADVISORY  READ 19 fe:01:10133507 0 EOF\n\
                     4: FLOCK  ADVISORY  READ 20 fe:01:10133507 0 EOF\n\
                     5: FLOCK  ADVISORY  READ 21 00:2a:10133507 0 EOF\n";
        let dev = (0xfe << 8) | 0x01;
        assert_eq!(holders_in(table, dev, 10133507), vec![17, 20]);
        // No device match: the inode alone.
        assert_eq!(holders_in(table, 0, 5318729), vec![30797]);
        assert!(holders_in(table, dev, 1).is_empty());
        assert!(holders_in("garbage\n: : :\n", dev, 1).is_empty());
    }
}
