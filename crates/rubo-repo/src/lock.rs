//! The repo lock: one writer, or any number of readers.
//!
//! An advisory `flock` on `repo.lock`, released by the kernel when the holder
//! dies, so a crash never leaves a stale lock. The writer records who it is in
//! the file, so that a refused process can name the holder.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

pub const LOCK_FILE: &str = "repo.lock";

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
    /// Takes the lock or fails at once, naming the holder.
    pub fn acquire(repo: &Path, mode: LockMode, purpose: &str) -> Result<Self, LockError> {
        let path = repo.join(LOCK_FILE);
        let io_err = |source| LockError::Io { path: path.clone(), source };
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io_err)?;
        let res = match mode {
            LockMode::Exclusive => file.try_lock(),
            LockMode::Shared => file.try_lock_shared(),
        };
        match res {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut s = String::new();
                let _ = file.read_to_string(&mut s);
                let holder = match s.trim() {
                    "" => "a reader, or a process that is starting".to_string(),
                    h => h.to_string(),
                };
                return Err(LockError::Held { path: repo.to_path_buf(), holder });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        if mode == LockMode::Exclusive {
            let me = format!("pid {}, `{purpose}`", std::process::id());
            file.set_len(0).map_err(io_err)?;
            file.seek(SeekFrom::Start(0)).map_err(io_err)?;
            file.write_all(me.as_bytes()).map_err(io_err)?;
        }
        Ok(Self { _file: file, mode })
    }

    pub fn mode(&self) -> LockMode {
        self.mode
    }
}

impl Drop for RepoLock {
    fn drop(&mut self) {
        if self.mode == LockMode::Exclusive {
            // Leave no stale holder description behind.
            let _ = self._file.set_len(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let a = RepoLock::acquire(dir.path(), LockMode::Exclusive, "rubo daemon").unwrap();
        let err = RepoLock::acquire(dir.path(), LockMode::Exclusive, "rubo add").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&format!("pid {}", std::process::id())), "{msg}");
        assert!(msg.contains("rubo daemon"), "{msg}");
        assert!(RepoLock::acquire(dir.path(), LockMode::Shared, "rubo cat").is_err());
        drop(a);
        let r1 = RepoLock::acquire(dir.path(), LockMode::Shared, "rubo cat").unwrap();
        let _r2 = RepoLock::acquire(dir.path(), LockMode::Shared, "rubo cat").unwrap();
        assert!(RepoLock::acquire(dir.path(), LockMode::Exclusive, "rubo add").is_err());
        drop(r1);
    }
}
