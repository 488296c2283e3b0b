//! Who is asking: the client's IP (believing X-Forwarded-For only from trusted proxies) and
//! user agent, for limits and the audit trail.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;

use crate::model::Device;

#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: String,
    /// Primary language subtags, most preferred first ("hi", "en"): the language picked on
    /// the site (its cookie), then Accept-Language.
    pub languages: Vec<String>,
    /// The language picked with the site's switcher, when this browser picked one.
    pub chosen_language: Option<String>,
    /// The device token this browser got at an earlier sign-in, if any.
    pub device: Option<String>,
    /// The browser's time zone, once its script has said it.
    pub zone: Option<crate::server::clock::Zone>,
}

impl ClientInfo {
    pub fn from_parts(parts: &Parts, trusted_proxies: &[IpAddr]) -> ClientInfo {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        // Every X-Forwarded-For line, in order: a proxy may add its own line rather than
        // append to the one it received. A line that is not text ends the chain there.
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or("?"))
            .collect();
        let chosen = chosen_language(parts);
        ClientInfo {
            ip: client_ip(peer, &forwarded.join(","), trusted_proxies),
            user_agent: parts
                .headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
            languages: preferred_languages(chosen.as_deref(), accept_language(parts)),
            chosen_language: chosen,
            device: crate::server::cookies::read_from(parts, crate::server::cookies::DEVICE)
                .filter(|token| token.len() <= 200),
            zone: crate::server::cookies::read_from(parts, crate::server::cookies::TIME_ZONE)
                .and_then(|minutes| minutes.parse().ok())
                .and_then(crate::server::clock::Zone::from_offset),
        }
    }

    /// The key rate limits count this client under: its IPv4 address, or its IPv6 /64, since
    /// one subscriber's host may use any of the 2^64 addresses of its network.
    pub fn ip_key(&self) -> String {
        match self.ip {
            Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Some(ip) => ip.to_canonical().to_string(),
            None => "unknown".into(),
        }
    }

    /// The address as the owner's sessions page and the audit trail show it.
    pub fn ip_text(&self) -> String {
        self.ip
            .map(|ip| ip.to_canonical().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// The request's languages, most preferred first: the one picked on the site, then the
/// browser's.
pub fn languages_of(parts: &Parts) -> Vec<String> {
    preferred_languages(chosen_language(parts).as_deref(), accept_language(parts))
}

fn accept_language(parts: &Parts) -> &str {
    parts
        .headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The language picked with the switcher, from its cookie.
fn chosen_language(parts: &Parts) -> Option<String> {
    crate::server::cookies::read_from(parts, crate::server::cookies::LANGUAGE)
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty() && v.len() <= 8 && v.chars().all(|c| c.is_ascii_alphabetic()))
}

/// The picked language first, then the browser's, each once.
fn preferred_languages(chosen: Option<&str>, header: &str) -> Vec<String> {
    let mut languages: Vec<String> = chosen.map(str::to_string).into_iter().collect();
    for language in accepted_languages(header) {
        if !languages.contains(&language) {
            languages.push(language);
        }
    }
    languages
}

/// "hi-IN,hi;q=0.9,en;q=0.8" → ["hi", "en"]: primary subtags by weight, each once, at most 8.
pub fn accepted_languages(header: &str) -> Vec<String> {
    let mut weighted: Vec<(u16, usize, String)> = header
        .split(',')
        .take(16)
        .enumerate()
        .filter_map(|(position, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let primary = tag.split('-').next()?.to_ascii_lowercase();
            if primary.is_empty()
                || primary.len() > 8
                || !primary.chars().all(|c| c.is_ascii_alphabetic())
            {
                return None;
            }
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let weight = (quality.clamp(0.0, 1.0) * 1000.0) as u16;
            (weight > 0).then_some((weight, position, primary))
        })
        .collect();
    weighted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut languages: Vec<String> = Vec::new();
    for (_, _, language) in weighted {
        if !languages.contains(&language) && languages.len() < 8 {
            languages.push(language);
        }
    }
    languages
}

/// The peer, unless the peer is a trusted proxy: then the X-Forwarded-For chain is walked from
/// the right while each hop is a trusted proxy, and the first untrusted address is the client
/// (the left part of that header is the client's own claim). An entry that is not an address
/// ends the walk at the proxy that passed it on.
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: &str, trusted: &[IpAddr]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.contains(&ip.to_canonical());
    let mut client = peer?;
    if !is_trusted(&client) || forwarded_for.trim().is_empty() {
        return Some(client);
    }
    for entry in forwarded_for.rsplit(',') {
        let Ok(hop) = entry.trim().parse::<IpAddr>() else {
            break;
        };
        client = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    Some(client)
}

/// "Chrome on Android" from a user agent: enough for a person to recognise their device.
pub fn describe_device(user_agent: &str) -> Device {
    let ua = user_agent;
    // Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    match (browser, system) {
        (None, None) if ua.trim().is_empty() => Device::Unknown,
        (None, None) => Device::Other(ua.chars().take(40).collect()),
        (browser, system) => Device::Known {
            browser: browser.map(str::to_string),
            system: system.map(str::to_string),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_is_read_by_weight() {
        assert_eq!(accepted_languages("hi-IN,hi;q=0.9,en;q=0.8"), ["hi", "en"]);
        assert_eq!(accepted_languages("en;q=0.5, hi"), ["hi", "en"]);
        assert_eq!(
            accepted_languages("fr;q=0, *;q=0.1, <x>"),
            Vec::<String>::new()
        );
        assert!(accepted_languages("").is_empty());
    }

    #[test]
    fn the_picked_language_comes_before_the_browsers() {
        assert_eq!(
            preferred_languages(Some("hi"), "en-GB,hi;q=0.5"),
            ["hi", "en"]
        );
        assert_eq!(preferred_languages(None, "en-GB,hi;q=0.5"), ["en", "hi"]);
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        // A direct client cannot claim another address.
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), "1.2.3.4", &trusted),
            Some(ip("203.0.113.9"))
        );
        // Through the proxy: the address the proxy saw, not what the client wrote before it.
        assert_eq!(
            client_ip(Some(proxy), "1.2.3.4, 198.51.100.7", &trusted),
            Some(ip("198.51.100.7"))
        );
        // Through two trusted proxies, the second one's line added after the first's.
        assert_eq!(
            client_ip(Some(proxy), "1.2.3.4, 198.51.100.7,10.0.0.3", &trusted),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_ip(Some(proxy), "198.51.100.7, 10.0.0.2", &trusted),
            Some(ip("198.51.100.7"))
        );
        // What a trusted proxy passed on but is no address ends the walk at that proxy.
        assert_eq!(
            client_ip(Some(proxy), "198.51.100.7, junk, 10.0.0.3", &trusted),
            Some(ip("10.0.0.3"))
        );
        assert_eq!(client_ip(Some(proxy), "", &trusted), Some(proxy));
        assert_eq!(client_ip(None, "1.2.3.4", &trusted), None);
    }

    #[test]
    fn limits_count_an_ipv6_client_by_its_64() {
        let key = |addr: &str| ClientInfo {
            ip: Some(ip(addr)),
            ..ClientInfo::default()
        };
        let one = key("2001:db8:1:2:aaaa::1");
        let same_network = key("2001:db8:1:2:ffff:ffff:ffff:ffff");
        assert_eq!(one.ip_key(), "2001:db8:1:2::/64");
        assert_eq!(one.ip_key(), same_network.ip_key());
        assert_ne!(one.ip_key(), key("2001:db8:1:3::1").ip_key());
        assert_eq!(
            one.ip_text(),
            "2001:db8:1:2:aaaa::1",
            "people see the full address"
        );
        assert_eq!(key("::ffff:198.51.100.7").ip_key(), "198.51.100.7");
        assert_eq!(key("198.51.100.7").ip_key(), "198.51.100.7");
    }

    #[test]
    fn devices_are_named_for_people() {
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
        let named = |browser: &str, system: &str| Device::Known {
            browser: Some(browser.into()),
            system: Some(system.into()),
        };
        assert_eq!(describe_device(android), named("Chrome", "Android"));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_device(iphone), named("Safari", "iPhone"));
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0";
        assert_eq!(describe_device(edge), named("Edge", "Windows"));
        assert_eq!(describe_device(""), Device::Unknown);
        assert_eq!(
            describe_device("curl/8.5.0"),
            Device::Other("curl/8.5.0".into())
        );
    }
}
