//! The desktop's RunPod client against the worker's `--serve-api` endpoint, started as the
//! real binary: queue, states, timing fields, cancel, health, bearer key, expiry.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pano_cloud::runpod::{
    EndpointRole, RunpodClient, RunpodEndpoint, RunpodError, RunpodSettings, SubmittedJob,
};
use pano_core::WorkerInput;

const KEY: &str = "local-api-key";

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

struct Served(Child, u16);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve() -> Served {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pano-worker"))
        .args(["--serve-api", "--allow-http", "--endpoint-id", "local-test"])
        .args(["--port", &port.to_string()])
        .arg("--models")
        .arg(root().join("models/test"))
        .args(["--provider", "cpu"])
        .env("PANO_API_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "pano-worker exited");
        assert!(Instant::now() < deadline, "pano-worker did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Served(child, port)
}

/// A file server for the image (the worker downloads `image_url`).
async fn files() -> String {
    let app = axum::Router::new().route(
        "/pan-01432.jpg",
        axum::routing::get(|| async {
            std::fs::read(root().join("tests/data/pan-01432.jpg")).unwrap()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn client(port: u16, key: &str, tune: impl FnOnce(&mut RunpodSettings)) -> RunpodClient {
    let mut settings = RunpodSettings::new(RunpodEndpoint::new(
        &format!("http://127.0.0.1:{port}/v2"),
        "local-test",
    ));
    tune(&mut settings);
    RunpodClient::new(settings, key.to_string().into()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_client_runs_jobs_against_serve_api() {
    let served = serve();
    let files = files().await;
    let client = client(served.1, KEY, |_| {});
    let input = |debug| WorkerInput {
        image_url: format!("{files}/pan-01432.jpg"),
        debug,
    };

    // Two jobs: the second waits in the queue while the first runs; cancel it there.
    let first = client.submit(&input(true)).await.unwrap();
    let second = client.submit(&input(false)).await.unwrap();
    let health = client.health(EndpointRole::Primary).await.unwrap();
    assert_eq!(
        health.jobs_in_queue + health.jobs_in_progress,
        2,
        "{health:?}"
    );
    client.cancel(&second).await.unwrap();
    let done = client.wait(&first, "pan-01432", |_| {}).await.unwrap();
    assert!(done.execution > Duration::ZERO);
    assert!(done.output.semantic_segmentation.is_some());
    assert_eq!(
        client.wait(&second, "x", |_| {}).await.unwrap_err(),
        RunpodError::JobCancelled
    );
    assert_eq!(
        client
            .health(EndpointRole::Primary)
            .await
            .unwrap()
            .describe(),
        "ready"
    );

    // An execution timeout shorter than any analysis: TIMED_OUT.
    let hurried = client_with_timeout(served.1);
    let job = hurried.submit(&input(false)).await.unwrap();
    assert_eq!(
        hurried.wait(&job, "x", |_| {}).await.unwrap_err(),
        RunpodError::JobTimedOut
    );

    // A worker error comes back as FAILED with its reason.
    let bad = client
        .submit(&WorkerInput {
            image_url: format!("{files}/missing.jpg"),
            debug: false,
        })
        .await
        .unwrap();
    match client.wait(&bad, "x", |_| {}).await {
        Err(RunpodError::JobFailed { message }) => {
            assert!(message.contains("HTTP 404"), "{message}")
        }
        other => panic!("{other:?}"),
    }

    // Unknown jobs and wrong keys.
    let unknown = SubmittedJob {
        id: "nope".into(),
        endpoint: EndpointRole::Primary,
    };
    assert!(matches!(
        client.status(&unknown).await,
        Err(RunpodError::JobExpired { .. })
    ));
    assert_eq!(
        client_with_key(served.1, "wrong")
            .submit(&input(false))
            .await
            .unwrap_err(),
        RunpodError::Unauthorized
    );
}

fn client_with_timeout(port: u16) -> RunpodClient {
    client(port, KEY, |s| {
        s.execution_timeout = Duration::from_millis(1)
    })
}

fn client_with_key(port: u16, key: &str) -> RunpodClient {
    client(port, key, |_| {})
}
