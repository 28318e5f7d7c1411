use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use image::RgbImage;
use ort::ep::ExecutionProviderDispatch;
use ort::session::{RunOptions, Session};
use pano_core::{AnalysisGeometry, Assessment};

use crate::detection::detect;
use crate::manifest::{LetterboxMode, ModelManifest, ModelRole};
use crate::segmentation::LogitMap;
use crate::tuning::SessionTuning;
use crate::{
    debug_render, geometry, score_contributions_and_class_map, scores_from_contributions,
    Detection, EngineError, ExecutionProviderChoice, ProbabilityField,
};

/// How to load the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Folder holding `manifest.json` and the two ONNX files.
    pub models_dir: PathBuf,
    pub provider: ExecutionProviderChoice,
    /// Explicit path of the ONNX Runtime library (otherwise environment and known places).
    pub runtime_library: Option<PathBuf>,
    /// ONNX Runtime's session settings (graph optimisation, memory planning, threads).
    pub tuning: SessionTuning,
}

/// What happens to ONNX Runtime's working memory after an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryAfter {
    /// Given back (when the tuning shrinks the arena): nothing follows at once.
    Release,
    /// Kept for the next analysis, which follows at once.
    Keep,
}

/// Wall time of each stage of one analysis.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct StageTimings {
    pub segmentation_pre: Duration,
    pub segmentation_run: Duration,
    pub detection_pre: Duration,
    pub detection_run: Duration,
    pub detection_decode: Duration,
    /// The 256 scores, and the per-pixel classes computed in the same pass.
    pub postprocess: Duration,
    /// The polygons of teeth and findings.
    pub geometry: Duration,
    pub debug_render: Duration,
    pub total: Duration,
}

/// The two debug images, JPEG-encoded.
#[derive(Debug, Clone)]
pub struct DebugJpegs {
    pub semantic_segmentation: Vec<u8>,
    pub instance_detection: Vec<u8>,
}

/// Everything one analysis produced.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub assessment: Assessment,
    pub detections: Vec<Detection>,
    /// Tooth regions and finding instances as polygons in the image's pixels.
    pub geometry: AnalysisGeometry,
    pub debug: Option<DebugJpegs>,
    pub timings: StageTimings,
    /// The execution provider that actually ran the models.
    pub provider: ExecutionProviderChoice,
    pub model_version: String,
    /// Results of random-weight test models are not for diagnosis.
    pub test_model: bool,
}

/// Both models, loaded once and reused for every image.
pub struct Engine {
    manifest: ModelManifest,
    segmentation: Mutex<Session>,
    detection: Mutex<Session>,
    /// Per-run settings of both sessions: with the arena shrunk after the run (when the
    /// tuning asks for it), and without, for an analysis that another one follows.
    release_memory: RunOptions,
    keep_memory: RunOptions,
    provider: ExecutionProviderChoice,
    runtime_library: PathBuf,
}

impl Engine {
    pub fn load(options: &EngineOptions) -> Result<Self, EngineError> {
        let manifest = ModelManifest::load(&options.models_dir)?;
        let (env, lib) = crate::runtime::environment(options.runtime_library.as_deref())?;

        let candidates = provider_candidates(options.provider, &options.tuning)?;
        let mut last_error = None;
        for (choice, eps) in candidates {
            // The outer error (a missing file, a wrong hash) ends the load; the inner one
            // (the provider could not build the session) moves on to the next candidate.
            let open = |role: ModelRole| -> Result<Result<Session, String>, EngineError> {
                let bytes = manifest.read_verified_model(role)?;
                let session = Session::builder(env)
                    .map_err(|e| e.to_string())
                    .and_then(|builder| options.tuning.apply(builder))
                    .and_then(|builder| {
                        builder
                            .with_execution_providers(eps.clone())
                            .map_err(|e| e.to_string())
                    })
                    .and_then(|mut builder| {
                        builder
                            .commit_from_memory(&bytes)
                            .map_err(|e| e.to_string())
                    });
                drop(bytes);
                crate::heap::return_freed_memory();
                Ok(session)
            };
            let sessions = match open(ModelRole::Segmentation)? {
                Ok(seg) => open(ModelRole::Detection)?.map(|det| (seg, det)),
                Err(e) => Err(e),
            };
            match sessions {
                Ok((seg, det)) => {
                    let engine = Self {
                        release_memory: options.tuning.run_options(true).map_err(loading)?,
                        keep_memory: options.tuning.run_options(false).map_err(loading)?,
                        manifest,
                        segmentation: Mutex::new(seg),
                        detection: Mutex::new(det),
                        provider: choice,
                        runtime_library: lib.to_path_buf(),
                    };
                    engine.check_models()?;
                    return Ok(engine);
                }
                Err(e) => last_error = Some((choice, e)),
            }
        }
        let (choice, detail) = last_error.expect("at least one provider is tried");
        if choice == ExecutionProviderChoice::Cpu {
            Err(EngineError::Inference {
                stage: "loading the models",
                detail,
            })
        } else {
            Err(EngineError::ProviderUnavailable {
                provider: choice.name(),
                detail,
            })
        }
    }

    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// The execution provider the sessions run on.
    pub fn provider(&self) -> ExecutionProviderChoice {
        self.provider
    }

