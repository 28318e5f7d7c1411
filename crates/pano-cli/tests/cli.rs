//! The `pano` binary as a user runs it: a batch with a good and a bad file.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn a_bad_file_gets_its_own_error_and_the_batch_goes_on() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/data/pan-small-wide.png"),
        input.path().join("a-good.png"),
    )
    .unwrap();
    std::fs::write(
        input.path().join("b-broken.jpg"),
        b"\xff\xd8\xff\xe0 not really a jpeg",
    )
    .unwrap();

    let data = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_pano"))
        .env("PANO_DATA_DIR", data.path())
        .env("PANO_SETTINGS", data.path().join("settings.toml"))
        .args([
            "analyze",
            input.path().to_str().unwrap(),
            "--out",
            out.path().to_str().unwrap(),
            "--debug",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not for diagnosis"), "{stderr}");
    assert!(
        stderr.contains("b-broken.jpg: the JPEG file is damaged or incomplete"),
        "{stderr}"
    );
    assert!(stderr.contains("1 input(s) failed"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let csv = std::fs::read_to_string(out.path().join("a-good.csv")).unwrap();
    let assessment = pano_core::parse_csv(&csv).unwrap();
    assert_eq!(assessment.name, "a-good");
    let side: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("a-good.analysis.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(side["test_model"], true);
    assert_eq!(side["model_version"], "anchor-format-narrow-random-1");
    for debug in ["semantic-segmentation.jpg", "instance-detection.jpg"] {
        let bytes = std::fs::read(out.path().join("a-good").join(debug)).unwrap();
        assert_eq!(&bytes[..2], b"\xff\xd8", "{debug} is a JPEG");
        // Test models: the notice is stamped along the bottom left, a dark red band.
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        let red = |x0: u32, y0: u32, x1: u32, y1: u32| {
            (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| {
                    let [r, g, b] = img.get_pixel(x, y).0;
                    r > 110 && g < 60 && b < 60
                })
                .count()
        };
        let band = red(0, h - 12, w.min(400), h);
        assert!(
            band > 1000,
            "{debug}: {band} dark red pixels along the bottom left"
        );
    }
    assert!(!out.path().join("b-broken.csv").exists());
}

#[test]
fn json_lines_carry_all_256_findings() {
    let out = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_pano"))
        .env("PANO_DATA_DIR", data.path())
        .env("PANO_SETTINGS", data.path().join("settings.toml"))
        .args([
            "analyze",
            root()
                .join("tests/data/pan-small-square.png")
                .to_str()
                .unwrap(),
        ])
        .args(["--out", out.path().to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&run.stdout).trim()).unwrap();
    assert_eq!(line["findings"].as_array().unwrap().len(), 256);
    assert_eq!(line["file_name"], "pan-small-square");
}

#[test]
fn missing_models_exit_with_2_and_say_what_to_do() {
    let data = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_pano"))
        .env("PANO_DATA_DIR", data.path())
        .env("PANO_SETTINGS", data.path().join("settings.toml"))
        .args(["analyze", "whatever.png", "--models", "/nonexistent/models"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr)
        .contains("no model manifest at /nonexistent/models/manifest.json"));
}

#[test]
fn same_stems_never_overwrite_but_a_failed_one_does_not_block() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::write(a.path().join("scan.png"), b"broken").unwrap();
    std::fs::copy(
        root().join("tests/data/pan-small-wide.png"),
        b.path().join("scan.png"),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/data/pan-small-square.png"),
        b.path().join("scan.tif"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_pano"))
        .env("PANO_DATA_DIR", data.path())
        .env("PANO_SETTINGS", data.path().join("settings.toml"))
        .args([
            "analyze",
            a.path().join("scan.png").to_str().unwrap(),
            b.path().join("scan.png").to_str().unwrap(),
        ])
        .arg(b.path().join("scan.tif"))
        .args(["--out", out.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a supported image format"), "{stderr}");
    assert!(
        stderr.contains("scan.tif: another input of this batch is also named 'scan'"),
        "{stderr}"
    );
    let side: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("scan.analysis.json")).unwrap(),
    )
    .unwrap();
    assert!(
        side["source"].as_str().unwrap().ends_with("scan.png"),
        "the second file's result stands"
    );
    assert_eq!(side["image"]["width"], 1000);
}

/// ONNX Runtime's official Linux builds queue a `ProcessInfo` event for Microsoft and keep a
/// device id under `~/.cache/Microsoft` unless told not to (they also stay quiet on CI
/// systems they recognise, so the test removes those hints): an analysis must leave nothing
/// there.
#[test]
fn an_analysis_leaves_no_runtime_telemetry_behind() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_pano"));
    for var in pano_engine::TELEMETRY_OPT_OUT_VARS.iter().chain(&[
        "CI",
        "TF_BUILD",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
        "CIRCLECI",
        "TRAVIS",
        "JENKINS_URL",
        "CODEBUILD_BUILD_ID",
        "BUILDKITE",
        "TEAMCITY_VERSION",
        "APPVEYOR",
        "BITBUCKET_BUILD_NUMBER",
        "XDG_CACHE_HOME",
    ]) {
        command.env_remove(var);
    }
    let run = command
        .env("HOME", home.path())
        .env("PANO_DATA_DIR", home.path().join("data"))
        .env("PANO_SETTINGS", home.path().join("settings.toml"))
        .args([
            "analyze",
            root()
                .join("tests/data/pan-small-wide.png")
                .to_str()
                .unwrap(),
            "--out",
            out.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.path().join("pan-small-wide.csv").is_file());
    let left = pano_testkit::files_under(&home.path().join(".cache"));
    assert!(left.is_empty(), "telemetry files: {left:?}");
}

#[test]
fn an_input_named_dot_dot_writes_nothing_outside_the_output_folder() {
    let input = tempfile::tempdir().unwrap();
    // `...png` has the stem `..`: with --debug its folder would be the parent of --out.
    std::fs::copy(
        root().join("tests/data/pan-small-wide.png"),
        input.path().join("...png"),
    )
    .unwrap();
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("out");
    let data = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_pano"))
        .env("PANO_DATA_DIR", data.path())
        .env("PANO_SETTINGS", data.path().join("settings.toml"))
        .arg("analyze")
        .arg(input.path().join("...png"))
        .arg("--out")
        .arg(&out)
        .arg("--debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let mut written: Vec<String> = pano_testkit::files_under(parent.path())
        .into_iter()
        .map(|p| p.strip_prefix(parent.path()).unwrap().display().to_string())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "out/image.analysis.json",
            "out/image.csv",
            "out/image/instance-detection.jpg",
            "out/image/semantic-segmentation.jpg"
        ],
        "{stderr}"
    );
}

#[test]
fn a_binary_outside_the_build_tree_does_not_use_the_build_machines_runtime_or_models() {
    // The same program copied elsewhere, as an installed or shipped copy is: it must not
    // find this repository's ONNX Runtime (.cache/) or test models by itself.
    let elsewhere = tempfile::tempdir().unwrap();
    let exe = elsewhere.path().join("pano");
    std::fs::copy(env!("CARGO_BIN_EXE_pano"), &exe).unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(&exe);
    for var in [
        "PANO_ORT_LIB",
        "ORT_DYLIB_PATH",
        "PANO_MODELS",
        "PANO_BACKEND",
    ] {
        cmd.env_remove(var);
    }
    let run = cmd
        .env("HOME", data.path())
        .env("PANO_DATA_DIR", data.path())
        .env("PANO_SETTINGS", data.path().join("settings.toml"))
        .args(["analyze", "--backend", "local", "--out"])
        .arg(out.path())
        .arg(root().join("tests/data/pan-small-wide.png"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success(),
        "it analysed with the build tree's files: {stderr}"
    );
    let tree = root().canonicalize().unwrap().display().to_string();
    assert!(
        !stderr.contains(&format!("{tree}/.cache")) && !stderr.contains(&format!("{tree}/models")),
        "{stderr}"
    );
    assert!(
        stderr.contains("models") || stderr.contains("ONNX Runtime"),
        "says what is missing: {stderr}"
    );
}
