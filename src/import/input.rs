//! What an import may read, and how. Catalogs and manifests come from
//! repositories under review as often as from trusted hands, so everything
//! an import reads stays inside the directory the user chose to import:
//! Location targets and symbolic links resolve inside it or are refused,
//! only regular files are read (never a device, FIFO or socket), each file
//! has a size limit, and text must be UTF-8. A refusal names the file and
//! why, and never quotes the content of what it refused to read.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use super::ImportError;

/// Largest YAML or JSON file an import reads, in bytes: far above any real
/// catalog or manifest bundle (kube-prometheus' is about 4 MB), low enough
/// that parsing one stays within a desktop's memory.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Largest CSV file, in bytes. CSV is streamed record by record, so memory
/// follows the rows kept, not the file.
pub const MAX_CSV_BYTES: u64 = 1024 * 1024 * 1024;

/// The directory an import is confined to.
#[derive(Debug, Clone)]
pub struct Boundary {
    /// As the user named it, for messages.
    shown: PathBuf,
    /// With symbolic links resolved, for checks.
    canonical: PathBuf,
}

impl Boundary {
    /// The boundary of importing `path`: the directory itself, or the
    /// directory a single file is in.
    ///
    /// # Errors
    /// [`ImportError::Io`] when the directory cannot be resolved.
    pub fn of(path: &Path) -> Result<Self, ImportError> {
        let dir = if path.is_dir() {
            path.to_owned()
        } else {
            match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            }
        };
        let canonical = dir.canonicalize().map_err(|e| ImportError::Io {
            origin: dir.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Boundary {
            shown: dir,
            canonical,
        })
    }

    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// Where `target`, written in the file `from`, points — if it stays
    /// inside the boundary. Refused: an absolute path, a path whose `..`
    /// climbs out, and a path that leaves through a symbolic link.
    ///
    /// # Errors
    /// A message for the caller to place at the target's line.
    pub fn resolve(&self, from: &Path, target: &str) -> Result<PathBuf, String> {
        let target_path = Path::new(target);
        if target_path.is_absolute() {
            return Err(format!(
                "{target} is an absolute path; targets are read relative to the file, inside {}",
                self.shown.display()
            ));
        }
        let base = match from.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        // Shown as a path, not as written: `teams/./a.yaml` is `teams/a.yaml`.
        let joined: PathBuf = base
            .join(target_path)
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect();
        let joined = if joined.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            joined
        };
        // Lexically first: `..` must not climb above the boundary even
        // through a directory that does not exist.
        let lexical = normalise(&absolute(&joined));
        if !lexical.starts_with(normalise(&absolute(&self.shown))) {
            return Err(self.outside(target));
        }
        self.check_inside(&joined)
            .map_err(|_| self.outside(target))?;
        Ok(joined)
    }

    /// Checks a path found inside the boundary (by a directory walk or a
    /// resolved target) still resolves inside it once symbolic links are
    /// followed. A path that does not exist passes: reading it fails later
    /// with its own error.
    ///
    /// # Errors
    /// The resolved path, when it is outside.
    pub fn check_inside(&self, path: &Path) -> Result<(), PathBuf> {
        match path.canonicalize() {
            Ok(real) if !real.starts_with(&self.canonical) => Err(real),
            _ => Ok(()),
        }
    }

    fn outside(&self, target: &str) -> String {
        format!(
            "{target} is outside {}, the directory being imported; import a directory that contains both",
            self.shown.display()
        )
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Opens `path` for an import: a regular file only (opened without
/// blocking, so a FIFO cannot hang the import, and checked on the open
/// descriptor), never one of an open database's files, at most `max`
/// bytes.
///
/// # Errors
/// [`ImportError::Io`] naming the file and the reason.
pub fn open(path: &Path, max: u64) -> Result<std::fs::File, ImportError> {
    let fail = |message: String| ImportError::Io {
        origin: path.display().to_string(),
        message,
    };
    crate::store::guard::check_not_database(path).map_err(|e| fail(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|e| fail(e.to_string()))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail(
            "not a regular file (a directory, device, FIFO or socket); only files are imported"
                .into(),
        ));
    }
    if meta.len() > max {
        return Err(fail(format!(
            "{} MB, larger than the {} MB one file may be: split it into several files \
             in one directory and import the directory",
            meta.len().div_ceil(1024 * 1024),
            max / (1024 * 1024)
        )));
    }
    Ok(file)
}

/// Opens `path` ([`open`]'s checks, at most `max` bytes) to be read as a
/// stream of UTF-8 text: a UTF-16 or UTF-32 byte-order mark is refused
/// at once; the reader never yields more than `max` bytes.
///
/// # Errors
/// [`ImportError::Io`] naming the file.
pub fn open_text_stream(path: &Path, max: u64) -> Result<impl std::io::Read, ImportError> {
    use std::io::BufRead as _;
    let file = open(path, max)?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file.take(max));
    let start = reader.fill_buf().map_err(|e| ImportError::Io {
        origin: path.display().to_string(),
        message: e.to_string(),
    })?;
    if let Some(encoding) = foreign_bom(start) {
        return Err(ImportError::Io {
            origin: path.display().to_string(),
            message: format!(
                "the file is {encoding} (byte-order mark at byte 0); save it as UTF-8"
            ),
        });
    }
    Ok(reader)
}

