//! The subcommands around analyses: queue, history, patients, approve, reject, export,
//! cancel, retry. Each opens the service, calls one method and prints the answer.

use std::path::PathBuf;
use std::process::ExitCode;

use pano_core::ThresholdError;
use pano_service::{
    AnalysisRow, AnalysisStatus, ExportFormat, HistoryFilter, Paper, PatientChoice, RunMode,
    ServiceError, Thresholds,
};

use crate::context::{open_from, report};
use crate::GlobalArgs;

#[derive(clap::Args)]
pub struct QueueArgs {
    /// Run the unfinished work until none is left (after a crash or an outage).
    #[arg(long)]
    pub resume: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// Only this patient's analyses (the patient's id; see `pano patients`).
    #[arg(long)]
    pub patient: Option<String>,
    /// From this date or time on (e.g. 2026-11-01).
    #[arg(long)]
    pub since: Option<String>,
    /// Before this date or time.
    #[arg(long)]
    pub until: Option<String>,
    /// queued, running, completed, failed, approved or rejected.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct PatientsArgs {
    /// Start of a name, or an external id. Empty lists the first patients by name.
    #[arg(default_value = "")]
    pub query: String,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["patient", "new_patient"])))]
pub struct ApproveArgs {
    pub analysis: String,
    /// An existing patient's id.
    #[arg(long)]
    pub patient: Option<String>,
    /// Create a patient with this name (it stays in the local database only).
    #[arg(long)]
    pub new_patient: Option<String>,
    /// The new patient's id in the clinic's own records.
    #[arg(long, requires = "new_patient")]
    pub external_id: Option<String>,
    /// The new patient's date of birth, YYYY-MM-DD.
    #[arg(long, requires = "new_patient")]
    pub birth_date: Option<String>,
    /// The threshold a finding kind was reviewed with, KIND=VALUE (e.g. caries=0.4);
    /// repeatable; kinds not given are 0.5. Filed with the approval.
    #[arg(long = "threshold", value_name = "KIND=VALUE")]
    pub thresholds: Vec<String>,
    /// The approving clinician.
    #[arg(long, env = "PANO_USER")]
    pub by: String,
}

#[derive(clap::Args)]
pub struct RejectArgs {
    pub analysis: String,
    /// The rejecting clinician.
    #[arg(long, env = "PANO_USER")]
    pub by: String,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    pub analysis: String,
    /// csv (the reference format), reviewed-csv (plus the clinician's decision per row) or
    /// json (with decisions and the audit trail).
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// File to write; standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    pub analysis: String,
    /// The PDF file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// a4 or letter; the settings' `[report] paper` when absent.
    #[arg(long)]
    pub paper: Option<String>,
}

#[derive(clap::Args)]
pub struct PacsArgs {
    #[command(subcommand)]
    pub command: PacsCommand,
}

#[derive(clap::Subcommand)]
pub enum PacsCommand {
    /// Send an approved analysis (annotated image and report, as DICOM).
    Send { analysis: String },
    /// Check that the configured PACS answers (DICOMweb query, C-ECHO).
    Test,
    /// List panoramic studies on the PACS, newest first.
    Find {
        /// Patient id (exact) or part of the name.
        #[arg(long)]
        patient: Option<String>,
        /// From this day (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Up to this day (YYYY-MM-DD).
        #[arg(long)]
        until: Option<String>,
    },
    /// Fetch a study's panoramic images from the PACS and analyse them.
    Analyze { study: String },
}

#[derive(clap::Args)]
pub struct IdArgs {
    pub analysis: String,
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).expect("serialisable"));
}

