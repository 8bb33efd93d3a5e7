//! JSON wire types of the relay API (`/v1`), shared by the app and `praxisbote-relay`.
//!
//! Pure serde + chrono: compiles natively and for wasm32. Field names are snake_case JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::outbox::OptOutScope;
use crate::domain::{Channel, PersonId, Purpose};

/// API version prefix.
pub const API_PREFIX: &str = "/v1";
/// Most messages accepted in one `POST /v1/messages`.
pub const MAX_BATCH: usize = 1000;
/// Formerly accepted by a relay in demo mode from other hosts. A relay in demo mode now only
/// listens on loopback and needs no token; kept so old clients still compile.
pub const DEMO_TOKEN: &str = "praxisbote-demo";
/// Stands for the recipient's unsubscribe URL in an e-mail's `text` and `html`. The app
/// renders the `abmeldelink` placeholder as this marker (the per-message token is made by the
/// relay); the relay replaces every occurrence with the same URL it puts into
/// `List-Unsubscribe` (`{public_url}/u/{token}`), or with nothing when the message gets no
/// unsubscribe link (not advertising, no person). Letters, digits and dashes only, so it
/// survives Markdown → HTML and HTML escaping unchanged.
pub const UNSUBSCRIBE_LINK_MARKER: &str = "pb-abmeldelink-7f3a2c";
/// Stands for the confirmation URL of a double opt-in request ([`OutgoingMessage::optin`])
/// in an e-mail's `text` and `html`, like [`UNSUBSCRIBE_LINK_MARKER`]: the app renders the
/// `bestaetigungslink` placeholder as this marker, the relay replaces it with
/// `{public_url}/b/{token}` (or with nothing when the message is no opt-in request).
pub const CONFIRMATION_LINK_MARKER: &str = "pb-bestaetigungslink-5c1e9b";
/// How long a confirmation link is valid unless the app says otherwise.
pub const DEFAULT_OPTIN_EXPIRY_DAYS: u32 = 30;
/// The longest validity a relay accepts for a confirmation link.
pub const MAX_OPTIN_EXPIRY_DAYS: u32 = 365;

/// A double opt-in request: the e-mail asks the recipient to confirm consent to these
/// purposes on its channel; the relay makes a confirmation link valid for `expiry_days`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptInRequest {
    pub purposes: Vec<Purpose>,
    pub expiry_days: u32,
}

/// A file attached to an e-mail: either inline (`data_base64`, e.g. the `.ics` of a
/// reminder) or a file uploaded once with `PUT /v1/files/{sha256}` and referenced by its
/// SHA-256 (`file`; the composer's attachments, the same for every message of a batch).
/// Exactly one of the two is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    /// MIME type; defaults to `application/pdf`.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// The file content, standard base64 (empty when `file` is set).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data_base64: String,
    /// Lower-case hex SHA-256 of a file uploaded to the relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// `PUT`/`GET /v1/files/{sha256}` answer: the relay holds this file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub sha256: String,
    pub size: u64,
}

/// The most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;

/// Whether `s` looks like a SHA-256 in lower-case hex (the id of an uploaded file).
pub fn is_file_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads `attachments` as a list, and the single `attachment` object of older apps.
fn one_or_many<'de, D>(d: D) -> Result<Vec<Attachment>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Attachment>),
        One(Attachment),
        None(()),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(a) => vec![a],
        OneOrMany::None(()) => Vec::new(),
    })
}

fn default_content_type() -> String {
    "application/pdf".to_owned()
}

/// One rendered message to send. `client_id` is the idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// UUID made by the app; the same id is never sent twice.
    pub client_id: String,
    /// `email` or `sms` (letters are printed, not relayed).
    pub channel: Channel,
    pub purpose: Purpose,
    /// E-mail address or E.164 number (`+4917112345678`).
    pub recipient: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    /// E-mail subject (ignored for SMS).
    #[serde(default)]
    pub subject: String,
    /// Plain text body (the SMS text for SMS).
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Files attached to an e-mail (the older single `attachment` is read too).
    #[serde(
        default,
        alias = "attachment",
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachments: Vec<Attachment>,
    /// Name of a sender account from `GET /v1/senders`; default account of the channel if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// The person, so that an unsubscribe click can be reported via `GET /v1/optouts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    /// Set on a double opt-in request ("Bestätigung Ihrer Einwilligung"; needs `person_id`):
    /// the relay makes a confirmation link instead of an unsubscribe link and reports the
    /// recipient's confirmation via `GET /v1/confirmations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optin: Option<OptInRequest>,
}

/// `POST /v1/messages` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub messages: Vec<OutgoingMessage>,
}

