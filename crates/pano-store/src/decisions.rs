//! The clinician's decisions on findings: the current one per (analysis, tooth, finding)
//! in `finding_decisions`, every change as a `reviewed` audit row with before and after.

use pano_core::{Decision, DecisionUpdate, Fdi, FindingKind};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::audit::{append, AuditAction};
use crate::{now_rfc3339, Store, StoreError};

/// The decision in force on one finding of one tooth.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FindingDecision {
    /// The FDI tooth number (a number in JSON, unlike [`Fdi`]'s text form).
    pub fdi: u8,
    /// Serialised with the CSV spelling (`CARIES`).
    pub finding: FindingKind,
    pub decision: Decision,
    pub note: Option<String>,
    pub decided_by: String,
    /// RFC 3339 UTC.
    pub decided_at: String,
}

/// One decision change as the audit row's detail records it.
#[derive(serde::Serialize)]
struct ReviewedDetail<'a> {
    fdi: u8,
    finding: &'static str,
    before: &'static str,
    after: &'static str,
    note: Option<&'a str>,
}

impl Store {
    /// Records or clears the decision on `(fdi, finding)` and appends its `reviewed` audit
    /// row, in one transaction that applies only while the analysis is `completed`
    /// ([`StoreError::NotReviewable`] otherwise: an approved record is never changed after
    /// the fact, a rejected one has no findings). A change to the same decision and note is
    /// no change: nothing is written. Returns every decision of the analysis afterwards.
    pub fn decide_finding(
        &mut self,
        analysis_id: &str,
        fdi: Fdi,
        finding: FindingKind,
        update: DecisionUpdate,
        note: Option<&str>,
        decided_by: &str,
    ) -> Result<Vec<FindingDecision>, StoreError> {
        // IMMEDIATE: the write lock is taken before the status is read, so no approval by
        // another process can slip between the check and the change.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let status: Option<String> = tx
            .query_row(
                "SELECT status FROM analyses WHERE id = ?1",
                [analysis_id],
                |r| r.get(0),
            )
            .optional()?;
        match status.as_deref() {
            None => return Err(StoreError::NoSuchAnalysis(analysis_id.to_string())),
            Some("completed") => {}
            Some(other) => {
                return Err(StoreError::NotReviewable {
                    status: other.to_string(),
                })
            }
        }
        let fdi_number = fdi.number() as u8;
        let before: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT decision, note FROM finding_decisions WHERE analysis_id = ?1 AND fdi = ?2 AND finding = ?3",
                params![analysis_id, fdi_number, finding.csv_name()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let before_decision = before
            .as_ref()
            .map(|(d, _)| d.parse::<Decision>().map_err(corrupt))
            .transpose()?;
        let after = update.decision();
        let note = if after.is_some() { note } else { None };
        let unchanged =
            before_decision == after && before.as_ref().and_then(|(_, n)| n.as_deref()) == note;
        if !unchanged {
            match after {
                Some(decision) => tx.execute(
                    "INSERT INTO finding_decisions (analysis_id, fdi, finding, decision, note, decided_by, decided_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (analysis_id, fdi, finding) DO UPDATE SET
                        decision = excluded.decision, note = excluded.note,
                        decided_by = excluded.decided_by, decided_at = excluded.decided_at",
                    params![
                        analysis_id,
                        fdi_number,
                        finding.csv_name(),
                        decision.as_str(),
                        note,
                        decided_by,
                        now_rfc3339()
                    ],
                )?,
                None => tx.execute(
                    "DELETE FROM finding_decisions WHERE analysis_id = ?1 AND fdi = ?2 AND finding = ?3",
                    params![analysis_id, fdi_number, finding.csv_name()],
                )?,
            };
            let detail = serde_json::to_string(&ReviewedDetail {
                fdi: fdi_number,
                finding: finding.csv_name(),
                before: Decision::source_name(before_decision),
                after: Decision::source_name(after),
                note,
            })
            .expect("serialisable");
            append(
                &tx,
                decided_by,
                AuditAction::Reviewed,
                Some(analysis_id),
                Some(&detail),
            )?;
        }
        let decisions = decisions_of(&tx, analysis_id)?;
        tx.commit()?;
        Ok(decisions)
    }

    /// The decisions in force on an analysis, by finding then tooth (the CSV's order).
    pub fn decisions_of(&self, analysis_id: &str) -> Result<Vec<FindingDecision>, StoreError> {
        decisions_of(&self.conn, analysis_id)
    }
}

fn decisions_of(
    conn: &rusqlite::Connection,
    analysis_id: &str,
) -> Result<Vec<FindingDecision>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT fdi, finding, decision, note, decided_by, decided_at FROM finding_decisions WHERE analysis_id = ?1",
    )?;
    let rows = stmt.query_map([analysis_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (fdi, finding, decision, note, decided_by, decided_at) = row?;
        let fdi = Fdi::new(fdi as u32).map_err(corrupt)?;
        out.push(FindingDecision {
            fdi: fdi.number() as u8,
            finding: finding.parse().map_err(corrupt)?,
            decision: decision.parse().map_err(corrupt)?,
            note,
            decided_by,
            decided_at,
        });
    }
    out.sort_by_key(|d| (d.finding, d.fdi / 10, d.fdi % 10));
    Ok(out)
}

fn corrupt(e: pano_core::CoreError) -> StoreError {
    StoreError::Corrupt(format!("finding decision: {e}"))
}
