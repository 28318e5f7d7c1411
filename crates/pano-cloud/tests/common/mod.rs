//! The real peers the cloud tests talk to: `s3s-fs` (from `pano-testkit`, shared with the
//! service and CLI tests) and RunPod's own Python SDK serving its local API. Both are
//! installed under `.cache/peers/` by `scripts/setup.sh`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

use pano_cloud::storage::{S3Credentials, S3Settings, S3Storage};
pub use pano_testkit::{
    free_port, peers_dir, repo_root, Peer, S3Peer, ACCESS_KEY, BUCKET, SECRET_KEY,
};

/// The bucket settings and a client for the peer.
pub trait S3PeerExt {
    fn settings(&self) -> S3Settings;
    fn storage(&self) -> S3Storage;
}

impl S3PeerExt for S3Peer {
    fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint()),
            region: "us-east-1".into(),
            bucket: BUCKET.into(),
            path_style: true,
            ..S3Settings::default()
        }
    }

    fn storage(&self) -> S3Storage {
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
    std::fs::read(pano_testkit::sample_path()).unwrap()
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
        pano_testkit::wait_for_port(port, &mut child, "the RunPod SDK server");
        Self {
            peer: Peer::new(child, port),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.peer.port)
    }
}
