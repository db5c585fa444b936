//! What a file that holds no readable event log is, so that a folder of other things (a tool's
//! source tree beside its logs, a collector's own bookkeeping) gives one summary line instead
//! of a warning per file, while a file that *looks* like a log but cannot be read (a `.evtx`
//! holding text, an empty `.json`, a damaged `.zip`) still gets its own located warning and
//! counts as a loss.
//!
//! Only called for content no reader recognised: the name decides nothing about reading, only
//! how to describe what was not read.

use std::sync::Arc;

use crate::read::{FileOutput, ReadOptions};

/// Name suffixes of the files that hold or wrap event logs: unreadable content under such a
/// name is damage, not a stranger.
const LOG_SUFFIXES: &[&str] = &[
    ".evtx", ".evt", ".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".zip", ".7z", ".tar", ".gz",
    ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".vhd", ".vhdx", ".rar", ".cab",
];

/// Kinds of files that are not logs, by name suffix.
const KINDS: &[(&str, &[&str])] = &[
    (
        "source files",
        &[
            ".rs",
            ".c",
            ".h",
            ".cc",
            ".cpp",
            ".hpp",
            ".cxx",
            ".cs",
            ".go",
            ".java",
            ".kt",
            ".scala",
            ".py",
            ".pyi",
            ".rb",
            ".js",
            ".mjs",
            ".cjs",
            ".ts",
            ".tsx",
            ".jsx",
            ".php",
            ".pl",
            ".pm",
            ".sh",
            ".bash",
            ".zsh",
            ".ps1",
            ".psm1",
            ".psd1",
            ".bat",
            ".cmd",
            ".vbs",
            ".swift",
            ".lua",
            ".r",
            ".m",
            ".mm",
            ".sql",
            ".asm",
            ".s",
            ".vue",
            ".nim",
            ".zig",
            ".hs",
            ".ml",
            ".ex",
            ".exs",
            ".erl",
            ".clj",
            ".dart",
            ".groovy",
            ".gradle",
            ".cmake",
            ".mk",
            ".makefile",
            ".dockerfile",
            ".proto",
            ".yar",
            ".yara",
            ".kql",
            ".spl",
            ".eql",
            ".sigma",
        ],
    ),
    (
        "documents",
        &[
            ".md",
            ".markdown",
            ".txt",
            ".rst",
            ".adoc",
            ".pdf",
            ".doc",
            ".docx",
            ".odt",
            ".rtf",
            ".html",
            ".htm",
            ".xhtml",
            ".tex",
            ".xls",
            ".xlsx",
            ".ppt",
            ".pptx",
            ".log",
            ".license",
            ".changelog",
        ],
    ),
    (
        "images and media",
        &[
            ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".svg", ".webp", ".tif", ".tiff",
            ".mp3", ".mp4", ".wav", ".avi", ".mov", ".ttf", ".otf", ".woff", ".woff2", ".eot",
        ],
    ),
    (
        "programs and libraries",
        &[
            ".exe", ".dll", ".sys", ".so", ".dylib", ".o", ".a", ".lib", ".obj", ".bin", ".pdb",
            ".class", ".jar", ".wasm", ".pyc", ".rlib", ".rmeta", ".msi", ".drv", ".mui",
        ],
    ),
    (
        "configuration and data files",
        &[
            ".toml",
            ".yaml",
            ".yml",
            ".ini",
            ".cfg",
            ".conf",
            ".xml",
            ".lock",
            ".properties",
            ".plist",
            ".reg",
            ".dat",
            ".db",
            ".sqlite",
            ".pf",
            ".lnk",
            ".hve",
            ".gitignore",
            ".gitattributes",
            ".editorconfig",
            ".css",
            ".scss",
            ".map",
            ".xsd",
            ".xsl",
            ".manifest",
            ".pem",
            ".crt",
            ".key",
            ".pub",
        ],
    ),
];

