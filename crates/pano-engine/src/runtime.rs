//! Finding and loading the ONNX Runtime shared library (ort's `load-dynamic`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::EngineError;

/// Environment variables naming the library, in the order they are read.
pub const RUNTIME_ENV_VARS: [&str; 2] = ["PANO_ORT_LIB", "ORT_DYLIB_PATH"];

/// ONNX Runtime's full telemetry opt-out on Linux and macOS: with it set before the library
/// initialises, no uploader, device id or event cache is created (the first name is what
/// 1.31/1.32 read, the second what later releases read).
pub const TELEMETRY_OPT_OUT_VARS: [&str; 2] = ["ORT_DISABLE_TELEMETRY", "ORT_TELEMETRY_DISABLED"];

/// Opts this process out of ONNX Runtime's telemetry. Official builds since 1.31 send a
/// `ProcessInfo` event (device id, CPU, memory, OS, app name) to Microsoft on Linux and macOS
/// too, and keep a device id and an event cache under `~/.cache/Microsoft`; a clinic's
/// computer must not. Call it first thing in `main`, before any thread starts: it sets
/// environment variables, which is only sound while the process has one thread.
pub fn opt_out_of_runtime_telemetry() {
    for var in TELEMETRY_OPT_OUT_VARS {
        std::env::set_var(var, "1");
    }
}

#[cfg(target_os = "windows")]
const LIB_PREFIX: &str = "onnxruntime";
#[cfg(target_os = "macos")]
const LIB_PREFIX: &str = "libonnxruntime";
#[cfg(all(unix, not(target_os = "macos")))]
const LIB_PREFIX: &str = "libonnxruntime.so";

/// Where the library is looked for: an explicit setting, the environment, the installers'
/// layouts (see [`installed_resource_dirs`]), the repository's set-up cache, and the system
/// library folders.
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
        dirs.extend(
            installed_resource_dirs(&exe_dir)
                .into_iter()
                .map(|d| d.join("onnxruntime")),
        );
    }
    dirs.extend(repository_dir(".cache/onnxruntime"));
    dirs.extend(["/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu"].map(PathBuf::from));
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

/// Where the installers put the app's resources (ONNX Runtime under `onnxruntime/`, the
/// models under `models/`), relative to the folder of the running executable: the desktop app
/// and the `pano` command are installed side by side, so both find the same files.
/// - Windows (MSI, NSIS): beside the executable.
/// - macOS: `Pano.app/Contents/MacOS/` -> `../Resources`.
/// - Linux (deb, rpm, AppImage): `/usr/bin/` -> `/usr/lib/Pano` (Tauri names the folder after
///   the product name).
///
/// Only folders that exist are returned, resolved (so the app shows `/usr/lib/Pano/models`,
/// not `/usr/bin/../lib/Pano/models`).
pub fn installed_resource_dirs(exe_dir: &Path) -> Vec<PathBuf> {
    [
        exe_dir.to_path_buf(),
        exe_dir.join("../Resources"),
        exe_dir.join("../lib/Pano"),
    ]
    .iter()
    .filter_map(|d| d.canonicalize().ok())
    .collect()
}

/// A folder of this source tree, if it exists and this program runs from the tree's own
/// build output (`target/`: development builds, tests, benchmarks). A binary anywhere else
/// (installed, copied to a clinic's computer) never looks into the folders of the machine
/// that built it: a stray ONNX Runtime or model folder there must not be picked up.
pub(crate) fn repository_dir(relative: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .ok()?;
    let exe = std::env::current_exe().ok()?.canonicalize().ok()?;
    if !runs_from_tree(&exe, &root) {
        return None;
    }
    root.join(relative).canonicalize().ok()
}

/// Whether `exe` is a build output of the tree at `root`.
fn runs_from_tree(exe: &Path, root: &Path) -> bool {
    exe.starts_with(root.join("target"))
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
        // `ort` leaves ONNX Runtime's telemetry on by default; this stops the per-session
        // events even where `opt_out_of_runtime_telemetry` was not called in time.
        let environment = builder
            .with_name("pano")
            .with_telemetry(false)
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

#[cfg(test)]
mod tests {
    use super::{installed_resource_dirs, runs_from_tree};
    use std::path::Path;

    #[test]
    fn only_programs_built_in_the_tree_look_into_it() {
        let root = Path::new("/work/main");
        assert!(runs_from_tree(
            Path::new("/work/main/target/debug/pano"),
            root
        ));
        assert!(runs_from_tree(
            Path::new("/work/main/target/release/deps/pipeline-1a2b"),
            root
        ));
        assert!(!runs_from_tree(Path::new("/usr/bin/pano"), root));
        assert!(!runs_from_tree(Path::new("/work/main/scripts/pano"), root));
        assert!(!runs_from_tree(
            Path::new("/work/main-target/debug/pano"),
            root
        ));
    }

    /// Each installer's layout, built in a temporary folder: the resource folder is found
    /// from the executable's folder, resolved, and only where it exists.
    #[test]
    fn the_installers_resource_folders_are_found_from_the_executable() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        // Linux (deb, rpm): /usr/bin/pano-desktop and /usr/lib/Pano/.
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::create_dir_all(root.join("usr/lib/Pano/models")).unwrap();
        let linux = installed_resource_dirs(&root.join("usr/bin"));
        assert_eq!(linux, vec![root.join("usr/bin"), root.join("usr/lib/Pano")]);
        // macOS: Pano.app/Contents/MacOS/ and Pano.app/Contents/Resources/.
        let contents = root.join("Pano.app/Contents");
        std::fs::create_dir_all(contents.join("MacOS")).unwrap();
        std::fs::create_dir_all(contents.join("Resources")).unwrap();
        assert_eq!(
            installed_resource_dirs(&contents.join("MacOS")),
            vec![contents.join("MacOS"), contents.join("Resources")]
        );
        // Windows: everything beside the executable; nothing else exists there.
        let program = root.join("Program Files/Pano");
        std::fs::create_dir_all(&program).unwrap();
        assert_eq!(installed_resource_dirs(&program), vec![program.clone()]);
    }
}
