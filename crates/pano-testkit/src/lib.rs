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
    /// The child leads its own process group (spawned with `process_group(0)`): stopping it
    /// stops everything it started too.
    group: bool,
}

impl Peer {
    pub fn new(child: Child, port: u16) -> Self {
        Self {
            child,
            port,
            group: false,
        }
    }

    /// A peer that starts processes of its own (tauri-driver starts WebKitWebDriver, which
    /// starts the app): `child` must have been spawned with
    /// `std::os::unix::process::CommandExt::process_group(0)`. Stopping it, also when a test
    /// fails half-way, kills the whole group, so nothing outlives the test holding a display,
    /// a port or the test runner's output pipe.
    pub fn group_leader(child: Child, port: u16) -> Self {
        Self {
            child,
            port,
            group: true,
        }
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    pub fn stop(&mut self) {
        if self.group {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(std::process::Stdio::null())
                .status();
        }
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
        Peer::new(child, port)
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

/// A TCP relay in front of a peer that keeps a copy of every byte in both directions: a
/// test can then prove that something never crossed the wire (a patient's name in an S3
/// upload, a RunPod request or the worker's download). Protocol-agnostic, so the Host
/// header and SigV4 signatures pass untouched.
pub struct TapProxy {
    /// Owns the relay tasks: they end when the proxy is dropped.
    _runtime: tokio::runtime::Runtime,
    pub port: u16,
    seen: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl TapProxy {
    pub fn start(upstream_port: u16) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let record = seen.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    let Ok(upstream) =
                        tokio::net::TcpStream::connect(("127.0.0.1", upstream_port)).await
                    else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (ur, uw) = upstream.into_split();
                    tokio::join!(relay(cr, uw, record.clone()), relay(ur, cw, record.clone()));
                });
            }
        });
        Self {
            _runtime: runtime,
            port,
            seen,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every byte relayed so far, both directions.
    pub fn seen(&self) -> Vec<u8> {
        self.seen.lock().unwrap().clone()
    }
}