/// A file whose content no reader recognised: a located warning when it looks like a log (and
/// a skipped input), else one more file "not an event log" of its kind.
pub(super) fn unrecognised(
    name: &Arc<str>,
    file_name: &str,
    head: &[u8],
    opts: &ReadOptions,
    out: &mut FileOutput,
) {
    let lower = file_name.to_ascii_lowercase();
    let looks_like_log = LOG_SUFFIXES.iter().any(|s| lower.ends_with(s))
        || memchr::memmem::find(head, b"ElfChnk\0").is_some();
    if looks_like_log {
        let message = if head.is_empty() {
            "empty file".to_string()
        } else if lower.ends_with(".csv") || lower.ends_with(".tsv") {
            "CSV whose header is not that of a known event export (Sentinel Event, SecurityEvent \
             or WindowsEvent; PowerShell Export-Csv; Splunk with _raw)"
                .to_string()
        } else if [".vhd", ".vhdx", ".rar", ".cab"]
            .iter()
            .any(|s| lower.ends_with(s))
        {
            "a disk image or archive svchunt cannot open: mount or unpack it and point svchunt at its files"
                .to_string()
        } else {
            "not a recognised format (EVTX, JSON, XML, CSV, zip, 7z, tar, gzip, bzip2, xz)"
                .to_string()
        };
        let location = if head.is_empty() { "" } else { "offset 0x0" };
        out.warn(name, location, message);
        out.stats.files_skipped += 1;
        return;
    }
    let kind = kind_of(&lower, head);
    not_a_log(name, kind, opts, out);
}

/// JSON files every source tree has, which are never event exports: counted, not read.
const CONFIG_JSON: &[&str] = &[
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "jsconfig.json",
    "composer.json",
    "composer.lock",
    "bower.json",
    "lerna.json",
    "deno.json",
    ".eslintrc.json",
    ".prettierrc.json",
    ".babelrc",
    "launch.json",
    "settings.json",
    "tasks.json",
    "extensions.json",
    "devcontainer.json",
    "cargo-checksum.json",
    ".cargo-ok",
];

/// True for a file name that is a tool's configuration, whatever it holds.
pub(super) fn is_config_name(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    CONFIG_JSON.contains(&lower.as_str()) || lower.ends_with(".schema.json")
}

/// Count a file that is not an event log (listing it when `--verbose` asked).
pub(super) fn not_a_log(name: &Arc<str>, kind: &str, opts: &ReadOptions, out: &mut FileOutput) {
    *out.stats.not_logs.entry(kind.to_string()).or_default() += 1;
    if opts.limits.list_not_logs {
        out.stats.not_log_files.push(format!("{name} ({kind})"));
    }
}

fn kind_of(lower_name: &str, head: &[u8]) -> &'static str {
    if head.starts_with(b"MZ")
        || head.starts_with(b"\x7fELF")
        || head.starts_with(b"\xcf\xfa\xed\xfe")
    {
        return "programs and libraries";
    }
    if let Some((kind, _)) = KINDS
        .iter()
        .find(|(_, suffixes)| suffixes.iter().any(|s| lower_name.ends_with(s)))
    {
        return kind;
    }
    if head.is_empty() {
        "empty files"
    } else if std::str::from_utf8(head).is_ok() {
        "other text files"
    } else {
        "other binary files"
    }
}

/// What a non-regular file is, in words.
pub(super) fn special_file(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "named pipe";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
    }
    let _ = meta;
    "special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(name: &str, head: &[u8]) -> FileOutput {
        let mut out = FileOutput::default();
        let opts = ReadOptions::default().with_limits(crate::read::InputLimits {
            list_not_logs: true,
            ..crate::read::InputLimits::default()
        });
        unrecognised(&name.into(), name, head, &opts, &mut out);
        out
    }

    #[test]
    fn strangers_are_counted_by_kind_and_lookalikes_warned() {
        let out = classify("main.rs", b"use std::{fmt, io};\n");
        assert!(out.warnings.is_empty());
        assert_eq!(out.stats.not_logs["source files"], 1);
        assert_eq!(out.stats.not_log_files, ["main.rs (source files)"]);
        assert_eq!(out.stats.files_skipped, 0);
        assert_eq!(
            classify("x", b"MZ\x90\0").stats.not_logs["programs and libraries"],
            1
        );
        assert_eq!(
            classify("README", b"hello").stats.not_logs["other text files"],
            1
        );

        let out = classify("System.evtx", b"evtx/System.evtx");
        assert_eq!(out.stats.files_skipped, 1);
        assert!(out.warnings[0].message.contains("not a recognised format"));
        let out = classify("Security.json", b"");
        assert_eq!(out.warnings[0].message, "empty file");
        let out = classify("carved.bin", b"xxElfChnk\0");
        assert_eq!(out.stats.files_skipped, 1);
        let out = classify("report.csv", b"a,b\n1,2\n");
        assert!(out.warnings[0].message.starts_with("CSV whose header"));
    }
}