/// The encoding a UTF-16 or UTF-32 byte-order mark at the start names.
fn foreign_bom(start: &[u8]) -> Option<&'static str> {
    const BOMS: [(&[u8], &str); 4] = [
        (&[0x00, 0x00, 0xFE, 0xFF], "UTF-32"),
        (&[0xFF, 0xFE, 0x00, 0x00], "UTF-32"),
        (&[0xFE, 0xFF], "UTF-16"),
        (&[0xFF, 0xFE], "UTF-16"),
    ];
    BOMS.iter()
        .find(|(bom, _)| start.starts_with(bom))
        .map(|(_, encoding)| *encoding)
}

/// The first line of a text file (at most 4 KiB of it, lossily decoded):
/// enough to tell one CSV from another by its header.
///
/// # Errors
/// [`ImportError::Io`] naming the file.
pub fn read_head(path: &Path) -> Result<String, ImportError> {
    let file = open(path, u64::MAX)?;
    let mut start = Vec::with_capacity(4096);
    file.take(4096)
        .read_to_end(&mut start)
        .map_err(|e| ImportError::Io {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&start);
    Ok(text.lines().next().unwrap_or("").to_owned())
}

/// Reads a whole YAML or JSON file as text: [`open`]'s checks, then UTF-8
/// with an optional UTF-8 byte-order mark (which YAML 1.2 allows).
///
/// # Errors
/// [`ImportError::Io`] naming the file; for bad encoding, the byte offset
/// and line.
pub fn read_text(path: &Path) -> Result<String, ImportError> {
    let file = open(path, MAX_DOCUMENT_BYTES)?;
    let mut bytes = Vec::new();
    // The size was checked on the descriptor; `take` holds even if the
    // file grows while it is read.
    file.take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::Io {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(ImportError::Io {
            origin: path.display().to_string(),
            message: format!(
                "grew past the {} MB one file may be while it was read",
                MAX_DOCUMENT_BYTES / (1024 * 1024)
            ),
        });
    }
    decode(bytes).map_err(|message| ImportError::Io {
        origin: path.display().to_string(),
        message,
    })
}

/// UTF-8 text from bytes, with a leading UTF-8 byte-order mark dropped.
/// UTF-16 and UTF-32 (told by their byte-order marks) and invalid UTF-8
/// are refused, naming the byte offset and line, without quoting the text.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, String> {
    if let Some(encoding) = foreign_bom(&bytes) {
        return Err(format!(
            "the file is {encoding} (byte-order mark at byte 0); save it as UTF-8"
        ));
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        format!("not valid UTF-8 at byte offset {at} (line {line}); save it as UTF-8")
    })
}

