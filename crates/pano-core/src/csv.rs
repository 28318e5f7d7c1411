//! The reference's CSV: `file_name,fdi,finding,score`, one row per finding and tooth.
//!
//! Written by hand rather than with a CSV crate: the format is four columns of which only
//! `file_name` is free text, and the exact bytes matter (the local engine and the cloud
//! worker must produce identical files).
//!
//! The reviewed CSV (`write_reviewed_csv`) is the same file with a fifth column, `source`:
//! whether the clinician left the row as the AI scored it or decided on it.
//!
//! Formula injection (OWASP "CSV Injection"): a spreadsheet opening the CSV treats a cell that
//! starts with `=`, `+`, `-`, `@`, tab or carriage return as a formula, and `file_name` comes
//! from a file name anyone can choose (`=HYPERLINK(...)`). The writer prefixes such a name
//! with a single quote `'`, which spreadsheets show as text and hide. So that every name reads
//! back unchanged, a name that itself starts with `'` gets the prefix as well; the reader
//! removes one leading `'` exactly when it is followed by one of those characters or by
//! another `'` (a name such as `'abc` from another writer is kept as it is). Only `file_name`
//! is free text: `fdi`, `finding` and `score` are written by us from validated values and
//! never start with these characters.

use crate::review::AI_SOURCE;
use crate::{Assessment, CoreError, Decision, Fdi, FindingKind, ToothFinding};

pub const CSV_HEADER: &str = "file_name,fdi,finding,score";

/// Writes an assessment as the reference's CSV, `\n` line ends, scores in the shortest form
/// that reads back to the same `f32`.
pub fn write_csv(assessment: &Assessment) -> String {
    let name = quote_field(&defuse_formula(&assessment.name));
    let mut out = String::with_capacity(40 * 257);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for f in assessment.findings() {
        out.push_str(&format!(
            "{name},{},{},{}\n",
            f.fdi,
            f.finding.csv_name(),
            f.score
        ));
    }
    out
}

/// Reads a CSV of the reference's shape (either finding spelling; `\r\n` accepted).
pub fn parse_csv(text: &str) -> Result<Assessment, CoreError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header = first_line(text);
    if header != CSV_HEADER {
        return Err(CoreError::BadCsvHeader(header.chars().take(80).collect()));
    }
    let (name, rows) = parse_rows(text, 0)?;
    Assessment::from_findings(name, rows.into_iter().map(|(finding, _, _)| finding))
}

/// The header of the reviewed CSV: the stored CSV's columns and where each row's verdict
/// comes from.
pub const REVIEWED_CSV_HEADER: &str = "file_name,fdi,finding,score,source";

/// The reviewed result: every row of [`write_csv`] in the same order, with the same
/// `file_name` and the AI's score, plus `source`: `ai` where the clinician made no
/// decision, else `confirmed`, `rejected` or `added`.
pub fn write_reviewed_csv(
    assessment: &Assessment,
    decision_of: impl Fn(Fdi, FindingKind) -> Option<Decision>,
) -> String {
    let name = quote_field(&defuse_formula(&assessment.name));
    let mut out = String::with_capacity(48 * 257);
    out.push_str(REVIEWED_CSV_HEADER);
    out.push('\n');
    for f in assessment.findings() {
        out.push_str(&format!(
            "{name},{},{},{},{}\n",
            f.fdi,
            f.finding.csv_name(),
            f.score,
            Decision::source_name(decision_of(f.fdi, f.finding))
        ));
    }
    out
}

/// A reviewed CSV read back: the AI's assessment and the clinician's decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewedCsv {
    pub assessment: Assessment,
    /// The rows whose `source` is not `ai`, in the file's order.
    pub decisions: Vec<(Fdi, FindingKind, Decision)>,
}

impl ReviewedCsv {
    /// The decision on one (tooth, finding); None where the AI's score stands.
    pub fn decision(&self, fdi: Fdi, finding: FindingKind) -> Option<Decision> {
        self.decisions
            .iter()
            .find(|(f, k, _)| *f == fdi && *k == finding)
            .map(|(_, _, d)| *d)
    }
}

