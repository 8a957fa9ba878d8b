//! Named private keys, one file each, in Kubo's keystore layout:
//! `keystore/key_<lower-case unpadded base32 of the name>`, holding the libp2p
//! protobuf private key, readable by the owner only.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use data_encoding::BASE32_NOPAD;
use thiserror::Error;

use crate::identity::{KeyError, PrivateKey};

/// A keystore failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeystoreError {
    #[error("key name must be at least one character")]
    EmptyName,
    #[error("key by that name already exists, refusing to overwrite")]
    Exists,
    #[error("no key by the given name was found")]
    NotFound,
    #[error("keystore {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot deserialize private key file {path}: {source}")]
    Key { path: PathBuf, source: KeyError },
}

/// The keystore directory.
#[derive(Debug, Clone)]
pub struct Keystore {
    dir: PathBuf,
}

/// The file a key is stored in: `key_` + lower-case unpadded base32 of its name.
pub fn file_name(name: &str) -> String {
    format!("key_{}", BASE32_NOPAD.encode(name.as_bytes()).to_ascii_lowercase())
}

/// The key name a keystore file name stands for (any case), if it is one.
pub fn name_of(file: &str) -> Option<String> {
    let enc = file.strip_prefix("key_")?;
    let bytes = BASE32_NOPAD.decode(enc.to_ascii_uppercase().as_bytes()).ok()?;
    String::from_utf8(bytes).ok()
}

impl Keystore {
    /// Opens (creating if needed) the keystore at `dir`, owner-only.
    pub fn open(dir: &Path) -> Result<Self, KeystoreError> {
        let io = |source| KeystoreError::Io { path: dir.to_path_buf(), source };
        match fs::create_dir(dir) {
            Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
        Ok(Self { dir: dir.to_path_buf() })
    }

    fn path(&self, name: &str) -> Result<PathBuf, KeystoreError> {
        if name.is_empty() {
            return Err(KeystoreError::EmptyName);
        }
        Ok(self.dir.join(file_name(name)))
    }

    pub fn has(&self, name: &str) -> Result<bool, KeystoreError> {
        Ok(self.path(name)?.exists())
    }

    /// Stores a new key durably; never overwrites.
    pub fn put(&self, name: &str, key: &PrivateKey) -> Result<(), KeystoreError> {
        let path = self.path(name)?;
        let io = |source| KeystoreError::Io { path: path.clone(), source };
        let mut f = match fs::OpenOptions::new().write(true).create_new(true).mode(0o400).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(KeystoreError::Exists);
            }
            Err(e) => return Err(io(e)),
        };
        let res = f.write_all(key.encoded()).and_then(|()| f.sync_all());
        if let Err(e) = res {
            let _ = fs::remove_file(&path);
            return Err(io(e));
        }
        fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io)
    }

    pub fn get(&self, name: &str) -> Result<PrivateKey, KeystoreError> {
        let path = self.path(name)?;
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(KeystoreError::NotFound),
            Err(e) => return Err(KeystoreError::Io { path, source: e }),
        };
        PrivateKey::decode(&bytes).map_err(|source| KeystoreError::Key { path, source })
    }

    pub fn delete(&self, name: &str) -> Result<(), KeystoreError> {
        let path = self.path(name)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(KeystoreError::NotFound),
            Err(e) => Err(KeystoreError::Io { path, source: e }),
        }
    }

    /// Key names, sorted. Files whose names are not keystore names are skipped.
    pub fn list(&self) -> Result<Vec<String>, KeystoreError> {
        let io = |source| KeystoreError::Io { path: self.dir.clone(), source };
        let mut names = Vec::new();
        for e in fs::read_dir(&self.dir).map_err(io)? {
            let e = e.map_err(io)?;
            if let Some(n) = e.file_name().to_str().and_then(name_of) {
                names.push(n);
            }
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyType;

    #[test]
    fn kubo_file_names() {
        assert_eq!(file_name("foo"), "key_mzxw6");
        assert_eq!(file_name("self"), "key_onswyzq");
        assert_eq!(file_name("my key"), "key_nv4sa23fpe");
        assert_eq!(name_of("key_mzxw6").as_deref(), Some("foo"));
        assert_eq!(name_of("other"), None);
    }

    #[test]
    fn put_get_list() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::open(&dir.path().join("keystore")).unwrap();
        let k = PrivateKey::generate(KeyType::Ed25519, 0).unwrap();
        ks.put("a", &k).unwrap();
        assert!(matches!(ks.put("a", &k), Err(KeystoreError::Exists)));
        assert_eq!(ks.get("a").unwrap().peer_id(), k.peer_id());
        assert!(matches!(ks.get("b"), Err(KeystoreError::NotFound)));
        assert!(matches!(ks.put("", &k), Err(KeystoreError::EmptyName)));
        assert_eq!(ks.list().unwrap(), vec!["a".to_string()]);
        ks.delete("a").unwrap();
        assert!(ks.list().unwrap().is_empty());
    }
}
