//! Analyses, their 256 findings and their artefacts. Status changes are guarded updates
//! (`WHERE status = ...`): the service's approval rules decide, and the database makes sure
//! two processes can never both apply a transition.

use pano_core::{Assessment, Fdi, FindingKind, Thresholds, ToothFinding};
use rusqlite::{params, OptionalExtension, Row};

use crate::audit::{append, AuditAction};
use crate::jobs::{insert as insert_job, text_enum, JobKind};
use crate::{now_rfc3339, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Approved,
    Rejected,
}

text_enum!(AnalysisStatus {
    Queued => "queued",
    Running => "running",
    Completed => "completed",
    Failed => "failed",
    Approved => "approved",
    Rejected => "rejected",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    Local,
    Cloud,
}

text_enum!(BackendKind { Local => "local", Cloud => "cloud" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ArtefactKind {
    Input,
    Csv,
    SemanticSegmentation,
    InstanceDetection,
    /// The engine's vector geometry (tooth regions, finding outlines) as JSON.
    Geometry,
}

text_enum!(ArtefactKind {
    Input => "input",
    Csv => "csv",
    SemanticSegmentation => "semantic-segmentation",
    InstanceDetection => "instance-detection",
    Geometry => "geometry",
});

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AnalysisRow {
    pub id: String,
    pub image_sha256: String,
    pub original_file_name: String,
    pub width: u32,
    pub height: u32,
    pub backend: BackendKind,
    pub endpoint: Option<String>,
    pub model_version: String,
    pub execution_provider: Option<String>,
    pub queue_ms: Option<u64>,
    pub run_ms: Option<u64>,
    pub status: AnalysisStatus,
    pub patient_id: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub archived_location: Option<String>,
    pub test_model: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The input's format as an extension: `jpg`, `png`, `tif`, `bmp` or `dcm`.
    pub input_extension: String,
    /// The display name of the patient it was approved for.
    pub patient_name: Option<String>,
    /// The thresholds the clinician saw when approving.
    pub approved_thresholds: Option<Thresholds>,
}

const ANALYSIS_COLUMNS: &str = "a.id, a.image_sha256, a.original_file_name, a.width, a.height, a.backend, a.endpoint, a.model_version, a.execution_provider, a.queue_ms, a.run_ms, a.status, a.patient_id, a.approved_by, a.approved_at, a.archived_location, a.test_model, a.error_code, a.error_message, a.created_at, a.updated_at, a.input_extension, p.display_name, a.approved_thresholds";
/// `analyses a` with its patient's name beside it.
const ANALYSES_WITH_PATIENT: &str = "analyses a LEFT JOIN patients p ON p.id = a.patient_id";

type RawAnalysis = (AnalysisRow, String, String, Option<String>);

fn analysis(row: &Row) -> rusqlite::Result<RawAnalysis> {
    let backend: String = row.get(5)?;
    let status: String = row.get(11)?;
    Ok((
        AnalysisRow {
            id: row.get(0)?,
            image_sha256: row.get(1)?,
            original_file_name: row.get(2)?,
            width: row.get(3)?,
            height: row.get(4)?,
            backend: BackendKind::Local,
            endpoint: row.get(6)?,
            model_version: row.get(7)?,
            execution_provider: row.get(8)?,
            queue_ms: row.get(9)?,
            run_ms: row.get(10)?,
            status: AnalysisStatus::Queued,
            patient_id: row.get(12)?,
            approved_by: row.get(13)?,
            approved_at: row.get(14)?,
            archived_location: row.get(15)?,
            test_model: row.get(16)?,
            error_code: row.get(17)?,
            error_message: row.get(18)?,
            created_at: row.get(19)?,
            updated_at: row.get(20)?,
            input_extension: row.get(21)?,
            patient_name: row.get(22)?,
            approved_thresholds: None,
        },
        backend,
        status,
        row.get(23)?,
    ))
}

fn finish(parts: RawAnalysis) -> Result<AnalysisRow, StoreError> {
    let (mut row, backend, status, thresholds) = parts;
    row.backend = BackendKind::parse(&backend)?;
    row.status = AnalysisStatus::parse(&status)?;
    row.approved_thresholds = thresholds
        .map(|json| serde_json::from_str(&json))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("approved thresholds: {e}")))?;
    Ok(row)
}

/// What the input's DICOM header said about its patient (kept on this computer only, to
/// suggest the patient at approval).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DicomPatientTags {
    pub name: Option<String>,
    pub id: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
}

