//! Names of the files `pano analyze` writes, made from the inputs' names. An input's stem
//! is not trusted as a path: `...jpg` has the stem `..`, and `--debug` would create the
//! debug folder in the parent of `--out`; a name from another system can hold a
//! separator or control characters. Every name written stays a plain file name inside
//! `--out`.

use std::path::Path;

/// The output stem of `input`: its file stem with separators and control characters
/// replaced by `_` and leading dots removed; `image` when nothing is left.
pub(crate) fn output_stem(input: &Path) -> String {
    let raw = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cleaned: String = raw
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "image".into()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Component;

    #[test]
    fn a_stem_never_leaves_the_output_folder() {
        for (input, want) in [
            ("/in/pan-01432.jpg", "pan-01432"),
            ("/in/...jpg", "image"),
            ("/in/..", "image"),
            ("/in/.hidden.png", "hidden"),
            ("/in/a\\..\\b.png", "a_.._b"),
            ("/in/Zoë Müller.dcm", "Zoë Müller"),
            ("/in/line\nbreak.png", "line_break"),
        ] {
            let stem = output_stem(Path::new(input));
            assert_eq!(stem, want, "{input:?}");
            let joined = Path::new("/out").join(&stem);
            assert!(
                joined
                    .components()
                    .all(|c| matches!(c, Component::RootDir | Component::Normal(_))),
                "{input:?} -> {joined:?}"
            );
            assert_eq!(joined.parent(), Some(Path::new("/out")));
        }
    }
}
