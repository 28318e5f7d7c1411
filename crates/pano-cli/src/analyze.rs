//! `pano analyze`: one CSV per image, like the reference's CLI, plus a side file that says
//! which models made it.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use pano_engine::{Analysis, Engine, EngineOptions};
use pano_imaging::{import_file, ImportLimits, ImportedImage};
use serde_json::json;

use crate::inputs::{expand, Input};
use crate::{summary, AnalyzeArgs};

pub fn run(args: &AnalyzeArgs) -> ExitCode {
    let models_dir = match args.models.clone().or_else(pano_engine::locate_models_dir) {
        Some(dir) => dir,
        None => {
            eprintln!("error: no models folder found; pass --models DIR or set PANO_MODELS");
            return ExitCode::from(2);
        }
    };
    let options = EngineOptions {
        models_dir,
        provider: args.provider,
        ..Default::default()
    };
    let engine = match Engine::load(&options) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!(
            "error: cannot create output folder {}: {e}",
            args.out.display()
        );
        return ExitCode::from(2);
    }
    let manifest = engine.manifest();
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

    let inputs = expand(&args.inputs);
    let progress = if inputs.len() > 1 {
        ProgressBar::new(inputs.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    progress
        .set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("template"));
    let say = |line: String| progress.suspend(|| eprintln!("{line}"));

    let mut failures = 0usize;
    let mut stems = HashSet::new();
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
        progress.set_message(path.display().to_string());
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("image")
            .to_string();
        // Only a finished analysis claims its stem: a broken file does not block another
        // file of the same name, and a second success never overwrites the first.
        let result = if stems.contains(&stem) {
            Err(format!("another input of this batch is also named '{stem}'; its results would be overwritten"))
        } else {
            analyze_one(&engine, &path, &stem, args)
        };
        if result.is_ok() {
            stems.insert(stem.clone());
        }
        match result {
            Ok((image, analysis)) => {
                if args.json {
                    let line = json_line(&path, &image, &analysis, manifest.notice.as_deref());
                    progress.suspend(|| {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "{line}");
                    });
                } else {
                    say(format!(
                        "{}: {} ({} detections, {:.2} s on {})\n{}",
                        path.display(),
                        args.out.join(format!("{stem}.csv")).display(),
                        analysis.detections.len(),
                        analysis.timings.total.as_secs_f64(),
                        analysis.provider,
                        summary::render(&analysis.assessment)
                    ));
                }
            }
            Err(reason) => {
                say(format!("error: {}: {reason}", path.display()));
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

fn analyze_one(
    engine: &Engine,
    path: &Path,
    stem: &str,
    args: &AnalyzeArgs,
) -> Result<(ImportedImage, Analysis), String> {
    let image = import_file(path, &ImportLimits::default()).map_err(|e| e.to_string())?;
    let analysis = engine
        .analyze(&image.rgb, stem, args.debug)
        .map_err(|e| e.to_string())?;
    let csv = pano_core::write_csv(&analysis.assessment);
    write_atomically(&args.out.join(format!("{stem}.csv")), csv.as_bytes())?;
    let side = side_file(path, &image, &analysis, engine.manifest().notice.as_deref());
    let side = serde_json::to_vec_pretty(&side).map_err(|e| e.to_string())?;
    write_atomically(&args.out.join(format!("{stem}.analysis.json")), &side)?;
    if let Some(debug) = &analysis.debug {
        let dir = args.out.join(stem);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        write_atomically(
            &dir.join(pano_core::DEBUG_SEMANTIC_SEGMENTATION),
            &debug.semantic_segmentation,
        )?;
        write_atomically(
            &dir.join(pano_core::DEBUG_INSTANCE_DETECTION),
            &debug.instance_detection,
        )?;
    }
    Ok((image, analysis))
}

/// What made the CSV: kept beside it so a file is never mistaken for a diagnosis.
fn side_file(
    path: &Path,
    image: &ImportedImage,
    analysis: &Analysis,
    notice: Option<&str>,
) -> serde_json::Value {
    json!({
        "source": path.display().to_string(),
        "file_name": analysis.assessment.name,
        "image": {"width": image.width(), "height": image.height(), "format": image.format.name(), "bits_per_sample": image.bits_per_sample},
        "model_version": analysis.model_version,
        "test_model": analysis.test_model,
        "notice": if analysis.test_model { notice } else { None },
        "execution_provider": analysis.provider.name(),
        "detections": analysis.detections.len(),
        "timings_ms": timings_ms(analysis),
    })
}

fn timings_ms(analysis: &Analysis) -> serde_json::Value {
    let t = &analysis.timings;
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    json!({
        "segmentation_preprocess": ms(t.segmentation_pre),
        "segmentation_run": ms(t.segmentation_run),
        "detection_preprocess": ms(t.detection_pre),
        "detection_run": ms(t.detection_run),
        "detection_decode": ms(t.detection_decode),
        "postprocess": ms(t.postprocess),
        "debug_render": ms(t.debug_render),
        "total": ms(t.total),
    })
}

fn json_line(
    path: &Path,
    image: &ImportedImage,
    analysis: &Analysis,
    notice: Option<&str>,
) -> String {
    let mut v = side_file(path, image, analysis, notice);
    v["findings"] = serde_json::to_value(analysis.assessment.findings().collect::<Vec<_>>())
        .expect("findings serialise");
    v.to_string()
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