    pub fn runtime_library(&self) -> &std::path::Path {
        &self.runtime_library
    }

    /// Refuses a model pair whose tensors do not fit the manifest.
    fn check_models(&self) -> Result<(), EngineError> {
        let det = lock_session(&self.detection);
        let spec = &self.manifest.detection;
        let shape = input_shape(&det, "detection", &spec.input)?;
        let s = spec.image_size as i64;
        // A dynamic dimension reads as -1. `square` runs on a static square input or a dynamic
        // one; `auto` gives inputs of many shapes, so only a dynamic model takes them.
        let batch_of_three = shape.len() == 4 && (shape[0] == 1 || shape[0] < 0) && shape[1] == 3;
        let fits = match spec.letterbox {
            // A dynamic model would be letterboxed `auto` by Ultralytics itself: the manifest
            // must say so, or the engine would feed it another image than the reference does.
            LetterboxMode::Square => batch_of_three && shape[2..] == [s, s],
            LetterboxMode::Auto => batch_of_three && shape[2] < 0 && shape[3] < 0,
        };
        if !fits {
            let wanted = match spec.letterbox {
                LetterboxMode::Square => format!(
                    "[1, 3, {s}, {s}] (letterbox \"square\"; a model with dynamic H and W needs \"auto\")"
                ),
                LetterboxMode::Auto => "[1, 3, H, W] with dynamic H and W (letterbox \"auto\"; \
                                        export the model with dynamic=True)"
                    .to_string(),
            };
            return Err(mismatch(
                "detection",
                format!("input shape {shape:?}, manifest says {wanted}"),
            ));
        }
        for name in &spec.outputs {
            require_output(&det, "detection", name)?;
        }
        // Ultralytics writes the export's stride and imgsz into the ONNX metadata. The
        // exporter copies both into the manifest; a manifest edited by hand (or meant for
        // another export) would letterbox differently from what the model was made for.
        let metadata = det.metadata().ok();
        let custom = |key: &str| metadata.as_ref().and_then(|m| m.custom(key));
        if let Some(stride) = custom("stride") {
            if stride.trim().parse::<u32>().ok() != Some(spec.stride) {
                return Err(mismatch(
                    "detection",
                    format!(
                        "the model's stride is {}, the manifest says {}",
                        stride.trim(),
                        spec.stride
                    ),
                ));
            }
        }
        if let Some(imgsz) = custom("imgsz") {
            let sizes: Vec<u32> = imgsz
                .trim_matches(|c| c == '[' || c == ']' || c == ' ')
                .split(',')
                .filter_map(|v| v.trim().parse().ok())
                .collect();
            if sizes.iter().max() != Some(&spec.image_size) {
                return Err(mismatch(
                    "detection",
                    format!(
                        "the model was exported at imgsz {}, the manifest's image_size is {}",
                        imgsz.trim(),
                        spec.image_size
                    ),
                ));
            }
        }
        if let Some(names) = custom("names") {
            let from_model = parse_class_names(&names);
            if from_model != spec.class_names {
                return Err(mismatch(
                    "detection",
                    format!(
                        "class names in the model ({} classes) differ from the manifest ({})",
                        from_model.len(),
                        spec.class_names.len()
                    ),
                ));
            }
        }
        drop(metadata);
        drop(det);
        let seg = lock_session(&self.segmentation);
        let sspec = &self.manifest.segmentation;
        let shape = input_shape(&seg, "segmentation", &sspec.input)?;
        if shape.len() != 4 || shape[1] != 3 {
            return Err(mismatch(
                "segmentation",
                format!("input shape {shape:?}, expected [1, 3, H, W]"),
            ));
        }
        require_output(&seg, "segmentation", &sspec.output)
    }

