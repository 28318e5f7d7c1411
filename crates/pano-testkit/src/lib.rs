//! The real peers integration tests talk to, started by the tests themselves:
//! - `s3s-fs`, an S3 server that checks SigV4 signatures (installed by `scripts/setup.sh`
//!   under `.cache/peers/`), stoppable and restartable on the same port and data;
//! - our worker's RunPod-shaped API (`pano_worker::serve_api`: real queue, states, timing
//!   fields, bearer key) served in the test process, so that a test can kill the *client*
//!   process and find RunPod's jobs still there, or stop the endpoint and bring it back
//!   with its queue intact (an outage between the clinic and RunPod);
//! - distinct test radiographs (the content hash deduplicates identical files).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "pano-test-access";
pub const SECRET_KEY: &str = "pano-test-secret-0123456789";
pub const BUCKET: &str = "clinic";
pub const RUNPOD_KEY: &str = "rp-local-test-key";
pub const RUNPOD_ENDPOINT: &str = "pano-local-endpoint";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn peers_dir() -> PathBuf {
    std::env::var_os("PANO_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/peers"))
}

pub fn test_models() -> PathBuf {
    repo_root().join("models/test")
}

pub fn sample_path() -> PathBuf {
    repo_root().join("tests/data/pan-01432.jpg")
}

/// Every file under `dir`, at any depth (none when it does not exist): for tests that
/// search what a program left on disk.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early ({status})");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on port {port} within 60 s");
}

/// A child process killed when dropped.
pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Peer {
    pub fn new(child: Child, port: u16) -> Self {
        Self { child, port }
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `s3s-fs` on a free port over a fresh folder holding one bucket.
pub struct S3Peer {
    pub peer: Peer,
    pub dir: tempfile::TempDir,
}

impl S3Peer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(BUCKET)).unwrap();
        let peer = Self::spawn(dir.path(), free_port());
        Self { peer, dir }
    }

    fn spawn(root: &Path, port: u16) -> Peer {
        let bin = peers_dir().join("bin/s3s-fs");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/setup.sh (it installs the test peers)",
            bin.display()
        );
        let mut child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        wait_for_port(port, &mut child, "s3s-fs");
        Peer { child, port }
    }

    /// Stops the server (an outage); `restart` brings it back on the same port and data.
    pub fn stop(&mut self) {
        self.peer.stop();
    }

    pub fn restart(&mut self) {
        self.peer = Self::spawn(self.dir.path(), self.peer.port);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer.port)
    }

    /// Object keys under `prefix` (read from s3s-fs's folder: a test's own view, not S3's).
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let root = self.dir.path().join(BUCKET);
        let mut keys = Vec::new();
        collect(&root, &root, &mut keys);
        keys.retain(|k| k.starts_with(prefix));
        keys.sort();
        keys
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // s3s-fs's own metadata and partial files
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push(rel);
        }
    }
}

/// Our worker's RunPod API (`/v2/<endpoint>/run`, `/status`, ...) running the test models,
/// served on a runtime of its own inside the test process. `/run` requests are counted so
/// that a test can prove a job was never submitted twice.
pub struct LocalRunpod {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    server: Option<tokio::task::JoinHandle<()>>,
    pub port: u16,
    submissions: Arc<AtomicUsize>,
}

impl LocalRunpod {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let submissions = Arc::new(AtomicUsize::new(0));
        let router = runtime.block_on(async {
            let engine = pano_engine::Engine::load(&pano_engine::EngineOptions {
                models_dir: test_models(),
                ..Default::default()
            })
            .expect("the test models load (run scripts/setup.sh for ONNX Runtime)");
            let config = pano_worker::serve_api::ApiConfig {
                endpoint_id: RUNPOD_ENDPOINT.into(),
                api_key: RUNPOD_KEY.to_string().into(),
                concurrency: 1,
                policy: pano_worker::download::DownloadPolicy {
                    allow_http: true,
                    ..Default::default()
                },
            };
            let counter = submissions.clone();
            pano_worker::serve_api::router(Arc::new(engine), config).layer(
                axum::middleware::from_fn(
                    move |req: axum::extract::Request, next: axum::middleware::Next| {
                        let counter = counter.clone();
                        async move {
                            if req.method() == axum::http::Method::POST
                                && req.uri().path().ends_with("/run")
                            {
                                counter.fetch_add(1, Ordering::SeqCst);
                            }
                            next.run(req).await
                        }
                    },
                ),
            )
        });
        let mut me = Self {
            runtime,
            router,
            server: None,
            port: free_port(),
            submissions,
        };
        me.restart();
        me
    }

    /// Stops answering (connections are refused); queued and running jobs go on.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = self.runtime.block_on(server);
        }
    }

    /// Answers again on the same port, with the same jobs.
    pub fn restart(&mut self) {
        self.stop();
        let router = self.router.clone();
        let port = self.port;
        let listener = self.runtime.block_on(async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                    Ok(l) => break l,
                    Err(e) if Instant::now() < deadline => {
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(50)).await
                    }
                    Err(e) => panic!("port {port}: {e}"),
                }
            }
        });
        self.server = Some(self.runtime.spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }

    /// `/run` requests received so far.
    pub fn submissions(&self) -> usize {
        self.submissions.load(Ordering::SeqCst)
    }
}

/// `count` different radiographs made from the sample (each a little narrower, as PNG),
/// written into `dir`. Distinct bytes, so the content-hash cache treats them as new images.
pub fn distinct_radiographs(dir: &Path, count: usize) -> Vec<PathBuf> {
    let sample = image::open(sample_path()).unwrap().to_luma8();
    (0..count)
        .map(|i| {
            let (w, h) = sample.dimensions();
            let crop =
                image::imageops::crop_imm(&sample, 0, 0, w - 8 * (i as u32 + 1), h).to_image();
            let path = dir.join(format!("radiograph-{i}.png"));
            crop.save(&path).unwrap();
            path
        })
        .collect()
}
