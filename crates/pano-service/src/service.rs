//! The service's front: what the app's commands and the CLI's subcommands call.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use pano_cloud::runpod::{RunpodClient, RunpodEndpoint, RunpodSettings};
use pano_cloud::storage::{AnyStorage, FolderStorage, OpaqueId, S3Storage, TempUpload};
use pano_core::{DecisionUpdate, Fdi, FindingKind, Thresholds};
use pano_engine::{Engine, EngineOptions, ModelManifest};
use pano_imaging::{import_bytes, ImportLimits};
use pano_store::{
    AnalysisRow, AnalysisStatus, AuditAction, AuditEntry, BackendKind, BlobDir, DicomPatientTags,
    FindingDecision, HistoryFilter, JobKind, JobRow, NewAnalysis, NewPatient, Patient, Store,
    StoreError,
};
use serde::Serialize;
use tokio::sync::{broadcast, Notify};

use crate::approval::{
    approve_step, reject_step, retry_allowed, review_allowed, ApproveStep, RejectStep,
};
use crate::events::{JobView, ServiceEvent};
use crate::review::{check_birth_date, check_review_text, SuggestedPatient};
use crate::settings::{ArchiveSettings, BackendChoice, Secrets, Settings};
use crate::ServiceError;

/// The cloud half, present when RunPod and the temp bucket are both configured with keys.
pub(crate) struct CloudParts {
    pub runpod: RunpodClient,
    pub temp: S3Storage,
}

pub(crate) struct Inner {
    pub settings: Settings,
    pub data_dir: PathBuf,
    /// The SQLite file; the queue lock sits beside it.
    pub database_path: PathBuf,
    /// Why the keys could not be read (a locked keychain): cloud jobs wait for them.
    pub keys_unavailable: Option<String>,
    pub store: Mutex<Store>,
    pub blobs: BlobDir,
    pub cloud: Result<CloudParts, String>,
    pub archive: Option<AnyStorage>,
    pub models_dir: Option<PathBuf>,
    pub manifest: OnceLock<Option<ModelManifest>>,
    pub engine: Mutex<Option<Arc<Engine>>>,
    pub events: broadcast::Sender<ServiceEvent>,
    pub wake: Notify,
    pub operator: String,
}

/// Cheap to clone; every clone is the same service.
#[derive(Clone)]
pub struct AnalysisService {
    pub(crate) inner: Arc<Inner>,
}

/// The result of [`AnalysisService::enqueue`].
#[derive(Debug, Clone, Serialize)]
pub struct Enqueued {
    pub analysis: AnalysisRow,
    /// True when an analysis of the same bytes with the same models already existed.
    pub reused: bool,
}

