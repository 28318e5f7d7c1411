//! Cloud client benchmark (prints numbers; not a test): how quickly a finished job is
//! noticed, the overhead of upload + presign + submit for the sample radiograph against a
//! real S3 server (`s3s-fs`), and the client's CPU time and memory with 200 jobs in flight.
//! The endpoint is an in-process stand-in whose jobs finish a chosen time after submission
//! (RunPod's local server runs jobs inside the first status request, so it cannot).
//!
//! `cargo bench -p pano-cloud --bench cloud` (needs `scripts/setup.sh`'s peers).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use common::S3PeerExt;
use pano_cloud::runpod::{RunpodClient, RunpodEndpoint, RunpodSettings};
use pano_core::WorkerInput;

struct Jobs {
    /// id -> (submitted, finishes after)
    jobs: HashMap<String, (Instant, Duration)>,
    next: u64,
    output: String,
}

fn valid_output() -> String {
    let csv =
        std::fs::read_to_string(common::repo_root().join("tests/reference/pan-01432.csv")).unwrap();
    let findings: Vec<serde_json::Value> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            serde_json::json!({"fdi": f[1], "finding": f[2], "score": f[3].parse::<f64>().unwrap()})
        })
        .collect();
    serde_json::json!({"findings": findings, "csv_data": csv, "num_findings": 256}).to_string()
}

async fn stand_in_endpoint() -> String {
    let state = Arc::new(Mutex::new(Jobs {
        jobs: HashMap::new(),
        next: 0,
        output: valid_output(),
    }));
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let state = state.clone();
        async move {
            let path = req.uri().path().to_string();
            let parts: Vec<&str> = path.split('/').collect();
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap();
            let mut s = state.lock().unwrap();
            let json = match parts.get(3).copied() {
                Some("run") => {
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let url = v["input"]["image_url"].as_str().unwrap_or("");
                    let ms: u64 = url
                        .rsplit("t=")
                        .next()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    s.next += 1;
                    let id = format!("job-{}", s.next);
                    s.jobs
                        .insert(id.clone(), (Instant::now(), Duration::from_millis(ms)));
                    format!("{{\"id\":\"{id}\",\"status\":\"IN_QUEUE\"}}")
                }
                Some("status") => {
                    let id = parts[4];
                    let (at, after) = s.jobs[id];
                    if at.elapsed() >= after {
                        format!(
                            "{{\"id\":\"{id}\",\"status\":\"COMPLETED\",\"output\":{}}}",
                            s.output
                        )
                    } else {
                        format!("{{\"id\":\"{id}\",\"status\":\"IN_PROGRESS\"}}")
                    }
                }
                _ => "{}".to_string(),
            };
            axum::response::Response::new(Body::from(json))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn rss_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn input(t_ms: u64) -> WorkerInput {
    WorkerInput {
        image_url: format!("https://bucket.example/temp/x.jpg?t={t_ms}"),
        debug: false,
    }
}

#[tokio::main]
async fn main() {
    let base = stand_in_endpoint().await;
    let client = RunpodClient::new(
        RunpodSettings::new(RunpodEndpoint::new(&base, "bench")),
        "bench-key".to_string().into(),
    )
    .unwrap();
    println!("pano-cloud client benchmark");

    // 1. Completion noticed: jobs finishing T after submission, all at once.
    let ts = [500u64, 2_000, 5_000, 10_000, 20_000];
    let handles: Vec<_> = ts
        .iter()
        .map(|&t| {
            let client = client.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                let job = client.submit(&input(t)).await.unwrap();
                client.wait(&job, "pan-01432", |_| {}).await.unwrap();
                start.elapsed().saturating_sub(Duration::from_millis(t))
            })
        })
        .collect();
    println!("  completion noticed after (job length T -> delay; promise max(0.5 s, 0.1 T)):");
    for (t, h) in ts.iter().zip(handles) {
        let late = h.await.unwrap();
        let bound = Duration::from_millis(500).max(Duration::from_millis(t / 10));
        println!(
            "    T = {:>5.1} s -> {:>6.0} ms (bound {:>5.0} ms){}",
            *t as f64 / 1000.0,
            late.as_secs_f64() * 1000.0,
            bound.as_secs_f64() * 1000.0,
            if late <= bound { "" } else { "  OVER" }
        );
    }

    // 2. Upload + presign + submit of the sample against s3s-fs.
    let s3 = common::S3Peer::start();
    let storage = s3.storage();
    let image = common::sample_jpeg();
    let mut times = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let up = storage.upload_temp(&image, "jpg").await.unwrap();
        let url = storage
            .presign_temp(&up, Duration::from_secs(600))
            .await
            .unwrap();
        client
            .submit(&WorkerInput {
                image_url: url,
                debug: false,
            })
            .await
            .unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "  upload + presign + submit, {} kB sample, local s3s-fs: median {:.1} ms, max {:.1} ms (21 runs)",
        image.len() / 1000,
        times[10].as_secs_f64() * 1000.0,
        times[20].as_secs_f64() * 1000.0
    );

    // 3. 200 jobs in flight for 10 s.
    let (cpu0, rss0, t0) = (cpu_time(), rss_mb("VmRSS"), Instant::now());
    let handles: Vec<_> = (0..200)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let job = client.submit(&input(10_000)).await.unwrap();
                client.wait(&job, "pan-01432", |_| {}).await.unwrap();
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let wall = t0.elapsed();
    let cpu = cpu_time() - cpu0;
    println!(
        "  200 jobs in flight, each 10 s: all done in {:.1} s; client + stand-in CPU {:.2} s ({:.1} % of one core); RSS {:.0} -> peak {:.0} MB",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        rss0,
        rss_mb("VmHWM")
    );
}
