//! Fuzzing pano-core's parsers of untrusted text on stable Rust: the CSV reader and the worker
//! output JSON (`WorkerOutput` and its `assessment`). proptest drives structure-aware
//! mutations of valid documents (lines dropped, repeated, swapped; cells and JSON values
//! replaced by boundary values; keys removed; bytes written, inserted, deleted, cut) and
//! random text.
//!
//! Properties: never a panic; `Ok` only for what satisfies the domain's invariants (256
//! findings, one per tooth and finding, finite scores in [0, 1]) and reads back the same after
//! writing; otherwise a specific `CoreError` (or serde's error for JSON of the wrong shape).
//!
//! 256 cases per target by default; `PANO_FUZZ_CASES=200000` for a long run.

use std::collections::HashSet;
use std::sync::OnceLock;

use pano_core::{
    parse_csv, write_csv, Assessment, DebugImages, WorkerInput, WorkerOutput, NUM_ENTRIES,
    NUM_TEETH,
};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

fn config() -> ProptestConfig {
    let cases = std::env::var("PANO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    }
}

fn assessment(name: &str, salt: usize) -> Assessment {
    let mut scores = [[0.0f32; NUM_TEETH]; 8];
    for (k, row) in scores.iter_mut().enumerate() {
        for (t, s) in row.iter_mut().enumerate() {
            *s = match (k * 32 + t + salt) % 7 {
                0 => 0.0,
                1 => 1.0,
                2 => f32::MIN_POSITIVE,
                3 => 1e-45,
                4 => 0.1,
                _ => 1.0 / (1.0 + (k * 32 + t) as f32),
            };
        }
    }
    Assessment::from_scores(name, scores).unwrap()
}

/// What every accepted assessment must be.
fn check_assessment(a: &Assessment) -> Result<(), TestCaseError> {
    let findings: Vec<_> = a.findings().collect();
    prop_assert_eq!(findings.len(), NUM_ENTRIES);
    let mut seen = HashSet::new();
    for f in &findings {
        prop_assert!(
            f.score.is_finite() && (0.0..=1.0).contains(&f.score),
            "{f:?}"
        );
        prop_assert!(seen.insert((f.fdi, f.finding)), "duplicate {f:?}");
    }
    // Writing it and reading it back gives the same assessment.
    let again = parse_csv(&write_csv(a));
    prop_assert_eq!(again.as_ref(), Ok(a));
    Ok(())
}

fn csv_seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let plain = write_csv(&assessment("pan-01432", 0));
        vec![
            plain.clone(),
            write_csv(&assessment("a,\"quoted\" name", 3)),
            write_csv(&assessment("=HYPERLINK(\"x\")", 5)),
            write_csv(&assessment("'quote", 1)),
            plain
                .replace("RESIDUAL_ROOT", "ROOT_REMNANTS")
                .replace('\n', "\r\n"),
            format!("\u{feff}{plain}"),
        ]
    })
}

const CELLS: [&str; 34] = [
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "infinity",
    "-0",
    "0",
    "1",
    "1.0000001",
    "-1e-50",
    "1e39",
    "1e-46",
    "+0.5",
    " 0.5 ",
    "0x1",
    "999999999999999999999999",
    "11",
    "19",
    "48",
    "00011",
    "-11",
    "CARIES",
    "caries",
    "ROOT_REMNANTS",
    "MISSING ",
    "\"",
    "\"\"",
    "\"a,b\"",
    "'=1",
    ",",
    "\u{feff}",
    "é",
];

#[derive(Debug, Clone)]
enum TextMutation {
    DropLine(Index),
    RepeatLine(Index),
    SwapLines(Index, Index),
    /// Replace cell `col` of a line by a boundary token.
    Cell(Index, usize, Index),
    InsertLine(Index, String),
    Byte(Index, u8),
    InsertBytes(Index, Vec<u8>),
    Delete(Index, usize),
    Truncate(Index),
}

fn text_mutation() -> impl Strategy<Value = TextMutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(TextMutation::DropLine),
        2 => any::<Index>().prop_map(TextMutation::RepeatLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| TextMutation::SwapLines(a, b)),
        4 => (any::<Index>(), 0usize..5, any::<Index>()).prop_map(|(l, c, v)| TextMutation::Cell(l, c, v)),
        1 => (any::<Index>(), "[ -~]{0,40}").prop_map(|(l, s)| TextMutation::InsertLine(l, s)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, b)| TextMutation::Byte(at, b)),
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(at, b)| TextMutation::InsertBytes(at, b)),
        1 => (any::<Index>(), 1usize..200).prop_map(|(at, n)| TextMutation::Delete(at, n)),
        1 => any::<Index>().prop_map(TextMutation::Truncate),
    ]
}

