//! The RunPod client against a fault-injecting HTTP server, for what RunPod's own local
//! server cannot show: throttling, outages, slow and dropped connections, garbage, jobs that
//! never start or never end, failures, expiry. This server is a stand-in written for these
//! tests; the happy path runs against RunPod's SDK in `runpod_sdk.rs`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use axum::response::Response;
use pano_cloud::runpod::{
    EndpointRole, JobProgress, RunpodClient, RunpodEndpoint, RunpodError, RunpodSettings,
    SubmittedJob,
};
use pano_cloud::CloudError;
use pano_core::WorkerInput;

#[derive(Clone)]
enum Reply {
    Json(u16, String),
    /// Answers after a pause longer than the client's request timeout.
    Slow(Duration, String),
    /// Sends the start of a body, then breaks the connection.
    Dropped,
    /// A redirect to another path of this server.
    Redirect(u16, String),
}

#[derive(Default)]
struct Script {
    queued: HashMap<String, VecDeque<Reply>>,
    fallback: HashMap<String, Reply>,
    calls: Vec<String>,
}

#[derive(Clone)]
struct Server {
    script: Arc<Mutex<Script>>,
    base: String,
}

impl Server {
    async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let s = script.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let s = s.clone();
            async move { answer(&s, req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v2", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { script, base }
    }

    /// Replies for a route ("run", "status", "cancel", "health"), used once each in order.
    fn queue(&self, route: &str, replies: Vec<Reply>) {
        self.script
            .lock()
            .unwrap()
            .queued
            .entry(route.into())
            .or_default()
            .extend(replies);
    }

    /// The reply for a route once its queue is empty.
    fn always(&self, route: &str, reply: Reply) {
        self.script
            .lock()
            .unwrap()
            .fallback
            .insert(route.into(), reply);
    }

    fn calls(&self, route: &str) -> usize {
        self.script
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.as_str() == route)
            .count()
    }

    fn client(&self, tune: impl FnOnce(&mut RunpodSettings)) -> RunpodClient {
        let mut settings = RunpodSettings::new(RunpodEndpoint::new(&self.base, "ep-test"));
        // Long enough for a loaded CI machine, short enough for the slow-answer case.
        settings.request_timeout = Duration::from_millis(1500);
        settings.backoff_base = Duration::from_millis(20);
        settings.backoff_cap = Duration::from_millis(100);
        tune(&mut settings);
        RunpodClient::new(settings, "rp-test-key".to_string().into()).unwrap()
    }
}

async fn answer(script: &Arc<Mutex<Script>>, req: Request<Body>) -> Response {
    // /v2/ep-test/<route>[/<id>]
    let parts: Vec<&str> = req.uri().path().split('/').collect();
    let route = parts.get(3).copied().unwrap_or("").to_string();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let reply = {
        let mut s = script.lock().unwrap();
        s.calls.push(route.clone());
        // "files..." stands for someone else's file server: no RunPod key expected there.
        if auth != "Bearer rp-test-key" && !route.starts_with("files") {
            Some(Reply::Json(401, "{\"error\":\"unauthorized\"}".into()))
        } else {
            s.queued
                .get_mut(&route)
                .and_then(|q| q.pop_front())
                .or_else(|| s.fallback.get(&route).cloned())
        }
    };
    match reply.unwrap_or(Reply::Json(404, "{}".into())) {
        Reply::Json(status, body) => Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap(),
        Reply::Slow(pause, body) => {
            tokio::time::sleep(pause).await;
            Response::builder()
                .status(200)
                .body(Body::from(body))
                .unwrap()
        }
        Reply::Redirect(status, location) => Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .header("location", location)
            .body(Body::empty())
            .unwrap(),
        Reply::Dropped => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"{\"id\": \"job-1\", \"sta")),
                Err(std::io::Error::other("connection dropped")),
            ];
            Response::builder()
                .status(200)
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .unwrap()
        }
    }
}

fn status_json(state: &str, extra: &str) -> String {
    format!("{{\"id\": \"job-1\", \"status\": \"{state}\"{extra}}}")
}

/// A worker output of the contract's shape, in the deployed workers' spelling (model class
/// names in the JSON, CSV names in the CSV, a temp file's stem as the CSV's file name).
fn valid_output() -> serde_json::Value {
    let csv = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/reference/pan-01432.csv"),
    )
    .unwrap();
    let findings: Vec<serde_json::Value> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let name = match f[2] {
                "RESIDUAL_ROOT" => "ROOT_REMNANTS",
                "ROOT_CANAL_FILLING" => "ENDO",
                "PERIAPICAL_RADIOLUCENCY" => "PERIAPICAL_RADIOLUCENT",
                other => other,
            };
            serde_json::json!({"fdi": f[1], "finding": name, "score": f[3].parse::<f64>().unwrap()})
        })
        .collect();
    serde_json::json!({
        "findings": findings,
        "csv_data": csv.replace("pan-01432,", "tmpa8f3k2,"),
        "num_findings": 256,
    })
}