/// Who the approved analysis belongs to.
#[derive(Debug, Clone)]
pub enum PatientChoice {
    Existing(String),
    New {
        display_name: String,
        external_id: Option<String>,
        /// `YYYY-MM-DD`.
        birth_date: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalOutcome {
    pub analysis: AnalysisRow,
    pub patient: Patient,
    /// Where the set was filed; None while the archive upload waits for storage.
    pub archived_location: Option<String>,
    /// Why the upload is still pending.
    pub pending_reason: Option<String>,
    /// The approval had already been recorded (a harmless repeat).
    pub already_approved: bool,
}

/// An analysis with its findings, for review and export.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisDetail {
    pub analysis: AnalysisRow,
    /// The patient of an approved analysis.
    pub patient: Option<Patient>,
    pub findings: Vec<pano_core::ToothFinding>,
    pub csv: Option<String>,
    pub notice: Option<String>,
    pub jobs: Vec<JobRow>,
    pub audit: Vec<AuditEntry>,
    /// The clinician's decisions in force, by finding then tooth.
    pub decisions: Vec<FindingDecision>,
    /// Who the analysis probably shows (from the data only), while it awaits a decision.
    pub suggested_patient: Option<SuggestedPatient>,
    /// Whether the engine's outlines are stored (`analysis_geometry`); older analyses and
    /// older workers have none.
    pub has_geometry: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Exactly the reference's CSV.
    Csv,
    /// The reference's rows plus `source` (ai, confirmed, rejected, added).
    ReviewedCsv,
    /// Findings, decisions, thresholds and the audit trail.
    Json,
}

pub(crate) const TEST_MODEL_NOTICE: &str =
    "Results of random-weight test models: not for diagnosis.";

impl AnalysisService {
    /// Opens (or creates) the database and data folder and prepares the backends the
    /// settings and keys allow. Nothing contacts the network here.
    pub fn open(settings: Settings, secrets: Secrets) -> Result<Self, ServiceError> {
        let data_dir = settings.data_dir()?;
        std::fs::create_dir_all(&data_dir).map_err(|e| ServiceError::Read {
            path: data_dir.display().to_string(),
            source: e,
        })?;
        let db_path = settings.database_path()?;
        if let Some(parent) = db_path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let store = Store::open(&db_path)?;
        let blobs = BlobDir::open(data_dir.join("blobs"))?;
        let cloud = cloud_parts(&settings, &secrets);
        let archive = match &settings.archive {
            ArchiveSettings::None => None,
            ArchiveSettings::Folder { path } => Some(AnyStorage::Folder(FolderStorage::new(path))),
            ArchiveSettings::S3 => {
                let s3 = settings.s3.clone().ok_or_else(|| {
                    ServiceError::Settings("archive = s3 needs an [s3] section".into())
                })?;
                match (&secrets.s3, &secrets.keys_unavailable) {
                    (Some(creds), _) => Some(AnyStorage::S3(S3Storage::new(s3, creds)?)),
                    // The keys exist but cannot be read now: approvals are recorded and
                    // their filing waits for the keys.
                    (None, Some(_)) => None,
                    (None, None) => {
                        return Err(ServiceError::Settings(
                            "archive = s3 needs the S3 access key and secret".into(),
                        ))
                    }
                }
            }
        };
        let models_dir = settings
            .models_dir
            .clone()
            .or_else(pano_engine::locate_models_dir);
        let operator = settings
            .operator
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("USERNAME").ok())
            .unwrap_or_else(|| "pano".into());
        let (events, _) = broadcast::channel(1024);
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                data_dir,
                database_path: db_path,
                keys_unavailable: secrets.keys_unavailable.clone(),
                store: Mutex::new(store),
                blobs,
                cloud,
                archive,
                models_dir,
                manifest: OnceLock::new(),
                engine: Mutex::new(None),
                events,
                wake: Notify::new(),
                operator,
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ServiceEvent> {
        self.inner.events.subscribe()
    }

    /// The database path and data folder in use.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// The models folder in use: the configured one, else the one beside the installed app
    /// (or the repository's test models in development).
    pub fn models_dir(&self) -> Option<&Path> {
        self.inner.models_dir.as_deref()
    }

    /// The local models' manifest, or why there is none (missing folder, bad manifest).
    pub fn local_models(&self) -> Result<ModelManifest, ServiceError> {
        let dir = self
            .inner
            .models_dir
            .as_ref()
            .ok_or(ServiceError::NoModels)?;
        Ok(ModelManifest::load(dir)?)
    }

    /// Starts loading the local engine on a background thread, so that the first analysis
    /// does not wait for both sessions to be created (about a second with the full-size
    /// models). Does nothing when analyses will not run here (cloud only) or there are no
    /// models; a load that fails is reported by the first analysis that needs the engine.
    /// A job that arrives meanwhile waits for this load rather than starting a second one.
    /// `choice` is the backend the coming analyses ask for (the settings' one in the app).
    pub fn prepare_local_engine(
        &self,
        choice: BackendChoice,
    ) -> Option<std::thread::JoinHandle<()>> {
        // With the cloud set up, `auto` runs locally only as a fallback: no memory for that.
        let wanted = match choice {
            BackendChoice::Local => true,
            BackendChoice::Cloud => false,
            BackendChoice::Auto => self.inner.cloud.is_err(),
        };
        if !wanted || self.inner.models_dir.is_none() {
            return None;
        }
        let inner = self.inner.clone();
        std::thread::Builder::new()
            .name("pano-engine-load".into())
            .spawn(move || {
                let _ = inner.engine();
            })
            .ok()
    }

    /// Whether the local engine's sessions exist (made by `prepare_local_engine` or by the
    /// first local analysis); false, without waiting, while they are being made.
    pub fn local_engine_loaded(&self) -> bool {
        match self.inner.engine.try_lock() {
            Ok(slot) => slot.is_some(),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().is_some(),
            Err(std::sync::TryLockError::WouldBlock) => false,
        }
    }

