//! The worker against a test job server speaking RunPod's worker protocol (take / done /
//! ping / stop, docs/cloud-contracts.md section 2). The server is written for this test: the
//! real one is RunPod's and cannot run here.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::Response;
use pano_engine::{Engine, EngineOptions};
use pano_worker::download::DownloadPolicy;
use pano_worker::protocol::{ProtocolConfig, Worker};
use serde_json::{json, Value};

const KEY: &str = "worker-key-123";

#[derive(Default)]
struct JobServer {
    jobs: VecDeque<Value>,
    results: BTreeMap<String, Value>,
    pings: Vec<String>,
    stop: Vec<String>,
    bad_auth: usize,
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

async fn serve(state: Arc<Mutex<JobServer>>, req: Request<Body>) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: HeaderMap = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap();
    let reply = |status: u16, body: Vec<u8>| {
        Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .body(Body::from(body))
            .unwrap()
    };
    if let Some(file) = path.strip_prefix("/files/") {
        return match file {
            "pan-01432.jpg" => reply(
                200,
                std::fs::read(root().join("tests/data/pan-01432.jpg")).unwrap(),
            ),
            "notes.jpg" => reply(200, b"these are not pixels".to_vec()),
            "big.png" => reply(200, vec![0u8; 3 * 1024 * 1024]),
            "slow.jpg" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                reply(200, vec![])
            }
            _ => reply(404, vec![]),
        };
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(KEY) {
        state.lock().unwrap().bad_auth += 1;
        return reply(401, vec![]);
    }
    let mut s = state.lock().unwrap();
    if path.starts_with("/job-take/worker-1") {
        assert!(query.contains("job_in_progress="), "{query}");
        return match s.jobs.pop_front() {
            Some(job) => reply(200, serde_json::to_vec(&job).unwrap()),
            None => reply(204, vec![]),
        };
    }
    if path.starts_with("/job-stop/worker-1") {
        return if s.stop.is_empty() {
            reply(204, vec![])
        } else {
            reply(
                200,
                serde_json::to_vec(&json!({"jobsToStop": s.stop})).unwrap(),
            )
        };
    }
    if let Some(job) = path.strip_prefix("/job-done/worker-1/") {
        assert!(query.contains("isStream=false"));
        assert_eq!(headers["x-request-id"].to_str().unwrap(), job);
        s.results
            .insert(job.to_string(), serde_json::from_slice(&body).unwrap());
        return reply(200, vec![]);
    }
    if path.starts_with("/ping/worker-1") {
        s.pings.push(query);
        return reply(200, vec![]);
    }
    reply(404, vec![])
}

fn job(id: &str, url: &str, debug: bool) -> Value {
    json!({"id": id, "input": {"image_url": url, "debug": debug}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_takes_runs_and_answers_each_job() {
    let state = Arc::new(Mutex::new(JobServer::default()));
    let s = state.clone();
    let app = axum::Router::new().fallback(move |req: Request<Body>| serve(s.clone(), req));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    {
        let mut s = state.lock().unwrap();
        s.jobs.extend([
            job("job-good", &format!("{base}/files/pan-01432.jpg"), true),
            job("job-slow", &format!("{base}/files/slow.jpg"), false),
            job("job-unreachable", "http://127.0.0.1:1/x.jpg", false),
            job(
                "job-not-an-image",
                &format!("{base}/files/notes.jpg"),
                false,
            ),
            job("job-too-big", &format!("{base}/files/big.png"), false),
            job("job-ftp", "ftp://example.org/x.jpg", false),
            json!({"id": "job-bad-input", "input": {"url": "x"}}),
        ]);
        // RunPod asks to stop the slow job (the stop long-poll answers for it throughout).
        s.stop.push("job-slow".into());
    }
    let engine = Arc::new(
        Engine::load(&EngineOptions {
            models_dir: root().join("models/test"),
            ..Default::default()
        })
        .unwrap(),
    );
    let config = ProtocolConfig {
        get_job: format!("{base}/job-take/$ID?gpu=test"),
        post_output: format!("{base}/job-done/$RUNPOD_POD_ID/$ID?gpu=test"),
        ping: Some(format!("{base}/ping/$RUNPOD_POD_ID?gpu=test")),
        worker_id: "worker-1".into(),
        api_key: KEY.to_string().into(),
        ping_interval: Duration::from_millis(100),
    };
    let policy = DownloadPolicy {
        allow_http: true,
        max_bytes: 2 * 1024 * 1024,
        timeout: Duration::from_secs(20),
    };
    let worker = Worker::new(engine.clone(), config, policy);
    tokio::time::timeout(Duration::from_secs(120), worker.run(Some(7)))
        .await
        .expect("all jobs handled in time");

    let s = state.lock().unwrap();
    assert_eq!(s.bad_auth, 0);
    let error = |id: &str| s.results[id]["error"].as_str().unwrap_or("").to_string();
    // The good job: the contract's output, valid for the desktop client, and the local CSV
    // byte for byte.
    let output = &s.results["job-good"]["output"];
    let validated = pano_cloud::validate_output(output, "pan-01432", &Default::default()).unwrap();
    assert!(validated.semantic_segmentation.is_some() && validated.instance_detection.is_some());
    let local = engine
        .analyze(
            &pano_imaging::import_file(
                &root().join("tests/data/pan-01432.jpg"),
                &Default::default(),
            )
            .unwrap()
            .rgb,
            "pan-01432",
            false,
        )
        .unwrap();
    assert_eq!(
        output["csv_data"].as_str().unwrap(),
        pano_core::write_csv(&local.assessment)
    );
    // Each failure says what went wrong.
    assert!(
        error("job-unreachable").contains("could not be downloaded"),
        "{}",
        error("job-unreachable")
    );
    assert!(
        error("job-not-an-image").contains("could not be read"),
        "{}",
        error("job-not-an-image")
    );
    assert_eq!(error("job-too-big"), "the image is larger than 2 MB");
    assert!(
        error("job-ftp").contains("must be https"),
        "{}",
        error("job-ftp")
    );
    assert!(
        error("job-bad-input").contains("image_url"),
        "{}",
        error("job-bad-input")
    );
    // The stopped job posted nothing; the others all did.
    assert!(!s.results.contains_key("job-slow"));
    assert_eq!(s.results.len(), 6);
    // Heartbeats carried the ids in progress.
    assert!(
        s.pings.iter().any(|q| q.contains("job_id=job-good")),
        "{:?}",
        s.pings
    );
}
