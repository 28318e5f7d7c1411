//! S3 answers that `s3s-fs` cannot give, from a small stand-in on 127.0.0.1 written for
//! these tests: lifecycle rules (s3s-fs does not implement them) and redirects. It answers
//! just the requests "test connection" makes (list, put, presigned get, delete, lifecycle)
//! and checks no signature; the real server's behaviour is in `s3_storage.rs`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::Response;
use common::credentials;
use pano_cloud::storage::{
    ConnectionWarning, PermanentStorage, S3Settings, S3Storage, StorageError,
};

#[derive(Clone)]
struct Fake {
    /// Status and body of the answer to `GET /clinic?lifecycle`.
    lifecycle: Arc<Mutex<(u16, String)>>,
    /// Answer everything with `307 Location: /moved`.
    redirect: Arc<Mutex<bool>>,
    moved_hits: Arc<AtomicUsize>,
    endpoint: String,
}

fn xml(status: u16, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Body::from(body))
        .unwrap()
}

fn error(status: u16, code: &str) -> (u16, String) {
    (
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <Error><Code>{code}</Code><Message>{code}</Message></Error>"
        ),
    )
}

fn rules(rules: &str) -> (u16, String) {
    (
        200,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             {rules}</LifecycleConfiguration>"
        ),
    )
}

impl Fake {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake {
            lifecycle: Arc::new(Mutex::new(error(404, "NoSuchLifecycleConfiguration"))),
            redirect: Arc::default(),
            moved_hits: Arc::default(),
            endpoint: format!("http://{}", listener.local_addr().unwrap()),
        };
        let f = fake.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let f = f.clone();
            async move { f.answer(req) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    fn answer(&self, req: Request<Body>) -> Response {
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        if path == "/moved" {
            self.moved_hits.fetch_add(1, Ordering::SeqCst);
            return xml(200, String::new());
        }
        if *self.redirect.lock().unwrap() {
            return Response::builder()
                .status(307)
                .header("location", "/moved")
                .body(Body::empty())
                .unwrap();
        }
        match (req.method().clone(), path.trim_end_matches('/')) {
            (Method::GET, "/clinic") if query.contains("lifecycle") => {
                let (status, body) = self.lifecycle.lock().unwrap().clone();
                xml(status, body)
            }
            (Method::GET, "/clinic") => xml(
                200,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                 <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <Name>clinic</Name><Prefix>temp/</Prefix><KeyCount>0</KeyCount>\
                 <MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"
                    .into(),
            ),
            (Method::PUT, _) => Response::builder()
                .status(200)
                .header("etag", "\"0123456789abcdef0123456789abcdef\"")
                .body(Body::empty())
                .unwrap(),
            (Method::GET, _) => Response::builder()
                .status(200)
                .body(Body::from("pano connection test"))
                .unwrap(),
            (Method::DELETE, _) => Response::builder().status(204).body(Body::empty()).unwrap(),
            _ => xml(405, String::new()),
        }
    }

    fn settings(&self) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint.clone()),
            bucket: "clinic".into(),
            path_style: true,
            ..S3Settings::default()
        }
    }

    fn storage(&self) -> S3Storage {
        S3Storage::new(self.settings(), &credentials("any-secret")).unwrap()
    }
}

const TEMP_RULE: &str = "<Rule><ID>t</ID><Filter><Prefix>temp/</Prefix></Filter>\
    <Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>";