    /// Whether an analysis asked for with `choice` may run on this computer.
    pub fn may_run_locally(&self, choice: BackendChoice) -> bool {
        match choice {
            BackendChoice::Local => true,
            BackendChoice::Cloud => false,
            BackendChoice::Auto => self.inner.cloud.is_err() || self.inner.settings.local_fallback,
        }
    }

    /// Whether cloud analysis is possible, and if not, why.
    pub fn cloud_status(&self) -> Result<(), ServiceError> {
        self.inner
            .cloud
            .as_ref()
            .map(|_| ())
            .map_err(|why| ServiceError::NoCloud(why.clone()))
    }

    /// Adds a radiograph to the queue. The file is read, hashed and looked up first: an
    /// image already analysed (or on its way) with the same models returns that analysis at
    /// once. A new image is validated by the importer (a bad file is refused here, with
    /// nothing stored), copied into the data folder and queued.
    pub fn enqueue(
        &self,
        path: &Path,
        backend: Option<BackendChoice>,
    ) -> Result<Enqueued, ServiceError> {
        let backend = backend.unwrap_or(self.inner.settings.backend);
        let limits = ImportLimits::default();
        let shown = path.display().to_string();
        // Regular files only, never more than the limit (`/dev/zero`, a FIFO or a file that
        // grows while it is read are refused, not read).
        let bytes = pano_imaging::read_radiograph_file(path, &limits).map_err(|e| match e {
            pano_imaging::ImportError::Read { source, .. } => ServiceError::Read {
                path: shown.clone(),
                source,
            },
            other => ServiceError::Import {
                path: shown.clone(),
                source: other,
            },
        })?;
        let sha = BlobDir::sha256(&bytes);
        let planned = self.inner.plan_backend(backend)?;
        let model_version = self.inner.expected_model_version(planned)?;
        if let Some(existing) = self
            .inner
            .db(|s| s.reusable_analysis(&sha, &model_version))?
        {
            self.inner
                .emit(&existing.id, &existing.original_file_name, JobView::Reused);
            return Ok(Enqueued {
                analysis: existing,
                reused: true,
            });
        }
        let image = import_bytes(&bytes, &limits).map_err(|e| ServiceError::Import {
            path: shown,
            source: e,
        })?;
        // Kept in the database only, to suggest the patient when the result is filed.
        let dicom_patient = pano_imaging::dicom_patient(&bytes).map(|p| DicomPatientTags {
            name: p.name,
            id: p.id,
            birth_date: p.birth_date,
        });
        self.inner.blobs.put(&bytes)?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let new = NewAnalysis {
            id: new_id(),
            job_id: new_id(),
            image_sha256: sha,
            input_bytes: bytes.len() as u64,
            original_file_name: file_name,
            input_extension: image.format.extension().to_string(),
            width: image.width(),
            height: image.height(),
            backend: planned,
            requested_backend: backend.as_str().into(),
            model_version,
            actor: self.inner.operator.clone(),
            dicom_patient,
        };
        let row = self.inner.db(|s| s.insert_analysis(&new))?;
        self.inner
            .emit(&row.id, &row.original_file_name, JobView::Queued);
        self.inner.wake.notify_one();
        Ok(Enqueued {
            analysis: row,
            reused: false,
        })
    }

    /// Attaches the patient a practice-management system named (it launched Pano with this
    /// image) to an analysis that is not yet decided: the decision form starts with that
    /// patient. Returns whether it was attached (a decided analysis keeps its patient).
    pub fn attach_pms_patient(
        &self,
        id: &str,
        patient: &crate::PmsPatient,
    ) -> Result<bool, ServiceError> {
        let tags = pano_store::DicomPatientTags {
            name: patient.display_name(),
            id: Some(patient.external_id.clone()),
            birth_date: patient.birth_date.clone(),
        };
        self.inner.db(|s| s.set_pms_patient(id, &tags))
    }

    pub fn analysis(&self, id: &str) -> Result<AnalysisRow, ServiceError> {
        self.inner.db(|s| s.analysis(id))
    }

