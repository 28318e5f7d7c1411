//! The real peers the cloud tests talk to, started by the tests themselves: `s3s-fs` (an S3
//! server that checks SigV4 signatures) and RunPod's own Python SDK serving its local API.
//! `scripts/setup.sh` installs both under `.cache/peers/`.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pano_cloud::storage::{S3Credentials, S3Settings, S3Storage};

pub const ACCESS_KEY: &str = "pano-test-access";
pub const SECRET_KEY: &str = "pano-test-secret-0123456789";
pub const BUCKET: &str = "clinic";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn peers_dir() -> PathBuf {
    std::env::var_os("PANO_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache/peers"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
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

    fn spawn(root: &std::path::Path, port: u16) -> Peer {
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

    pub fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint()),
            region: "us-east-1".into(),
            bucket: BUCKET.into(),
            path_style: true,
            ..S3Settings::default()
        }
    }

    pub fn storage(&self) -> S3Storage {
        S3Storage::new(self.settings(), &credentials(SECRET_KEY)).unwrap()
    }
}

pub fn credentials(secret: &str) -> S3Credentials {
    S3Credentials {
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: secret.to_string().into(),
    }
}

pub fn sample_jpeg() -> Vec<u8> {
    std::fs::read(repo_root().join("tests/data/pan-01432.jpg")).unwrap()
}

pub const RUNPOD_KEY: &str = "rp-sdk-test-key";
pub const RUNPOD_ENDPOINT: &str = "pano-test-endpoint";

/// RunPod's Python SDK serving its local API under `/v2/<endpoint>` (see
/// `tests/peers/runpod_endpoint.py`).
pub struct RunpodPeer {
    pub peer: Peer,
}

impl RunpodPeer {
    pub fn start() -> Self {
        let python = peers_dir().join("runpod/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/setup.sh (it installs the test peers)",
            python.display()
        );
        let port = free_port();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/runpod_endpoint.py");
        let mut child = Command::new(python)
            .arg(script)
            .env("PORT", port.to_string())
            .env("ENDPOINT_ID", RUNPOD_ENDPOINT)
            .env("API_KEY", RUNPOD_KEY)
            .env(
                "REFERENCE_CSV",
                repo_root().join("tests/reference/pan-01432.csv"),
            )
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the RunPod SDK server starts");
        wait_for_port(port, &mut child, "the RunPod SDK server");
        Self {
            peer: Peer { child, port },
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.peer.port)
    }
}
