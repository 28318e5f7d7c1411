//! Finding and loading the ONNX Runtime shared library (ort's `load-dynamic`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::EngineError;

/// Environment variables naming the library, in the order they are read.
pub const RUNTIME_ENV_VARS: [&str; 2] = ["PANO_ORT_LIB", "ORT_DYLIB_PATH"];

#[cfg(target_os = "windows")]
const LIB_PREFIX: &str = "onnxruntime";
#[cfg(target_os = "macos")]
const LIB_PREFIX: &str = "libonnxruntime";
#[cfg(all(unix, not(target_os = "macos")))]
const LIB_PREFIX: &str = "libonnxruntime.so";

/// Where the library is looked for: an explicit setting, the environment, beside the
/// executable (installers put it there or in ../lib), the repository's set-up cache, and the
/// system library folders.
pub fn locate_runtime_library(explicit: Option<&Path>) -> Result<PathBuf, EngineError> {
    let mut searched = Vec::new();
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        searched.push(path.display().to_string());
    }
    for var in RUNTIME_ENV_VARS {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(value);
            if path.is_file() {
                return Ok(path);
            }
            searched.push(format!("${var}={}", path.display()));
        }
    }
    let mut dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.clone());
        dirs.push(exe_dir.join("lib"));
        dirs.push(exe_dir.join("../lib/pano"));
        dirs.push(exe_dir.join("../lib"));
        dirs.push(exe_dir.join("../Resources"));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/onnxruntime"));
    dirs.extend(
        [
            "/usr/lib/pano",
            "/usr/local/lib",
            "/usr/lib",
            "/usr/lib/x86_64-linux-gnu",
        ]
        .map(PathBuf::from),
    );
    for dir in dirs {
        if let Some(found) = library_in(&dir) {
            return Ok(found);
        }
        searched.push(dir.display().to_string());
    }
    Err(EngineError::RuntimeNotFound {
        searched: searched.join(", "),
    })
}

/// The newest `libonnxruntime.so*` (or platform equivalent) in a folder, skipping the
/// providers' own libraries.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(LIB_PREFIX)
                && !name.contains("providers")
                && (cfg!(not(target_os = "windows")) || name.ends_with(".dll"))
                && (cfg!(not(target_os = "macos")) || name.ends_with(".dylib"))
        })
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

struct LoadedRuntime {
    path: PathBuf,
    environment: Environment,
}

static RUNTIME: OnceLock<Result<LoadedRuntime, String>> = OnceLock::new();

/// Loads the library once per process; later calls reuse it whatever path they name.
pub(crate) fn environment(
    explicit: Option<&Path>,
) -> Result<(&'static Environment, &'static Path), EngineError> {
    let path = locate_runtime_library(explicit)?;
    let loaded = RUNTIME.get_or_init(|| {
        let builder = ort::init_from(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let environment = builder
            .with_name("pano")
            .build()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(LoadedRuntime {
            path: path.clone(),
            environment,
        })
    });
    match loaded {
        Ok(rt) => Ok((&rt.environment, rt.path.as_path())),
        Err(detail) => Err(EngineError::RuntimeLoad {
            path,
            detail: detail.clone(),
        }),
    }
}