    /// An analysis with its findings and CSV, recorded as viewed by `viewer`.
    pub fn open_analysis(&self, id: &str, viewer: &str) -> Result<AnalysisDetail, ServiceError> {
        let analysis = self.inner.db(|s| s.analysis(id))?;
        let stem = stem(&analysis.original_file_name);
        let assessment = self.inner.db(|s| s.assessment(id, &stem))?;
        let csv = assessment.as_ref().map(pano_core::write_csv);
        let patient = match &analysis.patient_id {
            Some(p) => Some(self.inner.db(|s| s.patient(p))?),
            None => None,
        };
        let suggested_patient = match analysis.status {
            AnalysisStatus::Approved | AnalysisStatus::Rejected => None,
            _ => self.inner.db(|s| {
                crate::review::suggested_patient(s, &analysis.id, &analysis.image_sha256)
            })?,
        };
        let has_geometry = self
            .inner
            .db(|s| s.artefacts(id))?
            .iter()
            .any(|(kind, _, _)| *kind == pano_store::ArtefactKind::Geometry);
        let detail = AnalysisDetail {
            patient,
            has_geometry,
            decisions: self.inner.db(|s| s.decisions_of(id))?,
            suggested_patient,
            findings: assessment
                .map(|a| a.findings().collect())
                .unwrap_or_default(),
            csv,
            notice: analysis.test_model.then(|| TEST_MODEL_NOTICE.to_string()),
            jobs: self.inner.db(|s| s.jobs_of(id))?,
            audit: Vec::new(),
            analysis,
        };
        self.inner
            .db(|s| s.append_audit(viewer, AuditAction::Viewed, Some(id), None))?;
        let audit = self.inner.db(|s| s.audit_of(id))?;
        Ok(AnalysisDetail { audit, ..detail })
    }

    /// The CSV (exactly the reference format), the reviewed CSV, or a JSON document with
    /// the findings, the clinician's decisions and thresholds, and the audit trail.
    pub fn export(
        &self,
        id: &str,
        format: ExportFormat,
        viewer: &str,
    ) -> Result<Vec<u8>, ServiceError> {
        let detail = self.open_analysis(id, viewer)?;
        match format {
            ExportFormat::Csv => detail
                .csv
                .map(String::into_bytes)
                .ok_or(ServiceError::NoResult("findings")),
            ExportFormat::ReviewedCsv => {
                let stem = stem(&detail.analysis.original_file_name);
                let assessment = self
                    .inner
                    .db(|s| s.assessment(id, &stem))?
                    .ok_or(ServiceError::NoResult("findings"))?;
                Ok(reviewed_csv(&assessment, &detail.decisions).into_bytes())
            }
            ExportFormat::Json => {
                if detail.findings.is_empty() {
                    return Err(ServiceError::NoResult("findings"));
                }
                let doc = serde_json::json!({
                    "analysis": detail.analysis,
                    "notice": detail.notice,
                    "findings": detail.findings,
                    "thresholds": detail.analysis.approved_thresholds,
                    "decisions": detail.decisions,
                    "audit": detail.audit,
                });
                Ok(serde_json::to_vec_pretty(&doc).expect("serialisable"))
            }
        }
    }

    /// Writes an export to a file (through a temporary file: never half a CSV).
    pub fn export_to_file(
        &self,
        id: &str,
        format: ExportFormat,
        viewer: &str,
        path: &Path,
    ) -> Result<(), ServiceError> {
        let bytes = self.export(id, format, viewer)?;
        crate::durable::write_file(path, &bytes).map_err(|e| ServiceError::Read {
            path: path.display().to_string(),
            source: e,
        })
    }

    /// A debug image of a completed analysis (`semantic-segmentation` or
    /// `instance-detection`).
    pub fn artefact(
        &self,
        id: &str,
        kind: pano_store::ArtefactKind,
    ) -> Result<Vec<u8>, ServiceError> {
        let artefacts = self.inner.db(|s| s.artefacts(id))?;
        let sha = artefacts
            .into_iter()
            .find(|(k, _, _)| *k == kind)
            .map(|(_, sha, _)| sha)
            .ok_or(ServiceError::NoResult("such file"))?;
        Ok(self.inner.blobs.get(&sha)?)
    }

    /// The audit rows of an analysis, oldest first.
    pub fn audit_trail(&self, id: &str) -> Result<Vec<AuditEntry>, ServiceError> {
        self.inner.db(|s| s.analysis(id))?;
        self.inner.db(|s| s.audit_of(id))
    }