    /// Analyses one radiograph. `name` becomes the CSV's `file_name` (the image's stem).
    pub fn analyze(
        &self,
        image: &RgbImage,
        name: &str,
        debug: bool,
    ) -> Result<Analysis, EngineError> {
        self.analyze_then(image, name, debug, MemoryAfter::Release)
    }

    /// [`Engine::analyze`], saying whether another analysis follows at once: ONNX Runtime's
    /// working memory is then kept for it (given back after each run, it costs up to ~15 %
    /// an image in page faults; kept, an idle app would hold ~0.7 GB more all day).
    pub fn analyze_then(
        &self,
        image: &RgbImage,
        name: &str,
        debug: bool,
        after: MemoryAfter,
    ) -> Result<Analysis, EngineError> {
        let analysis = self.run_pipeline(image, name, debug, after);
        // Once the run's buffers (logits, class map) are dropped, and after a failed run too:
        // what they (and, with `Release`, the shrunk arena) freed into glibc's heap goes back
        // to the system. In a batch of 20 full-size analyses the peak fell from 1651 to
        // 1565 MB at no measurable cost (docs/benchmarks.md).
        crate::heap::return_freed_memory();
        analysis
    }

    fn run_pipeline(
        &self,
        image: &RgbImage,
        name: &str,
        debug: bool,
        after: MemoryAfter,
    ) -> Result<Analysis, EngineError> {
        let run_options = match after {
            MemoryAfter::Release => &self.release_memory,
            MemoryAfter::Keep => &self.keep_memory,
        };
        // A strip so thin that the letterbox would scale its short side to nothing (e.g.
        // 32 x 80000) is as unanalysable as a tiny image.
        let lb = crate::detection::Letterbox::for_spec(
            image.width().max(1),
            image.height().max(1),
            &self.manifest.detection,
        );
        if image.width() < 32 || image.height() < 32 || lb.new_w == 0 || lb.new_h == 0 {
            return Err(EngineError::ImageTooSmall {
                width: image.width(),
                height: image.height(),
            });
        }
        let start = Instant::now();
        let mut timings = StageTimings::default();

        let (logits, seg_pre, seg_run) = {
            let mut seg = lock_session(&self.segmentation);
            LogitMap::run(&mut seg, run_options, &self.manifest.segmentation, image)?
        };
        timings.segmentation_pre = seg_pre;
        timings.segmentation_run = seg_run;

        let (detections, det_pre, det_run, det_decode) = {
            let mut det = lock_session(&self.detection);
            detect(&mut det, run_options, &self.manifest.detection, image)?
        };
        timings.detection_pre = det_pre;
        timings.detection_run = det_run;
        timings.detection_decode = det_decode;

        let t = Instant::now();
        let field = ProbabilityField::new(&logits, image.width(), image.height());
        let tooth_nms = self.manifest.postprocess.tooth_nms_threshold;
        let (contributions, class_map) =
            score_contributions_and_class_map(&detections, &field, tooth_nms);
        let scores = scores_from_contributions(&contributions);
        let assessment = Assessment::from_scores(name, scores)
            .map_err(|e| EngineError::inference("post-processing", e))?;
        timings.postprocess = t.elapsed();

        let t = Instant::now();
        let geometry =
            geometry::analysis_geometry(&class_map, &detections, &contributions, tooth_nms);
        timings.geometry = t.elapsed();

        let t = Instant::now();
        let debug = if debug {
            let (mut sem, mut inst) = rayon::join(
                || debug_render::semantic_segmentation(image, &class_map),
                || {
                    debug_render::instance_detection(
                        image,
                        &detections,
                        self.manifest.detection.class_names.len(),
                        self.manifest.postprocess.debug_min_score,
                    )
                },
            );
            if self.manifest.test_model {
                debug_render::stamp_test_model_notice(&mut sem);
                debug_render::stamp_test_model_notice(&mut inst);
            }
            let (sem, inst) = rayon::join(
                || debug_render::encode_jpeg(&sem),
                || debug_render::encode_jpeg(&inst),
            );
            Some(DebugJpegs {
                semantic_segmentation: sem?,
                instance_detection: inst?,
            })
        } else {
            None
        };
        timings.debug_render = t.elapsed();
        timings.total = start.elapsed();
        Ok(Analysis {
            assessment,
            detections,
            geometry,
            debug,
            timings,
            provider: self.provider,
            model_version: self.manifest.model_version.clone(),
            test_model: self.manifest.test_model,
        })
    }
}

