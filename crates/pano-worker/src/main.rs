//! `pano-worker`: the RunPod serverless worker. Loads the models once, logs the execution
//! provider that actually runs, then takes jobs until stopped.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use pano_engine::{Engine, EngineOptions, ExecutionProviderChoice};
use pano_worker::download::DownloadPolicy;
use pano_worker::protocol::{ProtocolConfig, Worker};
use pano_worker::serve_api;

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
    /// Local testing only: accept plain-http image URLs and image hosts on loopback,
    /// private or link-local addresses (a test server, MinIO on the LAN).
    #[arg(long, env = "PANO_ALLOW_HTTP")]
    allow_http: bool,
    /// Largest image download, in MB.
    #[arg(long, default_value_t = 100)]
    max_image_mb: usize,
    /// Serve RunPod's public API shape locally instead of taking jobs from RunPod; clients
    /// authenticate with the key in PANO_API_KEY.
    #[arg(long)]
    serve_api: bool,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// The endpoint id in the URLs: http://HOST:PORT/v2/<id>/run
    #[arg(long, default_value = "local")]
    endpoint_id: String,
}

fn main() -> std::process::ExitCode {
    pano_engine::opt_out_of_runtime_telemetry();
    let args = Args::parse();
    let config = if args.serve_api {
        None
    } else {
        match ProtocolConfig::from_env() {
            Ok(Some(c)) => Some(c),
            Ok(None) => {
                eprintln!(
                    "pano-worker: RUNPOD_WEBHOOK_GET_JOB is not set: this runs as a RunPod \
                     serverless worker (or locally with --serve-api)"
                );
                return std::process::ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("pano-worker: {e}");
                return std::process::ExitCode::from(2);
            }
        }
    };
    let api_key = std::env::var("PANO_API_KEY").ok().filter(|k| !k.is_empty());
    if args.serve_api && api_key.is_none() {
        eprintln!("pano-worker: --serve-api needs the clients' key in PANO_API_KEY");
        return std::process::ExitCode::from(2);
    }
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
    let engine = Arc::new(engine);
    match config {
        Some(config) => runtime.block_on(Worker::new(engine, config, policy).run(None)),
        None => {
            let served = runtime.block_on(async {
                let listener =
                    tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await?;
                eprintln!(
                    "pano-worker: serving http://{}/v2/{}/ (run, runsync, status, cancel, health)",
                    listener.local_addr()?,
                    args.endpoint_id
                );
                let app = serve_api::router(
                    engine,
                    serve_api::ApiConfig {
                        endpoint_id: args.endpoint_id.clone(),
                        api_key: api_key.unwrap_or_default().into(),
                        concurrency: 1,
                        policy,
                    },
                );
                axum::serve(listener, app).await
            });
            if let Err(e) = served {
                eprintln!("pano-worker: the local API stopped: {e}");
                return std::process::ExitCode::from(1);
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