    /// Records the clinician's decision on one finding of one tooth (or clears it, back to
    /// the AI's score), with its audit row, while the analysis awaits approval. Returns every
    /// decision of the analysis afterwards.
    pub fn decide_finding(
        &self,
        id: &str,
        fdi: Fdi,
        finding: FindingKind,
        update: DecisionUpdate,
        note: Option<&str>,
        by: &str,
    ) -> Result<Vec<FindingDecision>, ServiceError> {
        let (by, note) = check_review_text(by, note)?;
        let analysis = self.inner.db(|s| s.analysis(id))?;
        review_allowed(analysis.status)?;
        let decided = self
            .inner
            .db(|s| s.decide_finding(id, fdi, finding, update, note, by));
        match decided {
            // Approved or rejected between the check and the change (another window or
            // process): the store's guard refused it; say what it is now.
            Err(ServiceError::Store(StoreError::NotReviewable { .. })) => {
                let now = self.inner.db(|s| s.analysis(id))?;
                review_allowed(now.status)?;
                Err(ServiceError::NotReviewable { status: now.status })
            }
            other => other,
        }
    }

    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<AnalysisRow>, ServiceError> {
        self.inner.db(|s| s.history(filter))
    }

    /// Unfinished jobs, oldest first.
    pub fn queue(&self) -> Result<Vec<JobRow>, ServiceError> {
        self.inner.db(|s| s.unfinished_jobs())
    }

    pub fn search_patients(&self, query: &str, limit: usize) -> Result<Vec<Patient>, ServiceError> {
        self.inner.db(|s| s.search_patients(query, limit))
    }

    /// A new patient; `birth_date` is `YYYY-MM-DD` (a real date, not in the future).
    pub fn create_patient(
        &self,
        display_name: &str,
        external_id: Option<&str>,
        birth_date: Option<&str>,
    ) -> Result<Patient, ServiceError> {
        let name = display_name.trim();
        if name.is_empty() {
            return Err(ServiceError::MissingApprovalDetail("a patient name"));
        }
        let birth_date = birth_date
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(check_birth_date)
            .transpose()?;
        self.inner.db(|s| {
            s.insert_patient(&NewPatient {
                id: OpaqueId::random().to_string(),
                display_name: name.to_string(),
                external_id: external_id
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(String::from),
                birth_date,
            })
        })
    }

    /// Approves a completed analysis for a patient with the thresholds the clinician
    /// reviewed it with, then tries to file it at once; if the storage is down the archive
    /// job waits in the queue. Approving again is harmless (the first approval's thresholds
    /// stand).
    pub async fn approve(
        &self,
        id: &str,
        patient: PatientChoice,
        approver: &str,
        thresholds: Thresholds,
    ) -> Result<ApprovalOutcome, ServiceError> {
        let approver = approver.trim();
        if approver.is_empty() {
            return Err(ServiceError::MissingApprovalDetail(
                "the approving clinician's name",
            ));
        }
        let analysis = self.inner.db(|s| s.analysis(id))?;
        let wanted = match &patient {
            PatientChoice::Existing(p) => Some(p.as_str()),
            PatientChoice::New { .. } => None,
        };
        let step = approve_step(analysis.status, analysis.patient_id.as_deref(), wanted)?;
        if self.inner.archive.is_none() && !self.inner.archive_waits_for_keys() {
            return Err(ServiceError::NoArchive);
        }
        let (patient, already) =
            match step {
                ApproveStep::AlreadyDone => {
                    let pid = analysis.patient_id.clone().ok_or(ServiceError::Store(
                        StoreError::Corrupt("approved without a patient".into()),
                    ))?;
                    (self.inner.db(|s| s.patient(&pid))?, true)
                }
                ApproveStep::Approve => {
                    let patient = match patient {
                        PatientChoice::Existing(pid) => self.inner.db(|s| s.patient(&pid))?,
                        PatientChoice::New {
                            display_name,
                            external_id,
                            birth_date,
                        } => self.create_patient(
                            &display_name,
                            external_id.as_deref(),
                            birth_date.as_deref(),
                        )?,
                    };
                    let job_id = new_id();
                    let changed = self
                        .inner
                        .db(|s| s.mark_approved(id, &patient.id, approver, &thresholds, &job_id))?;
                    if !changed {
                        // Someone else changed it between the check and the update: report the
                        // state it is in now.
                        let now = self.inner.db(|s| s.analysis(id))?;
                        approve_step(now.status, now.patient_id.as_deref(), Some(&patient.id))?;
                        return Box::pin(self.approve(
                            id,
                            PatientChoice::Existing(patient.id),
                            approver,
                            thresholds,
                        ))
                        .await;
                    }
                    (patient, false)
                }
            };
        // File it now if the storage answers; otherwise the queue keeps trying.
        let mut pending_reason = None;
        if let Some(job_id) = self.inner.db(|s| s.active_job(id, JobKind::Archive))? {
            if let Some(job) = self.inner.db(|s| s.job(&job_id))? {
                if let Err(reason) = crate::archive_job::run_archive(&self.inner, &job).await {
                    pending_reason = Some(reason);
                }
            }
        }
        let analysis = self.inner.db(|s| s.analysis(id))?;
        Ok(ApprovalOutcome {
            archived_location: analysis.archived_location.clone(),
            pending_reason: if analysis.archived_location.is_some() {
                None
            } else {
                pending_reason
            },
            analysis,
            patient,
            already_approved: already,
        })
    }

