//! `pano`: analyse panoramic radiographs from the command line, over the same service
//! (queue, cache, approval, archive) as the desktop app.

mod analyze;
mod context;
mod inputs;
mod manage;
mod out_names;
mod review;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pano_engine::ExecutionProviderChoice;

#[derive(Parser)]
#[command(
    name = "pano",
    version,
    about = "Analyse dental panoramic radiographs (DPR) with AI",
    after_help = "Settings come from the settings file, then the environment (RUNPOD_API_KEY, RUNPOD_ENDPOINT_ID, RUNPOD_BASE_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, S3_ENDPOINT, S3_BUCKET, PANO_DB, PANO_DATA_DIR, PANO_MODELS), then flags. Keys from the environment are never written anywhere."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct GlobalArgs {
    /// Settings file (TOML). Default: the platform's config folder, pano/settings.toml.
    #[arg(long, global = true, env = "PANO_SETTINGS")]
    pub settings: Option<PathBuf>,
    /// The SQLite database (overrides the settings and PANO_DB).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    /// Folder for the database, the analyses' files and the queue lock.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse images, folders or glob patterns; write one CSV per image.
    Analyze(AnalyzeArgs),
    /// Show unfinished work; with --resume, finish it.
    Queue(manage::QueueArgs),
    /// Past analyses, newest first.
    History(manage::HistoryArgs),
    /// Find patients by name (prefix) or external id.
    Patients(manage::PatientsArgs),
    /// Approve a completed analysis for a patient and file it in permanent storage.
    Approve(manage::ApproveArgs),
    /// Confirm, reject or add a finding of a completed analysis (or clear the decision),
    /// before approving it.
    Review(review::ReviewArgs),
    /// Reject an analysis: its results and temp upload are discarded.
    Reject(manage::RejectArgs),
    /// Write an analysis's findings as the reference CSV or as JSON.
    Export(manage::ExportArgs),
    /// Write the patient report (PDF) of an approved analysis.
    Report(manage::ReportArgs),
    /// Send an approved analysis to the PACS (annotated image and report, as DICOM);
    /// with --test, only check that the PACS answers.
    Pacs(manage::PacsArgs),
    /// Stop a queued or running analysis.
    Cancel(manage::IdArgs),
    /// Queue a failed analysis again.
    Retry(manage::IdArgs),
}

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Image files, folders (their images, not recursive) or glob patterns.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Folder for `<stem>.csv`, `<stem>.analysis.json` and, with --debug, `<stem>/*.jpg`.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Also write the two debug images per radiograph.
    #[arg(long)]
    pub debug: bool,
    /// Folder with manifest.json and the two ONNX models.
    #[arg(long)]
    pub models: Option<PathBuf>,
    /// Execution provider: auto, cpu, cuda, directml or coreml.
    #[arg(long)]
    pub provider: Option<ExecutionProviderChoice>,
    /// Where to analyse: local, cloud, or auto (cloud with local fallback).
    #[arg(long, env = "PANO_BACKEND")]
    pub backend: Option<String>,
    /// Print one JSON object per image on standard output instead of the summary.
    #[arg(long)]
    pub json: bool,
}

fn main() -> ExitCode {
    pano_engine::opt_out_of_runtime_telemetry();
    pano_imaging::quiet_decoder_panics();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        match cli.command {
            Command::Analyze(args) => analyze::run(&cli.global, &args).await,
            Command::Queue(args) => manage::queue(&cli.global, &args).await,
            Command::History(args) => manage::history(&cli.global, &args),
            Command::Patients(args) => manage::patients(&cli.global, &args),
            Command::Approve(args) => manage::approve(&cli.global, &args).await,
            Command::Review(args) => review::review(&cli.global, &args),
            Command::Reject(args) => manage::reject(&cli.global, &args).await,
            Command::Export(args) => manage::export(&cli.global, &args),
            Command::Report(args) => manage::write_report(&cli.global, &args),
            Command::Pacs(args) => manage::pacs(&cli.global, &args).await,
            Command::Cancel(args) => manage::cancel(&cli.global, &args).await,
            Command::Retry(args) => manage::retry(&cli.global, &args),
        }
    })
}
