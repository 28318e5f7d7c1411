//! The reference's CSV: `file_name,fdi,finding,score`, one row per finding and tooth.
//!
//! Written by hand rather than with a CSV crate: the format is four columns of which only
//! `file_name` is free text, and the exact bytes matter (the local engine and the cloud
//! worker must produce identical files).

use crate::{Assessment, CoreError, Fdi, FindingKind, ToothFinding};

pub const CSV_HEADER: &str = "file_name,fdi,finding,score";

/// Writes an assessment as the reference's CSV, `\n` line ends, scores in the shortest form
/// that reads back to the same `f32`.
pub fn write_csv(assessment: &Assessment) -> String {
    let name = quote_field(&assessment.name);
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
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header = lines.next().map(|(_, l)| l.trim()).unwrap_or("");
    if header != CSV_HEADER {
        return Err(CoreError::BadCsvHeader(header.chars().take(80).collect()));
    }
    let mut name: Option<String> = None;
    let mut findings = Vec::with_capacity(256);
    for (i, line) in lines {
        let line_no = i + 1;
        let bad = |reason: String| CoreError::BadCsvLine {
            line: line_no,
            reason,
        };
        let (file_name, rest) = split_name(line).ok_or_else(|| bad("unbalanced quotes".into()))?;
        let cols: Vec<&str> = rest.split(',').collect();
        if cols.len() != 3 {
            return Err(bad(format!("expected 4 columns, got {}", cols.len() + 1)));
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
        findings.push(ToothFinding {
            fdi,
            finding,
            score,
        });
    }
    Assessment::from_findings(name.unwrap_or_default(), findings)
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

    proptest::proptest! {
        #[test]
        fn parser_never_panics(text in ".{0,400}") {
            let _ = parse_csv(&text);
        }

        #[test]
        fn parser_never_panics_on_near_valid_files(cut in 0usize..9000, junk in "[,\"\\n0-9A-Z.]{0,20}") {
            let mut text = write_csv(&assessment("n"));
            let cut = cut.min(text.len());
            text.insert_str(cut, &junk);
            let _ = parse_csv(&text);
        }
    }
}