fn loading(detail: String) -> EngineError {
    EngineError::Inference {
        stage: "loading the models",
        detail,
    }
}

fn mismatch(model: &'static str, detail: String) -> EngineError {
    EngineError::ModelMismatch { model, detail }
}

/// The declared shape of a named input (-1 for dynamic dimensions).
fn input_shape(
    session: &Session,
    model: &'static str,
    name: &str,
) -> Result<Vec<i64>, EngineError> {
    let input = session
        .inputs()
        .iter()
        .find(|i| i.name() == name)
        .ok_or_else(|| mismatch(model, format!("no input named '{name}'")))?;
    Ok(input
        .dtype()
        .tensor_shape()
        .map(|s| s.iter().copied().collect())
        .unwrap_or_default())
}

fn require_output(session: &Session, model: &'static str, name: &str) -> Result<(), EngineError> {
    if session.outputs().iter().any(|o| o.name() == name) {
        Ok(())
    } else {
        Err(mismatch(model, format!("no output named '{name}'")))
    }
}

/// Which providers to try, in order, for a choice. A GPU provider is registered with
/// `error_on_failure`, so a missing one is an error rather than a silent CPU run.
fn provider_candidates(
    choice: ExecutionProviderChoice,
    tuning: &SessionTuning,
) -> Result<Vec<(ExecutionProviderChoice, Vec<ExecutionProviderDispatch>)>, EngineError> {
    use ExecutionProviderChoice as C;
    let cpu = (
        C::Cpu,
        vec![ort::ep::CPU::default()
            .with_arena_allocator(tuning.cpu_arena)
            .build()],
    );
    let not_built = |p: C| EngineError::ProviderUnavailable {
        provider: p.name(),
        detail: format!("this build was made without the '{}' feature", p.name()),
    };
    let gpu = |p: C| -> Option<ExecutionProviderDispatch> {
        match p {
            #[cfg(feature = "cuda")]
            // Full FP32 (no TF32) and cuDNN's heuristic (not benchmarked, run-dependent)
            // algorithm choice: results as close to the CPU's as the GPU allows, and the
            // same on every worker.
            C::Cuda => Some(
                ort::ep::CUDA::default()
                    .with_tf32(false)
                    .with_conv_algorithm_search(ort::ep::cuda::ConvAlgorithmSearch::Heuristic)
                    .build()
                    .error_on_failure(),
            ),
            #[cfg(feature = "directml")]
            C::DirectMl => Some(ort::ep::DirectML::default().build().error_on_failure()),
            #[cfg(feature = "coreml")]
            C::CoreMl => Some(ort::ep::CoreML::default().build().error_on_failure()),
            _ => None,
        }
    };
    Ok(match choice {
        C::Cpu => vec![cpu],
        C::Auto => {
            let mut list: Vec<_> = [C::Cuda, C::DirectMl, C::CoreMl]
                .into_iter()
                .filter_map(|p| gpu(p).map(|ep| (p, vec![ep])))
                .collect();
            list.push(cpu);
            list
        }
        p => vec![(p, vec![gpu(p).ok_or_else(|| not_built(p))?])],
    })
}

