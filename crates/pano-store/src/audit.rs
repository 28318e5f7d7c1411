//! The append-only audit log (the schema's triggers refuse UPDATE and DELETE).

use rusqlite::params;

use crate::{now_rfc3339, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    Created,
    Viewed,
    Approved,
    Rejected,
    Uploaded,
    Deleted,
    /// A clinician's decision on one finding (detail: JSON with before and after).
    Reviewed,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Created => "created",
            AuditAction::Viewed => "viewed",
            AuditAction::Approved => "approved",
            AuditAction::Rejected => "rejected",
            AuditAction::Uploaded => "uploaded",
            AuditAction::Deleted => "deleted",
            AuditAction::Reviewed => "reviewed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub analysis_id: Option<String>,
    pub detail: Option<String>,
}

impl Store {
    pub fn append_audit(
        &self,
        actor: &str,
        action: AuditAction,
        analysis_id: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        append(&self.conn, actor, action, analysis_id, detail)
    }

    pub fn audit_of(&self, analysis_id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, actor, action, analysis_id, detail FROM audit_log WHERE analysis_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([analysis_id], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                analysis_id: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

pub(crate) fn append(
    conn: &rusqlite::Connection,
    actor: &str,
    action: AuditAction,
    analysis_id: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, analysis_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now_rfc3339(), actor, action.as_str(), analysis_id, detail],
    )?;
    Ok(())
}