/// Delivery state of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Queued,
    Sending,
    Sent,
    Failed,
    Retrying,
    /// Final: an attempt ended without a clear answer after the server or provider may already
    /// have taken the message (connection lost after the body was sent, timeout waiting for
    /// the final reply). It may have arrived; the relay does not send it again by itself.
    Ambiguous,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Ambiguous => "ambiguous",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => DeliveryState::Queued,
            "sending" => DeliveryState::Sending,
            "sent" => DeliveryState::Sent,
            "failed" => DeliveryState::Failed,
            "retrying" => DeliveryState::Retrying,
            "ambiguous" => DeliveryState::Ambiguous,
            _ => return None,
        })
    }

    /// No further change will happen.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryState::Sent | DeliveryState::Failed | DeliveryState::Ambiguous
        )
    }

    pub fn label_de(self) -> &'static str {
        match self {
            DeliveryState::Queued => "in Warteschlange",
            DeliveryState::Sending => "wird gesendet",
            DeliveryState::Sent => "gesendet",
            DeliveryState::Failed => "fehlgeschlagen",
            DeliveryState::Retrying => "neuer Versuch geplant",
            DeliveryState::Ambiguous => "Zustellung unklar",
        }
    }
}

/// State of one message as the relay knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageStatus {
    pub client_id: String,
    pub state: DeliveryState,
    /// Why it failed or is being retried (the server's answer), German or verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<DateTime<Utc>>,
    #[serde(default)]
    pub attempts: u32,
    /// The sender account used.
    #[serde(default)]
    pub sender: String,
    /// The e-mail Message-ID or the provider's message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /v1/messages` answer (202), one entry per message in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResponse {
    pub messages: Vec<MessageStatus>,
}

/// `GET /v1/messages?ids=a,b,c` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    pub messages: Vec<MessageStatus>,
    /// Requested ids the relay does not know.
    #[serde(default)]
    pub unknown: Vec<String>,
}

/// Kind of a sender account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    Smtp,
    Sendgrid,
    Twilio,
    Seven,
    Sipgate,
    Websms,
    GenericHttp,
    DemoMaildir,
    DemoSmsFile,
}

/// A sender account, without secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderInfo {
    pub name: String,
    pub kind: SenderKind,
    pub channel: Channel,
    /// From address (e-mail) or sender id (SMS).
    pub from: String,
    #[serde(default)]
    pub from_name: String,
    /// Used when a message names no sender.
    pub default: bool,
}

/// `GET /v1/senders` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendersResponse {
    pub senders: Vec<SenderInfo>,
}

/// `GET /v1/health` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"ok"` when the relay answers.
    pub status: String,
    pub version: String,
    /// Demo mode: nothing leaves the machine.
    pub demo: bool,
    /// Messages not yet in a final state.
    pub pending: u64,
}

/// What the recipient chose on the relay's unsubscribe page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptOutChoice {
    /// "Nur diese Art von Nachrichten": the purpose of the e-mail whose link was clicked,
    /// on its channel. Also what an RFC 8058 one-click request records, and what a relay
    /// that predates the field reported.
    #[default]
    Purpose,
    /// "Keine Werbung mehr über diesen Kanal": every advertising purpose
    /// (`Purpose::is_advertising`) on the channel; appointment reminders are not advertising.
    AllAdvertising,
}

impl OptOutChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            OptOutChoice::Purpose => "purpose",
            OptOutChoice::AllAdvertising => "all_advertising",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "purpose" => Some(OptOutChoice::Purpose),
            "all_advertising" => Some(OptOutChoice::AllAdvertising),
            _ => None,
        }
    }

    /// The domain scope of this choice for a link sent with `purpose`.
    pub fn scope(self, purpose: Purpose) -> OptOutScope {
        match self {
            OptOutChoice::Purpose => OptOutScope::Purpose(purpose),
            OptOutChoice::AllAdvertising => OptOutScope::AllAdvertising,
        }
    }
}

/// One withdrawal of consent via the unsubscribe link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    /// The relay's row sequence: strictly increasing, the cursor for
    /// `GET /v1/optouts?after=SEQ` (two opt-outs in the same millisecond differ here).
    /// 0 from a relay that predates the field.
    #[serde(default)]
    pub seq: u64,
    pub person_id: PersonId,
    pub channel: Channel,
    pub purpose: Purpose,
    pub recipient: String,
    pub at: DateTime<Utc>,
    /// What the recipient chose; `purpose` above is the purpose of the clicked e-mail.
    /// Absent from a relay that predates the field: then the purpose only.
    #[serde(default)]
    pub choice: OptOutChoice,
}

impl OptOut {
    /// What this opt-out withdraws.
    pub fn scope(&self) -> OptOutScope {
        self.choice.scope(self.purpose)
    }
}

/// `GET /v1/optouts?after=SEQ` answer (opt-outs with a larger `seq`, in `seq` order). The
/// older `?since=RFC3339` (strictly after that time) is still answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutsResponse {
    pub optouts: Vec<OptOut>,
}

