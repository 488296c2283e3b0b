//! A QR code as inline SVG: the authenticator-app key, drawn on our own page.

use qrcodegen::{QrCode, QrCodeEcc};

/// Quiet zone in modules, as the standard asks.
const BORDER: i32 = 4;

/// An SVG of `text`, black on white whatever the page's colours, so every camera reads it.
pub fn svg(text: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let dim = size + 2 * BORDER;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + BORDER, y + BORDER));
            }
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" \
         shape-rendering=\"crispEdges\" aria-hidden=\"true\">\
         <rect width=\"{dim}\" height=\"{dim}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_modules_inside_a_quiet_zone() {
        let svg = super::svg("otpauth://totp/x?secret=ABC").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.matches('z').count() > 100,
            "a QR code has many dark modules"
        );
        // 27 characters in byte mode at medium correction need version 3: 29 modules, plus 8.
        assert!(svg.contains("viewBox=\"0 0 37 37\""), "{}", &svg[..120]);
    }
}
