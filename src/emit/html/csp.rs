//! The report's Content-Security-Policy: no network at all, and only the report's own style and
//! script may run, named by their SHA-256.
//!
//! Service names, image paths and user names come from the logs, that is from whoever ran the
//! tool. The script writes them with `textContent` only, but if a future change slipped one into
//! markup, an injected `<img onerror=…>` or `<script>` would still not run: a hash-only
//! `script-src` forbids inline event handlers and any script but ours. `default-src 'none'` also
//! makes the "opens offline" promise checkable: the page cannot fetch anything.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The `content` of the report's CSP `<meta>` element, allowing exactly `style` and `script`
/// (the text between their tags, byte for byte).
pub fn policy(style: &str, script: &str) -> String {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        digest(style),
        digest(script)
    )
}

/// The base64 SHA-256 of `text`, as CSP source expressions name it.
fn digest(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_both_hashes_and_forbids_the_network() {
        let p = policy("body{}", "1");
        assert!(p.starts_with("default-src 'none';"));
        // SHA-256("1") = 6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b.
        assert!(p.contains("script-src 'sha256-a4ayc/80/OGda4BO/1o/V0etpOqiLx1JwB5S3beHW0s='"));
        assert!(p.contains(&format!("style-src 'sha256-{}'", digest("body{}"))));
    }
}
