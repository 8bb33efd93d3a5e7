//! E-mail construction with the lettre builder only (no hand-built headers).

use std::borrow::Cow;
use std::time::SystemTime;

use base64::Engine;
use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use praxisbote_core::wire::{OutgoingMessage, CONFIRMATION_LINK_MARKER, UNSUBSCRIBE_LINK_MARKER};

/// `List-Unsubscribe: <URL>` (RFC 2369).
#[derive(Clone, Debug)]
pub struct ListUnsubscribe(pub String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned(),
        ))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone, Debug)]
pub struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// The sending account's identity.
pub struct FromIdentity {
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
}

impl FromIdentity {
    pub fn new(from: &str, from_name: &str, reply_to: Option<&str>) -> Result<Self, String> {
        let addr = from.parse().map_err(|e| format!("Absender {from}: {e}"))?;
        let name = (!from_name.trim().is_empty()).then(|| from_name.to_owned());
        let reply_to = match reply_to {
            Some(r) => Some(Mailbox::new(
                None,
                r.parse().map_err(|e| format!("Reply-To {r}: {e}"))?,
            )),
            None => None,
        };
        Ok(FromIdentity {
            from: Mailbox::new(name, addr),
            reply_to,
        })
    }
}

/// Stable Message-ID: the same for every attempt of a message, so duplicates after a crash
/// can be recognised by the recipient's server.
pub fn message_id(client_id: &str, from: &Mailbox) -> String {
    let domain = from.email.domain();
    let local: String = client_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    format!("<{local}@{domain}>")
}

/// The text and HTML body as they go out, for every e-mail transport (SMTP, SendGrid, demo
/// Maildir): the unsubscribe marker replaced by the message's link when it is an unsubscribe
/// link (advertising), the confirmation marker by it when it is a confirmation link (double
/// opt-in request), each else by nothing. Borrowed when there is no marker.
pub fn bodies<'a>(
    m: &'a OutgoingMessage,
    link_url: Option<&str>,
) -> (Cow<'a, str>, Option<Cow<'a, str>>) {
    let unsub = unsubscribe_link(m, link_url).unwrap_or("");
    let confirm = confirmation_link(m, link_url).unwrap_or("");
    let link = |s: &'a str| -> Cow<'a, str> {
        if s.contains(UNSUBSCRIBE_LINK_MARKER) || s.contains(CONFIRMATION_LINK_MARKER) {
            Cow::Owned(
                s.replace(UNSUBSCRIBE_LINK_MARKER, unsub)
                    .replace(CONFIRMATION_LINK_MARKER, confirm),
            )
        } else {
            Cow::Borrowed(s)
        }
    };
    (link(&m.text), m.html.as_deref().map(link))
}

/// The unsubscribe URL a message carries (header and body): only advertising gets one, and
/// a double opt-in request carries its confirmation link instead.
pub fn unsubscribe_link<'u>(m: &OutgoingMessage, url: Option<&'u str>) -> Option<&'u str> {
    url.filter(|_| m.purpose.is_advertising() && m.optin.is_none())
}

/// The confirmation URL of a double opt-in request.
pub fn confirmation_link<'u>(m: &OutgoingMessage, url: Option<&'u str>) -> Option<&'u str> {
    url.filter(|_| m.optin.is_some())
}