/// Reads a CSV written by [`write_reviewed_csv`].
pub fn parse_reviewed_csv(text: &str) -> Result<ReviewedCsv, CoreError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header = first_line(text);
    if header != REVIEWED_CSV_HEADER {
        return Err(CoreError::BadCsvLine {
            line: 1,
            reason: format!(
                "the header must be '{REVIEWED_CSV_HEADER}', got '{}'",
                header.chars().take(80).collect::<String>()
            ),
        });
    }
    let (name, rows) = parse_rows(text, 1)?;
    let mut decisions = Vec::new();
    let mut findings = Vec::with_capacity(rows.len());
    for (finding, extra, line) in rows {
        let source = extra[0].trim();
        if source != AI_SOURCE {
            let decision: Decision = source.parse().map_err(|_| CoreError::BadCsvLine {
                line,
                reason: format!("source '{source}' is not ai, confirmed, rejected or added"),
            })?;
            decisions.push((finding.fdi, finding.finding, decision));
        }
        findings.push(finding);
    }
    Ok(ReviewedCsv {
        assessment: Assessment::from_findings(name, findings)?,
        decisions,
    })
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .map(str::trim)
        .unwrap_or("")
}

/// The rows after the header: `file_name,fdi,finding,score` and `extra` more plain columns.
/// Returns the one file name all rows share, and each row's finding, extra columns and line
/// number.
#[allow(clippy::type_complexity)]
fn parse_rows(
    text: &str,
    extra: usize,
) -> Result<(String, Vec<(ToothFinding, Vec<&str>, usize)>), CoreError> {
    let lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .skip(1);
    let mut name: Option<String> = None;
    let mut rows = Vec::with_capacity(256);
    for (i, line) in lines {
        let line_no = i + 1;
        let bad = |reason: String| CoreError::BadCsvLine {
            line: line_no,
            reason,
        };
        let (file_name, rest) = split_name(line).ok_or_else(|| bad("unbalanced quotes".into()))?;
        let file_name = restore_formula(file_name);
        let cols: Vec<&str> = rest.split(',').collect();
        if cols.len() != 3 + extra {
            return Err(bad(format!(
                "expected {} columns, got {}",
                4 + extra,
                cols.len() + 1
            )));
        }
        match &name {
            None => name = Some(file_name.clone()),
            Some(n) if *n != file_name => {
                return Err(CoreError::MixedCsvFiles(n.clone(), file_name));
            }
            Some(_) => {}
        }
        let fdi: Fdi = cols[0].parse().map_err(|e: CoreError| bad(e.to_string()))?;
        let finding: FindingKind = cols[1].parse().map_err(|e: CoreError| bad(e.to_string()))?;
        let score: f32 = cols[2]
            .trim()
            .parse()
            .map_err(|_| bad(format!("score '{}' is not a number", cols[2])))?;
        rows.push((
            ToothFinding {
                fdi,
                finding,
                score,
            },
            cols[3..].to_vec(),
            line_no,
        ));
    }
    Ok((name.unwrap_or_default(), rows))
}

/// First characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
/// The prefix that makes such a cell text.
const TEXT_PREFIX: char = '\'';

/// `name` as a cell no spreadsheet runs: `'` before a formula-like start, and before a
/// leading `'` (so that the reader can tell the prefix from the name).
fn defuse_formula(name: &str) -> std::borrow::Cow<'_, str> {
    match name.chars().next() {
        Some(c) if FORMULA_STARTS.contains(&c) || c == TEXT_PREFIX => {
            format!("{TEXT_PREFIX}{name}").into()
        }
        _ => name.into(),
    }
}

/// The inverse of [`defuse_formula`]: drops one leading `'` when a formula-like character or
/// another `'` follows it.
fn restore_formula(cell: String) -> String {
    let mut chars = cell.chars();
    match (chars.next(), chars.next()) {
        (Some(TEXT_PREFIX), Some(c)) if FORMULA_STARTS.contains(&c) || c == TEXT_PREFIX => {
            cell[TEXT_PREFIX.len_utf8()..].to_string()
        }
        _ => cell,
    }
}