    /// Rejects an analysis: its findings and local files are discarded and its temp
    /// upload deleted (now, or by the queue when the bucket is down). Repeating is harmless.
    pub async fn reject(&self, id: &str, by: &str) -> Result<AnalysisRow, ServiceError> {
        let by = by.trim();
        if by.is_empty() {
            return Err(ServiceError::MissingApprovalDetail(
                "the rejecting clinician's name",
            ));
        }
        let analysis = self.inner.db(|s| s.analysis(id))?;
        if reject_step(analysis.status)? == RejectStep::AlreadyDone {
            return Ok(analysis);
        }
        // Every try's upload, not only the newest one's.
        let temp = self
            .inner
            .db(|s| s.finished_temp_uploads(id))?
            .into_iter()
            .next()
            .map(|(_, t)| t);
        let job_id = new_id();
        let (changed, freed) = self
            .inner
            .db(|s| s.mark_rejected(id, by, temp.as_deref().map(|t| (job_id.as_str(), t))))?;
        if !changed {
            let now = self.inner.db(|s| s.analysis(id))?;
            reject_step(now.status)?;
            return Ok(now);
        }
        for sha in freed {
            self.inner.blobs.remove(&sha)?;
        }
        if temp.is_some() {
            if let Some(job) = self
                .inner
                .db(|s| s.active_job(id, JobKind::Discard))?
                .and_then(|j| self.inner.db(|s| s.job(&j)).ok().flatten())
            {
                let _ = crate::archive_job::run_discard(&self.inner, &job).await;
            }
        }
        self.inner
            .emit(id, &analysis.original_file_name, JobView::Cancelled);
        self.inner.db(|s| s.analysis(id))
    }

    /// Stops a queued or running analysis (a RunPod job is cancelled there too).
    pub async fn cancel(&self, id: &str) -> Result<bool, ServiceError> {
        let jobs = self.inner.db(|s| s.jobs_of(id))?;
        let cancelled = self
            .inner
            .db(|s| s.cancel_analysis(id, &self.inner.operator))?;
        if cancelled {
            if let Ok(cloud) = &self.inner.cloud {
                for job in jobs.iter().filter(|j| !j.state.is_finished()) {
                    if let Some(submitted) = crate::cloud_job::submitted_job(job) {
                        let _ = cloud.runpod.cancel(&submitted).await;
                    }
                }
            }
            self.inner.discard_temp_uploads(id);
            let row = self.inner.db(|s| s.analysis(id))?;
            self.inner
                .emit(id, &row.original_file_name, JobView::Cancelled);
        }
        Ok(cancelled)
    }

