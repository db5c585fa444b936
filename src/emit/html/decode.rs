//! The command hidden in a service's image path, decoded for the analyst.
//!
//! Remote-execution tools rarely put the real command in clear: Metasploit and Cobalt Strike
//! install `powershell -nop -w hidden -encodedcommand <base64 UTF-16LE>`, whose text in turn holds
//! a gzip-compressed `FromBase64String('H4sI…')` blob. The report shows every layer it can peel
//! off, outermost first, so the expanded row says what ran rather than a wall of base64.

use std::io::Read;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;

/// How many layers to peel: real payloads have two or three; more is a decoding loop.
const MAX_LAYERS: usize = 4;
/// Largest decompressed layer kept: a report is no place for a decompression bomb.
const MAX_LAYER_BYTES: u64 = 1 << 20;

/// `-EncodedCommand` or any prefix PowerShell accepts (`-e`, `-enc`, `-ec`…), then base64.
static ENCODED_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:^|[\s"'])[-/](e[a-z]*)\s+["']?([A-Za-z0-9+/]{8,}={0,2})"#)
        .expect("valid regex")
});
/// `[Convert]::FromBase64String('…')`, quotes possibly doubled inside a quoted argument.
static FROM_BASE64: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)FromBase64String\(\s*["']*([A-Za-z0-9+/]{16,}={0,2})"#).expect("valid regex")
});

/// The decoded layers of `command`, outermost first; empty when nothing is encoded.
pub fn layers(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = command.to_string();
    while out.len() < MAX_LAYERS {
        let Some(next) = decode_once(&current) else {
            break;
        };
        let binary = next.starts_with('(');
        out.push(next.clone());
        if binary {
            break;
        }
        current = next;
    }
    out
}

/// One layer: the first encoded payload in `text`, as text (or a note saying it is binary).
fn decode_once(text: &str) -> Option<String> {
    for c in ENCODED_FLAG.captures_iter(text) {
        let flag = c[1].to_ascii_lowercase();
        if flag != "ec" && !"encodedcommand".starts_with(&flag) {
            continue;
        }
        if let Some(s) = base64_bytes(&c[2]).and_then(|b| utf16le_text(&b)) {
            return Some(s);
        }
    }
    let c = FROM_BASE64.captures(text)?;
    let bytes = base64_bytes(&c[1])?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        inflate(flate2::read::GzDecoder::new(&bytes[..]))?
    } else if text.to_ascii_lowercase().contains("deflatestream") {
        inflate(flate2::read::DeflateDecoder::new(&bytes[..]))?
    } else {
        bytes
    };
    Some(
        utf8_text(&bytes)
            .or_else(|| utf16le_text(&bytes))
            .unwrap_or_else(|| format!("({} bytes of binary data, not text)", bytes.len())),
    )
}

fn base64_bytes(s: &str) -> Option<Vec<u8>> {
    let engine = base64::engine::general_purpose::STANDARD;
    engine
        .decode(s)
        .ok()
        .or_else(|| engine.decode(s.trim_end_matches('=')).ok())
        .or_else(|| {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(s)
                .ok()
        })
}

fn inflate(reader: impl Read) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    reader.take(MAX_LAYER_BYTES).read_to_end(&mut out).ok()?;
    Some(out)
}

fn utf16le_text(bytes: &[u8]) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).ok().filter(|s| readable(s))
}

fn utf8_text(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|s| readable(s))
        .map(str::to_string)
}

/// Text a person could read as a command: commands are ASCII but for a few quoted strings, and
/// random bytes read as UTF-16 come out as CJK and control characters, so most must be ASCII.
fn readable(s: &str) -> bool {
    let total = s.chars().count();
    let ascii = s
        .chars()
        .filter(|c| c.is_ascii_graphic() || matches!(c, ' ' | '\r' | '\n' | '\t'))
        .count();
    total > 0 && ascii * 10 >= total * 9
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn plain_commands_have_no_layers() {
        assert!(layers(r"%COMSPEC% /Q /c echo cd ^> \\127.0.0.1\C$\__output 2^>^&1").is_empty());
        assert!(layers(r"%SystemRoot%\PSEXESVC.exe").is_empty());
        // `-e` followed by something that is not base64 of text.
        assert!(layers("tool.exe -e 12345678901").is_empty());
    }

    #[test]
    fn encoded_command_in_any_spelling() {
        let payload = b64(&utf16("Write-Output 'hi'"));
        for flag in ["-enc", "-EncodedCommand", "-e", "/ec", "-ENCOD"] {
            let cmd = format!("powershell.exe -nop -w hidden {flag} {payload}");
            assert_eq!(
                layers(&cmd),
                vec!["Write-Output 'hi'".to_string()],
                "{flag}"
            );
        }
        // -ExecutionPolicy is not -EncodedCommand.
        assert!(layers(&format!("powershell -ex {payload}")).is_empty());
    }

    #[test]
    fn metasploit_style_layers_are_peeled() {
        let inner = "$s=New-Object IO.MemoryStream; # stage two";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(inner.as_bytes()).unwrap();
        let blob = b64(&gz.finish().unwrap());
        let middle = format!(
            "&([scriptblock]::create((New-Object IO.StreamReader(New-Object IO.Compression.GzipStream((New-Object IO.MemoryStream(,[Convert]::FromBase64String(''{blob}''))),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()))"
        );
        let cmd = format!(
            "%COMSPEC% /b /c start /b /min powershell.exe -nop -w hidden -noni -encodedcommand {}",
            b64(&utf16(&middle))
        );
        let got = layers(&cmd);
        assert_eq!(got, vec![middle, inner.to_string()]);
    }

    #[test]
    fn shellcode_is_named_not_dumped() {
        let cmd = format!(
            "powershell -c [Convert]::FromBase64String('{}')",
            b64(&[
                0xfc, 0xe8, 0x89, 0, 0, 0, 0x60, 0x89, 0xe5, 0x31, 0xd2, 0x64
            ])
        );
        assert_eq!(layers(&cmd), vec!["(12 bytes of binary data, not text)"]);
    }
}
