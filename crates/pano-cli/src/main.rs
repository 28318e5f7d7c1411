//! `pano`: analyse panoramic radiographs from the command line.

mod analyze;
mod inputs;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pano_engine::ExecutionProviderChoice;

#[derive(Parser)]
#[command(
    name = "pano",
    version,
    about = "Analyse dental panoramic radiographs (DPR) with AI"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse images, folders or glob patterns; write one CSV per image.
    Analyze(AnalyzeArgs),
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
    #[arg(long, env = "PANO_MODELS")]
    pub models: Option<PathBuf>,
    /// Execution provider: auto, cpu, cuda, directml or coreml.
    #[arg(long, default_value = "cpu")]
    pub provider: ExecutionProviderChoice,
    /// Print one JSON object per image on standard output instead of the summary.
    #[arg(long)]
    pub json: bool,
}

fn main() -> ExitCode {
    pano_imaging::quiet_decoder_panics();
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze(args) => analyze::run(&args),
    }
}
