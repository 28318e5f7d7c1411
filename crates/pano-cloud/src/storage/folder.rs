//! A local folder or NAS share with the bucket's layout, for clinics that keep everything on
//! their own disks. A set appears whole or not at all: it is written to a staging folder
//! and renamed into place.

use std::path::{Path, PathBuf};

use super::layout::{analysis_prefix, ANALYSIS_JSON};
use super::{
    ApprovedAnalysis, ConnectionReport, PermanentStorage, StorageError, StoredLocation, TempUpload,
};

/// Hidden folder beside `patients/` where sets are assembled before the rename.
const STAGING: &str = ".staging";

#[derive(Debug, Clone)]
pub struct FolderStorage {
    root: PathBuf,
    permanent_prefix: String,
}

impl FolderStorage {
    /// `root` must exist (a share that is not mounted must not be silently recreated on the
    /// local disk).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            permanent_prefix: "patients/".into(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn check_root(&self) -> Result<(), StorageError> {
        if self.root.is_dir() {
            Ok(())
        } else {
            Err(StorageError::MissingFolder {
                path: self.root.display().to_string(),
            })
        }
    }

    fn not_writable(&self, e: std::io::Error) -> StorageError {
        StorageError::FolderNotWritable {
            path: self.root.display().to_string(),
            detail: e.kind().to_string(),
        }
    }

    fn store_blocking(&self, analysis: &ApprovedAnalysis) -> Result<StoredLocation, StorageError> {
        analysis.check()?;
        self.check_root()?;
        let relative = analysis_prefix(
            &self.permanent_prefix,
            &analysis.patient_id,
            &analysis.analysis_id,
        );
        let target = self.root.join(&relative);
        let files = analysis.files();
        let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        let location = StoredLocation {
            location: target.display().to_string(),
            files: names,
        };
        // Already filed (a repeat): the rename below is the only way a set gets there.
        if target.join(ANALYSIS_JSON).is_file() {
            return Ok(location);
        }
        let staging = self.root.join(STAGING).join(format!(
            "{}-{}",
            analysis.analysis_id,
            super::OpaqueId::random()
        ));
        let write = || -> std::io::Result<()> {
            for (name, body) in &files {
                let path = staging.join(name);
                std::fs::create_dir_all(path.parent().expect("inside staging"))?;
                let mut f = std::fs::File::create(&path)?;
                std::io::Write::write_all(&mut f, body)?;
                f.sync_all()?;
            }
            // The files' folder entries, then the staging folder itself, reach the disk
            // before the rename publishes them.
            sync_dir(&staging.join("debug")).or_else(ignore_missing)?;
            sync_dir(&staging)?;
            let patient_dir = target.parent().expect("patient folder");
            std::fs::create_dir_all(patient_dir)?;
            if let Some(patients) = patient_dir.parent() {
                sync_dir(patients)?;
            }
            // A leftover without analysis.json cannot exist (sets arrive by rename), but a
            // hand-made folder could: never merge into it.
            if target.exists() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "an incomplete analysis folder is in the way",
                ));
            }
            std::fs::rename(&staging, &target)?;
            // The rename lives in the patient folder's entries: flushed, it survives a
            // power cut (else the set could vanish after "filed" was recorded).
            sync_dir(patient_dir)?;
            Ok(())
        };
        let result = write();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        match result {
            Ok(()) => Ok(location),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(StorageError::Invalid(format!(
                    "{} exists but is incomplete; move it aside",
                    target.display()
                )))
            }
            Err(e) => Err(self.not_writable(e)),
        }
    }

    fn test_blocking(&self) -> Result<(), StorageError> {
        self.check_root()?;
        let probe = self.root.join(format!(
            ".pano-connection-test-{}",
            super::OpaqueId::random()
        ));
        std::fs::write(&probe, b"pano connection test").map_err(|e| self.not_writable(e))?;
        std::fs::remove_file(&probe).map_err(|e| self.not_writable(e))?;
        Ok(())
    }
}

impl PermanentStorage for FolderStorage {
    async fn store_approved(
        &self,
        analysis: &ApprovedAnalysis,
        _temp: Option<&TempUpload>,
    ) -> Result<StoredLocation, StorageError> {
        // File I/O on a share can block for seconds: off the async threads.
        let (me, analysis) = (self.clone(), analysis.clone());
        tokio::task::spawn_blocking(move || me.store_blocking(&analysis))
            .await
            .map_err(|e| StorageError::Invalid(format!("storage task failed: {e}")))?
    }

    async fn test_connection(&self) -> Result<ConnectionReport, StorageError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.test_blocking())
            .await
            .map_err(|e| StorageError::Invalid(format!("storage task failed: {e}")))??;
        Ok(ConnectionReport::default())
    }
}

/// Flushes a folder's entries to the disk (a no-op where folders cannot be opened: Windows).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn ignore_missing(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}