fn mutate_text(text: &str, mutations: &[TextMutation]) -> String {
    let mut text = text.to_string();
    for m in mutations {
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        let mut bytes: Option<Vec<u8>> = None;
        match m {
            TextMutation::DropLine(i) => {
                lines.remove(i.index(lines.len()));
            }
            TextMutation::RepeatLine(i) => {
                let l = lines[i.index(lines.len())].clone();
                lines.insert(i.index(lines.len()), l);
            }
            TextMutation::SwapLines(a, b) => {
                let n = lines.len();
                lines.swap(a.index(n), b.index(n));
            }
            TextMutation::Cell(l, col, v) => {
                let i = l.index(lines.len());
                let mut cells: Vec<String> = lines[i].split(',').map(str::to_string).collect();
                let c = (*col).min(cells.len());
                let token = CELLS[v.index(CELLS.len())].to_string();
                if c == cells.len() {
                    cells.push(token);
                } else {
                    cells[c] = token;
                }
                lines[i] = cells.join(",");
            }
            TextMutation::InsertLine(l, s) => {
                let i = l.index(lines.len() + 1);
                lines.insert(i, s.clone());
            }
            TextMutation::Byte(at, b) => {
                let mut raw = text.clone().into_bytes();
                if !raw.is_empty() {
                    let i = at.index(raw.len());
                    raw[i] = *b;
                }
                bytes = Some(raw);
            }
            TextMutation::InsertBytes(at, new) => {
                let mut raw = text.clone().into_bytes();
                let i = at.index(raw.len() + 1);
                raw.splice(i..i, new.iter().copied());
                bytes = Some(raw);
            }
            TextMutation::Delete(at, n) => {
                let mut raw = text.clone().into_bytes();
                if !raw.is_empty() {
                    let i = at.index(raw.len());
                    raw.drain(i..(i + n).min(raw.len()));
                }
                bytes = Some(raw);
            }
            TextMutation::Truncate(at) => {
                let mut raw = text.clone().into_bytes();
                raw.truncate(at.index(raw.len() + 1));
                bytes = Some(raw);
            }
        }
        text = match bytes {
            Some(raw) => String::from_utf8_lossy(&raw).into_owned(),
            None => lines.join("\n"),
        };
    }
    text
}

fn check_csv(text: &str) -> Result<(), TestCaseError> {
    match parse_csv(text) {
        Ok(a) => check_assessment(&a)?,
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

fn json_seeds() -> &'static [Value] {
    static SEEDS: OnceLock<Vec<Value>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let images = DebugImages {
            semantic_segmentation: "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA==".into(),
            instance_detection: "data:image/jpeg;base64,/9j/".into(),
        };
        let a = assessment("pan", 2);
        let plain = WorkerOutput::from_assessment(&a, None);
        let with_images = WorkerOutput::from_assessment(&a, Some(images.clone()))
            .with_model_version("pano-test-1", true);
        let mut with_urls = WorkerOutput::from_assessment(&assessment("x", 4), None);
        with_urls.debug_image_urls = Some(images);
        let mut worker_spelling = serde_json::to_value(&plain).unwrap();
        for f in worker_spelling["findings"].as_array_mut().unwrap() {
            if f["finding"] == "RESIDUAL_ROOT" {
                f["finding"] = "ROOT_REMNANTS".into();
            }
        }
        vec![
            serde_json::to_value(&plain).unwrap(),
            serde_json::to_value(&with_images).unwrap(),
            serde_json::to_value(&with_urls).unwrap(),
            worker_spelling,
        ]
    })
}

fn interesting_json() -> Vec<Value> {
    let deep = (0..200).fold(Value::Null, |v, _| Value::Array(vec![v]));
    vec![
        Value::Null,
        true.into(),
        (-1).into(),
        0.into(),
        1.into(),
        2.into(),
        256.into(),
        257.into(),
        u64::MAX.into(),
        i64::MIN.into(),
        1.5.into(),
        1e308.into(),
        (-0.0).into(),
        1e-320.into(),
        "".into(),
        "NaN".into(),
        "11".into(),
        "19".into(),
        "0.5".into(),
        "CARIES".into(),
        "ROOT_REMNANTS".into(),
        "https://x/y.jpg".into(),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!({"fdi": "11", "finding": "CARIES", "score": 0.5}),
        serde_json::json!({"fdi": 11, "finding": "CARIES", "score": "0.5"}),
        deep,
    ]
}

#[derive(Debug, Clone)]
enum JsonMutation {
    /// Walk down a path of choices, then act on the value reached.
    At(Vec<Index>, JsonAction),
}

