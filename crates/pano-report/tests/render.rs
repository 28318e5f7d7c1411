//! The report rendered to PDF and read back by poppler (`pdftotext`, `pdftoppm`), as a
//! person's PDF viewer would read it.

use std::path::{Path, PathBuf};
use std::process::Command;

use pano_core::{Fdi, FindingKind, Ring};
use pano_report::{
    render, Clinic, Origin, Paper, PatientBlock, Radiograph, Report, ReportedFinding,
    ReportedOutline,
};

fn sample() -> Vec<u8> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read(root.join("tests/data/pan-01432.jpg")).unwrap()
}

fn finding(fdi: u32, kind: FindingKind, origin: Origin) -> ReportedFinding {
    ReportedFinding {
        fdi: Fdi::new(fdi).unwrap(),
        kind,
        origin,
    }
}

fn report(paper: Paper, patient: PatientBlock) -> Report {
    Report {
        paper,
        clinic: Clinic {
            name: "Harbour Dental Practice".into(),
            address: vec!["1 Quay Street".into(), "Bristol BS1 4XE".into()],
            logo: None,
        },
        patient,
        clinician: "Dr Amira Grey".into(),
        approved_on: "2026-12-02".into(),
        analysed_on: "2026-12-01".into(),
        model_version: "anchor-format-narrow-random-1".into(),
        test_models: true,
        radiograph: Radiograph {
            bytes: sample(),
            width: 2356,
            height: 1292,
        },
        findings: vec![
            finding(18, FindingKind::Missing, Origin::Ai { score: 0.93 }),
            finding(36, FindingKind::Caries, Origin::Confirmed { score: 0.81 }),
            finding(36, FindingKind::Filling, Origin::Ai { score: 0.67 }),
            finding(46, FindingKind::Implant, Origin::Added),
        ],
        outlines: vec![ReportedOutline {
            kind: FindingKind::Caries,
            fdi: Some(Fdi::new(36).unwrap()),
            rings: vec![Ring::from_points([
                (1500, 800),
                (1600, 790),
                (1620, 900),
                (1510, 910),
            ])],
            bbox: [1500.0, 790.0, 1620.0, 910.0],
            confirmed: true,
        }],
    }
}

fn named() -> PatientBlock {
    PatientBlock::Named {
        name: "Zoë Ångström-Núñez".into(),
        birth_date: Some("1984-03-09".into()),
        external_id: Some("OD-10452".into()),
    }
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_sample_report_reads_back_as_text_and_keeps_the_jpeg_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    for paper in [Paper::A4, Paper::Letter] {
        let pdf = render(&report(paper, named())).unwrap();
        let jpeg = sample();
        assert!(pdf.len() < 2 * 1024 * 1024, "{} bytes", pdf.len());
        // The radiograph is the clinic's own JPEG, byte for byte (no re-compression).
        assert!(
            pdf.windows(jpeg.len()).any(|w| w == jpeg.as_slice()),
            "the JPEG is embedded unchanged"
        );
        let path = dir.path().join(format!("{}.pdf", paper.as_str()));
        std::fs::write(&path, &pdf).unwrap();
        if let Ok(keep) = std::env::var("PANO_KEEP_REPORT") {
            std::fs::write(format!("{keep}-{}.pdf", paper.as_str()), &pdf).unwrap();
        }
        let text = pdftotext(&path);
        for wanted in [
            "Panoramic radiograph report",
            "Harbour Dental Practice",
            "Zoë Ångström-Núñez",
            "1984-03-09",
            "OD-10452",
            "Dr Amira Grey",
            "Caries: confirmed by the dentist (AI 81%)",
            "Filling: found by the AI (67%)",
            "Implant: added by the dentist",
            "Missing teeth: 18 (93%).", // poppler reads the no-break space as a space
            "lower left first molar",
            "AI findings support the dentist's diagnosis; they do not replace it.",
            "Made by test models with random weights",
            "Page 1 of 1",
        ] {
            assert!(text.contains(wanted), "{wanted:?} not in:\n{text}");
        }
        let info = Command::new("pdfinfo").arg(&path).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout);
        let (w, h) = match paper {
            Paper::A4 => ("595.28", "841.89"),
            Paper::Letter => ("612", "792"),
        };
        assert!(info.contains(&format!("{w} x {h} pts")), "{info}");
    }
}

