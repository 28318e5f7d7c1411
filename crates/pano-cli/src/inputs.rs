//! Turning the command line's files, folders and patterns into a list of images.

use std::path::{Path, PathBuf};

use pano_service::images_in;

/// One entry of the batch: an image path, or an argument that named nothing usable.
#[derive(Debug, PartialEq)]
pub enum Input {
    Image(PathBuf),
    Unusable { arg: String, reason: String },
}

pub fn expand(args: &[String]) -> Vec<Input> {
    let mut out = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        if path.is_dir() {
            let found = images_in(path);
            if found.is_empty() {
                out.push(Input::Unusable {
                    arg: arg.clone(),
                    reason: "the folder holds no image files".into(),
                });
            }
            out.extend(found.into_iter().map(Input::Image));
        } else if path.exists() {
            out.push(Input::Image(path.to_path_buf()));
        } else if arg.contains(['*', '?', '[']) {
            match glob::glob(arg) {
                Ok(paths) => {
                    let mut found: Vec<PathBuf> = paths
                        .filter_map(Result::ok)
                        .filter(|p| p.is_file())
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        out.push(Input::Unusable {
                            arg: arg.clone(),
                            reason: "the pattern matches no file".into(),
                        });
                    }
                    out.extend(found.into_iter().map(Input::Image));
                }
                Err(e) => out.push(Input::Unusable {
                    arg: arg.clone(),
                    reason: format!("invalid pattern: {e}"),
                }),
            }
        } else {
            out.push(Input::Unusable {
                arg: arg.clone(),
                reason: "no such file or folder".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_patterns_and_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.png", "a.JPG", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let d = dir.path().display().to_string();
        let got = expand(&[
            d.clone(),
            format!("{d}/*.png"),
            format!("{d}/missing.png"),
            format!("{d}/*.gif"),
        ]);
        assert_eq!(got[0], Input::Image(dir.path().join("a.JPG")));
        assert_eq!(got[1], Input::Image(dir.path().join("b.png")));
        assert_eq!(got[2], Input::Image(dir.path().join("b.png")));
        assert!(
            matches!(&got[3], Input::Unusable { reason, .. } if reason == "no such file or folder")
        );
        assert!(
            matches!(&got[4], Input::Unusable { reason, .. } if reason == "the pattern matches no file")
        );
        assert_eq!(got.len(), 5);
    }
}