    /// Queues a failed analysis again.
    pub fn retry(&self, id: &str, backend: Option<BackendChoice>) -> Result<(), ServiceError> {
        let analysis = self.inner.db(|s| s.analysis(id))?;
        retry_allowed(analysis.status)?;
        let backend = backend.unwrap_or(self.inner.settings.backend);
        let job_id = new_id();
        self.inner
            .db(|s| s.requeue_failed(id, &job_id, backend.as_str()))?;
        self.inner
            .emit(id, &analysis.original_file_name, JobView::Queued);
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Checks the configured archive (S3 or folder) with a specific error; what works but
    /// should be fixed comes back as warnings.
    pub async fn test_archive(&self) -> Result<ConnectionCheck, ServiceError> {
        use pano_cloud::storage::PermanentStorage;
        let archive = self.inner.archive.as_ref().ok_or(ServiceError::NoArchive)?;
        let report = archive.test_connection().await?;
        Ok(ConnectionCheck::new("The archive answers.".into(), report))
    }

    /// Checks RunPod (health of the primary endpoint) and the temp bucket, including that
    /// the bucket expires what is left under `temp/` (a warning with how to add the rule).
    pub async fn test_cloud(&self) -> Result<ConnectionCheck, ServiceError> {
        use pano_cloud::storage::PermanentStorage;
        let cloud = self
            .inner
            .cloud
            .as_ref()
            .map_err(|why| ServiceError::NoCloud(why.clone()))?;
        let report = cloud.temp.test_connection().await?;
        let health = cloud
            .runpod
            .health(pano_cloud::runpod::EndpointRole::Primary)
            .await?;
        Ok(ConnectionCheck::new(health.describe().to_string(), report))
    }
}

/// The answer of a "Test" button: it works; plus what should still be fixed.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionCheck {
    pub summary: String,
    pub warnings: Vec<CheckWarning>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckWarning {
    pub code: String,
    pub message: String,
}

impl ConnectionCheck {
    fn new(summary: String, report: pano_cloud::storage::ConnectionReport) -> Self {
        Self {
            summary,
            warnings: report
                .warnings
                .into_iter()
                .map(|w| CheckWarning {
                    code: w.code.to_string(),
                    message: w.message,
                })
                .collect(),
        }
    }
}

impl Inner {
    pub(crate) fn db<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, ServiceError> {
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&mut store)?)
    }

    pub(crate) fn emit(&self, analysis_id: &str, file_name: &str, view: JobView) {
        let _ = self.events.send(ServiceEvent {
            analysis_id: analysis_id.to_string(),
            file_name: file_name.to_string(),
            view,
        });
    }

    /// Queues the deletion of every temp upload the analysis's finished jobs left in the
    /// bucket (after a result, a failure, a cancel): the de-identified image stays there no
    /// longer than the analysis needs it. The runner deletes them (and retries while the
    /// bucket is down).
    pub(crate) fn discard_temp_uploads(&self, analysis_id: &str) {
        let pending = self
            .db(|s| s.finished_temp_uploads(analysis_id))
            .unwrap_or_default();
        if pending.is_empty() {
            return;
        }
        if self
            .db(|s| s.ensure_job(&new_id(), analysis_id, JobKind::Discard, None, None))
            .is_ok()
        {
            self.wake.notify_one();
        }
    }

    /// The archive is the S3 bucket whose keys cannot be read just now.
    pub(crate) fn archive_waits_for_keys(&self) -> bool {
        matches!(self.settings.archive, ArchiveSettings::S3) && self.keys_unavailable.is_some()
    }

    pub(crate) fn manifest(&self) -> Option<&ModelManifest> {
        self.manifest
            .get_or_init(|| {
                self.models_dir
                    .as_ref()
                    .and_then(|d| ModelManifest::load(d).ok())
            })
            .as_ref()
    }

    /// Which backend a request will most likely run on (recorded at enqueue; a fallback
    /// updates it).
    pub(crate) fn plan_backend(&self, choice: BackendChoice) -> Result<BackendKind, ServiceError> {
        match choice {
            BackendChoice::Local => Ok(BackendKind::Local),
            BackendChoice::Cloud => {
                // Keys that cannot be read just now (a locked keychain) are not a missing
                // set-up: the job is queued and waits for them.
                if self.keys_unavailable.is_none() {
                    self.cloud
                        .as_ref()
                        .map_err(|why| ServiceError::NoCloud(why.clone()))?;
                }
                Ok(BackendKind::Cloud)
            }
            BackendChoice::Auto => Ok(if self.cloud.is_ok() {
                BackendKind::Cloud
            } else {
                BackendKind::Local
            }),
        }
    }

