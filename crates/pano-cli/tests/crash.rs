//! Crash tests: `pano analyze` killed with SIGKILL in the middle of a batch, then run
//! again. Every analysis ends exactly once: no lost image, no duplicate rows, no duplicate
//! objects in the bucket, and a job RunPod already had is polled again by its id.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pano_testkit::{
    distinct_radiographs, LocalRunpod, S3Peer, ACCESS_KEY, BUCKET, RUNPOD_ENDPOINT, RUNPOD_KEY,
    SECRET_KEY,
};
use rusqlite::Connection;

fn pano(data: &Path, inputs: &Path, out: &Path, backend: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pano"));
    cmd.args(["analyze", inputs.to_str().unwrap(), "--backend", backend])
        .arg("--out")
        .arg(out)
        .arg("--models")
        .arg(pano_testkit::test_models())
        .env("PANO_DATA_DIR", data)
        .env("PANO_SETTINGS", data.join("settings.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// A count the assertions rely on: any SQL error fails the test (a typo in a query or a
/// renamed column must not read as 0).
fn count(db: &Path, sql: &str) -> i64 {
    try_count(db, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn try_count(db: &Path, sql: &str) -> rusqlite::Result<i64> {
    let conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.query_row(sql, [], |r| r.get(0))
}

/// While the first run creates the database its tables may not exist yet: that (and only
/// that) means "not ready".
fn count_when_ready(db: &Path, sql: &str) -> i64 {
    match try_count(db, sql) {
        Ok(n) => n,
        Err(e) if e.to_string().contains("no such table") => 0,
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// Waits until `ready` holds, then kills the process (SIGKILL).
fn kill_when(child: &mut Child, db: &Path, ready: &str) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("pano finished ({status}) before it could be killed");
        }
        if db.exists() && count_when_ready(db, ready) > 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "never got to the point to kill"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
}

fn finish(mut cmd: Command) {
    let run = cmd.output().unwrap();
    assert!(
        run.status.success(),
        "the second run: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// Each analysis once, completed, with 256 findings, its files (input, CSV, the two debug
/// images and the outlines), one 'created' audit row and
/// one finished analyze job.
fn assert_exactly_once(db: &Path, images: usize, artefacts_each: i64) {
    let n = images as i64;
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM analyses"),
        n,
        "one analysis per image"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM analyses WHERE status = 'completed'"
        ),
        n
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM findings"), 256 * n);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM artefacts"),
        artefacts_each * n
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'created'"
        ),
        n
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'analyze' AND state = 'done'"
        ),
        n
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'analyze' AND state NOT IN ('done')"
        ),
        0
    );
}

fn setup(images: usize, settings: &str) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (data, inputs, out) = (
        dir.path().join("data"),
        dir.path().join("in"),
        dir.path().join("out"),
    );
    for d in [&data, &inputs, &out] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::write(data.join("settings.toml"), settings).unwrap();
    distinct_radiographs(&inputs, images);
    (dir, data, inputs, out)
}

#[test]
fn a_local_batch_killed_mid_way_completes_exactly_once() {
    let (_dir, data, inputs, out) = setup(4, "cloud_concurrency = 1\n");
    let db = data.join("pano.sqlite");
    let mut child = pano(&data, &inputs, &out, "local").spawn().unwrap();
    kill_when(
        &mut child,
        &db,
        "SELECT COUNT(*) FROM analyses WHERE status = 'completed'",
    );
    let done_before = count(
        &db,
        "SELECT COUNT(*) FROM analyses WHERE status = 'completed'",
    );
    assert!(
        done_before < 4,
        "killed mid-batch ({done_before} of 4 done)"
    );

    finish(pano(&data, &inputs, &out, "local"));
    // Input, CSV and two debug images each.
    assert_exactly_once(&db, 4, 5);
    for i in 0..4 {
        let csv = std::fs::read_to_string(out.join(format!("radiograph-{i}.csv"))).unwrap();
        assert_eq!(
            pano_core::parse_csv(&csv).unwrap().name,
            format!("radiograph-{i}")
        );
    }
}

#[test]
fn a_cloud_batch_killed_mid_way_polls_runpod_again_and_completes_exactly_once() {
    let s3 = S3Peer::start();
    let runpod = LocalRunpod::start();
    let (_dir, data, inputs, out) = setup(
        4,
        "cloud_concurrency = 1\n[retry]\nbase_s = 0.3\ncap_s = 1.5\n[runpod]\nmax_attempts = 2\n",
    );
    let db = data.join("pano.sqlite");
    let with_cloud = |mut cmd: Command| {
        cmd.env("RUNPOD_API_KEY", RUNPOD_KEY)
            .env("RUNPOD_ENDPOINT_ID", RUNPOD_ENDPOINT)
            .env("RUNPOD_BASE_URL", runpod.base_url())
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_REGION", "us-east-1")
            .env("S3_ENDPOINT", s3.endpoint())
            .env("S3_BUCKET", BUCKET);
        cmd
    };
    let mut child = with_cloud(pano(&data, &inputs, &out, "cloud"))
        .spawn()
        .unwrap();
    // Killed while RunPod holds a job it has not finished (its id is recorded) and after
    // at least one result came back.
    kill_when(
        &mut child,
        &db,
        "SELECT COUNT(*) FROM jobs WHERE runpod_job_id IS NOT NULL AND state IN ('submitted', 'running')
           AND (SELECT COUNT(*) FROM analyses WHERE status = 'completed') >= 1",
    );
    let in_flight: Vec<(String, String)> = {
        let conn = Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, runpod_job_id FROM jobs WHERE runpod_job_id IS NOT NULL AND state IN ('submitted', 'running')")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(in_flight.len(), 1);
    let uploading = count(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'uploading'");

    finish(with_cloud(pano(&data, &inputs, &out, "cloud")));
    assert_exactly_once(&db, 4, 5);
    // The job RunPod had was polled by its id, not submitted again.
    let (job, runpod_id) = &in_flight[0];
    assert_eq!(
        count(&db, &format!("SELECT COUNT(*) FROM jobs WHERE id = '{job}' AND runpod_job_id = '{runpod_id}' AND state = 'done'")),
        1
    );
    let submissions = runpod.submissions() as i64;
    assert!(
        (4..=4 + uploading).contains(&submissions),
        "{submissions} submissions for 4 images"
    );
    // Every temp upload is deleted once its result is in (the rest of the queue, the
    // deletions, finishes with `pano queue --resume`).
    let mut resume = with_cloud({
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pano"));
        cmd.args(["queue", "--resume"])
            .env("PANO_DATA_DIR", &data)
            .env("PANO_SETTINGS", data.join("settings.toml"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    });
    let resumed = resume.output().unwrap();
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM jobs WHERE state NOT IN ('done')"),
        0
    );
    assert!(
        s3.keys("temp/").is_empty(),
        "temp objects left: {:?}",
        s3.keys("")
    );
    // The keys came from the environment and went nowhere on disk.
    let files = pano_testkit::files_under(&data);
    assert!(files.iter().any(|f| f.ends_with("pano.sqlite")));
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for key in [RUNPOD_KEY, SECRET_KEY] {
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "{} holds a key",
                file.display()
            );
        }
    }
}