/// Builds the e-mail. Errors are permanent (bad address, bad attachment), German text.
pub fn build(
    m: &OutgoingMessage,
    id: &FromIdentity,
    link_url: Option<&str>,
    date: SystemTime,
) -> Result<Message, String> {
    let to_addr = m
        .recipient
        .parse()
        .map_err(|_| format!("Ungültige E-Mail-Adresse: {}", m.recipient))?;
    let to = Mailbox::new(m.recipient_name.clone().filter(|n| !n.is_empty()), to_addr);
    let mut b = Message::builder()
        .from(id.from.clone())
        .to(to)
        .subject(m.subject.clone())
        .date(date)
        .message_id(Some(message_id(&m.client_id, &id.from)));
    if let Some(r) = &id.reply_to {
        b = b.reply_to(r.clone());
    }
    if let Some(url) = unsubscribe_link(m, link_url) {
        b = b
            .header(ListUnsubscribe(url.to_owned()))
            .header(ListUnsubscribePost);
    }
    let (text, html) = bodies(m, link_url);
    let text_part = SinglePart::plain(text.clone().into_owned());
    let alt_or_text = html.map(|h| {
        MultiPart::alternative()
            .singlepart(SinglePart::plain(text.clone().into_owned()))
            .singlepart(SinglePart::html(h.to_string()))
    });
    let body: Result<Message, _> = match (alt_or_text, m.attachments.is_empty()) {
        (None, true) => b.singlepart(text_part),
        (Some(alt), true) => b.multipart(alt),
        (alt, false) => {
            let mut mixed = match alt {
                Some(alt) => MultiPart::mixed().multipart(alt),
                None => MultiPart::mixed().singlepart(text_part),
            };
            for a in &m.attachments {
                if a.file.is_some() {
                    // The engine puts the uploaded file's content in before sending.
                    return Err(format!("Anhang {} fehlt auf dem Relay", a.filename));
                }
                let data = base64::engine::general_purpose::STANDARD
                    .decode(a.data_base64.as_bytes())
                    .map_err(|_| format!("Anhang {} ist kein gültiges Base64", a.filename))?;
                let ct = ContentType::parse(&a.content_type)
                    .map_err(|_| format!("Ungültiger Anhang-Typ: {}", a.content_type))?;
                // Always base64: a PDF may look like text and must not go out with bare LFs.
                let body = Body::new_with_encoding(data, ContentTransferEncoding::Base64)
                    .map_err(|_| "Anhang kann nicht kodiert werden".to_owned())?;
                mixed = mixed.singlepart(Attachment::new(a.filename.clone()).body(body, ct));
            }
            b.multipart(mixed)
        }
    };
    body.map_err(|e| format!("E-Mail kann nicht erstellt werden: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use praxisbote_core::domain::{Channel, PersonId, Purpose};
    use praxisbote_core::wire::Attachment as WireAttachment;

    fn msg() -> OutgoingMessage {
        OutgoingMessage {
            client_id: "5f0c6f1e-1c2d-4d7a-9a51-2b7f3c9d0e11".into(),
            channel: Channel::Email,
            purpose: Purpose::Birthday,
            recipient: "erika@example.org".into(),
            recipient_name: Some("Erika Müller".into()),
            subject: "Alles Gute zum Geburtstag, Frau Müller!".into(),
            text: "Liebe Frau Müller,\nalles Gute!".into(),
            html: Some("<p>Liebe Frau Müller,<br>alles Gute!</p>".into()),
            attachments: vec![WireAttachment {
                filename: "brief.pdf".into(),
                content_type: "application/pdf".into(),
                data_base64: "JVBERi0xLjQK".into(),
                file: None,
            }],
            sender: None,
            person_id: Some(PersonId("p1".into())),
            optin: None,
        }
    }

    #[test]
    fn headers_and_structure() {
        let id = FromIdentity::new(
            "info@praxis.example",
            "Praxis Müller",
            Some("team@praxis.example"),
        )
        .unwrap();
        let e = build(
            &msg(),
            &id,
            Some("https://relay.example/u/abc"),
            SystemTime::now(),
        )
        .unwrap();
        let raw = String::from_utf8(e.formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(
            head.contains("Subject: Alles Gute zum Geburtstag, Frau =?utf-8?b?"),
            "{head}"
        );
        assert!(!head.contains("Müller!"), "subject must be encoded: {head}");
        assert!(head.contains("Message-ID: <5f0c6f1e-1c2d-4d7a-9a51-2b7f3c9d0e11@praxis.example>"));
        assert!(head.contains("List-Unsubscribe: <https://relay.example/u/abc>"));
        assert!(head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(head.contains("Reply-To: team@praxis.example"));
        assert!(head.contains("Content-Type: multipart/mixed"));
        let plain = raw.find("Content-Type: text/plain").unwrap();
        let html = raw.find("Content-Type: text/html").unwrap();
        let pdf = raw.find("Content-Type: application/pdf").unwrap();
        assert!(plain < html && html < pdf);
        assert!(raw.contains("filename=\"brief.pdf\""));
    }

    #[test]
    fn no_unsubscribe_for_reminders_and_no_injection() {
        let id = FromIdentity::new("info@praxis.example", "", None).unwrap();
        let mut m = msg();
        m.purpose = Purpose::AppointmentReminder;
        m.subject = "Termin\r\nBcc: evil@example.org".into();
        let e = build(
            &m,
            &id,
            Some("https://relay.example/u/abc"),
            SystemTime::now(),
        )
        .unwrap();
        let raw = String::from_utf8(e.formatted()).unwrap();
        assert!(!raw.contains("List-Unsubscribe"));
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
        m.recipient = "a@b.example\r\nBcc: evil@example.org".into();
        assert!(build(&m, &id, None, SystemTime::now()).is_err());
    }
}

#[cfg(test)]
mod unsubscribe_link_tests {
    use super::*;
    use praxisbote_core::domain::{Channel, PersonId, Purpose};

    fn msg(purpose: Purpose) -> OutgoingMessage {
        OutgoingMessage {
            client_id: "7d1b2c3e-0000-4000-8000-000000000001".into(),
            channel: Channel::Email,
            purpose,
            recipient: "erika@example.org".into(),
            recipient_name: None,
            subject: "Einladung".into(),
            text: format!("Hier abmelden: {UNSUBSCRIBE_LINK_MARKER}\nDanke."),
            html: Some(format!(
                "<p><a href=\"{UNSUBSCRIBE_LINK_MARKER}\">Abmelden</a></p>"
            )),
            attachments: Vec::new(),
            sender: None,
            person_id: Some(PersonId("p1".into())),
            optin: None,
        }
    }

    /// Table: purpose, URL given → what the body holds instead of the marker.
    #[test]
    fn marker_becomes_the_header_url_or_nothing() {
        let id = FromIdentity::new("info@praxis.example", "", None).unwrap();
        let url = "https://relay.example/u/0123456789abcdef0123456789abcdef";
        for (purpose, given, expect) in [
            (Purpose::Invitation, Some(url), Some(url)),
            (Purpose::Birthday, Some(url), Some(url)),
            // "Sonstiges" is advertising too (a newsletter sent as "Sonstiges").
            (Purpose::Other, Some(url), Some(url)),
            (Purpose::Invitation, None, None),
            (Purpose::AppointmentReminder, Some(url), None),
        ] {
            let raw = String::from_utf8(
                build(&msg(purpose), &id, given, SystemTime::now())
                    .unwrap()
                    .formatted(),
            )
            .unwrap();
            assert!(!raw.contains(UNSUBSCRIBE_LINK_MARKER), "{purpose:?}: {raw}");
            match expect {
                Some(u) => {
                    assert!(raw.contains(&format!("Hier abmelden: {u}")), "{raw}");
                    // The HTML part is quoted-printable (`=` → `=3D`).
                    assert!(raw.contains(&format!("href=3D\"{u}\"")), "{raw}");
                    assert!(raw.contains(&format!("List-Unsubscribe: <{u}>")), "{raw}");
                }
                None => {
                    assert!(raw.contains("Hier abmelden:"), "{purpose:?}: {raw}");
                    assert!(!raw.contains("/u/"), "{raw}");
                }
            }
        }
    }
}

#[cfg(test)]
mod confirmation_link_tests {
    use super::*;
    use praxisbote_core::domain::{Channel, PersonId, Purpose};
    use praxisbote_core::wire::OptInRequest;

    /// A double opt-in request gets its confirmation link where the confirmation marker
    /// stands, no unsubscribe link (body or header); other e-mails lose the marker.
    #[test]
    fn confirmation_marker_becomes_the_link_only_in_requests() {
        let id = FromIdentity::new("info@praxis.example", "", None).unwrap();
        let url = "https://relay.example/b/0123456789abcdef0123456789abcdef";
        let mut m = OutgoingMessage {
            client_id: "7d1b2c3e-0000-4000-8000-000000000002".into(),
            channel: Channel::Email,
            purpose: Purpose::Birthday,
            recipient: "erika@example.org".into(),
            recipient_name: None,
            subject: "Bestätigung Ihrer Einwilligung".into(),
            text: format!(
                "Bestätigen: {CONFIRMATION_LINK_MARKER}\nAbmelden: [{UNSUBSCRIBE_LINK_MARKER}]"
            ),
            html: None,
            attachments: Vec::new(),
            sender: None,
            person_id: Some(PersonId("p1".into())),
            optin: Some(OptInRequest {
                purposes: vec![Purpose::Birthday],
                expiry_days: 30,
            }),
        };
        let raw = String::from_utf8(
            build(&m, &id, Some(url), SystemTime::now())
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(
            raw.contains(&format!("Bestätigen: {url}")) || raw.contains(url),
            "{raw}"
        );
        assert!(raw.contains("Abmelden: []"), "{raw}");
        assert!(!raw.contains("List-Unsubscribe"), "{raw}");
        m.optin = None;
        let (text, _) = bodies(&m, Some(url));
        assert_eq!(text, format!("Bestätigen: \nAbmelden: [{url}]"));
    }
}

#[cfg(test)]
mod crlf_tests {
    use super::*;
    use praxisbote_core::domain::{Channel, Purpose};

    #[test]
    fn only_crlf_line_endings() {
        for text in ["a\nb\n", "a\r\nb\r\n", "Grüße\nzweite Zeile\r\n"] {
            for html in [None, Some("<p>Grüße</p>\n<p>x</p>".to_owned())] {
                let m = OutgoingMessage {
                    client_id: "x".into(),
                    channel: Channel::Email,
                    purpose: Purpose::Other,
                    recipient: "a@b.example".into(),
                    recipient_name: None,
                    subject: "s".into(),
                    text: text.into(),
                    html: html.clone(),
                    attachments: Vec::new(),
                    sender: None,
                    person_id: None,
                    optin: None,
                };
                let id = FromIdentity::new("i@p.example", "", None).unwrap();
                let raw =
                    String::from_utf8(build(&m, &id, None, SystemTime::now()).unwrap().formatted())
                        .unwrap();
                let bare: Vec<&str> = raw.split("\r\n").filter(|l| l.contains('\n')).collect();
                assert!(bare.is_empty(), "{text:?} {html:?}: {bare:?}");
            }
        }
    }
}