fn quote_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Splits off the first (possibly quoted) field; returns it unquoted and the rest after its comma.
fn split_name(line: &str) -> Option<(String, &str)> {
    if let Some(stripped) = line.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = stripped.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if let Some(&(_, '"')) = chars.peek() {
                    out.push('"');
                    chars.next();
                } else {
                    let rest = &stripped[i + 1..];
                    return rest.strip_prefix(',').map(|r| (out, r));
                }
            } else {
                out.push(c);
            }
        }
        None
    } else {
        line.split_once(',').map(|(a, b)| (a.to_string(), b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NUM_TEETH;

    fn assessment(name: &str) -> Assessment {
        let mut scores = [[0.0f32; NUM_TEETH]; 8];
        for (k, row) in scores.iter_mut().enumerate() {
            for (t, s) in row.iter_mut().enumerate() {
                *s = 1.0 / (1.0 + (k * 32 + t) as f32);
            }
        }
        Assessment::from_scores(name, scores).unwrap()
    }

    #[test]
    fn writes_the_reference_layout() {
        let csv = write_csv(&assessment("pan-01432"));
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines.len(), 257);
        assert_eq!(lines[0], "file_name,fdi,finding,score");
        assert_eq!(lines[1], "pan-01432,11,MISSING,1");
        assert_eq!(lines[2], "pan-01432,12,MISSING,0.5");
        assert_eq!(lines[33], "pan-01432,11,IMPLANT,0.030303031");
        assert!(lines[256].starts_with("pan-01432,48,PERIAPICAL_RADIOLUCENCY,"));
    }

    #[test]
    fn round_trips_exactly_even_with_odd_names() {
        for name in ["pan-01432", "a,b", "quote\"d", ""] {
            let a = assessment(name);
            let back = parse_csv(&write_csv(&a)).unwrap();
            assert_eq!(back, a);
        }
    }

    #[test]
    fn reads_worker_spellings_and_crlf() {
        let csv = write_csv(&assessment("t"))
            .replace("RESIDUAL_ROOT", "ROOT_REMNANTS")
            .replace('\n', "\r\n");
        assert_eq!(parse_csv(&csv).unwrap(), assessment("t"));
    }

    #[test]
    fn refuses_malformed_files_with_the_line() {
        assert!(matches!(parse_csv(""), Err(CoreError::BadCsvHeader(_))));
        assert!(matches!(
            parse_csv("a,b,c\n"),
            Err(CoreError::BadCsvHeader(_))
        ));
        let good = write_csv(&assessment("t"));
        let broken = good.replacen("t,11,MISSING,1", "t,11,MISSING,abc", 1);
        assert_eq!(
            parse_csv(&broken),
            Err(CoreError::BadCsvLine {
                line: 2,
                reason: "score 'abc' is not a number".into()
            })
        );
        let mixed = good.replacen("t,12,MISSING", "u,12,MISSING", 1);
        assert!(matches!(
            parse_csv(&mixed),
            Err(CoreError::MixedCsvFiles(..))
        ));
        let short: String = good.lines().take(100).map(|l| format!("{l}\n")).collect();
        assert_eq!(parse_csv(&short), Err(CoreError::WrongEntryCount(99)));
    }

    #[test]
    fn formula_like_names_are_written_as_text_and_read_back() {
        for (name, cell) in [
            (
                "=HYPERLINK(\"http://x\",\"pan\")",
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"pan\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "\"'\rcmd\""),
            ("'=already", "''=already"),
            ("'plain", "''plain"),
            ("pan=1", "pan=1"),
            ("", ""),
        ] {
            let a = assessment(name);
            let csv = write_csv(&a);
            let first_row = csv.lines().nth(1).unwrap();
            assert_eq!(first_row, format!("{cell},11,MISSING,1"), "name {name:?}");
            assert_eq!(parse_csv(&csv).unwrap(), a, "name {name:?}");
        }
        // Scores and the other columns are not text cells: unchanged.
        assert!(write_csv(&assessment("-x"))
            .lines()
            .nth(2)
            .unwrap()
            .ends_with(",12,MISSING,0.5"));
    }

    #[test]
    fn the_reader_drops_only_the_prefix_the_writer_adds() {
        let body = write_csv(&assessment("NAME"));
        let read = |name: &str| parse_csv(&body.replace("NAME", name)).unwrap().name;
        assert_eq!(read("'=x"), "=x");
        assert_eq!(read("'-1"), "-1");
        assert_eq!(read("''x"), "'x");
        // A quote before anything else is part of the name (another writer's file).
        assert_eq!(read("'abc"), "'abc");
        assert_eq!(read("'"), "'");
        assert_eq!(read("=x"), "=x");
    }

    #[test]
    fn the_reviewed_csv_is_the_stored_csv_plus_the_source() {
        for name in ["3f2a-analysis", "=cmd", "a,b"] {
            let a = assessment(name);
            let decided = |fdi: Fdi, kind: FindingKind| match (fdi.number(), kind) {
                (16, FindingKind::Caries) => Some(Decision::Confirmed),
                (21, FindingKind::Filling) => Some(Decision::Rejected),
                (48, FindingKind::PeriapicalRadiolucency) => Some(Decision::Added),
                _ => None,
            };
            let reviewed = write_reviewed_csv(&a, decided);
            let plain = write_csv(&a);
            let lines: Vec<&str> = reviewed.lines().collect();
            assert_eq!(lines.len(), 257);
            assert_eq!(lines[0], REVIEWED_CSV_HEADER);
            let mut sources = std::collections::BTreeMap::new();
            for (row, plain_row) in lines[1..].iter().zip(plain.lines().skip(1)) {
                let (start, source) = row.rsplit_once(',').unwrap();
                assert_eq!(start, plain_row, "same columns, same order");
                *sources.entry(source).or_insert(0) += 1;
            }
            assert_eq!(sources["ai"], 253);
            assert_eq!(
                (sources["confirmed"], sources["rejected"], sources["added"]),
                (1, 1, 1)
            );
            let back = parse_reviewed_csv(&reviewed).unwrap();
            assert_eq!(back.assessment, a);
            let caries16 = Fdi::new(16).unwrap();
            assert_eq!(
                back.decision(caries16, FindingKind::Caries),
                Some(Decision::Confirmed)
            );
            assert_eq!(back.decision(caries16, FindingKind::Filling), None);
            assert_eq!(back.decisions.len(), 3);
        }
        let good = write_reviewed_csv(&assessment("t"), |_, _| None);
        assert!(matches!(
            parse_reviewed_csv(&good.replacen(",ai\n", ",maybe\n", 1)),
            Err(CoreError::BadCsvLine { line: 2, .. })
        ));
        assert!(parse_reviewed_csv(&write_csv(&assessment("t"))).is_err());
        assert!(
            parse_csv(&good).is_err(),
            "the plain reader wants 4 columns"
        );
    }

    // The parser's property tests (fuzzing): tests/fuzz_core.rs.
    proptest::proptest! {
        #[test]
        fn every_name_round_trips_and_no_cell_starts_a_formula(
            start in proptest::sample::select(vec!["", "=", "+", "-", "@", "\t", "\r", "'", "''", "'=", "\""]),
            rest in "[^\n]{0,12}",
        ) {
            let name = format!("{start}{rest}");
            let a = assessment(&name);
            let csv = write_csv(&a);
            let cell = csv.lines().nth(1).unwrap();
            let cell = cell.strip_prefix('"').unwrap_or(cell);
            proptest::prop_assert!(!cell.starts_with(FORMULA_STARTS), "{:?}", cell);
            proptest::prop_assert_eq!(parse_csv(&csv).unwrap(), a);
        }
    }
}
