//! Whatever a model outputs (NaN, infinities, boxes off the image, degenerate sizes), the
//! decoder returns detections inside the image and never panics.

use pano_engine::{DetectionDecoder, DetectionSpec};
use proptest::prelude::*;

fn spec(classes: usize) -> DetectionSpec {
    serde_json::from_value(serde_json::json!({
        "file": "x", "sha256": "", "input": "images", "outputs": ["output0", "output1"],
        "channel_order": "rgb", "image_size": 64,
        "class_names": (0..classes).map(|i| if i == 0 { "TOOTH_11".to_string() } else { format!("C{i}") }).collect::<Vec<_>>(),
        "conf_threshold": 0.0001, "iou_threshold": 0.5, "max_det": 7
    }))
    .unwrap()
}

fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -100.0f32..200.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(0.0f32),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]
    #[test]
    fn decoding_never_panics_and_stays_in_the_image(
        w in 1u32..400,
        h in 1u32..400,
        preds in proptest::collection::vec(value(), (4 + 3 + 32) * 12),
        protos in proptest::collection::vec(value(), 32 * 8 * 8),
    ) {
        let spec = spec(3);
        let decoder = DetectionDecoder { spec: &spec, orig_w: w, orig_h: h, input_w: 64, input_h: 64 };
        let dets = decoder.decode(&preds, 12, &protos, 8, 8);
        prop_assert!(dets.len() <= 7);
        for d in dets {
            prop_assert!(d.mask.area() > 0);
            prop_assert!(d.mask.x1 < w && d.mask.y1 < h);
            // A score is a probability above the threshold: never NaN or infinite.
            prop_assert!(d.score.is_finite() && d.score > spec.conf_threshold, "score {}", d.score);
        }
    }
}
