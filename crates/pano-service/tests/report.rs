//! The patient report of a real analysis of the sample (the test models), reviewed and
//! approved through the service, read back as a PDF viewer reads it (poppler's `pdftotext`
//! and `pdftoppm`); its pages are written to `docs/screenshots/` for people to look at.

use std::path::{Path, PathBuf};
use std::process::Command;

use pano_core::{Decision, DecisionUpdate, FindingKind, Thresholds};
use pano_service::{
    AnalysisService, ArchiveInput, ArchiveSettings, BackendChoice, Paper, PaperChoice,
    PatientChoice, ReportSettings, RunMode, Secrets, Settings,
};
use pano_testkit::{repo_root, sample_path, test_models};

fn service(dir: &Path, archive: &Path, archive_input: ArchiveInput) -> AnalysisService {
    let settings = Settings {
        backend: BackendChoice::Local,
        data_dir: Some(dir.join("data")),
        models_dir: Some(test_models()),
        archive: ArchiveSettings::Folder {
            path: archive.to_path_buf(),
        },
        archive_input,
        operator: Some("test-operator".into()),
        report: ReportSettings {
            clinic_name: "Harbour Dental Practice".into(),
            clinic_address: "1 Quay Street\n\nBristol BS1 4XE\n".into(),
            logo: Some(repo_root().join("icons/128x128.png")),
            paper: PaperChoice::A4,
        },
        ..Settings::default()
    };
    AnalysisService::open(settings, Secrets::default()).unwrap()
}

fn pdftotext(pdf: &[u8], dir: &Path) -> String {
    let path = dir.join("read.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, installed by scripts/setup.sh)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Each tooth's block of the findings list: "Tooth 36" -> the lines up to the next tooth.
fn tooth_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("Tooth ") {
            if let Some(number) = rest.split_whitespace().next() {
                if number.len() == 2 && number.chars().all(|c| c.is_ascii_digit()) {
                    blocks.push((number.to_string(), String::new()));
                }
            }
        }
        if trimmed.starts_with("No finding on teeth") || trimmed.starts_with("AI findings support")
        {
            if let Some(last) = blocks.last_mut() {
                last.0.push('!');
            }
        }
        if let Some(last) = blocks.last_mut() {
            if !last.0.ends_with('!') {
                last.1.push_str(line);
                last.1.push('\n');
            }
        }
    }
    blocks
        .into_iter()
        .map(|(n, b)| (n.trim_end_matches('!').to_string(), b))
        .collect()
}

fn block_of(blocks: &[(String, String)], fdi: u32) -> &str {
    blocks
        .iter()
        .find(|(n, _)| *n == fdi.to_string())
        .map(|(_, b)| b.as_str())
        .unwrap_or_else(|| panic!("tooth {fdi} has no block"))
}

fn title(kind: FindingKind) -> String {
    let label = kind.label();
    label[..1].to_uppercase() + &label[1..]
}