    /// The model version a new result is expected to carry: the local models' for local
    /// runs; for the cloud, what the endpoint reported last, else the local models' (our
    /// worker runs the same files).
    pub(crate) fn expected_model_version(
        &self,
        backend: BackendKind,
    ) -> Result<String, ServiceError> {
        let local = self.manifest().map(|m| m.model_version.clone());
        match backend {
            BackendKind::Local => {
                if self.models_dir.is_none() {
                    return Err(ServiceError::NoModels);
                }
                // A broken models folder is reported when the engine loads, with its reason.
                Ok(local.unwrap_or_else(|| "unknown".into()))
            }
            BackendKind::Cloud => Ok(
                match self.db(|s| s.last_model_version(BackendKind::Cloud))? {
                    Some(v) => v,
                    None => local.unwrap_or_else(|| "unknown".into()),
                },
            ),
        }
    }

    /// The engine, loaded on first use and kept (blocking: call from a blocking thread).
    pub(crate) fn engine(&self) -> Result<Arc<Engine>, ServiceError> {
        let mut slot = self.engine.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let models_dir = self.models_dir.clone().ok_or(ServiceError::NoModels)?;
        let engine = Arc::new(Engine::load(&EngineOptions {
            models_dir,
            provider: self.settings.provider,
            ..Default::default()
        })?);
        *slot = Some(engine.clone());
        Ok(engine)
    }

    /// Backoff after `attempts` failed tries: doubling from the base, capped, +-20 % jitter
    /// so that a clinic's queue does not hit a recovering service all at once.
    pub(crate) fn retry_delay(&self, attempts: u32) -> Duration {
        let r = &self.settings.retry;
        let exp = r.base_s * 2f64.powi(attempts.saturating_sub(1).min(20) as i32);
        let secs = exp.min(r.cap_s) * (0.8 + 0.4 * fastrand::f64());
        Duration::from_secs_f64(secs.max(0.05))
    }
}

fn cloud_parts(settings: &Settings, secrets: &Secrets) -> Result<CloudParts, String> {
    let endpoint_id = settings
        .runpod
        .endpoint_id
        .as_deref()
        .ok_or_else(|| "no RunPod endpoint id is set".to_string())?;
    let key = secrets
        .runpod_api_key
        .clone()
        .ok_or_else(|| "no RunPod API key is stored".to_string())?;
    let s3 = settings
        .s3
        .clone()
        .ok_or_else(|| "no S3 bucket is configured for uploads".to_string())?;
    let creds = secrets
        .s3
        .as_ref()
        .ok_or_else(|| "no S3 access key and secret are stored".to_string())?;
    // An insecure endpoint is named in the error (plain http to a remote host).
    let temp = S3Storage::new(s3, creds).map_err(|e| e.to_string())?;
    let r = &settings.runpod;
    let mut rp = RunpodSettings::new(RunpodEndpoint::new(&r.base_url, endpoint_id));
    rp.backup = r
        .backup_endpoint_id
        .as_deref()
        .map(|b| RunpodEndpoint::new(&r.base_url, b));
    rp.execution_timeout = Duration::from_secs(r.execution_timeout_s);
    rp.queue_timeout = Duration::from_secs(r.queue_timeout_s);
    rp.request_timeout = Duration::from_secs(r.request_timeout_s);
    rp.max_attempts = r.max_attempts.max(1);
    Ok(CloudParts {
        runpod: RunpodClient::new(rp, key).map_err(|e| e.to_string())?,
        temp,
    })
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The CSV's `file_name`: the original name without its extension, like the reference.
pub(crate) fn stem(file_name: &str) -> String {
    Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into())
}

/// The reviewed CSV of an assessment: its rows with the decision on each.
pub(crate) fn reviewed_csv(
    assessment: &pano_core::Assessment,
    decisions: &[FindingDecision],
) -> String {
    pano_core::write_reviewed_csv(assessment, |fdi, finding| {
        decisions
            .iter()
            .find(|d| u32::from(d.fdi) == fdi.number() && d.finding == finding)
            .map(|d| d.decision)
    })
}

pub(crate) fn parse_temp(json: Option<&str>) -> Option<TempUpload> {
    json.and_then(|t| serde_json::from_str(t).ok())
}