#[derive(Debug, Clone)]
enum JsonAction {
    Replace(Index),
    RemoveChild(Index),
    DuplicateChild(Index),
    Truncate(Index),
}

fn json_mutation() -> impl Strategy<Value = JsonMutation> {
    let action = prop_oneof![
        3 => any::<Index>().prop_map(JsonAction::Replace),
        2 => any::<Index>().prop_map(JsonAction::RemoveChild),
        1 => any::<Index>().prop_map(JsonAction::DuplicateChild),
        1 => any::<Index>().prop_map(JsonAction::Truncate),
    ];
    (proptest::collection::vec(any::<Index>(), 0..4), action)
        .prop_map(|(path, action)| JsonMutation::At(path, action))
}

/// The value reached by following `path` (each step picks a child), stopping at a leaf.
fn node_at<'a>(v: &'a mut Value, path: &[Index]) -> &'a mut Value {
    let n = match &*v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    if path.is_empty() || n == 0 {
        return v;
    }
    let i = path[0].index(n);
    match v {
        Value::Array(a) => node_at(&mut a[i], &path[1..]),
        Value::Object(o) => node_at(o.values_mut().nth(i).unwrap(), &path[1..]),
        _ => unreachable!(),
    }
}

fn mutate_json(mut doc: Value, mutations: &[JsonMutation], pool: &[Value]) -> Value {
    for JsonMutation::At(path, action) in mutations {
        let node = node_at(&mut doc, path);
        match action {
            JsonAction::Replace(v) => *node = pool[v.index(pool.len())].clone(),
            JsonAction::RemoveChild(i) => match node {
                Value::Array(a) if !a.is_empty() => {
                    a.remove(i.index(a.len()));
                }
                Value::Object(o) if !o.is_empty() => {
                    let key = o.keys().nth(i.index(o.len())).unwrap().clone();
                    o.remove(&key);
                }
                _ => {}
            },
            JsonAction::DuplicateChild(i) => {
                if let Value::Array(a) = node {
                    if !a.is_empty() {
                        let k = i.index(a.len());
                        a.insert(k, a[k].clone());
                    }
                }
            }
            JsonAction::Truncate(i) => {
                if let Value::Array(a) = node {
                    a.truncate(i.index(a.len() + 1));
                }
            }
        }
    }
    doc
}

fn check_json(text: &str) -> Result<(), TestCaseError> {
    if let Ok(out) = serde_json::from_str::<WorkerOutput>(text) {
        match out.assessment("x") {
            Ok(a) => {
                prop_assert_eq!(out.num_findings, NUM_ENTRIES);
                check_assessment(&a)?;
                // A valid output serialises and reads back to the same value. (Not every
                // parsed `WorkerOutput`: serde reads 1e308 as an f32 infinity, which it then
                // writes as null; `assessment` is what refuses it.)
                let again: WorkerOutput =
                    serde_json::from_str(&serde_json::to_string(&out).unwrap())
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(again, out);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
    let _ = serde_json::from_str::<WorkerInput>(text);
    Ok(())
}

#[test]
fn every_seed_parses() {
    for seed in csv_seeds() {
        check_assessment(&parse_csv(seed).unwrap()).unwrap();
    }
    for seed in json_seeds() {
        let out: WorkerOutput = serde_json::from_value(seed.clone()).unwrap();
        check_assessment(&out.assessment("x").unwrap()).unwrap();
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_csv_mutated(
        seed in any::<Index>(),
        mutations in proptest::collection::vec(text_mutation(), 1..6),
    ) {
        let seeds = csv_seeds();
        let text = mutate_text(&seeds[seed.index(seeds.len())], &mutations);
        check_csv(&text)?;
    }

    #[test]
    fn fuzz_csv_random(text in "\\PC{0,400}", header in any::<bool>()) {
        let text = if header { format!("{}\n{text}", pano_core::CSV_HEADER) } else { text };
        check_csv(&text)?;
    }

    #[test]
    fn fuzz_worker_json_mutated(
        seed in any::<Index>(),
        mutations in proptest::collection::vec(json_mutation(), 1..5),
        text_mutations in proptest::collection::vec(text_mutation(), 0..3),
    ) {
        let seeds = json_seeds();
        let pool = interesting_json();
        let doc = mutate_json(seeds[seed.index(seeds.len())].clone(), &mutations, &pool);
        let text = serde_json::to_string(&doc).unwrap();
        let text = mutate_text(&text, &text_mutations);
        check_json(&text)?;
    }

    #[test]
    fn fuzz_worker_json_random(text in "\\PC{0,300}") {
        check_json(&text)?;
    }
}
