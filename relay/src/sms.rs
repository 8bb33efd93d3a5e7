//! SMS providers: Twilio, seven.io, sipgate, websms/LINK Mobility and a generic HTTP provider.
//! Request formats follow the providers' public documentation (see REFERENCE.md §4).

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::config::{Account, AccountDetail, SmsProvider};
use crate::store::Outcome;
use crate::transport::{classify_http, classify_reqwest, http_client, Delivery, Transport};

/// Accepts only E.164 (`+` then 8–15 digits, no leading zero).
pub fn check_e164(n: &str) -> Result<(), String> {
    let digits = n.strip_prefix('+').unwrap_or("");
    let ok = (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Ungültige Mobilnummer „{n}“ (erwartet E.164, z. B. +4917112345678)"
        ))
    }
}

pub struct SmsTransport {
    client: reqwest::Client,
    provider: SmsProvider,
    from: String,
    account: Option<String>,
    messaging_service_sid: Option<String>,
    sms_id: Option<String>,
    token: Option<SecretString>,
    base_url: String,
    url: Option<SecretString>,
    method: reqwest::Method,
    headers: Vec<(String, SecretString)>,
    body_template: Option<String>,
    content_type: String,
}

impl SmsTransport {
    pub fn new(a: &Account) -> Result<SmsTransport, String> {
        let AccountDetail::Sms {
            provider,
            account,
            messaging_service_sid,
            sms_id,
            token,
            base_url,
            url,
            method,
            headers,
            body_template,
            content_type,
        } = &a.detail
        else {
            unreachable!()
        };
        Ok(SmsTransport {
            client: http_client(),
            provider: *provider,
            from: a.from.clone(),
            account: account.clone(),
            messaging_service_sid: messaging_service_sid.clone(),
            sms_id: sms_id.clone(),
            token: token.clone(),
            base_url: base_url.clone(),
            url: url.clone(),
            method: method.parse().map_err(|_| format!("Methode {method}"))?,
            headers: headers.clone(),
            body_template: body_template.clone(),
            content_type: content_type.clone(),
        })
    }

    fn token(&self) -> &str {
        self.token.as_ref().map(|t| t.expose_secret()).unwrap_or("")
    }

    fn name(&self) -> &'static str {
        match self.provider {
            SmsProvider::Twilio => "Twilio",
            SmsProvider::Seven => "seven.io",
            SmsProvider::Sipgate => "sipgate",
            SmsProvider::Websms => "websms",
            SmsProvider::Generic => "SMS-Anbieter",
        }
    }
}

/// Fills `{{to}}`, `{{from}}`, `{{text}}`, `{{id}}`, escaping for JSON or form bodies.
pub fn render_template(tpl: &str, content_type: &str, vals: &[(&str, &str)]) -> String {
    let mut out = tpl.to_owned();
    for (k, v) in vals {
        let escaped = if content_type.contains("json") {
            let s = serde_json::to_string(v).expect("string");
            s[1..s.len() - 1].to_owned()
        } else if content_type.contains("x-www-form-urlencoded") {
            reqwest::Url::parse_with_params("http://x/", &[("v", v)])
                .ok()
                .and_then(|u| u.query().map(|q| q[2..].to_owned()))
                .unwrap_or_default()
        } else {
            (*v).to_owned()
        };
        out = out.replace(&format!("{{{{{k}}}}}"), &escaped);
    }
    out
}

async fn read(
    res: Result<reqwest::Response, reqwest::Error>,
    p: &str,
) -> Result<(reqwest::StatusCode, String), Outcome> {
    match res {
        Err(e) => Err(classify_reqwest(e, p)),
        Ok(r) => {
            let s = r.status();
            Ok((s, r.text().await.unwrap_or_default()))
        }
    }
}