pub async fn queue(global: &GlobalArgs, args: &QueueArgs) -> ExitCode {
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.resume {
        if let Err(e) = service.run(RunMode::UntilIdle).await {
            return report(&e);
        }
    }
    match service.queue() {
        Ok(jobs) if args.json => {
            print_json(&jobs);
            ExitCode::SUCCESS
        }
        Ok(jobs) => {
            if jobs.is_empty() {
                println!("the queue is empty");
            }
            for job in jobs {
                let mut line = format!(
                    "{}  {:<8} {:<16} {}",
                    job.analysis_id,
                    job.kind.as_str(),
                    job.state.as_str(),
                    job.file_name
                );
                if let Some(at) = &job.next_retry_at {
                    line.push_str(&format!("  (next try {at})"));
                }
                if let Some(err) = &job.last_error {
                    line.push_str(&format!("  last error: {err}"));
                }
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

fn row_line(row: &AnalysisRow) -> String {
    format!(
        "{}  {}  {:<9}  {:<24} {}x{}  {}{}{}",
        row.id,
        row.created_at,
        row.status.as_str(),
        row.original_file_name,
        row.width,
        row.height,
        row.model_version,
        if row.test_model {
            " (test models: not for diagnosis)"
        } else {
            ""
        },
        match (&row.patient_name, &row.patient_id) {
            (Some(name), Some(id)) => format!("  patient {name} ({id})"),
            (None, Some(id)) => format!("  patient {id}"),
            _ => String::new(),
        }
    )
}

pub fn history(global: &GlobalArgs, args: &HistoryArgs) -> ExitCode {
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let status = match args
        .status
        .as_deref()
        .map(AnalysisStatus::parse)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => return report(&ServiceError::Store(e)),
    };
    let filter = HistoryFilter {
        patient_id: args.patient.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
        status,
        limit: args.limit,
        offset: args.offset,
    };
    match service.history(&filter) {
        Ok(rows) if args.json => {
            print_json(&rows);
            ExitCode::SUCCESS
        }
        Ok(rows) => {
            for row in &rows {
                println!("{}", row_line(row));
            }
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

pub fn patients(global: &GlobalArgs, args: &PatientsArgs) -> ExitCode {
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match service.search_patients(&args.query, args.limit) {
        Ok(found) if args.json => {
            print_json(&found);
            ExitCode::SUCCESS
        }
        Ok(found) => {
            if found.is_empty() {
                println!("no patient matches '{}'", args.query);
            }
            for p in found {
                println!(
                    "{}  {}{}{}",
                    p.id,
                    p.display_name,
                    p.external_id
                        .map(|e| format!("  ({e})"))
                        .unwrap_or_default(),
                    p.birth_date
                        .map(|d| format!("  born {d}"))
                        .unwrap_or_default()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

pub async fn approve(global: &GlobalArgs, args: &ApproveArgs) -> ExitCode {
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let patient = match (&args.patient, &args.new_patient) {
        (Some(id), _) => PatientChoice::Existing(id.clone()),
        (None, Some(name)) => PatientChoice::New {
            display_name: name.clone(),
            external_id: args.external_id.clone(),
            birth_date: args.birth_date.clone(),
        },
        (None, None) => unreachable!("clap requires one of --patient and --new-patient"),
    };
    let thresholds = match thresholds_from(&args.thresholds) {
        Ok(t) => t,
        Err(e) => return report(&e),
    };
    match service
        .approve(&args.analysis, patient, &args.by, thresholds)
        .await
    {
        Ok(outcome) => {
            if outcome.already_approved {
                println!("already approved for patient {}", outcome.patient.id);
            } else {
                println!(
                    "approved for patient {} ({})",
                    outcome.patient.id, outcome.patient.display_name
                );
            }
            match (&outcome.archived_location, &outcome.pending_reason) {
                (Some(location), _) => println!("filed in {location}"),
                (None, reason) => println!(
                    "not filed yet ({}); `pano queue --resume` retries",
                    reason.as_deref().unwrap_or("waiting for storage")
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

/// `KIND=VALUE` flags as thresholds (each kind at most once; the rest 0.5).
fn thresholds_from(flags: &[String]) -> Result<Thresholds, ServiceError> {
    let mut thresholds = Thresholds::default();
    let mut seen = Vec::new();
    for flag in flags {
        let (kind, value) = Thresholds::parse_assignment(flag)?;
        if seen.contains(&kind) {
            return Err(ThresholdError::Duplicate(kind.csv_name()).into());
        }
        seen.push(kind);
        thresholds.set(kind, value)?;
    }
    Ok(thresholds)
}

pub async fn reject(global: &GlobalArgs, args: &RejectArgs) -> ExitCode {
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match service.reject(&args.analysis, &args.by).await {
        Ok(row) => {
            println!("{}: {}", row.id, row.status.as_str());
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

pub fn export(global: &GlobalArgs, args: &ExportArgs) -> ExitCode {
    let format = match args.format.as_str() {
        "csv" => ExportFormat::Csv,
        "reviewed-csv" => ExportFormat::ReviewedCsv,
        "json" => ExportFormat::Json,
        other => {
            eprintln!("error: unknown format '{other}' (csv, reviewed-csv or json)");
            return ExitCode::from(2);
        }
    };
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match service.export(&args.analysis, format, "pano-cli") {
        Ok(bytes) => {
            let written = match &args.out {
                Some(path) => std::fs::write(path, &bytes),
                None => std::io::Write::write_all(&mut std::io::stdout().lock(), &bytes),
            };
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the export: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => report(&e),
    }
}

pub fn write_report(global: &GlobalArgs, args: &ReportArgs) -> ExitCode {
    let paper = match args.paper.as_deref().map(|p| (p, Paper::parse(p))) {
        None => None,
        Some((_, Some(paper))) => Some(paper),
        Some((other, None)) => {
            eprintln!("error: unknown paper '{other}' (a4 or letter)");
            return ExitCode::from(2);
        }
    };
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match service.report_to_file(&args.analysis, paper, &args.out) {
        Ok(()) => {
            println!("{}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

pub async fn pacs(global: &GlobalArgs, args: &PacsArgs) -> ExitCode {
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match &args.command {
        PacsCommand::Test => match service.test_pacs().await {
            Ok(check) => {
                println!("{}", check.summary);
                ExitCode::SUCCESS
            }
            Err(e) => report(&e),
        },
        PacsCommand::Send { analysis } => match service.send_to_pacs(analysis).await {
            Ok(receipt) => {
                println!(
                    "sent by {} to study {}{}",
                    receipt.sent_by.join(" and "),
                    receipt.study_instance_uid,
                    if receipt.same_study_as_input {
                        " (the radiograph's own study)"
                    } else {
                        " (a new study)"
                    }
                );
                ExitCode::SUCCESS
            }
            Err(e) => report(&e),
        },
        PacsCommand::Find {
            patient,
            since,
            until,
        } => {
            let query = pano_service::StudyQuery {
                patient: patient.clone(),
                since: since.clone(),
                until: until.clone(),
            };
            match service.pacs_studies(&query).await {
                Ok(studies) if studies.is_empty() => {
                    println!("no panoramic study matches");
                    ExitCode::SUCCESS
                }
                Ok(studies) => {
                    for s in studies {
                        println!(
                            "{}  {}  {} (id {})  {}",
                            s.study_instance_uid,
                            s.study_date.as_deref().unwrap_or("no date"),
                            s.patient_name,
                            s.patient_id,
                            s.description
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => report(&e),
            }
        }
        PacsCommand::Analyze { study } => {
            let queued = match service.analyse_from_pacs(study, None).await {
                Ok(q) => q,
                Err(e) => return report(&e),
            };
            if let Err(e) = service.run(RunMode::UntilIdle).await {
                return report(&e);
            }
            let mut failed = false;
            for q in queued {
                let a = service.analysis(&q.analysis.id).unwrap_or(q.analysis);
                failed |= a.status == AnalysisStatus::Failed;
                println!("{}  {}", a.id, a.status.as_str());
            }
            if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

pub async fn cancel(global: &GlobalArgs, args: &IdArgs) -> ExitCode {
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match service.cancel(&args.analysis).await {
        Ok(true) => {
            println!("cancelled");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("nothing to cancel: the analysis had already finished");
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

pub fn retry(global: &GlobalArgs, args: &IdArgs) -> ExitCode {
    let service = match open_from(global) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match service.retry(&args.analysis, None) {
        Ok(()) => {
            println!("queued again; `pano queue --resume` runs it");
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}
