//! Fetching the job's `image_url`: HTTPS only, public addresses only (both unless
//! configured for local testing), no redirects, a size limit, a timeout. The content is
//! sniffed by the importer, never trusted from the URL.
//!
//! The URL comes from whoever submitted the job, so the worker must not become a way into
//! the network it runs in (cloud metadata at 169.254.169.254, private services): the host
//! is resolved first, every address is checked, and the connection goes to the checked
//! addresses only (no second lookup that could answer differently), without a proxy and
//! without following redirects (a redirect could point anywhere).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::JobError;

#[derive(Debug, Clone)]
pub struct DownloadPolicy {
    /// Local testing only (`--allow-http`, `PANO_ALLOW_HTTP`): accept plain `http://` URLs
    /// and hosts on loopback, private, link-local, unique-local or shared (CGNAT)
    /// addresses, such as a test server on 127.0.0.1 or MinIO on the LAN. RunPod jobs get
    /// presigned HTTPS URLs of public storage and need neither.
    pub allow_http: bool,
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl Default for DownloadPolicy {
    fn default() -> Self {
        Self {
            allow_http: false,
            max_bytes: 100 * 1024 * 1024,
            timeout: Duration::from_secs(60),
        }
    }
}

/// A URL that passed the policy, with the addresses its host resolved to (all checked):
/// the download connects to these and nothing else.
#[derive(Debug, Clone)]
pub struct CheckedUrl {
    pub url: url::Url,
    pub addresses: Vec<SocketAddr>,
}

/// Parses `raw_url`, checks its scheme, resolves its host and checks every address, without
/// connecting anywhere.
pub async fn check_url(raw_url: &str, policy: &DownloadPolicy) -> Result<CheckedUrl, JobError> {
    let url =
        url::Url::parse(raw_url).map_err(|_| JobError::BadUrl("image_url is not a URL".into()))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        other => {
            return Err(JobError::BadUrl(format!(
                "image_url must be https, not '{}'",
                other.chars().take(10).collect::<String>()
            )))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(JobError::BadUrl(
            "image_url must not carry a user name or password".into(),
        ));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| JobError::BadUrl("image_url has no port".into()))?;
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(domain)) => {
            let lookup = tokio::net::lookup_host((domain, port));
            match tokio::time::timeout(policy.timeout, lookup).await {
                Ok(Ok(found)) => found.collect(),
                Ok(Err(_)) | Err(_) => {
                    return Err(JobError::Download(format!(
                        "the host name '{}' could not be resolved",
                        domain.chars().take(100).collect::<String>()
                    )))
                }
            }
        }
        None => return Err(JobError::BadUrl("image_url has no host".into())),
    };
    if addresses.is_empty() {
        return Err(JobError::Download(
            "the host name resolved to no address".into(),
        ));
    }
    if !policy.allow_http {
        if let Some(bad) = addresses.iter().find(|a| !is_public(a.ip())) {
            return Err(JobError::BadUrl(format!(
                "image_url points to a local or private network address ({}); only public \
                 addresses are fetched",
                bad.ip()
            )));
        }
    }
    Ok(CheckedUrl { url, addresses })
}

/// The image's bytes, and a name for the CSV (the URL's file stem: an opaque object id).
pub async fn download(
    raw_url: &str,
    policy: &DownloadPolicy,
) -> Result<(Vec<u8>, String), JobError> {
    let CheckedUrl { url, addresses } = check_url(raw_url, policy).await?;
    let name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(|f| f.split('.').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("image")
        .chars()
        .take(64)
        .collect::<String>();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .https_only(!policy.allow_http)
        .no_proxy()
        .connect_timeout(policy.timeout);
    if let Some(domain) = url.domain() {
        // Connect to the addresses checked above, not to a second lookup's answer.
        builder = builder.resolve_to_addrs(domain, &addresses);
    }
    let http = builder
        .build()
        .map_err(|_| JobError::Download("no HTTP client could be built".into()))?;
    let too_large = || JobError::TooLarge {
        limit_mb: policy.max_bytes >> 20,
    };
    let mut response = http
        .get(url)
        .timeout(policy.timeout)
        .send()
        .await
        .map_err(|e| JobError::Download(describe(&e)))?;
    if response.status().is_redirection() {
        return Err(JobError::Redirected {
            status: response.status().as_u16(),
        });
    }
    if !response.status().is_success() {
        return Err(JobError::Download(format!(
            "the server answered HTTP {}",
            response.status().as_u16()
        )));
    }
    if response
        .content_length()
        .is_some_and(|n| n as usize > policy.max_bytes)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| JobError::Download(describe(&e)))?
    {
        if body.len() + chunk.len() > policy.max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, name))
}

/// An address on the public internet: not loopback, private (10/8, 172.16/12,
/// 192.168/16), link-local (169.254/16, fe80::/10, where cloud metadata services live),
/// shared/CGNAT (100.64/10), unique-local (fc00::/7), unspecified, multicast, broadcast,
/// documentation, benchmarking or reserved; IPv6 forms that embed an IPv4 address
/// (mapped, compatible, NAT64, 6to4) are judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let blocked = a == 0 // "this network", 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !blocked
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // IPv4-compatible (deprecated) ::a.b.c.d, which includes :: and ::1.
    if s[..6].iter().all(|&x| x == 0) {
        return false;
    }
    // NAT64 64:ff9b::/96 carries an IPv4 address in the last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0) {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // 6to4 2002::/16 carries one in bits 16..48.
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    let blocked = (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo: tunnels to anywhere
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
        || s[0] == 0x0100 && s[1..4].iter().all(|&x| x == 0); // discard-only 100::/64
    !blocked
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "the server cannot be reached".into()
    } else {
        "the transfer broke off".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_addresses_are_not_public() {
        for blocked in [
            "0.0.0.0",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "192.0.0.170",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:0101::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(blocked.parse().unwrap()), "{blocked}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "52.216.0.1",
            "100.128.0.1",
            "172.32.0.1",
            "192.169.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
