//! `cargo bench -p pano-service --bench service [-- --analyses N]`
//!
//! 1. The cache: enqueueing an image that was already analysed (read + SHA-256 + lookup),
//!    on the 782 kB sample.
//! 2. A database with N analyses (default 100,000: 256 findings each, 10,000 patients, three
//!    years of dates, 40 % approved): a history page, a patient's history, a patient search,
//!    a month by date; and the database's size.

use std::time::{Duration, Instant};

use pano_core::{Assessment, NUM_TEETH};
use pano_service::{AnalysisService, BackendChoice, HistoryFilter, RunMode, Secrets, Settings};
use pano_store::{ArtefactKind, BackendKind, CompletedAnalysis, NewAnalysis, NewPatient, Store};

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} runs)",
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 95 / 100]),
        ms(*samples.last().unwrap()),
        samples.len()
    )
}

fn time<T>(runs: usize, mut f: impl FnMut(usize) -> T) -> String {
    let samples = (0..runs)
        .map(|i| {
            let start = Instant::now();
            std::hint::black_box(f(i));
            start.elapsed()
        })
        .collect();
    stats(samples)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let analyses: usize = args
        .iter()
        .position(|a| a == "--analyses")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sample = root.join("tests/data/pan-01432.jpg");

    // 1. Cache.
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        backend: BackendChoice::Local,
        data_dir: Some(dir.path().to_path_buf()),
        models_dir: Some(root.join("models/test")),
        ..Settings::default()
    };
    let service = AnalysisService::open(settings, Secrets::default()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let first = Instant::now();
    let id = service.enqueue(&sample, None).unwrap().analysis.id;
    rt.block_on(service.run(RunMode::UntilIdle)).unwrap();
    println!(
        "first analysis of the sample (enqueue + engine load + run + store): {:.0} ms",
        first.elapsed().as_secs_f64() * 1000.0
    );
    println!(
        "re-analysing the same image (cached): {}",
        time(200, |_| {
            let again = service.enqueue(&sample, None).unwrap();
            assert!(again.reused && again.analysis.id == id);
        })
    );

    // 2. A large history.
    let db_dir = tempfile::tempdir().unwrap();
    let db_path = db_dir.path().join("pano.sqlite");
    let mut store = Store::open(&db_path).unwrap();
    let patients = (analyses / 10).max(1);
    let build = Instant::now();
    store.connection().execute_batch("BEGIN").unwrap();
    for p in 0..patients {
        store
            .insert_patient(&NewPatient {
                id: format!("p{p:07}"),
                display_name: format!(
                    "{} {}",
                    ["Ada", "Grace", "Alan", "Edsger", "Barbara"][p % 5],
                    p
                ),
                external_id: Some(format!("EXT-{p}")),
                birth_date: None,
            })
            .unwrap();
    }
    store.connection().execute_batch("COMMIT").unwrap();
    let assessment = Assessment::from_scores("x", [[0.25; NUM_TEETH]; 8]).unwrap();
    let mut approved = 0usize;
    for i in 0..analyses {
        let id = format!("a{i:08}");
        store
            .insert_analysis(&NewAnalysis {
                id: id.clone(),
                job_id: format!("j{i:08}"),
                image_sha256: format!("{:064x}", i),
                input_bytes: 800_000,
                original_file_name: format!("pan-{i}.jpg"),
                input_extension: "jpg".into(),
                width: 2356,
                height: 1292,
                backend: BackendKind::Local,
                requested_backend: "local".into(),
                model_version: "m1".into(),
                actor: "bench".into(),
                dicom_patient: None,
            })
            .unwrap();
        store
            .complete_analysis(
                &id,
                &format!("j{i:08}"),
                &CompletedAnalysis {
                    backend: BackendKind::Local,
                    endpoint: None,
                    model_version: "m1".into(),
                    execution_provider: Some("cpu".into()),
                    queue_ms: None,
                    run_ms: 2000,
                    test_model: false,
                    assessment: assessment.clone(),
                    artefacts: vec![(ArtefactKind::Csv, format!("{:064x}", i + 1), 9000)],
                },
            )
            .unwrap();
        if i % 5 < 2 {
            store
                .mark_approved(
                    &id,
                    &format!("p{:07}", approved % patients),
                    "Dr Bench",
                    &pano_core::Thresholds::default(),
                    &format!("k{i:08}"),
                )
                .unwrap();
            approved += 1;
        }
    }
    // Three years of dates.
    store
        .connection()
        .execute(
            "UPDATE analyses SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', '+' || (rowid % 1096) || ' days', '+' || (rowid % 86400) || ' seconds')",
            [],
        )
        .unwrap();
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();
    println!(
        "built {analyses} analyses ({} findings, {patients} patients) in {:.1} s",
        analyses * 256,
        build.elapsed().as_secs_f64()
    );
    let size = std::fs::metadata(&db_path).unwrap().len();
    println!(
        "database size: {:.1} MB ({:.1} kB per analysis)",
        size as f64 / 1e6,
        size as f64 / 1e3 / analyses as f64
    );
    drop(store);

    let store = Store::open(&db_path).unwrap();
    println!(
        "history, newest page of 50: {}",
        time(200, |_| store
            .history(&HistoryFilter {
                limit: 50,
                ..Default::default()
            })
            .unwrap())
    );
    println!(
        "history, page 100 of 50: {}",
        time(200, |_| store
            .history(&HistoryFilter {
                limit: 50,
                offset: 5000,
                ..Default::default()
            })
            .unwrap())
    );
    println!(
        "history of one patient: {}",
        time(200, |i| {
            let rows = store
                .history(&HistoryFilter {
                    patient_id: Some(format!("p{:07}", (i * 7919) % patients)),
                    limit: 50,
                    ..Default::default()
                })
                .unwrap();
            assert!(!rows.is_empty());
        })
    );
    println!(
        "history of one month (first page): {}",
        time(200, |i| {
            let month = 1 + i % 12;
            store
                .history(&HistoryFilter {
                    since: Some(format!("2025-{month:02}-01")),
                    until: Some(format!("2025-{month:02}-28")),
                    limit: 50,
                    ..Default::default()
                })
                .unwrap()
        })
    );
    println!(
        "patient search by name prefix: {}",
        time(200, |i| {
            store
                .search_patients(
                    &format!("{} {}", ["Ada", "Grace", "Alan"][i % 3], i % 97),
                    20,
                )
                .unwrap()
        })
    );
    println!(
        "patient search by external id: {}",
        time(200, |i| store
            .search_patients(&format!("EXT-{}", (i * 31) % patients), 20)
            .unwrap())
    );
    println!(
        "one analysis's 256 findings: {}",
        time(200, |i| store
            .assessment(&format!("a{:08}", (i * 4999) % analyses), "x")
            .unwrap()
            .unwrap())
    );
}