fn write_pages(pdf: &[u8], name: &str, dir: &Path) -> usize {
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let shots = repo_root().join("docs/screenshots");
    let is_page = |p: &Path| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&format!("{name}-"))
    };
    // Pages of an earlier, longer report must not linger beside this one's.
    for old in std::fs::read_dir(&shots).unwrap() {
        let old = old.unwrap().path();
        if is_page(&old) {
            std::fs::remove_file(old).unwrap();
        }
    }
    let prefix = shots.join(name);
    let status = Command::new("pdftoppm")
        .args(["-r", "110", "-png"])
        .arg(&path)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let written: Vec<PathBuf> = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| is_page(p))
        .collect();
    written.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approved_sample_makes_a_report_with_the_clinicians_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let service = service(dir.path(), &archive, ArchiveInput::Original);
    let id = service.enqueue(&sample_path(), None).unwrap().analysis.id;
    service.run(RunMode::UntilIdle).await.unwrap();

    // Before approval there is no patient and no clinician: no report.
    let refused = service.report_pdf(&id, None).unwrap_err();
    assert_eq!(refused.code(), "report_needs_approval");

    // The clinician confirms the strongest finding, rejects the next one on another tooth
    // and adds caries where the AI saw none.
    let detail = service.open_analysis(&id, "Dr Amira Grey").unwrap();
    let mut found: Vec<_> = detail
        .findings
        .iter()
        .filter(|f| f.score >= 0.5)
        .cloned()
        .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let confirmed = found[0];
    let rejected = *found
        .iter()
        .find(|f| f.fdi != confirmed.fdi)
        .expect("two teeth with findings");
    let added = *detail
        .findings
        .iter()
        .find(|f| {
            f.finding == FindingKind::Caries
                && f.score < 0.5
                && f.fdi != confirmed.fdi
                && f.fdi != rejected.fdi
        })
        .expect("a tooth without caries");
    for (f, decision) in [
        (confirmed, Decision::Confirmed),
        (rejected, Decision::Rejected),
        (added, Decision::Added),
    ] {
        service
            .decide_finding(
                &id,
                f.fdi,
                f.finding,
                DecisionUpdate::Set(decision),
                None,
                "Dr Amira Grey",
            )
            .unwrap();
    }
    let outcome = service
        .approve(
            &id,
            PatientChoice::New {
                display_name: "Zoë Ångström-Núñez".into(),
                external_id: Some("OD-10452".into()),
                birth_date: Some("1984-03-09".into()),
            },
            "Dr Amira Grey",
            Thresholds::default(),
        )
        .await
        .unwrap();

    let pdf = service.report_pdf(&id, None).unwrap();
    assert!(pdf.len() < 2 * 1024 * 1024, "{} bytes", pdf.len());
    let jpeg = std::fs::read(sample_path()).unwrap();
    assert!(
        pdf.windows(jpeg.len()).any(|w| w == jpeg.as_slice()),
        "the clinic's JPEG is embedded as it is"
    );
    let text = pdftotext(&pdf, dir.path());
    for wanted in [
        "Harbour Dental Practice",
        "Bristol BS1 4XE",
        "Zoë Ångström-Núñez",
        "1984-03-09",
        "OD-10452",
        "Dr Amira Grey",
        "anchor-format-narrow-random-1",
        "AI findings support the dentist's diagnosis; they do not replace it.",
        "Made by test models with random weights",
    ] {
        assert!(text.contains(wanted), "{wanted:?} not in:\n{text}");
    }
    let blocks = tooth_blocks(&text);
    // Missing teeth are one paragraph ("Missing teeth: 12 (83%), 33 (confirmed), ...");
    // other findings have a block per tooth.
    let missing: String = text
        .split("Missing teeth: ")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .unwrap_or_default()
        .replace('\u{a0}', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if confirmed.finding == FindingKind::Missing {
        let wanted = format!("{} (confirmed)", confirmed.fdi.number());
        assert!(missing.contains(&wanted), "{wanted} not in {missing}");
    } else {
        let confirmed_block = block_of(&blocks, confirmed.fdi.number());
        assert!(
            confirmed_block.contains(&format!(
                "{}: confirmed by the dentist",
                title(confirmed.finding)
            )),
            "{confirmed_block}"
        );
    }
    let added_block = block_of(&blocks, added.fdi.number());
    assert!(
        added_block.contains("Caries: added by the dentist"),
        "{added_block}"
    );
    if rejected.finding == FindingKind::Missing {
        let gone = format!("{} (", rejected.fdi.number());
        assert!(!missing.contains(&gone), "rejected {gone} in {missing}");
        assert!(!missing.is_empty(), "other missing teeth are listed");
    } else if let Some((_, block)) = blocks
        .iter()
        .find(|(n, _)| *n == rejected.fdi.number().to_string())
    {
        let rejected_title = format!("{}:", title(rejected.finding));
        assert!(!block.contains(&rejected_title), "rejected: {block}");
    }
    let pages = write_pages(&pdf, "report-a4", dir.path());
    assert!(pages >= 1);

    let letter = service.report_pdf(&id, Some(Paper::Letter)).unwrap();
    let info_path = dir.path().join("letter.pdf");
    std::fs::write(&info_path, &letter).unwrap();
    let info = Command::new("pdfinfo").arg(&info_path).output().unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains("612 x 792 pts"));
    write_pages(&letter, "report-letter", dir.path());

    // The approved set carries the report; the clinic files originals, so it names the patient.
    let set = PathBuf::from(outcome.archived_location.expect("filed at once"));
    let filed = std::fs::read(set.join("report.pdf")).unwrap();
    let filed_text = pdftotext(&filed, dir.path());
    assert!(filed_text.contains("Zoë Ångström-Núñez") && filed_text.contains("OD-10452"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinic_that_files_deidentified_sets_gets_a_filed_report_that_names_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let service = service(dir.path(), &archive, ArchiveInput::Deidentified);
    // A JPEG whose comment segment names the patient, as some exports write them.
    let input = dir.path().join("Qorbelline_Zyxwvut.jpg");
    let jpeg = std::fs::read(sample_path()).unwrap();
    let comment = b"Zyxwvut Qorbelline PID-4711-XY";
    let mut named = jpeg[..2].to_vec();
    named.extend_from_slice(&[0xFF, 0xFE, 0, (comment.len() + 2) as u8]);
    named.extend_from_slice(comment);
    named.extend_from_slice(&jpeg[2..]);
    std::fs::write(&input, &named).unwrap();
    let id = service.enqueue(&input, None).unwrap().analysis.id;
    service.run(RunMode::UntilIdle).await.unwrap();
    let outcome = service
        .approve(
            &id,
            PatientChoice::New {
                display_name: "Zyxwvut Qorbelline".into(),
                external_id: Some("PID-4711-XY".into()),
                birth_date: Some("1980-01-01".into()),
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    let set = PathBuf::from(outcome.archived_location.expect("filed at once"));
    let filed = std::fs::read(set.join("report.pdf")).unwrap();
    let text = pdftotext(&filed, dir.path());
    assert!(text.contains("withheld in this copy"), "{text}");
    for name in ["Zyxwvut", "Qorbelline", "PID-4711-XY", "1980-01-01"] {
        assert!(!text.contains(name), "{name} in the filed report");
        assert!(
            !filed.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name} in the filed PDF's bytes"
        );
    }
    // The copy the clinic prints names the patient.
    let printed = pdftotext(&service.report_pdf(&id, None).unwrap(), dir.path());
    assert!(printed.contains("Zyxwvut Qorbelline") && printed.contains("PID-4711-XY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_practice_systems_import_folder_gets_the_report_and_the_annotated_image() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).unwrap();
    let import = dir.path().join("pms-import");
    // The export folder is set but not there yet (a share not mounted).
    let mut settings = Settings {
        backend: BackendChoice::Local,
        data_dir: Some(dir.path().join("data")),
        models_dir: Some(test_models()),
        archive: ArchiveSettings::Folder {
            path: archive.clone(),
        },
        retry: pano_service::RetrySettings {
            base_s: 0.2,
            cap_s: 0.5,
        },
        ..Settings::default()
    };
    settings.pms.export_folder = Some(import.clone());
    let service = AnalysisService::open(settings, Secrets::default()).unwrap();
    let input = dir.path().join("scan.png");
    std::fs::copy(repo_root().join("tests/data/pan-small-square.png"), &input).unwrap();
    let id = service.enqueue(&input, None).unwrap().analysis.id;
    service.run(RunMode::UntilIdle).await.unwrap();
    let outcome = service
        .approve(
            &id,
            PatientChoice::New {
                display_name: "Grace Hopper".into(),
                external_id: Some("1234".into()),
                birth_date: None,
            },
            "Dr Bell",
            Thresholds::default(),
        )
        .await
        .unwrap();
    // The folder is missing: the approval stands and waits to be filed.
    assert_eq!(outcome.archived_location, None);
    assert_eq!(
        service.analysis(&id).unwrap().status,
        pano_service::AnalysisStatus::Approved
    );
    // The share comes back: the queue files it, export included.
    std::fs::create_dir(&import).unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    service.run(RunMode::UntilIdle).await.unwrap();
    assert!(service.analysis(&id).unwrap().archived_location.is_some());
    let mut names: Vec<String> = std::fs::read_dir(&import)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].starts_with("1234_20") && names[0].ends_with("_panoramic.jpg"),
        "{names:?}"
    );
    assert!(
        names[1].starts_with("1234_20") && names[1].ends_with("_report.pdf"),
        "{names:?}"
    );
    let jpeg = image::open(import.join(&names[0])).unwrap();
    let analysis = service.analysis(&id).unwrap();
    assert_eq!(
        (jpeg.width(), jpeg.height()),
        (analysis.width, analysis.height)
    );
    let text = pdftotext(&std::fs::read(import.join(&names[1])).unwrap(), dir.path());
    assert!(text.contains("Grace Hopper") && text.contains("1234"));
}
