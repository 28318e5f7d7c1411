//! What an approved analysis costs to deliver, on the sample (2356x1292 JPEG, a finding on
//! every tooth): the patient report (PDF), the annotated radiograph (pixels and JPEG), and
//! the two DICOM objects. Prints the median of several runs and the sizes.
//!
//! `cargo bench -p pano-dicom --bench delivery`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pano_core::{Fdi, FindingKind, Ring};
use pano_dicom::{encapsulated_pdf, new_study, secondary_capture, Derivation};
use pano_report::{
    Clinic, Origin, Paper, PatientBlock, Radiograph, Report, ReportedFinding, ReportedOutline,
};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(f());
        times.push(start.elapsed());
    }
    (median(times), last.expect("at least one run"))
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let jpeg = std::fs::read(root.join("tests/data/pan-01432.jpg")).unwrap();
    let mut findings = Vec::new();
    let mut outlines = Vec::new();
    for (i, tooth) in (1..=4u32)
        .flat_map(|q| (1..=8u32).map(move |t| q * 10 + t))
        .enumerate()
    {
        let fdi = Fdi::new(tooth).unwrap();
        let kind = FindingKind::ALL[1 + i % 7];
        findings.push(ReportedFinding {
            fdi,
            kind,
            origin: Origin::Ai { score: 0.8 },
        });
        let (x, y) = (200 + (i as u32 % 16) * 120, 400 + (i as u32 / 16) * 400);
        // A 200-point ring, as the engine's outlines are after simplification.
        let ring = Ring::from_points((0..200).map(|k| {
            let a = k as f32 / 200.0 * std::f32::consts::TAU;
            (
                (x as f32 + 50.0 * a.cos()) as u32,
                (y as f32 + 80.0 * a.sin()) as u32,
            )
        }));
        outlines.push(ReportedOutline {
            kind,
            fdi: Some(fdi),
            rings: vec![ring],
            bbox: [
                x as f32 - 50.0,
                y as f32 - 80.0,
                x as f32 + 50.0,
                y as f32 + 80.0,
            ],
            confirmed: i % 3 == 0,
        });
    }
    let report = Report {
        paper: Paper::A4,
        clinic: Clinic {
            name: "Harbour Dental Practice".into(),
            address: vec!["1 Quay Street".into(), "Bristol BS1 4XE".into()],
            logo: None,
        },
        patient: PatientBlock::Named {
            name: "Grace Hopper".into(),
            birth_date: Some("1906-12-09".into()),
            external_id: Some("OD-1234".into()),
        },
        clinician: "Dr Bell".into(),
        approved_on: "2026-12-02".into(),
        analysed_on: "2026-12-02".into(),
        model_version: "bench".into(),
        test_models: true,
        radiograph: Radiograph {
            bytes: jpeg,
            width: 2356,
            height: 1292,
        },
        findings,
        outlines,
    };
    let runs = 7;
    let (t_pdf, pdf) = time(runs, || pano_report::render(&report).unwrap());
    let (t_annotated, annotated) =
        time(runs, || pano_report::annotated_radiograph(&report).unwrap());
    let (t_jpeg, annotated_jpeg) = time(runs, || pano_report::annotated_jpeg(&report).unwrap());
    let study = new_study(
        "bench",
        "Grace Hopper",
        "OD-1234",
        Some("1906-12-09"),
        "20261202",
        "120000",
    );
    let derivation = Derivation {
        analysis_id: "bench".into(),
        content_date: "20261202".into(),
        content_time: "120000".into(),
        model_version: "bench".into(),
        approved_by: "Dr Bell".into(),
        institution_name: "Harbour Dental Practice".into(),
        lossy_source: true,
        test_models: true,
    };
    let (t_sc, sc) = time(runs, || {
        secondary_capture(
            &study,
            &derivation,
            annotated.as_raw(),
            annotated.width(),
            annotated.height(),
        )
        .unwrap()
    });
    let (t_doc, doc) = time(runs, || {
        encapsulated_pdf(&study, &derivation, &pdf, "report").unwrap()
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mb = |n: usize| n as f64 / 1_048_576.0;
    println!("delivery of one approved analysis (sample 2356x1292, 32 findings, 32 outlines), median of {runs}:");
    println!(
        "  patient report PDF (A4)        {:8.1} ms   {:6.2} MB",
        ms(t_pdf),
        mb(pdf.len())
    );
    println!(
        "  annotated radiograph (pixels)  {:8.1} ms",
        ms(t_annotated)
    );
    println!(
        "  annotated radiograph (JPEG)    {:8.1} ms   {:6.2} MB",
        ms(t_jpeg),
        mb(annotated_jpeg.len())
    );
    println!(
        "  DICOM Secondary Capture        {:8.1} ms   {:6.2} MB",
        ms(t_sc),
        mb(sc.bytes.len())
    );
    println!(
        "  DICOM Encapsulated PDF         {:8.1} ms   {:6.2} MB",
        ms(t_doc),
        mb(doc.bytes.len())
    );
}
