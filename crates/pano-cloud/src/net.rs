//! The one rule for the addresses this crate sends keys and patients' images to: HTTPS,
//! or plain HTTP to this computer only (a local test server, MinIO on the same machine).

use std::net::IpAddr;

use url::{Host, Url};

/// Why an address is refused, for the caller's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotSecure {
    /// The address as shown to the user: scheme, host and port only (no path, query or
    /// credentials), or the first characters of what could not be parsed.
    pub shown: String,
}

/// Parses `raw` and accepts `https://` anywhere and `http://` to a loopback host
/// (`localhost`, 127.0.0.0/8, `::1`).
pub(crate) fn secure_or_loopback(raw: &str) -> Result<Url, NotSecure> {
    let parsed = Url::parse(raw.trim()).map_err(|_| NotSecure {
        shown: raw.chars().take(80).collect(),
    })?;
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        _ => Err(NotSecure {
            shown: shown(&parsed),
        }),
    }
}

/// Whether a URL's host is this computer.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            IpAddr::V6(ip).is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

fn shown(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_to_this_computer() {
        for ok in [
            "https://api.runpod.ai/v2",
            "https://fra1.digitaloceanspaces.com",
            "http://127.0.0.1:9000",
            "http://127.8.0.1/v2",
            "http://localhost:8000/v2",
            "http://LOCALHOST:8000",
            "http://[::1]:9000",
        ] {
            assert!(secure_or_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.runpod.ai/v2",
            "http://192.168.1.20:9000",
            "http://10.0.0.1",
            "http://localhost.example.com",
            "ftp://127.0.0.1",
            "api.runpod.ai/v2",
            "",
        ] {
            assert!(secure_or_loopback(bad).is_err(), "{bad}");
        }
        assert_eq!(
            secure_or_loopback("http://user:secret@minio.lan:9000/x?k=v")
                .unwrap_err()
                .shown,
            "http://minio.lan:9000"
        );
    }
}
