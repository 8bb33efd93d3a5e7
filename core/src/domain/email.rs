//! Practical e-mail address check, IDN-aware.
//!
//! Accepts what real mail servers accept in practice: one `@`, a dot-atom local part (ASCII
//! letters, digits and ``!#$%&'*+/=?^_`{|}~-``, or non-ASCII letters for SMTPUTF8), and a
//! domain of at least two labels whose top-level part is not numeric. Unicode domains
//! ("müller.de") are fine; [`EmailAddress::ascii`] gives the punycode form
//! ("xn--mller-kva.de") for SMTP. Quoted local parts and IP-literal domains are rejected on
//! purpose: in a practice database they are typing errors, not real addresses.

use std::fmt;

/// A checked e-mail address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    pub local: String,
    /// The domain as entered, lower-cased (may contain Unicode).
    pub domain: String,
}

impl EmailAddress {
    /// The address for display: `local@domain` (domain lower case, Unicode kept).
    pub fn display(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }

    /// The domain in ASCII (punycode for Unicode labels).
    pub fn ascii_domain(&self) -> String {
        self.domain
            .split('.')
            .map(|label| {
                if label.is_ascii() {
                    label.to_string()
                } else {
                    format!("xn--{}", punycode_encode(label))
                }
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The address with an ASCII domain, for SMTP envelopes and headers.
    pub fn ascii(&self) -> String {
        format!("{}@{}", self.local, self.ascii_domain())
    }

    /// Normalised key for duplicate detection (whole address lower case).
    pub fn key(&self) -> String {
        format!("{}@{}", self.local.to_lowercase(), self.domain)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// Why an address is not usable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EmailError {
    Empty,
    MissingAt,
    /// More than one `@`, often two addresses in one field.
    SeveralAt,
    Whitespace,
    /// "a@b.de; c@d.de" or "a@b.de, c@d.de".
    SeveralAddresses,
    EmptyLocal,
    LocalTooLong,
    InvalidLocalChar(char),
    /// Leading, trailing or double dot before the `@`.
    LocalDots,
    EmptyDomain,
    /// "anna@web" — no top-level domain.
    MissingTld,
    InvalidTld,
    InvalidDomainChar(char),
    /// Empty label ("web..de", ".web.de", "web.de.").
    DomainDots,
    /// A label starts or ends with "-".
    DomainHyphen,
    LabelTooLong,
    DomainTooLong,
}

impl EmailError {
    pub fn message_de(&self) -> String {
        match self {
            EmailError::Empty => "Keine E-Mail-Adresse eingetragen".into(),
            EmailError::MissingAt => "Das @-Zeichen fehlt".into(),
            EmailError::SeveralAt => "Mehr als ein @-Zeichen".into(),
            EmailError::Whitespace => "Leerzeichen in der Adresse".into(),
            EmailError::SeveralAddresses => {
                "Mehrere Adressen in einem Feld (nur eine erlaubt)".into()
            }
            EmailError::EmptyLocal => "Der Teil vor dem @ fehlt".into(),
            EmailError::LocalTooLong => {
                "Der Teil vor dem @ ist zu lang (höchstens 64 Zeichen)".into()
            }
            EmailError::InvalidLocalChar(c) => format!("Ungültiges Zeichen „{c}“ vor dem @"),
            EmailError::LocalDots => {
                "Punkt am Anfang, am Ende oder doppelt im Teil vor dem @".into()
            }
            EmailError::EmptyDomain => "Die Domain nach dem @ fehlt".into(),
            EmailError::MissingTld => "Die Domain hat keine Endung (z. B. „.de“)".into(),
            EmailError::InvalidTld => "Ungültige Domain-Endung".into(),
            EmailError::InvalidDomainChar(c) => format!("Ungültiges Zeichen „{c}“ in der Domain"),
            EmailError::DomainDots => "Leerer Abschnitt in der Domain (doppelter Punkt?)".into(),
            EmailError::DomainHyphen => {
                "Ein Domain-Abschnitt beginnt oder endet mit Bindestrich".into()
            }
            EmailError::LabelTooLong => "Ein Domain-Abschnitt ist zu lang".into(),
            EmailError::DomainTooLong => "Die Domain ist zu lang".into(),
        }
    }
}

impl fmt::Display for EmailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_de())
    }
}

impl std::error::Error for EmailError {}

const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

/// Checks an e-mail address and returns it normalised (trimmed, domain lower case).
pub fn check_email(input: &str) -> Result<EmailAddress, EmailError> {
    let s = input.trim();
    // A "mailto:" prefix pasted from a web page.
    let s = s
        .strip_prefix("mailto:")
        .or_else(|| s.strip_prefix("MAILTO:"))
        .unwrap_or(s);
    if s.is_empty() {
        return Err(EmailError::Empty);
    }
    let at_count = s.matches('@').count();
    if (s.contains(';') || s.contains(',')) && at_count >= 2 {
        return Err(EmailError::SeveralAddresses);
    }
    if s.chars().any(char::is_whitespace) {
        return Err(if at_count >= 2 {
            EmailError::SeveralAddresses
        } else {
            EmailError::Whitespace
        });
    }
    let (local, domain) = match at_count {
        0 => return Err(EmailError::MissingAt),
        1 => s.split_once('@').expect("one @"),
        _ => return Err(EmailError::SeveralAt),
    };
    check_local(local)?;
    let domain = check_domain(domain)?;
    Ok(EmailAddress {
        local: local.to_string(),
        domain,
    })
}

/// Shorthand: is the address usable?
pub fn is_valid_email(input: &str) -> bool {
    check_email(input).is_ok()
}

fn check_local(local: &str) -> Result<(), EmailError> {
    if local.is_empty() {
        return Err(EmailError::EmptyLocal);
    }
    if local.chars().count() > 64 {
        return Err(EmailError::LocalTooLong);
    }
    for c in local.chars() {
        let ok = c.is_ascii_alphanumeric()
            || c == '.'
            || LOCAL_SPECIALS.contains(c)
            || (!c.is_ascii() && c.is_alphanumeric());
        if !ok {
            return Err(EmailError::InvalidLocalChar(c));
        }
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(EmailError::LocalDots);
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<String, EmailError> {
    if domain.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    let domain = domain.to_lowercase();
    for c in domain.chars() {
        let ok = c.is_ascii_alphanumeric()
            || c == '-'
            || c == '.'
            || (!c.is_ascii() && c.is_alphanumeric());
        if !ok {
            return Err(EmailError::InvalidDomainChar(c));
        }
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err(EmailError::DomainDots);
    }
    if labels.len() < 2 {
        return Err(EmailError::MissingTld);
    }
    let mut ascii_len = labels.len() - 1;
    for label in &labels {
        if label.starts_with('-') || label.ends_with('-') {
            return Err(EmailError::DomainHyphen);
        }
        let ascii = if label.is_ascii() {
            label.len()
        } else {
            4 + punycode_encode(label).len()
        };
        if ascii > 63 {
            return Err(EmailError::LabelTooLong);
        }
        ascii_len += ascii;
    }
    if ascii_len > 253 {
        return Err(EmailError::DomainTooLong);
    }
    let tld = labels[labels.len() - 1];
    let tld_ok = if tld.is_ascii() {
        (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
            || (tld.starts_with("xn--") && tld.len() > 4)
    } else {
        tld.chars().all(char::is_alphabetic)
    };
    if !tld_ok {
        return Err(EmailError::InvalidTld);
    }
    Ok(domain)
}

/// Punycode (RFC 3492) encoding of one label, without the "xn--" prefix.
pub fn punycode_encode(input: &str) -> String {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    const INITIAL_BIAS: u32 = 72;
    const INITIAL_N: u32 = 128;

    fn digit(d: u32) -> char {
        (if d < 26 {
            b'a' + d as u8
        } else {
            b'0' + (d - 26) as u8
        }) as char
    }
    fn adapt(mut delta: u32, num_points: u32, first: bool) -> u32 {
        delta = if first { delta / DAMP } else { delta / 2 };
        delta += delta / num_points;
        let mut k = 0;
        while delta > ((BASE - T_MIN) * T_MAX) / 2 {
            delta /= BASE - T_MIN;
            k += BASE;
        }
        k + (((BASE - T_MIN + 1) * delta) / (delta + SKEW))
    }

    let code_points: Vec<u32> = input.chars().map(|c| c as u32).collect();
    let mut output: String = input.chars().filter(char::is_ascii).collect();
    let basic = output.len() as u32;
    let mut handled = basic;
    if basic > 0 {
        output.push('-');
    }
    let mut n = INITIAL_N;
    let mut delta: u32 = 0;
    let mut bias = INITIAL_BIAS;
    let total = code_points.len() as u32;
    while handled < total {
        let m = *code_points
            .iter()
            .filter(|&&c| c >= n)
            .min()
            .expect("a code point ≥ n exists while unhandled ones remain");
        delta = delta.saturating_add((m - n).saturating_mul(handled + 1));
        n = m;
        for &c in &code_points {
            if c < n {
                delta = delta.saturating_add(1);
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else if k >= bias + T_MAX {
                        T_MAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    output.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                output.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    output
}

impl crate::domain::message::UiMessage for EmailError {
    fn key(&self) -> &'static str {
        match self {
            EmailError::Empty => "domain.email.empty",
            EmailError::MissingAt => "domain.email.missing_at",
            EmailError::SeveralAt => "domain.email.several_at",
            EmailError::Whitespace => "domain.email.whitespace",
            EmailError::SeveralAddresses => "domain.email.several_addresses",
            EmailError::EmptyLocal => "domain.email.empty_local",
            EmailError::LocalTooLong => "domain.email.local_too_long",
            EmailError::InvalidLocalChar(_) => "domain.email.invalid_local_char",
            EmailError::LocalDots => "domain.email.local_dots",
            EmailError::EmptyDomain => "domain.email.empty_domain",
            EmailError::MissingTld => "domain.email.missing_tld",
            EmailError::InvalidTld => "domain.email.invalid_tld",
            EmailError::InvalidDomainChar(_) => "domain.email.invalid_domain_char",
            EmailError::DomainDots => "domain.email.domain_dots",
            EmailError::DomainHyphen => "domain.email.domain_hyphen",
            EmailError::LabelTooLong => "domain.email.label_too_long",
            EmailError::DomainTooLong => "domain.email.domain_too_long",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            EmailError::InvalidLocalChar(c) | EmailError::InvalidDomainChar(c) => {
                vec![("char", c.to_string())]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses() {
        for (input, display, ascii) in [
            (
                "anna.mueller@web.de",
                "anna.mueller@web.de",
                "anna.mueller@web.de",
            ),
            (
                "  Anna.Mueller@WEB.DE ",
                "Anna.Mueller@web.de",
                "Anna.Mueller@web.de",
            ),
            (
                "a+news@praxis-sonne.de",
                "a+news@praxis-sonne.de",
                "a+news@praxis-sonne.de",
            ),
            (
                "o'brien@example.co.uk",
                "o'brien@example.co.uk",
                "o'brien@example.co.uk",
            ),
            ("info@müller.de", "info@müller.de", "info@xn--mller-kva.de"),
            (
                "info@bücher.example",
                "info@bücher.example",
                "info@xn--bcher-kva.example",
            ),
            (
                "mailto:kontakt@praxis.de",
                "kontakt@praxis.de",
                "kontakt@praxis.de",
            ),
            (
                "x@xn--mller-kva.de",
                "x@xn--mller-kva.de",
                "x@xn--mller-kva.de",
            ),
            ("jörg@beispiel.de", "jörg@beispiel.de", "jörg@beispiel.de"),
            (
                "a_b-c@sub.domain.museum",
                "a_b-c@sub.domain.museum",
                "a_b-c@sub.domain.museum",
            ),
        ] {
            let e = check_email(input).unwrap_or_else(|err| panic!("{input:?}: {err}"));
            assert_eq!(e.display(), display, "{input:?}");
            assert_eq!(e.ascii(), ascii, "{input:?}");
            assert!(is_valid_email(input));
        }
    }

    #[test]
    fn invalid_addresses_have_german_reasons() {
        for (input, err) in [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("anna.web.de", EmailError::MissingAt),
            ("anna@@web.de", EmailError::SeveralAt),
            ("a@b@web.de", EmailError::SeveralAt),
            ("anna@web.de; ben@web.de", EmailError::SeveralAddresses),
            ("anna@web.de,ben@web.de", EmailError::SeveralAddresses),
            ("anna@web.de ben@web.de", EmailError::SeveralAddresses),
            ("anna mueller@web.de", EmailError::Whitespace),
            ("@web.de", EmailError::EmptyLocal),
            (
                &format!("{}@web.de", "a".repeat(65)),
                EmailError::LocalTooLong,
            ),
            ("anna(at)web@web.de", EmailError::InvalidLocalChar('(')),
            ("anna(x)@web.de", EmailError::InvalidLocalChar('(')),
            ("\"anna\"@web.de", EmailError::InvalidLocalChar('"')),
            (".anna@web.de", EmailError::LocalDots),
            ("anna.@web.de", EmailError::LocalDots),
            ("an..na@web.de", EmailError::LocalDots),
            ("anna@", EmailError::EmptyDomain),
            ("anna@web", EmailError::MissingTld),
            ("anna@web.d", EmailError::InvalidTld),
            ("anna@192.168.0.1", EmailError::InvalidTld),
            ("anna@[192.168.0.1]", EmailError::InvalidDomainChar('[')),
            ("anna@web_de.de", EmailError::InvalidDomainChar('_')),
            ("anna@web..de", EmailError::DomainDots),
            ("anna@.web.de", EmailError::DomainDots),
            ("anna@web.de.", EmailError::DomainDots),
            ("anna@-web.de", EmailError::DomainHyphen),
            ("anna@web-.de", EmailError::DomainHyphen),
            (
                &format!("anna@{}.de", "a".repeat(64)),
                EmailError::LabelTooLong,
            ),
            (
                &format!("anna@{}.de", ["abcdefghij"; 24].join(".")),
                EmailError::DomainTooLong,
            ),
        ] {
            assert_eq!(check_email(input), Err(err.clone()), "{input:?}");
            assert!(!err.message_de().is_empty());
        }
    }

    #[test]
    fn punycode_known_values() {
        // Values from RFC 3492 and registries.
        for (label, encoded) in [
            ("müller", "mller-kva"),
            ("bücher", "bcher-kva"),
            ("münchen", "mnchen-3ya"),
            ("straße", "strae-oqa"), // DENIC example straße.de
            ("ü", "tda"),
            ("例え", "r8jz45g"),
        ] {
            assert_eq!(punycode_encode(label), encoded, "{label}");
        }
    }

    #[test]
    fn key_is_case_insensitive() {
        assert_eq!(
            check_email("Anna@Web.de").unwrap().key(),
            check_email("anna@WEB.DE").unwrap().key()
        );
    }
}