fn completed() -> Reply {
    Reply::Json(
        200,
        status_json(
            "COMPLETED",
            &format!(
                ", \"delayTime\": 1200, \"executionTime\": 3400, \"output\": {}",
                valid_output()
            ),
        ),
    )
}

fn in_queue() -> Reply {
    Reply::Json(200, status_json("IN_QUEUE", ""))
}

fn accepted() -> Reply {
    Reply::Json(200, status_json("IN_QUEUE", ""))
}

fn input() -> WorkerInput {
    WorkerInput {
        image_url: "https://bucket.example/temp/x.jpg?X-Amz-Signature=abc".into(),
        debug: false,
    }
}

async fn run_to_end(client: &RunpodClient) -> Result<pano_cloud::runpod::FinishedJob, RunpodError> {
    let job = client.submit(&input()).await?;
    client.wait(&job, "pan-01432", |_| {}).await
}

#[tokio::test]
async fn a_429_burst_is_waited_out() {
    let server = Server::start().await;
    server.queue("run", vec![Reply::Json(429, "{}".into()); 3]);
    server.always("run", accepted());
    server.queue("status", vec![Reply::Json(429, "{}".into()); 2]);
    server.always("status", completed());
    let done = run_to_end(&server.client(|_| {})).await.unwrap();
    assert_eq!(server.calls("run"), 4);
    assert_eq!(server.calls("status"), 3);
    assert_eq!(done.queue_wait, Duration::from_millis(1200));
    assert_eq!(done.execution, Duration::from_millis(3400));
    // The result takes the image's name, not the worker's temp file stem; the spellings
    // are normalised.
    let reference = pano_core::parse_csv(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/reference/pan-01432.csv"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pano_core::write_csv(&done.output.assessment),
        pano_core::write_csv(&reference)
    );
}

#[tokio::test]
async fn endless_throttling_ends_in_a_clear_error() {
    let server = Server::start().await;
    server.always("run", Reply::Json(429, "{}".into()));
    let err = run_to_end(&server.client(|s| s.max_attempts = 4))
        .await
        .unwrap_err();
    assert_eq!(err, RunpodError::Throttled);
    assert_eq!(server.calls("run"), 4);
    assert!(err.is_transient());
}

#[tokio::test]
async fn server_errors_slow_answers_and_dropped_connections_are_retried() {
    let server = Server::start().await;
    // RunPod answered "not taken" both times: safe to send /run again.
    server.queue(
        "run",
        vec![
            Reply::Json(502, "bad gateway".into()),
            Reply::Json(503, "{}".into()),
        ],
    );
    server.always("run", accepted());
    server.queue(
        "status",
        vec![
            Reply::Json(500, "{}".into()),
            Reply::Slow(Duration::from_secs(4), status_json("IN_PROGRESS", "")),
            Reply::Dropped,
            in_queue(),
        ],
    );
    server.always("status", completed());
    run_to_end(&server.client(|_| {})).await.unwrap();
    assert_eq!(server.calls("run"), 3);
    assert_eq!(server.calls("status"), 5);
}

/// `/run` starts a paid job: after a timeout or a connection that broke once the request
/// was out, RunPod may have the job, so it is not sent again (nor to the backup).
#[tokio::test]
async fn a_run_whose_answer_was_lost_is_sent_once() {
    for lost in [
        Reply::Slow(Duration::from_secs(4), status_json("IN_QUEUE", "")),
        Reply::Dropped,
    ] {
        let server = Server::start().await;
        server.queue("run", vec![lost]);
        server.always("run", accepted());
        let backup = Server::start().await;
        backup.always("run", accepted());
        let client =
            server.client(|s| s.backup = Some(RunpodEndpoint::new(&backup.base, "ep-test")));
        let err = client.submit(&input()).await.unwrap_err();
        assert!(
            matches!(err, RunpodError::SubmissionUncertain { .. }),
            "{err:?}"
        );
        assert_eq!(err.code(), "runpod_submission_uncertain");
        assert!(!err.is_transient(), "the service must not resubmit blindly");
        assert_eq!(server.calls("run"), 1, "submitted once");
        assert_eq!(backup.calls("run"), 0, "not handed to the backup either");
    }
    // A refused connection never reached RunPod: retried (then the backup takes it).
    let dead = format!("http://127.0.0.1:{}/v2", {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    });
    let backup = Server::start().await;
    backup.always("run", accepted());
    let mut settings = RunpodSettings::new(RunpodEndpoint::new(&dead, "ep-test"));
    settings.backoff_base = Duration::from_millis(10);
    settings.max_attempts = 3;
    settings.backup = Some(RunpodEndpoint::new(&backup.base, "ep-test"));
    let client = RunpodClient::new(settings, "rp-test-key".to_string().into()).unwrap();
    assert_eq!(
        client.submit(&input()).await.unwrap().endpoint,
        EndpointRole::Backup
    );
    assert_eq!(backup.calls("run"), 1);
}