#[tokio::test]
async fn test_connection_warns_when_no_rule_expires_temp_uploads() {
    let fake = Fake::start().await;
    let storage = fake.storage();
    let warnings = |lifecycle: (u16, String)| {
        *fake.lifecycle.lock().unwrap() = lifecycle;
        let storage = &storage;
        async move { storage.test_connection().await.unwrap().warnings }
    };

    // No lifecycle configuration at all: a warning that says how to add the rule.
    let w = warnings(error(404, "NoSuchLifecycleConfiguration")).await;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].code, ConnectionWarning::TEMP_NOT_EXPIRING);
    for part in [
        "'temp/'",
        "aws s3api put-bucket-lifecycle-configuration --bucket clinic --region us-east-1",
        &format!("--endpoint-url {}", fake.endpoint),
        "\"Filter\": {\"Prefix\": \"temp/\"}",
        "\"Expiration\": {\"Days\": 1}",
    ] {
        assert!(w[0].message.contains(part), "{part} in: {}", w[0].message);
    }
    assert!(!w[0].message.contains("replaces"), "{}", w[0].message);

    // Rules that leave temp uploads in place: another prefix, disabled, only tagged
    // objects, only part of the prefix, no expiration.
    for other in [
        "<Rule><ID>l</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>\
         <Expiration><Days>30</Days></Expiration></Rule>",
        "<Rule><ID>t</ID><Filter><Prefix>temp/</Prefix></Filter><Status>Disabled</Status>\
         <Expiration><Days>1</Days></Expiration></Rule>",
        "<Rule><ID>t</ID><Filter><And><Prefix>temp/</Prefix><Tag><Key>k</Key><Value>v</Value>\
         </Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>\
         </Rule>",
        "<Rule><ID>t</ID><Filter><Prefix>temp/old/</Prefix></Filter><Status>Enabled</Status>\
         <Expiration><Days>1</Days></Expiration></Rule>",
        "<Rule><ID>t</ID><Filter><Prefix>temp/</Prefix></Filter><Status>Enabled</Status>\
         <AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation>\
         </AbortIncompleteMultipartUpload></Rule>",
    ] {
        let w = warnings(rules(other)).await;
        assert_eq!(w.len(), 1, "{other}: {w:?}");
        assert_eq!(w[0].code, ConnectionWarning::TEMP_NOT_EXPIRING, "{other}");
        assert!(w[0].message.contains("replaces"), "{}", w[0].message);
    }

    // Rules that do expire them: for the prefix, for the whole bucket, the old rule-level
    // prefix, and a prefix rule among others.
    for covering in [
        TEMP_RULE.to_string(),
        "<Rule><ID>all</ID><Filter></Filter><Status>Enabled</Status>\
         <Expiration><Days>7</Days></Expiration></Rule>"
            .to_string(),
        "<Rule><ID>old</ID><Prefix>temp</Prefix><Status>Enabled</Status>\
         <Expiration><Days>1</Days></Expiration></Rule>"
            .to_string(),
        format!(
            "<Rule><ID>l</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>\
             <Expiration><Days>30</Days></Expiration></Rule>{TEMP_RULE}"
        ),
    ] {
        let w = warnings(rules(&covering)).await;
        assert!(w.is_empty(), "{covering}: {w:?}");
    }

    // A server without lifecycle support, or keys without permission to read the rules:
    // connectivity is fine, the expiry could not be checked.
    for (answer, why) in [
        (error(501, "NotImplemented"), "does not support"),
        (error(403, "AccessDenied"), "s3:GetLifecycleConfiguration"),
    ] {
        let w = warnings(answer).await;
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].code, ConnectionWarning::LIFECYCLE_UNCHECKED);
        assert!(
            w[0].message.contains("could not check") && w[0].message.contains(why),
            "{}",
            w[0].message
        );
    }
}

#[tokio::test]
async fn a_redirecting_endpoint_is_not_followed() {
    let fake = Fake::start().await;
    *fake.redirect.lock().unwrap() = true;
    let err = fake.storage().test_connection().await.unwrap_err();
    assert_eq!(
        err,
        StorageError::Redirected {
            operation: "list",
            status: 307
        }
    );
    assert_eq!(err.code(), "storage_redirected");
    assert!(!err.is_transient());
    assert!(fake.storage().upload_temp(b"x", "jpg").await.is_err());
    assert_eq!(
        fake.moved_hits.load(Ordering::SeqCst),
        0,
        "nothing followed"
    );
}

#[test]
fn plain_http_endpoints_are_refused_except_to_this_computer() {
    let with = |endpoint: Option<&str>| {
        S3Storage::new(
            S3Settings {
                endpoint: endpoint.map(str::to_string),
                bucket: "clinic".into(),
                ..S3Settings::default()
            },
            &credentials("s"),
        )
    };
    let err = with(Some("http://minio.clinic.lan:9000/")).err().unwrap();
    assert_eq!(
        err,
        StorageError::InsecureEndpoint {
            endpoint: "http://minio.clinic.lan:9000".into()
        }
    );
    assert_eq!(err.code(), "storage_insecure_endpoint");
    assert!(err.to_string().contains("https://"), "{err}");
    assert!(with(Some("http://192.168.1.10:9000")).is_err());
    assert!(with(Some("fra1.digitaloceanspaces.com")).is_err());
    for ok in [
        None,
        Some("https://fra1.digitaloceanspaces.com"),
        Some("http://127.0.0.1:9000"),
        Some("http://localhost:9000"),
        Some("http://[::1]:9000"),
    ] {
        assert!(with(ok).is_ok(), "{ok:?}");
    }
}