/// A radiograph entering the queue.
#[derive(Debug, Clone)]
pub struct NewAnalysis {
    pub id: String,
    pub job_id: String,
    pub image_sha256: String,
    pub input_bytes: u64,
    pub original_file_name: String,
    pub input_extension: String,
    pub width: u32,
    pub height: u32,
    /// The backend expected to run it (`auto` may end up on the other one).
    pub backend: BackendKind,
    /// What was asked for: `local`, `cloud` or `auto`.
    pub requested_backend: String,
    /// The model version the result is expected to carry (the cache key with the hash).
    pub model_version: String,
    pub actor: String,
    /// The patient a DICOM input names.
    pub dicom_patient: Option<DicomPatientTags>,
}

/// What a finished run recorded.
#[derive(Debug, Clone)]
pub struct CompletedAnalysis {
    pub backend: BackendKind,
    pub endpoint: Option<String>,
    pub model_version: String,
    pub execution_provider: Option<String>,
    pub queue_ms: Option<u64>,
    pub run_ms: u64,
    pub test_model: bool,
    pub assessment: Assessment,
    /// `(kind, sha256, size)` of the files already in the blob folder.
    pub artefacts: Vec<(ArtefactKind, String, u64)>,
}

/// History filters; all optional. Dates compare as RFC 3339 text, so `2026-11-01` means
/// "from the start of that day" for `since` and "before it" for `until`.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub patient_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub status: Option<AnalysisStatus>,
    pub limit: usize,
    pub offset: usize,
}