/// A COMPLETED job without an output is one specific error, not an outage to poll through.
#[tokio::test]
async fn a_completed_job_without_output_fails_once() {
    for reply in [
        status_json("COMPLETED", ""),
        status_json("COMPLETED", ", \"output\": null"),
    ] {
        let server = Server::start().await;
        server.always("run", accepted());
        server.always("status", Reply::Json(200, reply));
        let err = run_to_end(&server.client(|_| {})).await.unwrap_err();
        assert_eq!(
            err,
            RunpodError::NoOutput {
                job_id: "job-1".into()
            }
        );
        assert_eq!(err.code(), "runpod_no_output");
        assert!(!err.is_transient(), "polling again would show the same");
        assert_eq!(server.calls("status"), 1);
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = Server::start().await;
    // Wherever a redirect points, the key would follow it.
    server.always("run", Reply::Redirect(302, "/v2/ep-test/files/run".into()));
    server.always(
        "status",
        Reply::Redirect(301, "/v2/ep-test/files/status".into()),
    );
    server.always("files", accepted());
    let client = server.client(|_| {});
    let err = client.submit(&input()).await.unwrap_err();
    assert_eq!(err, RunpodError::Redirected { status: 302 });
    assert_eq!(err.code(), "runpod_redirected");
    let job = SubmittedJob {
        id: "job-1".into(),
        endpoint: EndpointRole::Primary,
    };
    assert_eq!(
        client.wait(&job, "x", |_| {}).await.unwrap_err(),
        RunpodError::Redirected { status: 301 }
    );
    assert_eq!((server.calls("run"), server.calls("status")), (1, 1));
    // A debug image URL that redirects is not followed either.
    server.always(
        "files-moved",
        Reply::Redirect(301, "/v2/ep-test/files/x.jpg".into()),
    );
    assert!(matches!(
        client
            .fetch_limited(&format!("{}/ep-test/files-moved/x.jpg", server.base), 1024)
            .await,
        Err(RunpodError::DebugImage(m)) if m.contains("301")
    ));
    assert_eq!(server.calls("files"), 0, "no redirect was followed");
}

#[test]
fn plain_http_is_refused_except_to_this_computer() {
    let client = |primary: &str, backup: Option<&str>| {
        let mut settings = RunpodSettings::new(RunpodEndpoint::new(primary, "ep"));
        settings.backup = backup.map(|b| RunpodEndpoint::new(b, "ep-2"));
        RunpodClient::new(settings, "k".to_string().into())
    };
    let err = client("http://api.runpod.ai/v2", None).unwrap_err();
    assert_eq!(
        err,
        RunpodError::InsecureEndpoint {
            url: "http://api.runpod.ai".into()
        }
    );
    assert_eq!(err.code(), "runpod_insecure_endpoint");
    assert!(err.to_string().contains("https://"), "{err}");
    assert!(matches!(
        client("https://api.runpod.ai/v2", Some("http://10.0.0.1:8000/v2")),
        Err(RunpodError::InsecureEndpoint { url }) if url == "http://10.0.0.1:8000"
    ));
    assert!(client("api.runpod.ai/v2", None).is_err());
    for ok in [
        "https://api.runpod.ai/v2",
        "http://127.0.0.1:8000/v2",
        "http://localhost:8000/v2",
        "http://[::1]:8000/v2",
    ] {
        assert!(client(ok, Some(ok)).is_ok(), "{ok}");
    }
}

#[tokio::test]
async fn truncated_json_is_polled_again_then_reported() {
    let server = Server::start().await;
    server.always("run", accepted());
    server.queue(
        "status",
        vec![Reply::Json(
            200,
            "{\"id\": \"job-1\", \"status\": \"COMPL".into(),
        )],
    );
    server.always("status", completed());
    run_to_end(&server.client(|_| {})).await.unwrap();

    let server = Server::start().await;
    server.always("run", accepted());
    server.always(
        "status",
        Reply::Json(200, "{\"id\": \"job-1\", \"sta".into()),
    );
    let err = run_to_end(&server.client(|_| {})).await.unwrap_err();
    assert!(matches!(err, RunpodError::Malformed(_)), "{err:?}");
    assert_eq!(server.calls("status"), 4, "one poll and three more");
    // A garbled answer to /run is an error of its own, not a job id.
    let server = Server::start().await;
    server.always("run", Reply::Json(200, "<html>gateway</html>".into()));
    assert!(matches!(
        run_to_end(&server.client(|_| {})).await,
        Err(RunpodError::Malformed(_))
    ));
}

#[tokio::test]
async fn a_job_stuck_in_the_queue_is_cancelled() {
    let server = Server::start().await;
    server.always("run", accepted());
    server.always("status", in_queue());
    server.always("cancel", Reply::Json(200, status_json("CANCELLED", "")));
    let client = server.client(|s| s.queue_timeout = Duration::from_millis(900));
    let job = client.submit(&input()).await.unwrap();
    let mut waits = Vec::new();
    let err = client
        .wait(&job, "x", |p| {
            if let JobProgress::Waiting { waited } = p {
                waits.push(waited)
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, RunpodError::StuckInQueue { .. }), "{err:?}");
    assert_eq!(server.calls("cancel"), 1);
    assert!(
        waits.len() >= 2 && waits.windows(2).all(|w| w[0] < w[1]),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_job_that_never_ends_is_cancelled() {
    let server = Server::start().await;
    server.always("run", accepted());
    server.always("status", Reply::Json(200, status_json("IN_PROGRESS", "")));
    server.always("cancel", Reply::Json(200, status_json("CANCELLED", "")));
    let client = server.client(|s| {
        s.execution_timeout = Duration::from_millis(600);
        s.answer_grace = Duration::from_millis(300);
    });
    let err = run_to_end(&client).await.unwrap_err();
    assert!(matches!(err, RunpodError::NoAnswer { .. }), "{err:?}");
    assert_eq!(server.calls("cancel"), 1);
}

#[tokio::test]
async fn failed_timed_out_and_cancelled_jobs_say_so() {
    for (reply, expected) in [
        (
            status_json(
                "FAILED",
                ", \"error\": \"CUDA out of memory\\n  at line 3\"",
            ),
            RunpodError::JobFailed {
                message: "CUDA out of memory   at line 3".into(),
            },
        ),
        (status_json("TIMED_OUT", ""), RunpodError::JobTimedOut),
        (status_json("CANCELLED", ""), RunpodError::JobCancelled),
    ] {
        let server = Server::start().await;
        server.always("run", accepted());
        server.always("status", Reply::Json(200, reply));
        assert_eq!(
            run_to_end(&server.client(|_| {})).await.unwrap_err(),
            expected
        );
    }
}

#[tokio::test]
async fn output_of_the_wrong_shape_is_refused_whole() {
    let mut short = valid_output();
    short["findings"].as_array_mut().unwrap().truncate(255);
    let mut bad_score = valid_output();
    bad_score["findings"][7]["score"] = serde_json::json!(1.5);
    for (output, check) in [
        (
            serde_json::json!({"findings": "no"}),
            (|e: &CloudError| matches!(e, CloudError::WrongShape(_))) as fn(&CloudError) -> bool,
        ),
        (short, |e| matches!(e, CloudError::InvalidFindings(_))),
        (bad_score, |e| matches!(e, CloudError::InvalidFindings(_))),
        (
            {
                let mut v = valid_output();
                v["debug_images"] = serde_json::json!({
                    "semantic-segmentation.jpg": "bm90IGEganBlZw==",
                    "instance-detection.jpg": "bm90IGEganBlZw=="});
                v
            },
            |e| matches!(e, CloudError::BadDebugImage { .. }),
        ),
    ] {
        let server = Server::start().await;
        server.always("run", accepted());
        server.always(
            "status",
            Reply::Json(
                200,
                status_json("COMPLETED", &format!(", \"output\": {output}")),
            ),
        );
        match run_to_end(&server.client(|_| {})).await {
            Err(RunpodError::InvalidOutput(e)) => assert!(check(&e), "{e:?}"),
            other => panic!("expected invalid output, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_oversized_answer_is_refused_without_reading_it_all() {
    let server = Server::start().await;
    server.always("run", accepted());
    let huge = format!("\"{}\"", "A".repeat(3 * 1024 * 1024));
    server.always(
        "status",
        Reply::Json(
            200,
            status_json("COMPLETED", &format!(", \"output\": {huge}")),
        ),
    );
    let client = server.client(|s| s.output_limits.max_output_bytes = 1024 * 1024);
    assert!(matches!(
        run_to_end(&client).await,
        Err(RunpodError::InvalidOutput(CloudError::OutputTooLarge {
            limit_mb: 1
        }))
    ));
}

#[tokio::test]
async fn an_expired_job_and_a_wrong_key_are_named() {
    let server = Server::start().await;
    server.always("run", accepted());
    server.always(
        "status",
        Reply::Json(404, "{\"error\": \"not found\"}".into()),
    );
    assert_eq!(
        run_to_end(&server.client(|_| {})).await.unwrap_err(),
        RunpodError::JobExpired {
            job_id: "job-1".into()
        }
    );
    let server = Server::start().await;
    let mut settings = RunpodSettings::new(RunpodEndpoint::new(&server.base, "ep-test"));
    settings.backoff_base = Duration::from_millis(10);
    let wrong = RunpodClient::new(settings, "wrong".to_string().into()).unwrap();
    assert_eq!(
        wrong.submit(&input()).await.unwrap_err(),
        RunpodError::Unauthorized
    );
    assert_eq!(server.calls("run"), 1, "a wrong key is not retried");
    // The key never shows in debug output.
    assert!(!format!("{wrong:?}").contains("wrong\""));
}

#[tokio::test]
async fn a_failing_primary_hands_over_to_the_backup() {
    let primary = Server::start().await;
    primary.always("run", Reply::Json(503, "{}".into()));
    let backup = Server::start().await;
    backup.always("run", accepted());
    backup.always("status", completed());
    let client = primary.client(|s| {
        s.max_attempts = 2;
        s.backup = Some(RunpodEndpoint::new(&backup.base, "ep-test"));
    });
    let job = client.submit(&input()).await.unwrap();
    assert_eq!(
        job,
        SubmittedJob {
            id: "job-1".into(),
            endpoint: EndpointRole::Backup
        }
    );
    client.wait(&job, "pan-01432", |_| {}).await.unwrap();
    assert_eq!(primary.calls("run"), 2);
    assert_eq!(backup.calls("status"), 1);
    assert_eq!(primary.calls("status"), 0);

    // Unreachable primary (nothing listens there).
    let dead = format!("http://127.0.0.1:{}/v2", {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    });
    let mut settings = RunpodSettings::new(RunpodEndpoint::new(&dead, "ep-test"));
    settings.backoff_base = Duration::from_millis(10);
    settings.max_attempts = 2;
    let alone = RunpodClient::new(settings.clone(), "rp-test-key".to_string().into()).unwrap();
    assert!(matches!(
        alone.submit(&input()).await,
        Err(RunpodError::Unreachable { .. })
    ));
    settings.backup = Some(RunpodEndpoint::new(&backup.base, "ep-test"));
    let rescued = RunpodClient::new(settings, "rp-test-key".to_string().into()).unwrap();
    assert_eq!(
        rescued.submit(&input()).await.unwrap().endpoint,
        EndpointRole::Backup
    );
}

#[tokio::test]
async fn health_tells_waiting_for_a_worker_from_running() {
    let server = Server::start().await;
    server.queue(
        "health",
        vec![
            Reply::Json(
                200,
                r#"{"jobs":{"inQueue":3,"inProgress":0},"workers":{"idle":0,"running":0}}"#.into(),
            ),
            Reply::Json(
                200,
                r#"{"jobs":{"inQueue":0,"inProgress":2},"workers":{"idle":1,"running":2}}"#.into(),
            ),
        ],
    );
    let client = server.client(|_| {});
    let cold = client.health(EndpointRole::Primary).await.unwrap();
    assert_eq!(cold.jobs_in_queue, 3);
    assert_eq!(cold.describe(), "waiting for a worker");
    let warm = client.health(EndpointRole::Primary).await.unwrap();
    assert_eq!(
        (
            warm.idle_workers,
            warm.running_workers,
            warm.jobs_in_progress
        ),
        (1, 2, 2)
    );
    assert_eq!(warm.describe(), "ready");
}

#[tokio::test]
async fn debug_images_from_urls_are_fetched_with_limits() {
    let server = Server::start().await;
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9];
    let client = server.client(|_| {});
    server.always(
        "files",
        Reply::Json(200, String::from_utf8_lossy(&jpeg).into_owned()),
    );
    let url = format!("{}/ep-test/files/x.jpg", server.base);
    assert!(client.fetch_limited(&url, 1024).await.is_ok());
    assert!(matches!(
        client.fetch_limited(&url, 4).await,
        Err(RunpodError::DebugImage(m)) if m.contains("larger")
    ));
}
