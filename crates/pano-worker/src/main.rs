//! `pano-worker`: the RunPod serverless worker. Loads the models once, logs the execution
//! provider that actually runs, then takes jobs until stopped.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use pano_engine::{Engine, EngineOptions, ExecutionProviderChoice};
use pano_worker::download::DownloadPolicy;
use pano_worker::protocol::{ProtocolConfig, Worker};

#[derive(Parser)]
#[command(version, about = "RunPod worker running the pano engine")]
struct Args {
    /// Folder holding manifest.json and the two ONNX files.
    #[arg(long, env = "PANO_MODELS")]
    models: Option<PathBuf>,
    /// Execution provider: auto, cpu, cuda, directml or coreml. A GPU provider named here
    /// that cannot start is an error at start, never a silent CPU run.
    #[arg(long, env = "PANO_PROVIDER", default_value = "auto")]
    provider: ExecutionProviderChoice,
    /// Accept plain-http image URLs (local testing only).
    #[arg(long, env = "PANO_ALLOW_HTTP")]
    allow_http: bool,
    /// Largest image download, in MB.
    #[arg(long, default_value_t = 100)]
    max_image_mb: usize,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let config = match ProtocolConfig::from_env() {
        Ok(Some(c)) => c,
        Ok(None) => {
            eprintln!("pano-worker: RUNPOD_WEBHOOK_GET_JOB is not set: this runs as a RunPod serverless worker");
            return std::process::ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("pano-worker: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let Some(models_dir) = args.models.or_else(pano_engine::locate_models_dir) else {
        eprintln!("pano-worker: no models folder (set --models or PANO_MODELS)");
        return std::process::ExitCode::from(2);
    };
    let engine = match Engine::load(&EngineOptions {
        models_dir,
        provider: args.provider,
        ..Default::default()
    }) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("pano-worker: the engine did not start: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    eprintln!(
        "pano-worker: models {} loaded once; execution provider: {}",
        engine.manifest().model_version,
        engine.provider()
    );
    let policy = DownloadPolicy {
        allow_http: args.allow_http,
        max_bytes: args.max_image_mb * 1024 * 1024,
        timeout: Duration::from_secs(60),
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(Worker::new(Arc::new(engine), config, policy).run(None));
    std::process::ExitCode::SUCCESS
}