async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    seen: Arc<std::sync::Mutex<Vec<u8>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        seen.lock().unwrap().extend_from_slice(&buf[..n]);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Whether `needle` occurs in `haystack` (ASCII case-insensitive).
pub fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The `pano-worker` binary of this build. `cargo test --workspace` builds it (it has
/// integration tests of its own); a test run of another package alone needs
/// `cargo build -p pano-worker` first (a nested cargo would wait for the lock cargo test holds).
pub fn worker_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/pano-worker
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let bin = dir.join(format!("pano-worker{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p pano-worker` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

/// The real `pano-worker --serve-api` process on a free port, its log (stderr) kept in a
/// file for the test to read.
pub struct WorkerProcess {
    pub peer: Peer,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl WorkerProcess {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("worker.log");
        let port = free_port();
        let mut child = Command::new(worker_binary())
            .args(["--serve-api", "--allow-http", "--port", &port.to_string()])
            .args(["--endpoint-id", RUNPOD_ENDPOINT])
            .arg("--models")
            .arg(test_models())
            .env("PANO_API_KEY", RUNPOD_KEY)
            .env("HOME", dir.path())
            .stdout(std::fs::File::create(dir.path().join("worker.out")).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("pano-worker starts");
        wait_for_port(port, &mut child, "pano-worker");
        Self {
            peer: Peer::new(child, port),
            log,
            _dir: dir,
        }
    }

    /// What the worker logged so far (stderr and stdout).
    pub fn log(&self) -> Vec<u8> {
        let mut all = std::fs::read(&self.log).unwrap_or_default();
        all.extend(std::fs::read(self.log.with_file_name("worker.out")).unwrap_or_default());
        all
    }
}

/// Orthanc (Debian's `orthanc` and `orthanc-dicomweb`) on free ports over a fresh folder: the
/// clinic's PACS in tests. DICOMweb under `/dicom-web/`, its REST API for reading back what
/// it holds, DIMSE with the called AE title checked (`ORTHANC`).
pub struct OrthancPeer {
    pub peer: Peer,
    pub dir: tempfile::TempDir,
    pub dicom_port: u16,
}

pub const ORTHANC_AET: &str = "ORTHANC";

impl OrthancPeer {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (http, dicom) = (free_port(), free_port());
        let config = serde_json::json!({
            "Name": "PanoTestPacs",
            "HttpPort": http,
            "DicomPort": dicom,
            "DicomAet": ORTHANC_AET,
            "DicomCheckCalledAet": true,
            "RemoteAccessAllowed": false,
            "AuthenticationEnabled": false,
            "StorageDirectory": dir.path().join("db"),
            "IndexDirectory": dir.path().join("db"),
            "Plugins": [orthanc_dicomweb_plugin()],
            "DicomWeb": { "Enable": true, "Root": "/dicom-web/" },
            "DicomAlwaysAllowStore": true,
            "DicomAlwaysAllowFind": true,
            "DicomAlwaysAllowGet": true,
            "DicomAlwaysAllowMove": true,
            "DicomAlwaysAllowEcho": true,
            "StableAge": 1,
        });
        let path = dir.path().join("orthanc.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let peer = Self::spawn(&path, dir.path(), http);
        Self {
            peer,
            dir,
            dicom_port: dicom,
        }
    }

    fn spawn(config: &Path, dir: &Path, http: u16) -> Peer {
        let bin = Path::new("/usr/sbin/Orthanc");
        assert!(
            bin.exists(),
            "Orthanc is missing: run scripts/setup.sh (it installs Debian's orthanc)"
        );
        let log = std::fs::File::create(dir.join("orthanc.log")).unwrap();
        let mut child = Command::new(bin)
            .arg(config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("Orthanc starts");
        wait_for_port(http, &mut child, "Orthanc");
        Peer::new(child, http)
    }

    /// Stops the PACS (an outage).
    pub fn stop(&mut self) {
        self.peer.stop();
    }

    /// Starts it again on the same ports and storage.
    pub fn restart(&mut self) {
        let port = self.peer.port;
        self.peer = Self::spawn(&self.dir.path().join("orthanc.json"), self.dir.path(), port);
    }

    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer.port)
    }

    pub fn dicomweb_url(&self) -> String {
        format!("{}/dicom-web", self.http_url())
    }

    /// A GET on Orthanc's REST API, as JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        serde_json::from_slice(&self.get(path)).unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Stores a DICOM file through Orthanc's REST API (as a modality would have sent it).
    pub fn upload(&self, dicom: &[u8]) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.peer.port)).unwrap();
        write!(
            stream,
            "POST /instances HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/dicom\r\nContent-Length: {}\r\n\r\n",
            dicom.len()
        )
        .unwrap();
        stream.write_all(dicom).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
            "{answer}"
        );
    }

    /// A GET on Orthanc's REST API, as bytes (HTTP/1.0, so the body is not chunked).
    pub fn get(&self, path: &str) -> Vec<u8> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.peer.port)).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP answer");
        let head = String::from_utf8_lossy(&answer[..split]).to_string();
        assert!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
            "GET {path}: {head}"
        );
        answer[split + 4..].to_vec()
    }
}

/// Where Debian's orthanc-dicomweb put the plugin.
fn orthanc_dicomweb_plugin() -> PathBuf {
    for candidate in [
        "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
        "/usr/lib/orthanc/libOrthancDicomWeb.so.1.7",
    ] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!("the Orthanc DICOMweb plugin is missing: run scripts/setup.sh (orthanc-dicomweb)");
}

/// The study a test DICOM belongs to (its Study Instance UID).
pub const FAKE_STUDY_UID: &str = "1.2.826.0.1.3680043.9.7433.3.1";

/// Made-up patient data a test DICOM carries in its header and file name.
pub struct FakePatient {
    pub name: &'static str,
    pub id: &'static str,
    pub birth_date: &'static str,
    pub institution: &'static str,
}

