//! Artefact files in the app's data folder, named by their SHA-256: the same bytes are kept
//! once however many analyses refer to them, and a name never changes its content.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::StoreError;

#[derive(Debug, Clone)]
pub struct BlobDir {
    root: PathBuf,
}

impl BlobDir {
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| io(&root, e))?;
        Ok(Self { root })
    }

    pub fn sha256(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    /// `ab/abcdef...`: two-character fan-out keeps folders small.
    pub fn path(&self, sha256: &str) -> PathBuf {
        let fan = sha256.get(..2).unwrap_or("00");
        self.root.join(fan).join(sha256)
    }

    /// Stores bytes (written to a temporary name, synced, then renamed: a crash never leaves
    /// a partial file under a hash name). Returns the hash.
    pub fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let sha = Self::sha256(bytes);
        let path = self.path(&sha);
        if path.exists() {
            return Ok(sha);
        }
        let dir = path.parent().expect("fan-out folder");
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let tmp = dir.join(format!(".{sha}.{}.partial", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(&path, e)
        })?;
        Ok(sha)
    }

    /// Reads a blob and checks that it still has its hash (a damaged disk shows here, not
    /// as a wrong image in the archive).
    pub fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(sha256);
        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
        if Self::sha256(&bytes) != sha256 {
            return Err(StoreError::Corrupt(format!(
                "{} no longer matches its hash",
                path.display()
            )));
        }
        Ok(bytes)
    }

    pub fn remove(&self, sha256: &str) -> Result<(), StoreError> {
        let path = self.path(sha256);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path, e)),
        }
    }
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Blob {
        path: path.display().to_string(),
        source,
    }
}
