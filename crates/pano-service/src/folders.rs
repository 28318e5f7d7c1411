//! Which files of a folder are radiographs to queue: the app's folder drop and the CLI's
//! folder arguments use the same rule.

use std::path::{Path, PathBuf};

/// Extensions looked for inside folders (files named explicitly are sniffed by content,
/// whatever their name).
pub const IMAGE_EXTENSIONS: [&str; 8] =
    ["jpg", "jpeg", "png", "tif", "tiff", "bmp", "dcm", "dicom"];

/// The image files directly inside `dir` (not recursive), sorted by name.
pub fn images_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}
