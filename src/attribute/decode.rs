//! What ran: the command an image path carries, decoded for a human.
//!
//! PowerShell launchers hide their script as base64 of UTF-16LE after `-enc`/`-EncodedCommand`,
//! and Metasploit's and Cobalt Strike's scripts hide one more layer inside it: a gzip-compressed
//! `FromBase64String('H4sI…')` blob. smbexec-style services carry the operator's command between
//! `echo` and `^>`. All are shown decoded, the inner layer after the outer, cut to a readable
//! length (the full image path stays in the finding).

use std::io::Read;

use base64::Engine;

/// Longest decoded command kept in a finding.
pub const MAX_COMMAND: usize = 600;

/// Largest inner layer inflated: a finding is no place for a decompression bomb.
const MAX_INNER: u64 = 1 << 20;

/// The command an image path carries, decoded, if it carries one.
pub fn command(image: &str) -> Option<String> {
    encoded_powershell(image)
        .map(|outer| match inner_layer(&outer) {
            Some(inner) => format!("{inner} (inside: {outer})"),
            None => outer,
        })
        .or_else(|| echoed_command(image))
        .map(|c| cut(&c, MAX_COMMAND))
}

/// The script a decoded launcher unpacks: `FromBase64String('…')`, gunzipped when compressed.
fn inner_layer(outer: &str) -> Option<String> {
    let at = outer.to_ascii_lowercase().find("frombase64string(")? + "frombase64string(".len();
    let b64: String = outer[at..]
        .chars()
        .skip_while(|c| matches!(c, '\'' | '"' | ' '))
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .ok()?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .take(MAX_INNER)
            .read_to_end(&mut out)
            .ok()?;
        out
    } else {
        bytes
    };
    let text = String::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c.is_whitespace())
        .then(|| format!("inner script (decoded): {}", text.trim()))
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut c: String = s.chars().take(max).collect();
    c.push_str(" …");
    c
}

/// `powershell … -enc <base64>` (any unambiguous prefix of `-EncodedCommand`).
fn encoded_powershell(image: &str) -> Option<String> {
    let lower = image.to_ascii_lowercase();
    if !lower.contains("powershell") && !lower.contains("pwsh") {
        return None;
    }
    let mut words = image.split_whitespace();
    while let Some(w) = words.next() {
        let flag = w.trim_start_matches(['-', '/']).to_ascii_lowercase();
        let is_enc = w.starts_with(['-', '/'])
            && flag.len() >= 2
            && "encodedcommand".starts_with(&flag)
            && flag.starts_with('e');
        if is_enc {
            let payload = words.next()?.trim_matches(['"', '\'']);
            return utf16_base64(payload).map(|s| format!("powershell -enc (decoded): {s}"));
        }
    }
    None
}

/// Base64 of UTF-16LE text, decoded; `None` unless it decodes to text.
pub fn utf16_base64(b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c.is_whitespace())
        .then_some(text)
}

/// smbexec's `%COMSPEC% /Q /c echo <command> ^> \\…\__output …`.
fn echoed_command(image: &str) -> Option<String> {
    let lower = image.to_ascii_lowercase();
    let start = lower.find("/c echo ")? + "/c echo ".len();
    let end = start + lower[start..].find(" ^>")?;
    let cmd = image[start..end].trim();
    (!cmd.is_empty()).then(|| format!("echoed command: {cmd}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powershell_enc_is_decoded() {
        // "whoami" as UTF-16LE, base64
        let image = "%COMSPEC% /b /c start /b /min powershell -nop -w hidden -encodedcommand dwBoAG8AYQBtAGkA";
        assert_eq!(command(image).unwrap(), "powershell -enc (decoded): whoami");
        let empire = "%COMSPEC% /C start /b C:\\Windows\\System32\\WindowsPowershell\\v1.0\\powershell -noP -sta -w 1 -enc  dwBoAG8AYQBtAGkA";
        assert_eq!(
            command(empire).unwrap(),
            "powershell -enc (decoded): whoami"
        );
    }

    #[test]
    fn a_gzipped_inner_script_is_unpacked() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"Write-Output 'beacon'").unwrap();
        let blob = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let script = format!(
            "$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String('{blob}'));IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream($s,[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"
        );
        let utf16: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let image = format!(
            "%COMSPEC% /b /c start /b /min powershell -nop -w hidden -encodedcommand {}",
            base64::engine::general_purpose::STANDARD.encode(utf16)
        );
        let decoded = command(&image).unwrap();
        assert!(
            decoded.starts_with("inner script (decoded): Write-Output 'beacon' (inside: powershell -enc (decoded): $s=New-Object"),
            "{decoded}"
        );
    }

    #[test]
    fn smbexec_echo_is_extracted() {
        let image = r"%COMSPEC% /Q /c echo ipconfig /all ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat";
        assert_eq!(command(image).unwrap(), "echoed command: ipconfig /all");
    }

    #[test]
    fn ordinary_paths_carry_nothing() {
        assert_eq!(command(r"%SystemRoot%\PSEXESVC.exe"), None);
        assert_eq!(command("powershell -enc !!!notbase64"), None);
    }

    #[test]
    fn long_commands_are_cut() {
        let long = "a".repeat(MAX_COMMAND + 10);
        assert!(cut(&long, MAX_COMMAND).ends_with(" …"));
    }
}
