//! The approval rules, in one place. The store applies each transition with a guarded
//! update, so a second process or a double click can never apply it twice.
//!
//! ```text
//! queued -> running -> completed -> approved (for one patient; again = no-op)
//!                  \-> failed    \-> rejected (again = no-op)
//! failed -> rejected | queued (retry)
//! ```

use pano_store::AnalysisStatus;

use crate::ServiceError;

/// What approving an analysis in `status` for `patient` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApproveStep {
    /// Record the approval and queue the archive upload.
    Approve,
    /// Already approved for this patient: nothing to do (a harmless repeat).
    AlreadyDone,
}

pub fn approve_step(
    status: AnalysisStatus,
    approved_patient: Option<&str>,
    patient: Option<&str>,
) -> Result<ApproveStep, ServiceError> {
    match status {
        AnalysisStatus::Completed => Ok(ApproveStep::Approve),
        AnalysisStatus::Approved => match (approved_patient, patient) {
            (Some(a), Some(b)) if a != b => Err(ServiceError::ApprovedForAnotherPatient),
            _ => Ok(ApproveStep::AlreadyDone),
        },
        other => Err(ServiceError::CannotApprove { status: other }),
    }
}

/// What rejecting an analysis in `status` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectStep {
    Reject,
    AlreadyDone,
}

pub fn reject_step(status: AnalysisStatus) -> Result<RejectStep, ServiceError> {
    match status {
        AnalysisStatus::Completed | AnalysisStatus::Failed => Ok(RejectStep::Reject),
        AnalysisStatus::Rejected => Ok(RejectStep::AlreadyDone),
        other => Err(ServiceError::CannotReject { status: other }),
    }
}

/// Decisions on findings are made while the result awaits approval: the approved record is
/// never changed after the fact, and a rejected analysis has no findings left.
pub fn review_allowed(status: AnalysisStatus) -> Result<(), ServiceError> {
    match status {
        AnalysisStatus::Completed => Ok(()),
        other => Err(ServiceError::NotReviewable { status: other }),
    }
}

pub fn retry_allowed(status: AnalysisStatus) -> Result<(), ServiceError> {
    match status {
        AnalysisStatus::Failed => Ok(()),
        other => Err(ServiceError::CannotRetry { status: other }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AnalysisStatus::*;

    #[test]
    fn only_completed_analyses_are_approved_and_repeats_are_harmless() {
        assert_eq!(
            approve_step(Completed, None, Some("p")).unwrap(),
            ApproveStep::Approve
        );
        assert_eq!(
            approve_step(Approved, Some("p"), Some("p")).unwrap(),
            ApproveStep::AlreadyDone
        );
        assert_eq!(
            approve_step(Approved, Some("p"), Some("q"))
                .unwrap_err()
                .code(),
            "approved_for_another_patient"
        );
        for status in [Queued, Running, Failed, Rejected] {
            assert_eq!(
                approve_step(status, None, Some("p")).unwrap_err().code(),
                "cannot_approve",
                "{status:?}"
            );
        }
    }

    #[test]
    fn rejection_is_for_results_not_for_approved_or_unfinished_work() {
        assert_eq!(reject_step(Completed).unwrap(), RejectStep::Reject);
        assert_eq!(reject_step(Failed).unwrap(), RejectStep::Reject);
        assert_eq!(reject_step(Rejected).unwrap(), RejectStep::AlreadyDone);
        for status in [Queued, Running, Approved] {
            assert_eq!(reject_step(status).unwrap_err().code(), "cannot_reject");
        }
        assert!(retry_allowed(Failed).is_ok());
        assert!(review_allowed(Completed).is_ok());
        for status in [Queued, Running, Failed, Approved, Rejected] {
            assert_eq!(
                review_allowed(status).unwrap_err().code(),
                "analysis_not_reviewable"
            );
        }
        assert!(retry_allowed(Completed).is_err());
    }
}
