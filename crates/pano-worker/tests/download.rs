//! The worker's download of `image_url` against small servers on 127.0.0.1: redirects are
//! not followed, and local or private addresses are refused before any connection. No test
//! here sends anything to an address other than loopback: the non-loopback cases go
//! through `check_url`, which resolves and checks without connecting.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use pano_worker::download::{check_url, download, DownloadPolicy};
use pano_worker::JobError;

/// Serves `/image.jpg` as a redirect to `/moved.jpg` (which counts its requests) and
/// `/plain.jpg` directly.
async fn redirecting_server() -> (String, Arc<AtomicUsize>) {
    let moved_hits = Arc::new(AtomicUsize::new(0));
    let hits = moved_hits.clone();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let hits = hits.clone();
        async move {
            match req.uri().path() {
                "/image.jpg" => Response::builder()
                    .status(StatusCode::FOUND)
                    .header("location", "/moved.jpg")
                    .body(Body::empty())
                    .unwrap(),
                "/moved.jpg" | "/plain.jpg" => {
                    if req.uri().path() == "/moved.jpg" {
                        hits.fetch_add(1, Ordering::SeqCst);
                    }
                    Response::builder()
                        .status(200)
                        .body(Body::from(vec![0xFF, 0xD8, 0xFF, 0xD9]))
                        .unwrap()
                }
                _ => Response::builder().status(404).body(Body::empty()).unwrap(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, moved_hits)
}

fn local_testing() -> DownloadPolicy {
    DownloadPolicy {
        allow_http: true,
        timeout: Duration::from_secs(10),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (base, moved_hits) = redirecting_server().await;
    let err = download(&format!("{base}/image.jpg"), &local_testing())
        .await
        .unwrap_err();
    assert!(
        matches!(err, JobError::Redirected { status: 302 }),
        "{err:?}"
    );
    assert_eq!(
        moved_hits.load(Ordering::SeqCst),
        0,
        "the target was not fetched"
    );
    // Not the words the desktop treats as "the bucket was down, submit again".
    assert!(
        !err.to_string().contains("could not be downloaded"),
        "{err}"
    );
    // The same server without the redirect works.
    let (bytes, name) = download(&format!("{base}/plain.jpg"), &local_testing())
        .await
        .unwrap();
    assert_eq!((bytes.len(), name.as_str()), (4, "plain"));
}

/// A TCP listener on 127.0.0.1 that counts the connections it receives.
async fn trap() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, count)
}

#[tokio::test]
async fn local_addresses_are_refused_without_connecting() {
    let (port, connections) = trap().await;
    let policy = DownloadPolicy {
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    for url in [
        format!("https://127.0.0.1:{port}/x.jpg"),
        format!("https://localhost:{port}/x.jpg"),
        format!("https://[::ffff:127.0.0.1]:{port}/x.jpg"),
        format!("https://127.1:{port}/x.jpg"),
    ] {
        match download(&url, &policy).await {
            Err(JobError::BadUrl(m)) => assert!(m.contains("private network address"), "{m}"),
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "nothing connected");
}

#[tokio::test]
async fn private_link_local_and_cgnat_hosts_are_refused() {
    let policy = DownloadPolicy::default();
    for url in [
        "https://10.0.0.1/temp/x.jpg",
        "https://192.168.1.1/temp/x.jpg",
        "https://169.254.169.254/latest/meta-data/",
        "https://172.20.0.5/x.jpg",
        "https://100.64.0.1/x.jpg",
        "https://0.0.0.0/x.jpg",
        "https://[::1]/x.jpg",
        "https://[fd00::1]/x.jpg",
        "https://[fe80::1]/x.jpg",
        "https://[::ffff:a9fe:a9fe]/x.jpg",
        // Decimal and hex spellings of 169.254.169.254 and 10.0.0.1.
        "https://2852039166/x.jpg",
        "https://0x0a000001/x.jpg",
    ] {
        match check_url(url, &policy).await {
            Err(JobError::BadUrl(m)) => assert!(m.contains("private network address"), "{m}"),
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }
    // Plain http is refused by default, whatever the host; credentials in the URL too.
    assert!(matches!(
        check_url("http://s3.example.com/x.jpg", &policy).await,
        Err(JobError::BadUrl(m)) if m.contains("https")
    ));
    assert!(matches!(
        check_url("https://user:pw@s3.example.com/x.jpg", &policy).await,
        Err(JobError::BadUrl(_))
    ));
    // The local-testing switch (`--allow-http` / PANO_ALLOW_HTTP) lets both through.
    let checked = check_url("http://127.0.0.1:9/x.jpg", &local_testing())
        .await
        .unwrap();
    assert_eq!(checked.addresses, vec!["127.0.0.1:9".parse().unwrap()]);
}
