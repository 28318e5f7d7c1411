use thiserror::Error;

/// Everything that can be wrong with a value this crate parses or validates.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    #[error(
        "'{0}' is not an FDI tooth number of the permanent dentition (11-18, 21-28, 31-38, 41-48)"
    )]
    UnknownTooth(String),
    #[error("tooth index {0} is out of range 1..=32")]
    ToothIndexOutOfRange(u32),
    #[error("'{0}' is not a known finding")]
    UnknownFinding(String),
    #[error("'{0}' is not a decision (confirmed, rejected, added or clear)")]
    UnknownDecision(String),
    #[error("score {score} for tooth {fdi} / {finding} is not a number in [0, 1]")]
    ScoreOutOfRange {
        fdi: String,
        finding: String,
        score: f64,
    },
    #[error("tooth {fdi} / {finding} appears more than once")]
    DuplicateEntry { fdi: String, finding: String },
    #[error("expected 256 findings (8 for each of 32 teeth), got {0}")]
    WrongEntryCount(usize),
    #[error("CSV header must be 'file_name,fdi,finding,score', got '{0}'")]
    BadCsvHeader(String),
    #[error("CSV line {line}: {reason}")]
    BadCsvLine { line: usize, reason: String },
    #[error("CSV rows name more than one file ('{0}' and '{1}')")]
    MixedCsvFiles(String, String),
}
