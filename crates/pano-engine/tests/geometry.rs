//! The geometry of a real analysis: the sample radiograph with the committed test models.
//! (Timing is the pipeline benchmark's job: `cargo bench -p pano-engine --bench pipeline`.)

use std::path::Path;

use pano_core::{AnalysisGeometry, FindingKind, MAX_GEOMETRY_POINTS};
use pano_engine::{Engine, EngineOptions, MIN_TOOTH_SHARE};
use pano_imaging::{import_file, ImportLimits};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn the_samples_geometry_lies_inside_the_image_and_reads_back() {
    let engine = Engine::load(&EngineOptions {
        models_dir: root().join("models/test"),
        ..Default::default()
    })
    .unwrap();
    let image = import_file(
        &root().join("tests/data/pan-01432.jpg"),
        &ImportLimits::default(),
    )
    .unwrap()
    .rgb;
    let (w, h) = image.dimensions();
    let analysis = engine.analyze(&image, "pan-01432", false).unwrap();
    let g = &analysis.geometry;
    assert_eq!((g.version, g.width, g.height), (1, w, h));
    g.validate().unwrap();

    assert!(
        !g.teeth.is_empty(),
        "the test models' segmentation has teeth"
    );
    for tooth in &g.teeth {
        assert!(!tooth.outline.is_empty());
    }
    let rings = g
        .teeth
        .iter()
        .flat_map(|t| &t.outline)
        .chain(g.findings.iter().flat_map(|f| &f.outline));
    for ring in rings {
        assert!(ring.len() >= 3);
        assert!(ring.points().all(|(x, y)| x <= w && y <= h));
    }

    // One instance per detection of the seven detected kinds, in kind order.
    let detected = analysis
        .detections
        .iter()
        .filter(|d| {
            FindingKind::ALL
                .iter()
                .any(|k| k.model_class() == Some(d.class_name.as_str()))
        })
        .count();
    assert_eq!(g.findings.len(), detected);
    assert!(
        g.findings.iter().any(|f| !f.teeth.is_empty()),
        "the sample's findings raise teeth: {:?}",
        g.findings
            .iter()
            .map(|f| (f.finding, f.score, f.teeth.len()))
            .collect::<Vec<_>>()
    );
    assert!(g
        .findings
        .windows(2)
        .all(|p| p[0].finding.ordinal() <= p[1].finding.ordinal()));
    for (i, f) in g.findings.iter().enumerate() {
        assert_eq!(f.id as usize, i);
        assert_ne!(f.finding, FindingKind::Missing);
        assert!((0.0..=1.0).contains(&f.score));
        // An instance adds `score x share / total` to each tooth, at least score / 32 to the
        // tooth it covers most; teeth under MIN_TOOTH_SHARE are left out, so only a
        // low-scoring instance may list none.
        assert!(
            !f.teeth.is_empty() || f.score < 32.0 * MIN_TOOTH_SHARE as f32,
            "instance {i} (score {}) raised no tooth",
            f.score
        );
        assert!(f
            .teeth
            .iter()
            .all(|s| s.share as f64 >= MIN_TOOTH_SHARE - 1e-4 && s.share <= 1.0));
        assert!(f.teeth.windows(2).all(|p| p[0].share >= p[1].share));
        // A tooth's score for the finding is at least what any one instance added to it.
        for share in &f.teeth {
            let score = analysis.assessment.score(share.fdi, f.finding);
            assert!(score + 1e-3 >= share.share, "{score} < {}", share.share);
        }
    }

    let json = serde_json::to_vec(g).unwrap();
    let back = AnalysisGeometry::from_untrusted_json(&json, w, h).unwrap();
    assert_eq!(&back, g);
    assert!(g.point_count() <= MAX_GEOMETRY_POINTS);
    // The random-weight test models' masks are noise with ragged edges (thousands of rings);
    // real models' are compact. This bounds what the format allows, not what real data needs.
    assert!(json.len() < 2 << 20, "{} bytes", json.len());
    eprintln!(
        "geometry: {} teeth, {} instances, {} points, {} bytes of JSON",
        g.teeth.len(),
        g.findings.len(),
        g.point_count(),
        json.len()
    );
}