/// Ultralytics writes class names into the ONNX metadata as a Python dict literal:
/// `{0: 'TOOTH_11', 1: 'TOOTH_12', ...}`.
fn parse_class_names(text: &str) -> Vec<String> {
    let inner = text.trim().trim_start_matches('{').trim_end_matches('}');
    let mut pairs: Vec<(usize, String)> = inner
        .split(", ")
        .filter_map(|item| {
            let (k, v) = item.split_once(':')?;
            let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
            Some((k.trim().parse().ok()?, v.to_string()))
        })
        .collect();
    pairs.sort_by_key(|(k, _)| *k);
    pairs.into_iter().map(|(_, v)| v).collect()
}

/// A session for one run. A panic during an earlier run (a bug, an allocation failure)
/// poisons the mutex; the session itself holds no state that a run half-changed (inputs and
/// outputs are made per run), so the next analysis uses it instead of failing forever.
fn lock_session(session: &Mutex<Session>) -> MutexGuard<'_, Session> {
    session.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_parse_from_the_python_literal() {
        assert_eq!(
            parse_class_names("{0: 'TOOTH_11', 2: 'ENDO', 1: 'CARIES'}"),
            vec!["TOOTH_11", "CARIES", "ENDO"]
        );
    }

    #[test]
    fn a_provider_not_compiled_in_is_a_clear_error() {
        if cfg!(feature = "cuda") {
            return;
        }
        match provider_candidates(ExecutionProviderChoice::Cuda, &SessionTuning::default()) {
            Err(EngineError::ProviderUnavailable {
                provider: "cuda",
                detail,
            }) => assert!(detail.contains("feature")),
            _ => panic!("expected ProviderUnavailable"),
        }
        assert_eq!(
            provider_candidates(ExecutionProviderChoice::Auto, &SessionTuning::default())
                .unwrap()
                .last()
                .unwrap()
                .0,
            ExecutionProviderChoice::Cpu
        );
    }

    /// The fused pass the engine runs gives exactly what the two separate ones give.
    #[test]
    fn scores_and_class_map_in_one_pass_equal_the_separate_passes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let engine = Engine::load(&EngineOptions {
            models_dir: root.join("models/test"),
            ..Default::default()
        })
        .unwrap();
        let image = image::open(root.join("tests/data/pan-small-wide.png"))
            .unwrap()
            .to_rgb8();
        let (logits, _, _) = LogitMap::run(
            &mut engine.segmentation.lock().unwrap(),
            &engine.release_memory,
            &engine.manifest.segmentation,
            &image,
        )
        .unwrap();
        let (detections, ..) = detect(
            &mut engine.detection.lock().unwrap(),
            &engine.release_memory,
            &engine.manifest.detection,
            &image,
        )
        .unwrap();
        assert!(detections.len() > 10, "{} detections", detections.len());
        let field = ProbabilityField::new(&logits, image.width(), image.height());
        let nms = engine.manifest.postprocess.tooth_nms_threshold;
        let (fused, class_map) = score_contributions_and_class_map(&detections, &field, nms);
        assert_eq!(fused, crate::score_contributions(&detections, &field, nms));
        assert_eq!(class_map, crate::ClassMap::from_field(&field));
        assert!(!fused.is_empty());
        assert!(class_map.classes.iter().any(|&c| c > 0));
    }

    #[test]
    fn a_run_that_panicked_does_not_fail_every_later_analysis() {
        let engine = Engine::load(&EngineOptions {
            models_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/test"),
            ..Default::default()
        })
        .unwrap();
        // A panic while both sessions are held, as a bug in a run would leave them.
        let poisoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _seg = engine.segmentation.lock().unwrap();
            let _det = engine.detection.lock().unwrap();
            panic!("a bug in the middle of a run");
        }));
        assert!(poisoned.is_err());
        assert!(engine.segmentation.is_poisoned() && engine.detection.is_poisoned());
        let image = RgbImage::from_pixel(640, 320, image::Rgb([90, 90, 90]));
        let analysis = engine.analyze(&image, "after-a-panic", false).unwrap();
        assert_eq!(analysis.assessment.findings().count(), 256);
    }
}