#[async_trait]
impl Transport for SmsTransport {
    async fn send(&self, d: &Delivery<'_>) -> Outcome {
        let m = d.msg;
        if let Err(e) = check_e164(&m.recipient) {
            return Outcome::Permanent(e);
        }
        let p = self.name();
        match self.provider {
            SmsProvider::Twilio => {
                let sid = self.account.as_deref().unwrap_or("");
                let url = format!("{}/2010-04-01/Accounts/{sid}/Messages.json", self.base_url);
                let mut form = vec![("To", m.recipient.as_str()), ("Body", m.text.as_str())];
                match &self.messaging_service_sid {
                    Some(s) => form.push(("MessagingServiceSid", s)),
                    None => form.push(("From", &self.from)),
                }
                let res = self
                    .client
                    .post(url)
                    .basic_auth(sid, Some(self.token()))
                    .form(&form)
                    .send()
                    .await;
                let (status, body) = match read(res, p).await {
                    Ok(x) => x,
                    Err(o) => return o,
                };
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                if status.is_success() {
                    return Outcome::Sent {
                        provider_id: v["sid"].as_str().map(str::to_owned),
                    };
                }
                // Documented error: {"code": 21211, "message": "...", "status": 400}
                let msg = match (v["code"].as_i64(), v["message"].as_str()) {
                    (Some(c), Some(t)) => format!("Fehler {c}: {t}"),
                    _ => body,
                };
                classify_http(status, p, &msg)
            }
            SmsProvider::Seven => {
                let url = format!("{}/api/sms", self.base_url);
                let mut form = vec![
                    ("to", m.recipient.as_str()),
                    ("text", m.text.as_str()),
                    ("foreign_id", m.client_id.as_str()),
                    ("json", "1"),
                ];
                if !self.from.is_empty() {
                    form.push(("from", &self.from));
                }
                let res = self
                    .client
                    .post(url)
                    .header("X-Api-Key", self.token())
                    .form(&form)
                    .send()
                    .await;
                let (status, body) = match read(res, p).await {
                    Ok(x) => x,
                    Err(o) => return o,
                };
                if !status.is_success() {
                    return classify_http(status, p, &body);
                }
                // JSON answer: {"success":"100", "messages":[{"id":..., "success":true, ...}]}
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let code = match &v["success"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => body.trim().to_owned(),
                };
                match code.as_str() {
                    "100" | "101" => Outcome::Sent {
                        provider_id: v["messages"][0]["id"]
                            .as_str()
                            .map(str::to_owned)
                            .or_else(|| v["messages"][0]["id"].as_i64().map(|i| i.to_string())),
                    },
                    "202" => Outcome::Permanent(format!("{p}: Empfängernummer ungültig (202)")),
                    "201" => Outcome::Permanent(format!("{p}: Absenderkennung ungültig (201)")),
                    "301" | "305" | "401" => {
                        Outcome::Permanent(format!("{p}: Anfrage abgelehnt ({code})"))
                    }
                    "402" => Outcome::Permanent(format!(
                        "{p}: gleicher Text an dieselbe Nummer innerhalb von 180 s gesperrt (402)"
                    )),
                    "900" | "902" | "903" => Outcome::Permanent(format!(
                        "{p}: Zugang abgelehnt ({code}), API-Schlüssel prüfen"
                    )),
                    other => Outcome::Transient(format!("{p}: Fehlercode {other}")),
                }
            }
            SmsProvider::Sipgate => {
                let url = format!("{}/v2/sessions/sms", self.base_url);
                let res = self
                    .client
                    .post(url)
                    .basic_auth(self.account.as_deref().unwrap_or(""), Some(self.token()))
                    .json(&json!({
                        "smsId": self.sms_id,
                        "recipient": m.recipient,
                        "message": m.text,
                    }))
                    .send()
                    .await;
                let (status, body) = match read(res, p).await {
                    Ok(x) => x,
                    Err(o) => return o,
                };
                if status.is_success() {
                    Outcome::Sent { provider_id: None }
                } else {
                    classify_http(status, p, &body)
                }
            }
            SmsProvider::Websms => {
                let url = format!("{}/rest/smsmessaging/text", self.base_url);
                let mut body = json!({
                    "recipientAddressList": [m.recipient.trim_start_matches('+')],
                    "messageContent": m.text,
                    "clientMessageId": m.client_id,
                });
                if !self.from.is_empty() {
                    body["senderAddress"] = json!(self.from);
                    let numeric = self
                        .from
                        .trim_start_matches('+')
                        .chars()
                        .all(|c| c.is_ascii_digit());
                    body["senderAddressType"] = json!(if numeric {
                        "international"
                    } else {
                        "alphanumeric"
                    });
                }
                let res = self
                    .client
                    .post(url)
                    .bearer_auth(self.token())
                    .json(&body)
                    .send()
                    .await;
                let (status, text) = match read(res, p).await {
                    Ok(x) => x,
                    Err(o) => return o,
                };
                if !status.is_success() {
                    return classify_http(status, p, &text);
                }
                // {"statusCode":2000,"statusMessage":"OK","transferId":"..."}
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let code = v["statusCode"].as_i64().unwrap_or(0);
                let sm = v["statusMessage"].as_str().unwrap_or("");
                match code {
                    2000 | 2001 => Outcome::Sent {
                        provider_id: v["transferId"].as_str().map(str::to_owned),
                    },
                    4000..=4999 => Outcome::Permanent(format!("{p}: {code} {sm}")),
                    _ => Outcome::Transient(format!("{p}: {code} {sm}")),
                }
            }
            SmsProvider::Generic => {
                let url = self
                    .url
                    .as_ref()
                    .map(|u| u.expose_secret().to_owned())
                    .unwrap_or_default();
                let body = render_template(
                    self.body_template.as_deref().unwrap_or(""),
                    &self.content_type,
                    &[
                        ("to", &m.recipient),
                        ("from", &self.from),
                        ("text", &m.text),
                        ("id", &m.client_id),
                    ],
                );
                let mut req = self
                    .client
                    .request(self.method.clone(), url)
                    .header("Content-Type", &self.content_type);
                for (h, v) in &self.headers {
                    req = req.header(h, v.expose_secret());
                }
                let res = req.body(body).send().await;
                let (status, text) = match read(res, p).await {
                    Ok(x) => x,
                    Err(o) => return o,
                };
                if status.is_success() {
                    Outcome::Sent { provider_id: None }
                } else {
                    classify_http(status, p, &text)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        for ok in ["+4917112345678", "+12025550123"] {
            assert!(check_e164(ok).is_ok(), "{ok}");
        }
        for bad in [
            "017112345678",
            "+49 171 123",
            "+0171123456",
            "+49171abc45678",
            "",
        ] {
            assert!(check_e164(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn template_escaping() {
        let vals = [("to", "+49171"), ("text", "Hallo \"Ä\" & gut\n")];
        assert_eq!(
            render_template(
                r#"{"n":"{{to}}","t":"{{text}}"}"#,
                "application/json",
                &vals
            ),
            r#"{"n":"+49171","t":"Hallo \"Ä\" & gut\n"}"#
        );
        assert_eq!(
            render_template(
                "n={{to}}&t={{text}}",
                "application/x-www-form-urlencoded",
                &vals
            ),
            "n=%2B49171&t=Hallo+%22%C3%84%22+%26+gut%0A"
        );
    }
}