/// A double opt-in confirmed on the relay's confirmation page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The relay's row sequence: the cursor for `GET /v1/confirmations?after=SEQ`.
    pub seq: u64,
    pub person_id: PersonId,
    pub channel: Channel,
    pub purposes: Vec<Purpose>,
    pub recipient: String,
    /// When the confirmation e-mail was accepted by the relay.
    pub requested_at: DateTime<Utc>,
    /// When the recipient confirmed.
    pub at: DateTime<Utc>,
}

/// `GET /v1/confirmations?after=SEQ` answer (confirmations with a larger `seq`, in order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationsResponse {
    pub confirmations: Vec<Confirmation>,
}

/// Every non-2xx JSON answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable machine code (`unauthorized`, `idempotency_conflict`, `in_flight`, ...).
    pub error: String,
    /// German explanation for the user.
    pub message: String,
    /// The message concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_roundtrip_and_defaults() {
        let json = r#"{"client_id":"a","channel":"sms","purpose":"recall","recipient":"+4917112345678","text":"Hallo"}"#;
        let m: OutgoingMessage = serde_json::from_str(json).unwrap();
        assert_eq!(m.channel, Channel::Sms);
        assert_eq!(m.purpose, Purpose::Recall);
        assert_eq!(m.subject, "");
        assert!(m.attachments.is_empty());
        let back: OutgoingMessage =
            serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        let a: Attachment =
            serde_json::from_str(r#"{"filename":"b.pdf","data_base64":"JVBERg=="}"#).unwrap();
        assert_eq!(a.content_type, "application/pdf");
        assert_eq!(a.file, None);
    }

    #[test]
    fn attachments_read_the_older_single_attachment_and_lists() {
        let base = r#""client_id":"a","channel":"email","purpose":"recall","recipient":"a@b.de","text":"x""#;
        let one: OutgoingMessage = serde_json::from_str(&format!(
            r#"{{{base},"attachment":{{"filename":"b.pdf","data_base64":"JVBERg=="}}}}"#
        ))
        .unwrap();
        assert_eq!(one.attachments.len(), 1);
        assert_eq!(one.attachments[0].filename, "b.pdf");
        let sha = "ab".repeat(32);
        let many: OutgoingMessage = serde_json::from_str(&format!(
            r#"{{{base},"attachments":[{{"filename":"t.ics","content_type":"text/calendar","data_base64":"QQ=="}},{{"filename":"f.png","content_type":"image/png","file":"{sha}"}}]}}"#
        ))
        .unwrap();
        assert_eq!(many.attachments.len(), 2);
        assert_eq!(many.attachments[1].file.as_deref(), Some(sha.as_str()));
        assert!(many.attachments[1].data_base64.is_empty());
        let json = serde_json::to_value(&many).unwrap();
        assert!(json.get("attachment").is_none());
        assert!(json["attachments"][1].get("data_base64").is_none());
        let null: OutgoingMessage =
            serde_json::from_str(&format!(r#"{{{base},"attachment":null}}"#)).unwrap();
        assert!(null.attachments.is_empty());
        assert!(is_file_id(&sha));
        assert!(!is_file_id(&"AB".repeat(32)));
        assert!(!is_file_id("ab"));
    }

    #[test]
    fn state_strings_roundtrip() {
        for s in [
            DeliveryState::Queued,
            DeliveryState::Sending,
            DeliveryState::Sent,
            DeliveryState::Failed,
            DeliveryState::Retrying,
            DeliveryState::Ambiguous,
        ] {
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(DeliveryState::parse("x"), None);
        assert!(DeliveryState::Ambiguous.is_final());
    }

    #[test]
    fn optout_without_seq_still_parses() {
        let o: OptOut = serde_json::from_str(
            r#"{"person_id":"p","channel":"email","purpose":"birthday","recipient":"a@b.de","at":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(o.seq, 0);
        // A relay before the choice: the clicked purpose only.
        assert_eq!(o.choice, OptOutChoice::Purpose);
        assert_eq!(o.scope(), OptOutScope::Purpose(Purpose::Birthday));
    }

    #[test]
    fn optout_choice_is_additive_and_maps_to_the_scope() {
        let o: OptOut = serde_json::from_str(
            r#"{"seq":3,"person_id":"p","channel":"email","purpose":"birthday","recipient":"a@b.de","at":"2026-01-01T00:00:00Z","choice":"all_advertising"}"#,
        )
        .unwrap();
        assert_eq!(o.scope(), OptOutScope::AllAdvertising);
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["choice"], "all_advertising");
        for c in [OptOutChoice::Purpose, OptOutChoice::AllAdvertising] {
            assert_eq!(OptOutChoice::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(OptOutChoice::parse("x"), None);
        // Everything but the appointment reminder, on the channel of the link.
        assert_eq!(
            OptOutChoice::AllAdvertising
                .scope(Purpose::Birthday)
                .purposes(),
            [
                Purpose::Birthday,
                Purpose::Invitation,
                Purpose::Recall,
                Purpose::Other
            ]
        );
        assert_eq!(
            OptOutChoice::Purpose.scope(Purpose::Recall).purposes(),
            [Purpose::Recall]
        );
    }
}