impl Store {
    /// Records a new analysis, its input artefact, its analyze job and the audit row, in one
    /// transaction.
    pub fn insert_analysis(&mut self, new: &NewAnalysis) -> Result<AnalysisRow, StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_rfc3339();
        let dicom = new.dicom_patient.clone().unwrap_or_default();
        tx.execute(
            "INSERT INTO analyses (id, image_sha256, original_file_name, width, height, backend, model_version, status, created_at, updated_at, input_extension,
                                   dicom_patient_name, dicom_patient_id, dicom_birth_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?8, ?9, ?10, ?11, ?12)",
            params![new.id, new.image_sha256, new.original_file_name, new.width, new.height, new.backend.as_str(), new.model_version, now, new.input_extension,
                    dicom.name, dicom.id, dicom.birth_date],
        )?;
        tx.execute(
            "INSERT INTO artefacts (analysis_id, kind, sha256, bytes) VALUES (?1, 'input', ?2, ?3)",
            params![new.id, new.image_sha256, new.input_bytes as i64],
        )?;
        insert_job(
            &tx,
            &new.job_id,
            &new.id,
            JobKind::Analyze,
            Some(&new.requested_backend),
            None,
        )?;
        append(
            &tx,
            &new.actor,
            AuditAction::Created,
            Some(&new.id),
            Some(&new.original_file_name),
        )?;
        tx.commit()?;
        self.analysis(&new.id)
    }

    pub fn analysis(&self, id: &str) -> Result<AnalysisRow, StoreError> {
        let sql = format!("SELECT {ANALYSIS_COLUMNS} FROM {ANALYSES_WITH_PATIENT} WHERE a.id = ?1");
        let row = self.conn.query_row(&sql, [id], analysis).optional()?;
        finish(row.ok_or_else(|| StoreError::NoSuchAnalysis(id.to_string()))?)
    }

    /// The patient the analysis's DICOM input named, if any.
    pub fn dicom_patient_of(&self, id: &str) -> Result<Option<DicomPatientTags>, StoreError> {
        let tags = self
            .conn
            .query_row(
                "SELECT dicom_patient_name, dicom_patient_id, dicom_birth_date FROM analyses WHERE id = ?1",
                [id],
                |r| {
                    Ok(DicomPatientTags {
                        name: r.get(0)?,
                        id: r.get(1)?,
                        birth_date: r.get(2)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NoSuchAnalysis(id.to_string()))?;
        Ok((tags != DicomPatientTags::default()).then_some(tags))
    }

    /// Records the patient a practice-management system named for this analysis (it
    /// launched Pano with the image), while the analysis is still undecided: an approved or
    /// rejected analysis keeps what it had. Returns whether it was recorded.
    pub fn set_pms_patient(&self, id: &str, tags: &DicomPatientTags) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE analyses SET pms_patient_name = ?2, pms_patient_id = ?3, pms_birth_date = ?4
             WHERE id = ?1 AND status NOT IN ('approved', 'rejected')",
            params![id, tags.name, tags.id, tags.birth_date],
        )?;
        Ok(changed == 1)
    }

    /// The patient a practice-management system named for the analysis, if any.
    pub fn pms_patient_of(&self, id: &str) -> Result<Option<DicomPatientTags>, StoreError> {
        let tags = self
            .conn
            .query_row(
                "SELECT pms_patient_name, pms_patient_id, pms_birth_date FROM analyses WHERE id = ?1",
                [id],
                |r| {
                    Ok(DicomPatientTags {
                        name: r.get(0)?,
                        id: r.get(1)?,
                        birth_date: r.get(2)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NoSuchAnalysis(id.to_string()))?;
        Ok((tags != DicomPatientTags::default()).then_some(tags))
    }

    /// The newest analysis of these image bytes with this model version that is done or
    /// on its way (queued, running, completed, approved): enqueuing the same image again
    /// returns it instead of analysing twice.
    pub fn reusable_analysis(
        &self,
        image_sha256: &str,
        model_version: &str,
    ) -> Result<Option<AnalysisRow>, StoreError> {
        let sql = format!(
            "SELECT {ANALYSIS_COLUMNS} FROM {ANALYSES_WITH_PATIENT}
             WHERE a.image_sha256 = ?1 AND a.model_version = ?2
               AND a.status IN ('queued', 'running', 'completed', 'approved')
             ORDER BY a.created_at DESC LIMIT 1"
        );
        let row = self
            .conn
            .query_row(&sql, params![image_sha256, model_version], analysis)
            .optional()?;
        row.map(finish).transpose()
    }

    /// The model version of the newest completed analysis from `backend` (what a cloud
    /// endpoint reported last).
    pub fn last_model_version(&self, backend: BackendKind) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT model_version FROM analyses WHERE backend = ?1 AND status IN ('completed', 'approved')
                 ORDER BY updated_at DESC LIMIT 1",
                [backend.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_analysis_running(&self, id: &str, backend: BackendKind) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE analyses SET status = 'running', backend = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'queued'",
            params![id, backend.as_str(), now_rfc3339()],
        )?;
        Ok(())
    }

    /// Stores a finished run: findings, artefacts, timings; the analysis becomes completed
    /// and its job done, in one transaction. Returns false (and changes nothing) when the
    /// analysis was not waiting for a result: a result is recorded exactly once.
    pub fn complete_analysis(
        &mut self,
        analysis_id: &str,
        job_id: &str,
        done: &CompletedAnalysis,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_rfc3339();
        let changed = tx.execute(
            "UPDATE analyses SET status = 'completed', backend = ?2, endpoint = ?3, model_version = ?4,
                    execution_provider = ?5, queue_ms = ?6, run_ms = ?7, test_model = ?8,
                    error_code = NULL, error_message = NULL, updated_at = ?9
             WHERE id = ?1 AND status IN ('queued', 'running')",
            params![
                analysis_id,
                done.backend.as_str(),
                done.endpoint,
                done.model_version,
                done.execution_provider,
                done.queue_ms.map(|v| v as i64),
                done.run_ms as i64,
                done.test_model,
                now
            ],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO findings (analysis_id, fdi, finding, score) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for f in done.assessment.findings() {
                insert.execute(params![
                    analysis_id,
                    f.fdi.number(),
                    f.finding.csv_name(),
                    f.score as f64
                ])?;
            }
            let mut artefact = tx.prepare_cached(
                "INSERT OR REPLACE INTO artefacts (analysis_id, kind, sha256, bytes) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (kind, sha, size) in &done.artefacts {
                artefact.execute(params![analysis_id, kind.as_str(), sha, *size as i64])?;
            }
        }
        tx.execute(
            "UPDATE jobs SET state = 'done', next_retry_at = NULL, last_error = NULL, updated_at = ?2 WHERE id = ?1",
            params![job_id, now],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// A run that cannot succeed: the job and the analysis fail with the reason.
    pub fn fail_analysis(
        &mut self,
        analysis_id: &str,
        job_id: &str,
        code: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_rfc3339();
        tx.execute(
            "UPDATE analyses SET status = 'failed', error_code = ?2, error_message = ?3, updated_at = ?4
             WHERE id = ?1 AND status IN ('queued', 'running')",
            params![analysis_id, code, message, now],
        )?;
        tx.execute(
            "UPDATE jobs SET state = 'failed', last_error = ?2, next_retry_at = NULL, updated_at = ?3 WHERE id = ?1",
            params![job_id, message, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Puts a failed analysis back in the queue with a fresh job.
    pub fn requeue_failed(
        &mut self,
        analysis_id: &str,
        job_id: &str,
        backend: &str,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE analyses SET status = 'queued', error_code = NULL, error_message = NULL, updated_at = ?2
             WHERE id = ?1 AND status = 'failed'",
            params![analysis_id, now_rfc3339()],
        )?;
        if changed == 1 {
            insert_job(
                &tx,
                job_id,
                analysis_id,
                JobKind::Analyze,
                Some(backend),
                None,
            )?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    /// Cancels a queued analysis: its job is cancelled and the analysis fails with
    /// "cancelled". False when it had already finished.
    pub fn cancel_analysis(&mut self, analysis_id: &str, actor: &str) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_rfc3339();
        let changed = tx.execute(
            "UPDATE analyses SET status = 'failed', error_code = 'cancelled', error_message = 'cancelled by the user', updated_at = ?2
             WHERE id = ?1 AND status IN ('queued', 'running')",
            params![analysis_id, now],
        )?;
        tx.execute(
            "UPDATE jobs SET state = 'cancelled', next_retry_at = NULL, updated_at = ?2
             WHERE analysis_id = ?1 AND kind = 'analyze' AND state NOT IN ('done', 'failed', 'cancelled')",
            params![analysis_id, now],
        )?;
        if changed == 1 {
            append(
                &tx,
                actor,
                AuditAction::Deleted,
                Some(analysis_id),
                Some("cancelled before a result"),
            )?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    /// completed -> approved for a patient with the thresholds in force, with an archive
    /// job and the audit row. False when the analysis was not completed (the caller's rules
    /// say why).
    pub fn mark_approved(
        &mut self,
        analysis_id: &str,
        patient_id: &str,
        approver: &str,
        thresholds: &Thresholds,
        archive_job_id: &str,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_rfc3339();
        let thresholds = serde_json::to_string(thresholds).expect("serialisable");
        let changed = tx.execute(
            "UPDATE analyses SET status = 'approved', patient_id = ?2, approved_by = ?3, approved_at = ?4, updated_at = ?4,
                                 approved_thresholds = ?5
             WHERE id = ?1 AND status = 'completed'",
            params![analysis_id, patient_id, approver, now, thresholds],
        )?;
        if changed == 1 {
            insert_job(
                &tx,
                archive_job_id,
                analysis_id,
                JobKind::Archive,
                None,
                None,
            )?;
            append(
                &tx,
                approver,
                AuditAction::Approved,
                Some(analysis_id),
                Some(patient_id),
            )?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    /// The archive job finished: where the set went, and the audit row.
    pub fn mark_archived(
        &mut self,
        analysis_id: &str,
        job_id: &str,
        location: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_rfc3339();
        tx.execute(
            "UPDATE analyses SET archived_location = ?2, updated_at = ?3 WHERE id = ?1",
            params![analysis_id, location, now],
        )?;
        tx.execute(
            "UPDATE jobs SET state = 'done', next_retry_at = NULL, last_error = NULL, updated_at = ?2 WHERE id = ?1",
            params![job_id, now],
        )?;
        append(
            &tx,
            actor,
            AuditAction::Uploaded,
            Some(analysis_id),
            Some(location),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// completed or failed -> rejected: findings, decisions and artefact rows go (the audit
    /// rows stay: the log is append-only), a discard job is
    /// queued when a temp upload exists. Returns whether it changed, and the blob hashes
    /// no other analysis refers to any more (for the caller to delete).
    pub fn mark_rejected(
        &mut self,
        analysis_id: &str,
        actor: &str,
        discard_job: Option<(&str, &str)>,
    ) -> Result<(bool, Vec<String>), StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_rfc3339();
        let changed = tx.execute(
            "UPDATE analyses SET status = 'rejected', updated_at = ?2 WHERE id = ?1 AND status IN ('completed', 'failed')",
            params![analysis_id, now],
        )?;
        if changed == 0 {
            return Ok((false, Vec::new()));
        }
        let shas: Vec<String> = {
            let mut stmt = tx.prepare("SELECT sha256 FROM artefacts WHERE analysis_id = ?1")?;
            let rows = stmt.query_map([analysis_id], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        tx.execute("DELETE FROM findings WHERE analysis_id = ?1", [analysis_id])?;
        tx.execute(
            "DELETE FROM finding_decisions WHERE analysis_id = ?1",
            [analysis_id],
        )?;
        tx.execute(
            "DELETE FROM artefacts WHERE analysis_id = ?1",
            [analysis_id],
        )?;
        let mut unreferenced = Vec::new();
        for sha in shas {
            let still: i64 = tx.query_row(
                "SELECT COUNT(*) FROM artefacts WHERE sha256 = ?1",
                [&sha],
                |r| r.get(0),
            )?;
            if still == 0 && !unreferenced.contains(&sha) {
                unreferenced.push(sha);
            }
        }
        if let Some((job_id, temp)) = discard_job {
            // A discard job may already be waiting (queued when the result came in and the
            // bucket was down): it deletes every temp upload of the analysis, this one too.
            let waiting: i64 = tx.query_row(
                "SELECT COUNT(*) FROM jobs WHERE analysis_id = ?1 AND kind = 'discard' AND state NOT IN ('done', 'failed', 'cancelled')",
                [analysis_id],
                |r| r.get(0),
            )?;
            if waiting == 0 {
                insert_job(&tx, job_id, analysis_id, JobKind::Discard, None, Some(temp))?;
            }
        }
        append(&tx, actor, AuditAction::Rejected, Some(analysis_id), None)?;
        append(
            &tx,
            actor,
            AuditAction::Deleted,
            Some(analysis_id),
            Some("findings, decisions and local files"),
        )?;
        tx.commit()?;
        Ok((true, unreferenced))
    }

    /// The 256 findings of an analysis, as an assessment named `name`; None before a result.
    pub fn assessment(
        &self,
        analysis_id: &str,
        name: &str,
    ) -> Result<Option<Assessment>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT fdi, finding, score FROM findings WHERE analysis_id = ?1")?;
        let rows = stmt.query_map([analysis_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })?;
        let mut findings = Vec::with_capacity(pano_core::NUM_ENTRIES);
        for row in rows {
            let (fdi, finding, score) = row?;
            let corrupt = |e: pano_core::CoreError| StoreError::Corrupt(format!("finding: {e}"));
            findings.push(ToothFinding {
                fdi: Fdi::new(fdi as u32).map_err(corrupt)?,
                finding: finding.parse::<FindingKind>().map_err(corrupt)?,
                score: score as f32,
            });
        }
        if findings.is_empty() {
            return Ok(None);
        }
        Assessment::from_findings(name, findings)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// `(kind, sha256, size)` of an analysis's files.
    pub fn artefacts(
        &self,
        analysis_id: &str,
    ) -> Result<Vec<(ArtefactKind, String, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kind, sha256, bytes FROM artefacts WHERE analysis_id = ?1")?;
        let rows = stmt.query_map([analysis_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (kind, sha, size) = r?;
            Ok((ArtefactKind::parse(&kind)?, sha, size as u64))
        })
        .collect()
    }

    /// Newest first, filtered. The WHERE clause names only the filters in use, so SQLite
    /// can pick the patient, status or date index (`?x IS NULL OR ...` would defeat them).
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<AnalysisRow>, StoreError> {
        let mut clauses = Vec::new();
        let mut args: Vec<&dyn rusqlite::ToSql> = Vec::new();
        if let Some(p) = &filter.patient_id {
            args.push(p);
            clauses.push(format!("a.patient_id = ?{}", args.len()));
        }
        if let Some(since) = &filter.since {
            args.push(since);
            clauses.push(format!("a.created_at >= ?{}", args.len()));
        }
        if let Some(until) = &filter.until {
            args.push(until);
            clauses.push(format!("a.created_at < ?{}", args.len()));
        }
        let status = filter.status.map(|s| s.as_str());
        if let Some(status) = &status {
            args.push(status);
            clauses.push(format!("a.status = ?{}", args.len()));
        }
        let limit = if filter.limit == 0 { 50 } else { filter.limit } as i64;
        let offset = filter.offset as i64;
        args.push(&limit);
        args.push(&offset);
        let where_clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {ANALYSIS_COLUMNS} FROM {ANALYSES_WITH_PATIENT} {where_clause}
             ORDER BY a.created_at DESC, a.id DESC LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(args.as_slice(), analysis)?;
        rows.map(|r| finish(r?)).collect()
    }

    pub fn count_analyses(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM analyses", [], |r| r.get::<_, i64>(0))?
            as u64)
    }
}