#[test]
fn the_rendered_page_shows_the_radiograph() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, render(&report(Paper::A4, named())).unwrap()).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-r", "40", "-gray"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .status()
        .unwrap();
    assert!(status.success());
    let pgm = std::fs::read(dir.path().join("page-1.pgm")).unwrap();
    // P5 header: "P5\n<w> <h>\n255\n" then 8-bit pixels.
    let header_end = pgm
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(2)
        .unwrap()
        .0;
    let header = String::from_utf8_lossy(&pgm[..header_end]).to_string();
    let dims: Vec<usize> = header
        .split_whitespace()
        .skip(1)
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    let (w, h) = (dims[0], dims[1]);
    let pixels = &pgm[header_end + 1..];
    assert_eq!(pixels.len(), w * h);
    // The radiograph's band (a third of the page down) is dark and varied, not blank paper.
    let band = &pixels[w * (h * 25 / 100)..w * (h * 45 / 100)];
    let mean = band.iter().map(|&p| p as f64).sum::<f64>() / band.len() as f64;
    let var = band.iter().map(|&p| (p as f64 - mean).powi(2)).sum::<f64>() / band.len() as f64;
    assert!(
        mean < 160.0 && var.sqrt() > 30.0,
        "mean {mean}, sd {}",
        var.sqrt()
    );
}

#[test]
fn the_withheld_copy_names_no_one_and_bad_images_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("filed.pdf");
    std::fs::write(
        &path,
        render(&report(Paper::A4, PatientBlock::Withheld)).unwrap(),
    )
    .unwrap();
    let text = pdftotext(&path);
    assert!(text.contains("withheld in this copy"), "{text}");
    assert!(!text.contains("OD-10452") && !text.contains("1984"));

    let mut bad = report(Paper::A4, named());
    bad.radiograph.bytes = b"GIF89a not a radiograph".to_vec();
    let err = render(&bad).unwrap_err();
    assert_eq!(err.code(), "report_radiograph");
    let mut wrong_size = report(Paper::A4, named());
    wrong_size.radiograph.width = 1000;
    assert!(render(&wrong_size)
        .unwrap_err()
        .to_string()
        .contains("2356x1292"));
    let mut bad_logo = report(Paper::A4, named());
    bad_logo.clinic.logo = Some(vec![0, 1, 2, 3]);
    assert_eq!(render(&bad_logo).unwrap_err().code(), "report_logo");
}

#[test]
fn the_annotated_radiograph_carries_the_outlines_and_their_labels() {
    let r = report(Paper::A4, named());
    let img = pano_report::annotated_radiograph(&r).unwrap();
    assert_eq!(img.dimensions(), (2356, 1292));
    // The caries outline's corner in the caries colour (#d55e00).
    assert_eq!(img.get_pixel(1600, 790).0, [0xd5, 0x5e, 0x00]);
    // Its label box sits just above the outline, in the same colour, with dark or light ink.
    let label_row = 790 - 10 * 2 - 2 + 1;
    let filled = (1500..1560)
        .filter(|x| img.get_pixel(*x, label_row).0 == [0xd5, 0x5e, 0x00])
        .count();
    assert!(filled > 20, "{filled}");
    // The test-model stamp along the bottom edge: its box's corner in the warning red.
    assert_eq!(img.get_pixel(1, 1292 - 19).0, [160, 20, 20]);
    let jpeg = pano_report::annotated_jpeg(&r).unwrap();
    let back = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((back.width(), back.height()), (2356, 1292));
}
