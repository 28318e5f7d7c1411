//! Reading a file named as a radiograph: regular files only, never more than the size limit.

use std::path::Path;

use pano_imaging::{import_file, read_radiograph_file, ImportError, ImportLimits};

fn read(path: &Path) -> Result<Vec<u8>, ImportError> {
    read_radiograph_file(path, &ImportLimits::default())
}

#[test]
fn a_regular_file_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pan.jpg");
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    assert_eq!(read(&path).unwrap(), content);
}

#[test]
fn a_folder_is_not_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::NotRegularFile {
                kind: "a folder",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "file_not_regular");
    assert!(err
        .to_string()
        .ends_with("is not a regular file (a folder); choose an image file"));
}

#[test]
fn a_missing_file_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(&dir.path().join("nothing.png")).unwrap_err();
    assert!(matches!(err, ImportError::Read { .. }), "{err:?}");
}

#[test]
fn a_file_over_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.png");
    std::fs::write(&path, [7u8; 11]).unwrap();
    let limits = ImportLimits {
        max_file_bytes: 10,
        ..ImportLimits::default()
    };
    assert!(matches!(
        read_radiograph_file(&path, &limits),
        Err(ImportError::FileTooLarge { .. })
    ));
    std::fs::write(&path, [7u8; 10]).unwrap();
    assert_eq!(read_radiograph_file(&path, &limits).unwrap(), [7u8; 10]);
}

#[cfg(unix)]
mod unix {
    use super::*;

    /// /dev/zero never ends: reading it would fill memory (or stop at the limit after
    /// reading 512 MB of zeros). Refused without reading a byte.
    #[test]
    fn dev_zero_is_refused() {
        let err = read(Path::new("/dev/zero")).unwrap_err();
        assert!(
            matches!(
                err,
                ImportError::NotRegularFile {
                    kind: "a device",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "'/dev/zero' is not a regular file (a device); choose an image file"
        );
        let err = import_file(Path::new("/dev/zero"), &ImportLimits::default()).unwrap_err();
        assert!(matches!(err, ImportError::NotRegularFile { .. }), "{err:?}");
    }

    /// Opening a FIFO blocks until a writer comes; the read must return at once instead.
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.dcm");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || tx.send(read(&path)).unwrap());
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO hung");
        assert!(
            matches!(
                result,
                Err(ImportError::NotRegularFile {
                    kind: "a named pipe",
                    ..
                })
            ),
            "{result:?}"
        );
    }

    /// /proc files say they are empty (size 0) and are not: the limit holds on what is read,
    /// not on what the file system announces.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_limit_holds_when_the_announced_size_is_wrong() {
        let path = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(path).unwrap().len(), 0);
        let limits = ImportLimits {
            max_file_bytes: 100,
            ..ImportLimits::default()
        };
        assert!(matches!(
            read_radiograph_file(path, &limits),
            Err(ImportError::FileTooLarge { .. })
        ));
        assert!(read(path).unwrap().len() > 100);
    }

    /// A symbolic link to a regular file is followed; one to a device is refused.
    #[test]
    fn links_are_judged_by_what_they_point_to() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("pan.png");
        std::fs::write(&target, b"bytes").unwrap();
        let link = dir.path().join("link.png");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read(&link).unwrap(), b"bytes");
        let to_device = dir.path().join("zero.png");
        std::os::unix::fs::symlink("/dev/zero", &to_device).unwrap();
        assert!(matches!(
            read(&to_device),
            Err(ImportError::NotRegularFile { .. })
        ));
    }
}