/// Expands a glob's brace alternatives (`{a,b}`, nested, several) into the
/// patterns they stand for, as the `glob` package Backstage's file reader
/// uses does before matching: `teams/{a,b}/*.yaml` is `teams/a/*.yaml` and
/// `teams/b/*.yaml`. A brace without a comma at its own level, or without
/// its closing brace, is literal (as in that package). `\{` is literal.
pub fn expand_braces(pattern: &str) -> Vec<String> {
    let bytes = pattern.as_bytes();
    let mut depth = 0usize;
    let mut open = None;
    let mut commas = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => {
                if depth == 0 {
                    open = Some(i);
                    commas.clear();
                }
                depth += 1;
            }
            b',' if depth == 1 => commas.push(i),
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let start = open.expect("an opening brace at depth 0");
                    if commas.is_empty() {
                        open = None;
                    } else {
                        let (head, tail) = (&pattern[..start], &pattern[i + 1..]);
                        let mut bounds = vec![start];
                        bounds.extend(&commas);
                        bounds.push(i);
                        let mut out = Vec::new();
                        for w in bounds.windows(2) {
                            let alternative = &pattern[w[0] + 1..w[1]];
                            out.extend(expand_braces(&format!("{head}{alternative}{tail}")));
                        }
                        return out;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    vec![pattern.to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_as_the_glob_package_expands_them() {
        assert_eq!(expand_braces("a/*.yaml"), ["a/*.yaml"]);
        assert_eq!(expand_braces("{a,b}/x"), ["a/x", "b/x"]);
        assert_eq!(
            expand_braces("t/{a,b{1,2}}/{x,y}.yaml"),
            [
                "t/a/x.yaml",
                "t/a/y.yaml",
                "t/b1/x.yaml",
                "t/b1/y.yaml",
                "t/b2/x.yaml",
                "t/b2/y.yaml"
            ]
        );
        assert_eq!(expand_braces("{a}/x"), ["{a}/x"]);
        assert_eq!(expand_braces("{a,b"), ["{a,b"]);
        assert_eq!(expand_braces("\\{a,b}"), ["\\{a,b}"]);
        assert_eq!(expand_braces("x{,.d}"), ["x", "x.d"]);
    }

    #[test]
    fn encodings_are_named_with_their_offset() {
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1".to_vec()).unwrap(), "a: 1");
        let e = decode(b"\xFF\xFEa\x00".to_vec()).unwrap_err();
        assert!(e.contains("UTF-16"), "{e}");
        let e = decode(b"a: 1\nb: \xC3\x28\n".to_vec()).unwrap_err();
        assert!(e.contains("byte offset 8 (line 2)"), "{e}");
    }

    #[test]
    fn targets_stay_inside_the_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("teams")).unwrap();
        std::fs::create_dir_all(dir.path().join("other")).unwrap();
        std::fs::write(dir.path().join("other/x.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink(dir.path().join("other"), root.join("out")).unwrap();
        let b = Boundary::of(&root).unwrap();
        let from = root.join("catalog-info.yaml");
        assert!(b.resolve(&from, "./teams/a.yaml").is_ok());
        assert!(b.resolve(&from, "teams/../teams/a.yaml").is_ok());
        for escape in [
            "../other/x.yaml",
            "/etc/passwd",
            "teams/../../other/x.yaml",
            "out/x.yaml",
        ] {
            let e = b.resolve(&from, escape).unwrap_err();
            assert!(e.contains(escape), "{escape}: {e}");
        }
    }

    #[test]
    fn only_regular_files_are_opened() {
        let e = open(Path::new("/dev/zero"), MAX_DOCUMENT_BYTES).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let e = open(&fifo, MAX_DOCUMENT_BYTES).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let big = dir.path().join("big.yaml");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_DOCUMENT_BYTES + 1)
            .unwrap();
        let e = open(&big, MAX_DOCUMENT_BYTES).unwrap_err();
        assert!(e.to_string().contains("larger than the 64 MB"), "{e}");
    }
}