pub const FAKE_PATIENT: FakePatient = FakePatient {
    name: "Zyxwvut^Qorbelline",
    id: "PID-4711-XY",
    birth_date: "19800101",
    institution: "Smile Dental Clinic",
};

/// A panoramic DICOM (modality PX, 8-bit MONOCHROME2, explicit VR little endian) of the
/// small test radiograph whose header names `patient`, written to `path`.
pub fn identified_dicom(path: &Path, patient: &FakePatient) {
    let gray = image::open(repo_root().join("tests/data/pan-small-wide.png"))
        .unwrap()
        .to_luma8();
    let (w, h) = gray.dimensions();
    std::fs::write(
        path,
        dicom_bytes(w as u16, h as u16, gray.as_raw(), patient),
    )
    .unwrap();
}

fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    let mut value = value.to_vec();
    if value.len() % 2 == 1 {
        value.push(if vr == b"UI" || vr == b"OB" { 0 } else { b' ' });
    }
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN" | b"UT") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(&value);
}

fn dicom_bytes(w: u16, h: u16, pixels: &[u8], p: &FakePatient) -> Vec<u8> {
    const SOP_CLASS: &[u8] = b"1.2.840.10008.5.1.4.1.1.1.1"; // digital X-ray, presentation
    const INSTANCE: &[u8] = b"1.2.826.0.1.3680043.9.7433.1.1";
    let mut meta = Vec::new();
    element(&mut meta, 0x0002, 0x0001, b"OB", &[0, 1]);
    element(&mut meta, 0x0002, 0x0002, b"UI", SOP_CLASS);
    element(&mut meta, 0x0002, 0x0003, b"UI", INSTANCE);
    element(&mut meta, 0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1");
    element(
        &mut meta,
        0x0002,
        0x0012,
        b"UI",
        b"1.2.826.0.1.3680043.9.7433.2",
    );
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    element(
        &mut out,
        0x0002,
        0x0000,
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    out.extend_from_slice(&meta);
    element(&mut out, 0x0008, 0x0016, b"UI", SOP_CLASS);
    element(&mut out, 0x0008, 0x0018, b"UI", INSTANCE);
    element(&mut out, 0x0008, 0x0020, b"DA", b"20261130");
    element(&mut out, 0x0008, 0x0030, b"TM", b"101500");
    element(&mut out, 0x0008, 0x0050, b"SH", b"ACC-0042");
    element(&mut out, 0x0008, 0x0060, b"CS", b"PX");
    element(&mut out, 0x0008, 0x0080, b"LO", p.institution.as_bytes());
    element(&mut out, 0x0010, 0x0010, b"PN", p.name.as_bytes());
    element(&mut out, 0x0010, 0x0020, b"LO", p.id.as_bytes());
    element(&mut out, 0x0010, 0x0030, b"DA", p.birth_date.as_bytes());
    element(&mut out, 0x0010, 0x0040, b"CS", b"F");
    element(&mut out, 0x0020, 0x000D, b"UI", FAKE_STUDY_UID.as_bytes());
    element(
        &mut out,
        0x0020,
        0x000E,
        b"UI",
        b"1.2.826.0.1.3680043.9.7433.4.1",
    );
    element(&mut out, 0x0020, 0x0010, b"SH", b"S1");
    element(&mut out, 0x0028, 0x0002, b"US", &1u16.to_le_bytes());
    element(&mut out, 0x0028, 0x0004, b"CS", b"MONOCHROME2");
    element(&mut out, 0x0028, 0x0010, b"US", &h.to_le_bytes());
    element(&mut out, 0x0028, 0x0011, b"US", &w.to_le_bytes());
    element(&mut out, 0x0028, 0x0100, b"US", &8u16.to_le_bytes());
    element(&mut out, 0x0028, 0x0101, b"US", &8u16.to_le_bytes());
    element(&mut out, 0x0028, 0x0102, b"US", &7u16.to_le_bytes());
    element(&mut out, 0x0028, 0x0103, b"US", &0u16.to_le_bytes());
    element(&mut out, 0x7FE0, 0x0010, b"OB", pixels);
    out
}
