use base64::Engine as _;
use pano_cloud::{
    validate_output, CloudError, DebugImageSource, JobState, JobStatus, OutputLimits,
};
use pano_core::{Assessment, DebugImages, GeometryError, WorkerOutput, NUM_TEETH};
use serde_json::{json, Value};

fn good_output() -> Value {
    let mut scores = [[0.0f32; NUM_TEETH]; 8];
    for (k, row) in scores.iter_mut().enumerate() {
        for (t, s) in row.iter_mut().enumerate() {
            *s = ((k * 32 + t) % 97) as f32 / 96.0;
        }
    }
    let a = Assessment::from_scores("tmpabc", scores).unwrap();
    serde_json::to_value(WorkerOutput::from_assessment(&a, None)).unwrap()
}

/// A real (tiny) JPEG: debug images must decode.
fn jpeg_b64() -> String {
    let img = image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 16, y as u8 * 32, 90]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
        .encode_image(&img)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(jpeg)
}

#[test]
fn statuses_parse_with_their_timings_and_both_running_spellings() {
    let s = JobStatus::parse(br#"{"id":"j1","status":"COMPLETED","delayTime":1520,"executionTime":18300.7,"output":{"a":1}}"#).unwrap();
    assert_eq!(
        (s.state, s.delay_time_ms, s.execution_time_ms),
        (JobState::Completed, Some(1520), Some(18300))
    );
    assert!(s.state.is_final());
    assert_eq!(
        JobStatus::parse(br#"{"id":"j","status":"RUNNING"}"#)
            .unwrap()
            .state,
        JobState::InProgress
    );
    let failed =
        JobStatus::parse(br#"{"id":"j","status":"FAILED","error":"CUDA out of memory"}"#).unwrap();
    assert_eq!(failed.error.as_deref(), Some("CUDA out of memory"));
    assert!(!JobState::InQueue.is_final());
}

#[test]
fn garbage_statuses_are_specific_errors() {
    assert!(matches!(
        JobStatus::parse(br#"{"id":"j","status":"COMPLE"#),
        Err(CloudError::MalformedResponse(_))
    ));
    assert!(matches!(
        JobStatus::parse(b"<html>502 Bad Gateway</html>"),
        Err(CloudError::MalformedResponse(_))
    ));
    assert_eq!(
        JobStatus::parse(br#"{"id":"j","status":"EXPLODED"}"#),
        Err(CloudError::UnknownStatus("EXPLODED".into()))
    );
}

#[test]
fn a_good_output_validates_under_the_images_own_name() {
    let mut out = good_output();
    // Deployed workers write model class names in the JSON: accepted.
    for i in 64..96 {
        assert_eq!(out["findings"][i]["finding"], "RESIDUAL_ROOT");
        out["findings"][i]["finding"] = json!("ROOT_REMNANTS");
    }
    let v = validate_output(&out, "pan-01432", &OutputLimits::default()).unwrap();
    assert_eq!(v.assessment.name, "pan-01432");
    assert_eq!(v.semantic_segmentation, None);
}

#[test]
fn both_debug_image_variants_are_accepted() {
    let mut out = good_output();
    out["debug_images"] =
        json!({"semantic-segmentation.jpg": jpeg_b64(), "instance-detection.jpg": jpeg_b64()});
    let v = validate_output(&out, "x", &OutputLimits::default()).unwrap();
    let expected = base64::engine::general_purpose::STANDARD
        .decode(jpeg_b64())
        .unwrap();
    assert_eq!(v.instance_detection, Some(DebugImageSource::Jpeg(expected)));

    let mut out = good_output();
    out["debug_image_urls"] = json!({
        "semantic-segmentation.jpg": format!("data:image/jpeg;base64,{}", jpeg_b64()),
        "instance-detection.jpg": "https://bucket.example/debug/i.jpg"
    });
    let v = validate_output(&out, "x", &OutputLimits::default()).unwrap();
    assert_eq!(
        v.instance_detection,
        Some(DebugImageSource::Url(
            "https://bucket.example/debug/i.jpg".into()
        ))
    );
}

#[test]
fn every_kind_of_bad_output_is_refused_with_its_reason() {
    let limits = OutputLimits::default();
    let mut short = good_output();
    short["findings"].as_array_mut().unwrap().pop();
    assert!(matches!(
        validate_output(&short, "x", &limits),
        Err(CloudError::InvalidFindings(_))
    ));

    let mut out_of_range = good_output();
    out_of_range["findings"][3]["score"] = json!(1.5);
    assert!(matches!(
        validate_output(&out_of_range, "x", &limits),
        Err(CloudError::InvalidFindings(_))
    ));

    let mut unknown_tooth = good_output();
    unknown_tooth["findings"][3]["fdi"] = json!("19");
    assert!(matches!(
        validate_output(&unknown_tooth, "x", &limits),
        Err(CloudError::WrongShape(_))
    ));

    assert!(matches!(
        validate_output(&json!({"error": "boom"}), "x", &limits),
        Err(CloudError::WrongShape(_))
    ));
    assert!(matches!(
        validate_output(&json!([1, 2, 3]), "x", &limits),
        Err(CloudError::WrongShape(_))
    ));

    let mut not_jpeg = good_output();
    not_jpeg["debug_images"] =
        json!({"semantic-segmentation.jpg": "aGVsbG8=", "instance-detection.jpg": jpeg_b64()});
    assert_eq!(
        validate_output(&not_jpeg, "x", &limits)
            .unwrap_err()
            .to_string(),
        "the worker's debug image 'semantic-segmentation.jpg' is unusable: not a complete JPEG"
    );

    // Markers right, content garbage: it must decode, not only look like a JPEG.
    let mut garbage = good_output();
    let fake = base64::engine::general_purpose::STANDARD.encode([0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9]);
    garbage["debug_images"] =
        json!({"semantic-segmentation.jpg": jpeg_b64(), "instance-detection.jpg": fake});
    assert!(validate_output(&garbage, "x", &limits)
        .unwrap_err()
        .to_string()
        .contains("'instance-detection.jpg' is unusable: does not decode as a JPEG"));

    let mut http = good_output();
    http["debug_image_urls"] = json!({"semantic-segmentation.jpg": "http://plain/a.jpg", "instance-detection.jpg": "https://x/y.jpg"});
    assert!(matches!(
        validate_output(&http, "x", &limits),
        Err(CloudError::BadDebugImage { .. })
    ));

    let small = OutputLimits {
        max_output_bytes: 1000,
        ..limits
    };
    assert_eq!(
        validate_output(&good_output(), "x", &small).unwrap_err(),
        CloudError::OutputTooLarge { limit_mb: 0 }
    );
}

#[test]
fn the_engines_own_output_round_trips() {
    let a = Assessment::from_scores("n", [[0.5; NUM_TEETH]; 8]).unwrap();
    let images = DebugImages {
        semantic_segmentation: jpeg_b64(),
        instance_detection: jpeg_b64(),
    };
    let out = serde_json::to_value(WorkerOutput::from_assessment(&a, Some(images))).unwrap();
    assert_eq!(
        validate_output(&out, "n", &OutputLimits::default())
            .unwrap()
            .assessment,
        a
    );
}

/// Geometry as our worker sends it: one tooth, one finding instance.
fn geometry_json() -> Value {
    json!({
        "version": 1, "width": 640, "height": 320,
        "teeth": [{"fdi": 16, "outline": [[10, 10, 60, 10, 60, 90, 10, 90]]}],
        "findings": [{"id": 0, "finding": "CARIES", "score": 0.83, "box": [12.5, 20.0, 40.1, 50.0],
                      "outline": [[12, 20, 41, 20, 41, 50]], "teeth": [{"fdi": 16, "share": 0.92}]}]
    })
}

#[test]
fn geometry_is_validated_when_present_and_absent_is_none() {
    let limits = OutputLimits::default();
    let v = validate_output(&good_output(), "x", &limits).unwrap();
    assert_eq!(v.geometry, None);
    assert_eq!(v.geometry_of_image(640, 320), Ok(None));

    let mut out = good_output();
    out["geometry"] = geometry_json();
    let v = validate_output(&out, "x", &limits).unwrap();
    let g = v.geometry_of_image(640, 320).unwrap().unwrap();
    assert_eq!(g.teeth[0].fdi.number(), 16);
    assert_eq!(g.findings[0].finding, pano_core::FindingKind::Caries);
    assert_eq!(
        v.geometry_of_image(641, 320).unwrap_err(),
        CloudError::BadGeometry(GeometryError::WrongImageSize {
            width: 640,
            height: 320,
            expected_width: 641,
            expected_height: 320
        })
    );

    let refused = |edit: &dyn Fn(&mut Value)| {
        let mut out = good_output();
        out["geometry"] = geometry_json();
        edit(&mut out["geometry"]);
        validate_output(&out, "x", &limits).unwrap_err()
    };
    assert_eq!(
        refused(&|g| g["version"] = json!(2)),
        CloudError::BadGeometry(GeometryError::UnsupportedVersion(2))
    );
    assert_eq!(
        refused(&|g| g["teeth"][0]["fdi"] = json!(99)),
        CloudError::BadGeometry(GeometryError::UnknownTooth(99))
    );
    assert!(matches!(
        refused(&|g| g["findings"][0]["outline"][0][0] = json!(700)),
        CloudError::BadGeometry(GeometryError::PointOutside { x: 700, .. })
    ));
    assert!(matches!(
        refused(&|g| *g = json!("not geometry")),
        CloudError::BadGeometry(GeometryError::Shape(_))
    ));
    assert_eq!(
        refused(&|g| g["findings"][0]["score"] = json!(-0.5)).to_string(),
        "the worker's geometry is invalid: finding instance 0: score -0.5 is not a number in [0, 1]"
    );
}

proptest::proptest! {
    #[test]
    fn status_parsing_never_panics(body in proptest::collection::vec(0u8..=255, 0..300)) {
        let _ = JobStatus::parse(&body);
    }

    #[test]
    fn validation_never_panics_on_damaged_outputs(cut in 0usize..12000, junk in "[\\[\\]{}\",:0-9a-zA-Z.-]{0,12}") {
        let text = good_output().to_string();
        let mut damaged = text[..cut.min(text.len())].to_string();
        damaged.push_str(&junk);
        if let Ok(v) = serde_json::from_str::<Value>(&damaged) {
            let _ = validate_output(&v, "x", &OutputLimits::default());
        }
    }
}
