//! `pano analyze`: queue the images in the service, run the queue, then write one CSV per
//! image like the reference's CLI, plus a side file that says which models made it.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use pano_service::{
    AnalysisRow, AnalysisService, AnalysisStatus, BackendChoice, JobView, RunMode, ServiceError,
};
use serde_json::json;

use crate::context::{self, report};
use crate::inputs::{expand, Input};
use crate::{summary, AnalyzeArgs, GlobalArgs};

pub async fn run(global: &GlobalArgs, args: &AnalyzeArgs) -> ExitCode {
    let mut settings = match context::settings(global) {
        Ok(s) => s,
        Err(e) => return report(&e),
    };
    if let Some(models) = &args.models {
        settings.models_dir = Some(models.clone());
    }
    if let Some(provider) = args.provider {
        settings.provider = provider;
    }
    let backend = match args
        .backend
        .as_deref()
        .map(BackendChoice::parse)
        .transpose()
    {
        Ok(b) => b.unwrap_or(settings.backend),
        Err(e) => return report(&e),
    };
    let service = match context::open(settings) {
        Ok(s) => s,
        Err(e) => return report(&e),
    };
    // Check what will be needed before touching any file: the models for local work, the
    // cloud settings for cloud work.
    if backend == BackendChoice::Cloud {
        if let Err(e) = service.cloud_status() {
            return report(&e);
        }
    }
    if service.may_run_locally(backend) {
        match service.local_models() {
            Ok(manifest) => {
                if manifest.test_model && !args.json {
                    eprintln!(
                        "NOTE: {} (models {})",
                        manifest
                            .notice
                            .as_deref()
                            .unwrap_or("test models with random weights: not for diagnosis"),
                        manifest.model_version
                    );
                }
                if let (Some(what), false) = (manifest.precision.describe(), args.json) {
                    eprintln!("NOTE: {what} (models {})", manifest.model_version);
                }
            }
            Err(e) if backend == BackendChoice::Local || service.cloud_status().is_err() => {
                return report(&e)
            }
            Err(_) => {}
        }
    }
    // The sessions are created while the inputs are read, hashed and checked. Joined before
    // any return: a process must not exit while ONNX Runtime is still building a session.
    let _loading = FinishOnDrop(service.prepare_local_engine(backend));
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!(
            "error: cannot create output folder {}: {e}",
            args.out.display()
        );
        return ExitCode::from(2);
    }

    let inputs = expand(&args.inputs);
    let progress = if inputs.len() > 1 && !args.json {
        ProgressBar::new(inputs.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    progress
        .set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("template"));
    let say = |line: String| progress.suspend(|| eprintln!("{line}"));

    // Queue everything first (a bad file is refused here and does not stop the batch).
    let mut failures = 0usize;
    let mut stems = HashSet::new();
    let mut batch: Vec<(PathBuf, String, String)> = Vec::new(); // path, stem, analysis id
    let mut reused = HashSet::new();
    for input in inputs {
        let path = match input {
            Input::Image(p) => p,
            Input::Unusable { arg, reason } => {
                say(format!("error: {arg}: {reason}"));
                failures += 1;
                progress.inc(1);
                continue;
            }
        };
        let stem = crate::out_names::output_stem(&path);
        if stems.contains(&stem) {
            say(format!(
                "error: {}: another input of this batch is also named '{stem}'; its results would be overwritten",
                path.display()
            ));
            failures += 1;
            progress.inc(1);
            continue;
        }
        match service.enqueue(&path, Some(backend)) {
            Ok(queued) => {
                stems.insert(stem.clone());
                if queued.reused {
                    reused.insert(queued.analysis.id.clone());
                }
                batch.push((path, stem, queued.analysis.id));
            }
            Err(e) => {
                say(format!("error: {e}"));
                failures += 1;
                progress.inc(1);
            }
        }
    }

    // Run the queue (this batch and anything a stopped run left), showing progress.
    let names: HashMap<String, String> = batch
        .iter()
        .map(|(p, _, id)| (id.clone(), p.display().to_string()))
        .collect();
    let mut events = service.subscribe();
    let watcher = {
        let progress = progress.clone();
        let names = names.clone();
        tokio::spawn(async move {
            let mut hinted = false;
            while let Ok(event) = events.recv().await {
                let Some(name) = names.get(&event.analysis_id) else {
                    continue;
                };
                match &event.view {
                    JobView::WaitingForStorage { .. }
                    | JobView::WaitingForRunpod { .. }
                    | JobView::FallingBackToLocal { .. } => progress.suspend(|| {
                        eprintln!("{name}: {}", event.view.describe());
                        if !hinted && !matches!(event.view, JobView::FallingBackToLocal { .. }) {
                            hinted = true;
                            eprintln!("(the work stays queued if you stop here: `pano queue --resume` goes on)");
                        }
                    }),
                    _ => progress.set_message(format!("{name}: {}", event.view.describe())),
                }
            }
        })
    };
    let ids: Vec<String> = batch.iter().map(|(_, _, id)| id.clone()).collect();
    if let Err(e) = run_queue(&service, &ids).await {
        watcher.abort();
        return report(&e);
    }
    watcher.abort();

    for (path, stem, id) in &batch {
        let outcome = service
            .analysis(id)
            .and_then(|row| write_results(&service, path, stem, &row, reused.contains(id), args));
        match outcome {
            Ok(Some(line)) => {
                if args.json {
                    progress.suspend(|| {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "{line}");
                    });
                } else {
                    say(line);
                }
            }
            Ok(None) => {
                let row = service.analysis(id).ok();
                let why = row
                    .and_then(|r| r.error_message)
                    .unwrap_or_else(|| "no result".into());
                say(format!("error: {}: {why}", path.display()));
                failures += 1;
            }
            Err(e) => {
                say(format!("error: {}: {e}", path.display()));
                failures += 1;
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if failures > 0 {
        eprintln!("{failures} input(s) failed");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the queue here, or, when another process already runs it, waits for that process
/// to finish this batch.
async fn run_queue(service: &AnalysisService, ids: &[String]) -> Result<(), ServiceError> {
    match service.run(RunMode::UntilAnalysed).await {
        Err(ServiceError::QueueBusy) => {
            eprintln!("another Pano process is working on the queue; waiting for it to finish these images");
            loop {
                let mut open = 0;
                for id in ids {
                    let row = service.analysis(id)?;
                    if matches!(row.status, AnalysisStatus::Queued | AnalysisStatus::Running) {
                        open += 1;
                    }
                }
                if open == 0 {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        other => other,
    }
}

/// Writes the CSV, side file and debug images of a finished analysis; None when it has
/// no result.
fn write_results(
    service: &AnalysisService,
    path: &Path,
    stem: &str,
    row: &AnalysisRow,
    reused: bool,
    args: &AnalyzeArgs,
) -> Result<Option<String>, ServiceError> {
    if !matches!(
        row.status,
        AnalysisStatus::Completed | AnalysisStatus::Approved
    ) {
        return Ok(None);
    }
    let detail = service.open_analysis(&row.id, "pano-cli")?;
    let Some(csv) = &detail.csv else {
        return Ok(None);
    };
    // The CSV names the image by this batch's stem (a cached result may carry another name).
    let mut assessment = pano_core::parse_csv(csv)
        .map_err(|e| ServiceError::Settings(format!("stored CSV: {e}")))?;
    assessment.name = stem.to_string();
    let csv = pano_core::write_csv(&assessment);
    let io = |e: String| ServiceError::Settings(e);
    write_atomically(&args.out.join(format!("{stem}.csv")), csv.as_bytes()).map_err(io)?;
    let side = side_file(path, row, detail.notice.as_deref());
    write_atomically(
        &args.out.join(format!("{stem}.analysis.json")),
        &serde_json::to_vec_pretty(&side).expect("serialisable"),
    )
    .map_err(io)?;
    if args.debug {
        let dir = args.out.join(stem);
        std::fs::create_dir_all(&dir)
            .map_err(|e| io(format!("cannot create {}: {e}", dir.display())))?;
        for (kind, name) in [
            (
                pano_service::ArtefactKind::SemanticSegmentation,
                pano_core::DEBUG_SEMANTIC_SEGMENTATION,
            ),
            (
                pano_service::ArtefactKind::InstanceDetection,
                pano_core::DEBUG_INSTANCE_DETECTION,
            ),
        ] {
            if let Ok(jpeg) = service.artefact(&row.id, kind) {
                write_atomically(&dir.join(name), &jpeg).map_err(io)?;
            }
        }
    }
    Ok(Some(if args.json {
        let mut line = side;
        line["findings"] =
            serde_json::to_value(assessment.findings().collect::<Vec<_>>()).expect("serialisable");
        line.to_string()
    } else {
        format!(
            "{}: {} (analysis {}, {} on {}{})\n{}",
            path.display(),
            args.out.join(format!("{stem}.csv")).display(),
            row.id,
            match (reused, row.run_ms) {
                (true, _) => format!("stored result of {}", row.created_at),
                (false, Some(ms)) => format!("{:.2} s", ms as f64 / 1000.0),
                (false, None) => "no timing".into(),
            },
            row.backend_label(),
            row.execution_provider
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default(),
            summary::render(&assessment)
        )
    }))
}

trait BackendLabel {
    fn backend_label(&self) -> String;
}

impl BackendLabel for AnalysisRow {
    fn backend_label(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("RunPod endpoint {endpoint}"),
            None => "this computer".into(),
        }
    }
}

/// What made the CSV: kept beside it so a file is never mistaken for a diagnosis.
fn side_file(path: &Path, row: &AnalysisRow, notice: Option<&str>) -> serde_json::Value {
    json!({
        "source": path.display().to_string(),
        "analysis_id": row.id,
        "file_name": Path::new(&row.original_file_name).file_stem().map(|s| s.to_string_lossy().into_owned()),
        "image": {"width": row.width, "height": row.height, "format": row.input_extension, "sha256": row.image_sha256},
        "model_version": row.model_version,
        "test_model": row.test_model,
        "notice": notice,
        "backend": row.backend,
        "endpoint": row.endpoint,
        "execution_provider": row.execution_provider,
        "queue_ms": row.queue_ms,
        "run_ms": row.run_ms,
        "status": row.status,
    })
}

/// Writes through a temporary file in the same folder, so a crash never leaves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp: PathBuf = path.with_extension(format!(
        "{}.partial",
        path.extension().and_then(|e| e.to_str()).unwrap_or("out")
    ));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Waits for a background thread when dropped.
struct FinishOnDrop(Option<std::thread::JoinHandle<()>>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}
