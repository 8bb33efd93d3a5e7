//! The demo practice: a deterministic generator of realistic (but invented) patients,
//! prospects, appointments and practice settings.
//!
//! Pure: everything depends only on the `seed` and `today` passed in — no thread RNG, no
//! clock, no network. The same inputs always give the same data.
//!
//! Safety of the invented contact data:
//! - e-mail addresses use domains under the reserved `.example` TLD or `example.com/.org`
//!   (RFC 2606), so a misconfigured send can never reach a real mailbox;
//! - landline numbers come from the Bundesnetzagentur's "Drama Numbers" (numbers reserved
//!   for media productions, never assigned), e.g. `0221 4710 xxx` in Köln;
//! - mobile numbers are random and *may* exist: code that sends must refuse demo records
//!   (see [`is_demo_id`]).
//!
//! Demo ids are UUID-formatted strings with the version nibble `8` ("custom", RFC 9562),
//! whereas ids made by the app are random v4 UUIDs; [`is_demo_id`] tells them apart, so the
//! app can remove the demo data again.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

use super::guardian::DEFAULT_MINOR_AGE;
use super::model::*;

/// Number of patients in the demo practice.
pub const DEMO_PATIENTS: usize = 500;
/// Number of prospects in the demo practice.
pub const DEMO_PROSPECTS: usize = 80;

/// Everything the demo practice consists of.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DemoPractice {
    pub settings: PracticeSettings,
    /// Patients first, then prospects.
    pub persons: Vec<PersonRecord>,
    /// Past and future appointments, sorted by start.
    pub appointments: Vec<Appointment>,
}

// ---------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------

// The one seeded generator (`rng.rs`): every person and part of the practice draws from
// its own stream of the seed.
use super::rng::{mix, Rng};

// Id kinds, encoded in the id so person and appointment ids never collide.
const ID_PERSON: u64 = 1;
const ID_APPOINTMENT: u64 = 2;

/// A deterministic UUID-formatted id (version nibble 8, RFC 4122 variant). Unique for every
/// `(kind, index)` under one seed (index < 2^48): the last 48 bits are a bijection of `index`.
fn demo_uuid(seed: u64, kind: u64, index: u64) -> String {
    let h = mix(mix(seed, kind), index);
    let h2 = mix(h, 0xD3);
    let mask = mix(seed, kind.wrapping_add(0x100)) & 0xFFFF_FFFF_FFFF;
    format!(
        "{:08x}-{:04x}-8{:01x}{:02x}-{:04x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) & 0xFFFF,
        kind & 0xF,
        h & 0xFF,
        0x8000 | ((h2 >> 48) & 0x3FFF),
        // An odd multiplier is a bijection modulo 2^48: unique, but not visibly sequential.
        (index.wrapping_mul(0x9E37_79B9_7F4B) & 0xFFFF_FFFF_FFFF) ^ mask
    )
}

/// True for ids made by this generator (UUID version nibble 8), false for app-made v4 ids.
pub fn is_demo_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 36 && b[8] == b'-' && b[13] == b'-' && b[14] == b'8' && b[18] == b'-'
}

// ---------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------

struct Origin {
    female: &'static [&'static str],
    male: &'static [&'static str],
    /// (male form, female form)
    last: &'static [(&'static str, &'static str)],
    /// Foreign mobile prefix typical for this origin (E.164 country code).
    country_code: &'static str,
}

const GERMAN: Origin = Origin {
    female: &[
        "Anna",
        "Sophie",
        "Marie",
        "Käthe",
        "Hildegard",
        "Ursula",
        "Renate",
        "Brigitte",
        "Sabine",
        "Claudia",
        "Petra",
        "Andrea",
        "Julia",
        "Lena",
        "Hannah",
        "Charlotte",
        "Helga",
        "Gisela",
        "Annelie",
        "Jördis",
        "Lea",
        "Emilia",
        "Franziska",
        "Birgit",
        "Dörte",
        "Susanne",
        "Monika",
        "Ingrid",
        "Greta",
        "Mia",
    ],
    male: &[
        "Jürgen",
        "Günter",
        "Uwe",
        "Jörg",
        "Björn",
        "Hans-Peter",
        "Klaus",
        "Stefan",
        "Thomas",
        "Michael",
        "Andreas",
        "Wolfgang",
        "Lukas",
        "Jonas",
        "Felix",
        "Maximilian",
        "Dieter",
        "Horst",
        "Matthias",
        "Sören",
        "Jan",
        "Tobias",
        "Florian",
        "Bernd",
        "Rüdiger",
        "Frank",
        "Heinz",
        "Paul",
        "Leon",
        "Till",
    ],
    last: &[
        ("Müller", "Müller"),
        ("Schmidt", "Schmidt"),
        ("Schneider", "Schneider"),
        ("Fischer", "Fischer"),
        ("Weber", "Weber"),
        ("Meyer", "Meyer"),
        ("Wagner", "Wagner"),
        ("Becker", "Becker"),
        ("Schulz", "Schulz"),
        ("Hoffmann", "Hoffmann"),
        ("Schäfer", "Schäfer"),
        ("Koch", "Koch"),
        ("Bauer", "Bauer"),
        ("Richter", "Richter"),
        ("Klein", "Klein"),
        ("Wolf", "Wolf"),
        ("Schröder", "Schröder"),
        ("Neumann", "Neumann"),
        ("Zimmermann", "Zimmermann"),
        ("Krüger", "Krüger"),
        ("Köhler", "Köhler"),
        ("König", "König"),
        ("Möller", "Möller"),
        ("Weiß", "Weiß"),
        ("Groß", "Groß"),
        ("Strauß", "Strauß"),
        ("Voß", "Voß"),
        ("Nußbaum", "Nußbaum"),
        ("Jäger", "Jäger"),
        ("Böhm", "Böhm"),
        ("Krämer", "Krämer"),
        ("Kühn", "Kühn"),
        ("Schütz", "Schütz"),
        ("Lüdemann", "Lüdemann"),
        ("Hähnel", "Hähnel"),
        ("Müller-Lüdenscheidt", "Müller-Lüdenscheidt"),
        ("Schmitz", "Schmitz"),
        ("Herrmann", "Herrmann"),
        ("Lorenz", "Lorenz"),
        ("Baumann", "Baumann"),
        ("Vogel", "Vogel"),
        ("Sommer", "Sommer"),
        ("Brandt", "Brandt"),
        ("Löwe", "Löwe"),
        ("Dietrich", "Dietrich"),
        ("Engel", "Engel"),
        ("Pfeiffer", "Pfeiffer"),
        ("Große-Wördemann", "Große-Wördemann"),
        ("von Bülow", "von Bülow"),
    ],
    country_code: "43",
};

const TURKISH: Origin = Origin {
    female: &[
        "Ayşe", "Fatma", "Emine", "Zeynep", "Elif", "Gül", "Işıl", "Çağla", "Büşra", "Merve",
        "Özlem", "Şule", "Derya", "Gülşen", "Yağmur",
    ],
    male: &[
        "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Murat", "Barış", "Ömer", "Çağrı", "Doğan",
        "Ilhan", "Kadir", "Erdoğan", "Tuğrul", "Oğuz",
    ],
    last: &[
        ("Yılmaz", "Yılmaz"),
        ("Kaya", "Kaya"),
        ("Demir", "Demir"),
        ("Şahin", "Şahin"),
        ("Çelik", "Çelik"),
        ("Yıldız", "Yıldız"),
        ("Öztürk", "Öztürk"),
        ("Aydın", "Aydın"),
        ("Doğan", "Doğan"),
        ("Arslan", "Arslan"),
        ("Koç", "Koç"),
        ("Kılıç", "Kılıç"),
        ("Güneş", "Güneş"),
        ("Erdoğan", "Erdoğan"),
        ("Polat", "Polat"),
        ("Işık", "Işık"),
    ],
    country_code: "90",
};

const POLISH: Origin = Origin {
    female: &[
        "Agnieszka",
        "Małgorzata",
        "Katarzyna",
        "Łucja",
        "Zofia",
        "Joanna",
        "Magdalena",
        "Ewa",
        "Beata",
        "Dorota",
        "Grażyna",
        "Wiesława",
    ],
    male: &[
        "Piotr",
        "Krzysztof",
        "Paweł",
        "Łukasz",
        "Tomasz",
        "Michał",
        "Jakub",
        "Wojciech",
        "Grzegorz",
        "Marek",
        "Stanisław",
        "Zbigniew",
    ],
    last: &[
        ("Kowalski", "Kowalska"),
        ("Nowak", "Nowak"),
        ("Wiśniewski", "Wiśniewska"),
        ("Wójcik", "Wójcik"),
        ("Kowalczyk", "Kowalczyk"),
        ("Kamiński", "Kamińska"),
        ("Lewandowski", "Lewandowska"),
        ("Zieliński", "Zielińska"),
        ("Szymański", "Szymańska"),
        ("Woźniak", "Woźniak"),
        ("Dąbrowski", "Dąbrowska"),
        ("Kozłowski", "Kozłowska"),
        ("Mazur", "Mazur"),
        ("Wróbel", "Wróbel"),
        ("Łukasiewicz", "Łukasiewicz"),
        ("Pawłowski", "Pawłowska"),
    ],
    country_code: "48",
};

const GREEK: Origin = Origin {
    female: &[
        "Eleni",
        "Maria",
        "Dimitra",
        "Sofia",
        "Georgia",
        "Katerina",
        "Anastasia",
        "Vasiliki",
        "Eirini",
        "Chrysoula",
    ],
    male: &[
        "Georgios",
        "Konstantinos",
        "Dimitrios",
        "Nikolaos",
        "Ioannis",
        "Christos",
        "Panagiotis",
        "Vasilios",
        "Athanasios",
        "Spyridon",
    ],
    last: &[
        ("Papadopoulos", "Papadopoulou"),
        ("Georgiou", "Georgiou"),
        ("Nikolaidis", "Nikolaidou"),
        ("Konstantinidis", "Konstantinidou"),
        ("Ioannidis", "Ioannidou"),
        ("Pappas", "Pappa"),
        ("Dimitriou", "Dimitriou"),
        ("Vlachos", "Vlachou"),
        ("Karagiannis", "Karagianni"),
        ("Oikonomou", "Oikonomou"),
        ("Makris", "Makri"),
        ("Christodoulou", "Christodoulou"),
    ],
    country_code: "30",
};

const NEUTRAL_FIRST: &[&str] = &[
    "Alex", "Kim", "Robin", "Sascha", "Charlie", "Luca", "Eike", "Toni", "Jona", "Mika",
];

const STREETS: &[&str] = &[
    "Hauptstraße",
    "Bahnhofstraße",
    "Schillerstraße",
    "Goethestraße",
    "Gartenstraße",
    "Kirchstraße",
    "Lindenallee",
    "Am Mühlbach",
    "Rosenweg",
    "Friedrich-Ebert-Straße",
    "Schloßstraße",
    "Marktplatz",
    "Bergstraße",
    "Waldweg",
    "Königsallee",
    "Mozartstraße",
    "Birkenweg",
    "Wilhelmstraße",
    "Dürener Straße",
    "Aachener Straße",
    "Venloer Straße",
    "Subbelrather Straße",
    "Neusser Straße",
    "Severinstraße",
    "Bonner Straße",
    "Zülpicher Straße",
    "Luxemburger Straße",
    "Am Weißen Haus",
    "Höhenberger Ring",
    "Frankfurter Straße",
    "Kalker Hauptstraße",
    "Deutz-Mülheimer Straße",
    "An der Münze",
    "Brüsseler Platz",
    "Im Süßen Grund",
    "Straßburger Platz",
    "Gürzenichstraße",
    "Thürmchenswall",
    "Ubierring",
    "Mülheimer Freiheit",
];

/// (postcode, city, landline prefix of a Drama-Numbers range, weight)
const PLACES: &[(&str, &str, &str, u64)] = &[
    ("50667", "Köln", "0221 4710", 6),
    ("50668", "Köln", "0221 4710", 6),
    ("50672", "Köln", "0221 4710", 6),
    ("50674", "Köln", "0221 4710", 6),
    ("50677", "Köln", "0221 4710", 5),
    ("50733", "Köln", "0221 4710", 5),
    ("50823", "Köln", "0221 4710", 8),
    ("50825", "Köln", "0221 4710", 8),
    ("50827", "Köln", "0221 4710", 6),
    ("50931", "Köln", "0221 4710", 5),
    ("50937", "Köln", "0221 4710", 5),
    ("50968", "Köln", "0221 4710", 4),
    ("51063", "Köln", "0221 4710", 4),
    ("51065", "Köln", "0221 4710", 4),
    ("51103", "Köln", "0221 4710", 4),
    ("51149", "Köln", "0221 4710", 3),
    ("50354", "Hürth", "0221 4710", 3),
    ("50226", "Frechen", "0221 4710", 3),
    ("50259", "Pulheim", "0221 4710", 3),
    ("50321", "Brühl", "0221 4710", 2),
    ("51465", "Bergisch Gladbach", "0221 4710", 2),
    ("51373", "Leverkusen", "0221 4710", 2),
    ("10115", "Berlin", "030 23125", 1),
    ("20095", "Hamburg", "040 66969", 1),
    ("80331", "München", "089 99998", 1),
    ("60311", "Frankfurt am Main", "069 90009", 1),
];

const ADDRESS_EXTRAS: &[&str] = &[
    "Hinterhaus",
    "c/o Familie Berger",
    "App. 12",
    "3. OG links",
    "Gartenhaus",
];

const EMAIL_DOMAINS: &[&str] = &[
    "gmx.example",
    "web.example",
    "t-online.example",
    "posteo.example",
    "mailbox.example",
    "example.com",
    "example.org",
    "freenet.example",
];

const MOBILE_PREFIXES: &[&str] = &[
    "151", "152", "157", "160", "162", "163", "170", "171", "172", "173", "174", "175", "176",
    "177", "178", "179",
];

/// (male form, female form) of working-age professions.
const PROFESSIONS: &[(&str, &str)] = &[
    ("Bürokaufmann", "Bürokauffrau"),
    ("Elektriker", "Elektrikerin"),
    ("Lehrer", "Lehrerin"),
    ("Softwareentwickler", "Softwareentwicklerin"),
    ("Krankenpfleger", "Krankenpflegerin"),
    ("Erzieher", "Erzieherin"),
    ("Verkäufer", "Verkäuferin"),
    ("Ingenieur", "Ingenieurin"),
    ("Landwirt", "Landwirtin"),
    ("Friseur", "Friseurin"),
    ("Polizeibeamter", "Polizeibeamtin"),
    ("Architekt", "Architektin"),
    ("Busfahrer", "Busfahrerin"),
    ("Steuerberater", "Steuerberaterin"),
    ("Handwerksmeister", "Handwerksmeisterin"),
    ("Journalist", "Journalistin"),
    ("Kfz-Mechatroniker", "Kfz-Mechatronikerin"),
    ("Arzt", "Ärztin"),
    ("Koch", "Köchin"),
    ("Hausmann", "Hausfrau"),
];

const PATIENT_TAGS: &[&str] = &[
    "Rückenschule",
    "Pilates",
    "Rehasport",
    "Hausbesuch",
    "Firmenfitness",
    "Newsletter",
    "Empfehlung",
    "Kinder",
    "Sportler",
    "Warteliste",
];

const PROSPECT_TAGS: &[&str] = &[
    "Kursanfrage",
    "Pilates",
    "Gesundheitstag 2026",
    "Website-Anfrage",
    "Gutschein",
    "Firmenfitness",
];

const THERAPISTS: &[(&str, &str)] = &[
    ("Sabine Sonnenberg", "Raum 1"),
    ("Murat Demir", "Raum 2"),
    ("Katarzyna Nowak", "Raum 3"),
    ("Jonas Weber", "Trainingsfläche"),
    ("Eleni Papadaki", "Raum 4"),
];

/// (appointment type, minutes, for prospects)
const APPOINTMENT_TYPES: &[(&str, i64, bool)] = &[
    ("Krankengymnastik", 30, false),
    ("Manuelle Therapie", 30, false),
    ("Massage", 30, false),
    ("Lymphdrainage", 60, false),
    ("Krankengymnastik am Gerät", 60, false),
    ("Rückenschule", 60, false),
    ("Erstgespräch", 30, true),
    ("Probetraining", 60, true),
];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Lower-case ASCII local part for an e-mail address ("Müller" → "mueller", "Yılmaz" → "yilmaz").
fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for ch in s.chars() {
        match ch {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'ı' | 'İ' | 'I' => out.push('i'),
            'ł' | 'Ł' => out.push('l'),
            'ğ' | 'Ğ' => out.push('g'),
            'ş' | 'Ş' | 'ś' | 'Ś' => out.push('s'),
            'ç' | 'Ç' | 'ć' | 'Ć' => out.push('c'),
            'ą' | 'Ą' => out.push('a'),
            'ę' | 'Ę' => out.push('e'),
            'ó' | 'Ó' => out.push('o'),
            'ń' | 'Ń' => out.push('n'),
            'ź' | 'Ź' | 'ż' | 'Ż' => out.push('z'),
            ' ' | '-' => out.push('-'),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ => {}
        }
    }
    out
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The nearest leap year at or below `y`.
fn leap_at_or_below(mut y: i32) -> i32 {
    while !is_leap(y) {
        y -= 1;
    }
    y
}

/// A birth date whose birthday falls on `day` (month/day), in year `year` (adjusted for 29 Feb).
fn birthday_on(day: NaiveDate, year: i32) -> NaiveDate {
    if day.month() == 2 && day.day() == 29 {
        date(leap_at_or_below(year), 2, 29)
    } else {
        date(year, day.month(), day.day())
    }
}

/// A German mobile number in one of the input formats practices really have.
fn german_mobile(rng: &mut Rng) -> String {
    let prefix = rng.pick(MOBILE_PREFIXES);
    let len = if prefix.starts_with("15") { 8 } else { 7 };
    let sub = rng.digits(len);
    match rng.below(8) {
        0 => format!("0{prefix} {sub}"),
        1 => format!("0{prefix}/{sub}"),
        2 => format!("+49 (0){prefix} {sub}"),
        3 => format!("0049{prefix}{sub}"),
        4 => format!("+49 {prefix} {sub}"),
        5 => format!("0{prefix}{sub}"),
        6 => format!("0{prefix}-{}-{}", &sub[..3], &sub[3..]),
        _ => format!("+49{prefix}{sub}"),
    }
}

/// A foreign mobile number for a country code, in a typical written form.
fn foreign_mobile(rng: &mut Rng, cc: &str) -> String {
    match cc {
        "43" => format!("+43 664 {}", rng.digits(7)),
        "48" => format!(
            "0048 {} {} {}",
            500 + rng.below(300),
            rng.digits(3),
            rng.digits(3)
        ),
        "90" => format!(
            "+90 (5{}) {} {} {}",
            rng.digits(2),
            rng.digits(3),
            rng.digits(2),
            rng.digits(2)
        ),
        "30" => format!("+30 69{} {}", rng.below(10), rng.digits(7)),
        other => format!("+{other} {}", rng.digits(9)),
    }
}

fn landline(rng: &mut Rng, prefix: &str) -> String {
    let sub = rng.digits(3);
    let (area, block) = prefix.split_once(' ').unwrap_or((prefix, ""));
    match rng.below(3) {
        0 => format!("{area} {block}{sub}"),
        1 => format!("{area}/{block}{sub}"),
        _ => format!("({area}) {block} {sub}"),
    }
}

fn house_number(rng: &mut Rng) -> String {
    let n = 1 + rng.below(140);
    match rng.below(12) {
        0 => format!("{n}a"),
        1 => format!("{n} b"),
        2 => format!("{n}-{}", n + 2),
        _ => n.to_string(),
    }
}

fn pick_place(rng: &mut Rng) -> &'static (&'static str, &'static str, &'static str, u64) {
    const TOTAL: u64 = {
        let mut sum = 0;
        let mut i = 0;
        while i < PLACES.len() {
            sum += PLACES[i].3;
            i += 1;
        }
        sum
    };
    let total = TOTAL;
    let mut x = rng.below(total);
    for p in PLACES {
        if x < p.3 {
            return p;
        }
        x -= p.3;
    }
    &PLACES[0]
}

fn random_consents(
    rng: &mut Rng,
    kind: Kind,
    has_email: bool,
    has_mobile: bool,
    today: NaiveDate,
) -> Consents {
    let mut cells = Vec::new();
    if rng.chance(8) {
        return Consents::default(); // nothing recorded
    }
    for channel in Channel::ALL {
        let reachable = match channel {
            Channel::Letter => true,
            Channel::Sms => has_mobile,
            Channel::Email => has_email,
        };
        // Occasionally a consent exists for a channel without contact data (a real mess).
        if !reachable && !rng.chance(3) {
            continue;
        }
        for purpose in Purpose::ALL {
            let p = match (kind, purpose) {
                (Kind::Patient, Purpose::AppointmentReminder) => 80,
                (Kind::Prospect, Purpose::AppointmentReminder) => 30,
                (Kind::Prospect, Purpose::Invitation) => 70,
                (_, Purpose::Other) => 10,
                _ => 35,
            };
            if !rng.chance(p) {
                continue;
            }
            let evidence = match (channel, purpose.is_advertising()) {
                (Channel::Email, true) => *rng.pick(&[Evidence::DoubleOptIn, Evidence::OnlineForm]),
                (_, false) => *rng.pick(&[
                    Evidence::WrittenForm,
                    Evidence::WrittenForm,
                    Evidence::Verbal,
                    Evidence::OnlineForm,
                ]),
                _ => *rng.pick(&[Evidence::WrittenForm, Evidence::OnlineForm]),
            };
            let given = today - Duration::days(rng.range(20, 1800));
            let mut events = vec![ConsentEvent::granted(
                given,
                evidence,
                ConsentSource::Practice,
            )];
            if rng.chance(6) {
                let days_since = (today - given).num_days();
                let withdrawn = given + Duration::days(rng.range(1, days_since - 1));
                let source = if channel == Channel::Email && rng.chance(60) {
                    ConsentSource::UnsubscribeLink
                } else {
                    ConsentSource::Practice
                };
                events.push(ConsentEvent::withdrawn(withdrawn, source));
            }
            cells.push(ConsentHistory::new(channel, purpose, events));
        }
    }
    Consents::from(cells)
}

/// Generates one random person; `index` selects the deterministic stream.
fn make_person(seed: u64, index: u64, kind: Kind, today: NaiveDate) -> PersonRecord {
    let mut rng = Rng::stream(seed, index.wrapping_mul(2).wrapping_add(0x5EED));
    let origin = match rng.below(100) {
        0..=64 => &GERMAN,
        65..=79 => &TURKISH,
        80..=91 => &POLISH,
        _ => &GREEK,
    };
    let gender = match rng.below(100) {
        0..=48 => Gender::Female,
        49..=95 => Gender::Male,
        96..=97 => Gender::Diverse,
        _ => Gender::Unknown,
    };
    let (first_name, last_name) = {
        let &(m, f) = rng.pick(origin.last);
        match gender {
            Gender::Female => (rng.pick(origin.female).to_string(), f.to_string()),
            Gender::Male => (rng.pick(origin.male).to_string(), m.to_string()),
            _ => {
                let first = if rng.chance(50) {
                    rng.pick(NEUTRAL_FIRST)
                } else if rng.chance(50) {
                    rng.pick(origin.female)
                } else {
                    rng.pick(origin.male)
                };
                (first.to_string(), m.to_string())
            }
        }
    };
    // A few married-style double names.
    let last_name = if origin.country_code != "43" && rng.chance(4) {
        format!("{}-{}", GERMAN.last[rng.below(30) as usize].0, last_name)
    } else {
        last_name
    };

    // Age and birth date.
    let age: i64 = match kind {
        Kind::Patient => match rng.below(100) {
            0..=7 => rng.range(2, 17),
            8..=59 => rng.range(18, 59),
            60..=89 => rng.range(60, 79),
            _ => rng.range(80, 97),
        },
        Kind::Prospect => rng.range(19, 68),
    };
    let title = if age >= 28 {
        match rng.below(100) {
            0..=5 => "Dr.",
            6 => "Prof. Dr.",
            _ => "",
        }
    } else {
        ""
    };
    let birth_year = today.year() - age as i32;
    let birth_date = match index % 41 {
        _ if rng.chance(2) => None,
        // Born on 29 February.
        7 => Some(date(leap_at_or_below(birth_year), 2, 29)),
        // Birthday within the next week (today included), so birthday queries find people.
        13 | 27 => {
            let day = today + Duration::days(rng.range(0, 7));
            Some(birthday_on(day, birth_year))
        }
        // Around New Year: the year boundary trips birthday queries up.
        19 => {
            if rng.chance(50) {
                Some(date(birth_year, 12, rng.range(20, 31) as u32))
            } else {
                Some(date(birth_year, 1, rng.range(1, 6) as u32))
            }
        }
        _ => {
            let start = date(birth_year, 1, 1);
            let len = if is_leap(birth_year) { 366 } else { 365 };
            Some(start + Duration::days(rng.below(len) as i64))
        }
    };

    // Address.
    let place = pick_place(&mut rng);
    let mut address = PostalAddress {
        street: rng.pick(STREETS).to_string(),
        house_number: house_number(&mut rng),
        extra: if rng.chance(5) {
            rng.pick(ADDRESS_EXTRAS).to_string()
        } else {
            String::new()
        },
        postcode: place.0.to_string(),
        city: place.1.to_string(),
        country: String::new(),
    };
    match rng.below(100) {
        0 => address.postcode.clear(),
        1 => address.house_number.clear(),
        2 if kind == Kind::Prospect => address = PostalAddress::default(),
        _ => {}
    }

    // Contact data.
    let has_email = rng.chance(if kind == Kind::Prospect { 90 } else { 70 });
    let email = if has_email {
        let f = ascii_fold(&first_name);
        let l = ascii_fold(&last_name);
        let domain = rng.pick(EMAIL_DOMAINS);
        let local = match rng.below(5) {
            0 => format!("{f}.{l}"),
            1 => format!("{}.{l}", &f[..1]),
            2 => format!("{l}{}", birth_year % 100),
            3 => format!("{f}{l}"),
            _ => format!("{f}_{l}{}", rng.below(100)),
        };
        let addr = format!("{local}@{domain}");
        if rng.chance(5) {
            // Typed with capitals, as people do.
            let mut chars = addr.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
                None => addr,
            }
        } else {
            addr
        }
    } else {
        String::new()
    };
    let mobile = match rng.below(100) {
        0..=2 => foreign_mobile(&mut rng, origin.country_code),
        3..=76 => german_mobile(&mut rng),
        _ => String::new(),
    };
    let landline = if rng.chance(if mobile.is_empty() { 70 } else { 25 }) {
        landline(&mut rng, place.2)
    } else {
        String::new()
    };

    // Sensitive data.
    let (insurance_kind, insurance_number) = match kind {
        Kind::Patient => match rng.below(100) {
            0..=77 => (
                InsuranceKind::Statutory,
                format!(
                    "{}{}",
                    char::from(b'A' + rng.below(26) as u8),
                    rng.digits(9)
                ),
            ),
            78..=91 => (
                InsuranceKind::Private,
                format!("{}-{}", rng.digits(8), rng.digits(2)),
            ),
            92..=96 => (InsuranceKind::SelfPay, String::new()),
            _ => (InsuranceKind::Unknown, String::new()),
        },
        Kind::Prospect => (InsuranceKind::Unknown, String::new()),
    };
    let female = match gender {
        Gender::Female => true,
        Gender::Male => false,
        _ => rng.chance(50),
    };
    let gendered = |pair: (&str, &str)| if female { pair.1 } else { pair.0 }.to_string();
    let profession = if rng.chance(15) {
        String::new()
    } else if age < 16 {
        gendered(("Schüler", "Schülerin"))
    } else if age < 25 && rng.chance(50) {
        gendered(*rng.pick(&[
            ("Student", "Studentin"),
            ("Auszubildender", "Auszubildende"),
        ]))
    } else if age >= 67 {
        gendered(("Rentner", "Rentnerin"))
    } else {
        gendered(*rng.pick(PROFESSIONS))
    };

    let tag_pool = if kind == Kind::Patient {
        PATIENT_TAGS
    } else {
        PROSPECT_TAGS
    };
    let mut tags = Vec::new();
    for _ in 0..rng.below(3) {
        let t = rng.pick(tag_pool).to_string();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }

    let consents = random_consents(&mut rng, kind, !email.is_empty(), !mobile.is_empty(), today);
    let external_id = match kind {
        Kind::Patient => Some(format!("P-{:05}", 10_000 + index)),
        Kind::Prospect => None,
    };

    PersonRecord {
        person: Person {
            id: PersonId(demo_uuid(seed, ID_PERSON, index)),
            kind,
            title: title.to_string(),
            first_name,
            last_name,
            gender,
            address,
            email,
            mobile,
            landline,
            tags,
            consents,
            external_id,
            salutation: String::new(),
            du: false,
            guardians: Vec::new(),
        },
        sensitive: Sensitive {
            birth_date,
            profession,
            insurance_kind,
            insurance_number,
        },
    }
    .with_demo_guardian(today)
}

impl PersonRecord {
    /// A demo minor (below [`DEFAULT_MINOR_AGE`] on `today`) gets one guardian without a
    /// name ("An die Eltern von …") who has the minor's e-mail, mobile number and consents:
    /// the demo data keep who can be reached with consent, now through the parents. Anyone
    /// else gets none. Draws no random numbers (the other persons stay the same).
    fn with_demo_guardian(mut self, today: NaiveDate) -> PersonRecord {
        let minor = crate::domain::guardian::MinorRule::new(DEFAULT_MINOR_AGE, today)
            .is_minor(self.sensitive.birth_date);
        let p = &mut self.person;
        p.guardians = if minor {
            vec![Guardian {
                email: p.email.clone(),
                mobile: p.mobile.clone(),
                consents: p.consents.clone(),
                ..Default::default()
            }]
        } else {
            Vec::new()
        };
        self
    }
}

/// `n` random persons (about one in seven a prospect) for benchmarks, load tests and
/// randomised tests: the one person generator of praxisbote (the demo practice draws its
/// persons from it too). Deterministic in `seed` and `today`; ids are unique.
pub fn generate_persons(n: usize, seed: u64, today: NaiveDate) -> Vec<PersonRecord> {
    (0..n as u64)
        .map(|i| generate_person(seed, i, today))
        .collect()
}

/// Person number `index` of [`generate_persons`] (every 7th a prospect), on its own: the
/// same record whatever other persons are generated.
pub fn generate_person(seed: u64, index: u64, today: NaiveDate) -> PersonRecord {
    let kind = if index % 7 == 6 {
        Kind::Prospect
    } else {
        Kind::Patient
    };
    make_person(seed, index, kind, today)
}

/// A large practice for benchmarks and randomised tests: the demo settings, `n` persons of
/// [`generate_persons`], and 0–5 appointments per patient between three years before and two
/// months after `today` (about one in ten cancelled), sorted by start. Deterministic.
pub fn generate_large(n: usize, seed: u64, today: NaiveDate) -> DemoPractice {
    let persons = generate_persons(n, seed, today);
    let mut rng = Rng::stream(seed, 0xA991);
    let mut appointments = Vec::with_capacity(n * 3);
    let mut next_id = 0u64;
    for p in persons.iter().filter(|p| p.person.kind == Kind::Patient) {
        for _ in 0..rng.below(6) {
            let day = today - Duration::days(3 * 365) + Duration::days(rng.range(0, 3 * 365 + 60));
            let start = day.and_time(
                NaiveTime::from_hms_opt(8 + rng.below(10) as u32, 15 * rng.below(4) as u32, 0)
                    .expect("valid time"),
            );
            let &(kind, minutes, _) = rng.pick(APPOINTMENT_TYPES);
            let (therapist, room) = *rng.pick(THERAPISTS);
            let status = match rng.below(100) {
                0..=9 => AppointmentStatus::Cancelled,
                _ if day < today => AppointmentStatus::Done,
                _ => AppointmentStatus::Planned,
            };
            appointments.push(Appointment {
                id: AppointmentId(demo_uuid(seed, ID_APPOINTMENT, next_id)),
                person_id: p.person.id.clone(),
                start,
                end: start + Duration::minutes(minutes),
                therapist: therapist.to_string(),
                location: room.to_string(),
                kind: kind.to_string(),
                status,
            });
            next_id += 1;
        }
    }
    appointments.sort_by(|a, b| (a.start, &a.id.0).cmp(&(b.start, &b.id.0)));
    DemoPractice {
        settings: demo_settings(),
        persons,
        appointments,
    }
}

/// The practice settings of the demo practice.
pub fn demo_settings() -> PracticeSettings {
    PracticeSettings {
        name: "Physiotherapie Sonnenschein".into(),
        address: PostalAddress {
            street: "Venloer Straße".into(),
            house_number: "212".into(),
            extra: String::new(),
            postcode: "50823".into(),
            city: "Köln".into(),
            country: String::new(),
        },
        phone: "0221 4710100".into(),
        email: "info@physio-sonnenschein.example".into(),
        web: "www.physio-sonnenschein.example".into(),
        sender_names: SenderNames {
            email_from_name: "Physiotherapie Sonnenschein".into(),
            sms_sender_id: "PhysioSonne".into(),
            letter_contact: "Sabine Sonnenberg".into(),
        },
        bank_details: "Sparkasse KölnBonn · IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX"
            .into(),
        letter_form: LetterForm::B,
        // The practice's choice: course types may be named, treatments never.
        appointment_labels: [
            ("Rückenschule", "Kurs Rückenschule"),
            ("Erstgespräch", "Erstgespräch"),
            ("Probetraining", "Probetraining"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        therapist_in_messages: false,
        minor_age: DEFAULT_MINOR_AGE,
    }
}

/// Overwrites some persons with the messy cases every real practice has, so each one is
/// guaranteed to be present (tests check them by their data, not by position).
fn apply_messy_cases(persons: &mut [PersonRecord], seed: u64, today: NaiveDate) {
    let given = today - Duration::days(400);
    let email_of = |p: &mut PersonRecord, e: &str| p.person.email = e.to_string();

    // Two patients sharing one e-mail address (a couple).
    {
        let p = &mut persons[10];
        p.person.first_name = "Ayşe".into();
        p.person.last_name = "Yılmaz".into();
        p.person.gender = Gender::Female;
        email_of(p, "familie.yilmaz@gmx.example");
        p.person.consents.grant(
            Channel::Email,
            Purpose::AppointmentReminder,
            given,
            Evidence::WrittenForm,
        );
        let addr = p.person.address.clone();
        let q = &mut persons[11];
        q.person.first_name = "Mehmet".into();
        q.person.last_name = "Yılmaz".into();
        q.person.gender = Gender::Male;
        q.person.address = addr;
        email_of(q, "familie.yilmaz@gmx.example");
    }

    // Landline only: no e-mail, no mobile.
    {
        let p = &mut persons[30];
        p.person.first_name = "Gisela".into();
        p.person.last_name = "Strauß".into();
        p.person.gender = Gender::Female;
        p.person.email.clear();
        p.person.mobile.clear();
        p.person.landline = "0221 4710333".into();
        p.sensitive.birth_date = Some(date(today.year() - 84, 3, 14));
        p.sensitive.profession = "Rentnerin".into();
    }

    // Foreign mobile numbers.
    for (i, (first, last, gender, mobile)) in [
        ("Florian", "Gruber", Gender::Male, "+43 664 1234567"),
        ("Małgorzata", "Kowalska", Gender::Female, "0048 601 234 567"),
        ("Barış", "Öztürk", Gender::Male, "+90 (532) 123 45 67"),
        ("Eleni", "Papadopoulou", Gender::Female, "+30 694 1234567"),
    ]
    .into_iter()
    .enumerate()
    {
        let p = &mut persons[40 + i];
        p.person.first_name = first.into();
        p.person.last_name = last.into();
        p.person.gender = gender;
        p.person.mobile = mobile.into();
        p.person.consents.grant(
            Channel::Sms,
            Purpose::AppointmentReminder,
            given,
            Evidence::WrittenForm,
        );
    }

    // Incomplete addresses.
    persons[50].person.address.postcode.clear();
    persons[51].person.address.house_number.clear();
    {
        let a = &mut persons[52].person.address;
        a.street.clear();
        a.house_number.clear();
        a.postcode.clear();
        a.city = "Köln".into();
    }
    // A foreign address.
    persons[53].person.address = PostalAddress {
        street: "Mariahilfer Straße".into(),
        house_number: "45".into(),
        extra: "Top 7".into(),
        postcode: "1060".into(),
        city: "Wien".into(),
        country: "AT".into(),
    };

    // No consent at all, and withdrawn consents (both sources).
    persons[60].person.consents = Consents::default();
    {
        let p = &mut persons[61];
        if p.person.email.is_empty() {
            email_of(p, "j.kuehn@posteo.example");
        }
        for purpose in [Purpose::Birthday, Purpose::Recall] {
            p.person
                .consents
                .grant(Channel::Email, purpose, given, Evidence::DoubleOptIn);
            p.person.consents.withdraw(
                Channel::Email,
                purpose,
                today - Duration::days(30),
                ConsentSource::UnsubscribeLink,
            );
        }
    }
    {
        let p = &mut persons[62];
        if p.person.mobile.is_empty() {
            p.person.mobile = "0171 2345678".into();
        }
        p.person.consents.grant(
            Channel::Sms,
            Purpose::Invitation,
            given,
            Evidence::WrittenForm,
        );
        p.person.consents.withdraw(
            Channel::Sms,
            Purpose::Invitation,
            today - Duration::days(90),
            ConsentSource::Practice,
        );
    }
    // Explicitly without e-mail.
    persons[63].person.email.clear();

    // Genders diverse and unknown, titles.
    {
        let p = &mut persons[70];
        p.person.first_name = "Alex".into();
        p.person.gender = Gender::Diverse;
        let q = &mut persons[71];
        q.person.first_name = "Kim".into();
        q.person.gender = Gender::Unknown;
        persons[80].person.title = "Dr.".into();
        persons[81].person.title = "Prof. Dr.".into();
        persons[81].person.first_name = "Jürgen".into();
        persons[81].person.last_name = "Weißmüller".into();
        persons[81].person.gender = Gender::Male;
    }

    // Birthdays: 29 February, today, tomorrow, New Year's Eve and Day.
    let tomorrow = today + Duration::days(1);
    persons[90].sensitive.birth_date = Some(date(1988, 2, 29));
    persons[91].sensitive.birth_date = Some(birthday_on(today, today.year() - 50));
    persons[92].sensitive.birth_date = Some(birthday_on(tomorrow, today.year() - 33));
    persons[93].sensitive.birth_date = Some(date(1961, 12, 31));
    persons[94].sensitive.birth_date = Some(date(1975, 1, 1));

    // The patches above changed some genders: make the professions agree again.
    for p in persons.iter_mut() {
        let female = match p.person.gender {
            Gender::Female => true,
            Gender::Male => false,
            _ => continue,
        };
        let prof = p.sensitive.profession.as_str();
        let extra = [
            ("Rentner", "Rentnerin"),
            ("Schüler", "Schülerin"),
            ("Student", "Studentin"),
            ("Auszubildender", "Auszubildende"),
        ];
        if let Some(&(m, f)) = PROFESSIONS
            .iter()
            .chain(extra.iter())
            .find(|(m, f)| *m == prof || *f == prof)
        {
            p.sensitive.profession = if female { f } else { m }.to_string();
        }
    }

    // One person entered twice: same name and birth date, different id and contact data.
    if persons[20].sensitive.birth_date.is_none() {
        persons[20].sensitive.birth_date = Some(date(1979, 6, 17));
    }
    let mut twin = persons[20].clone();
    twin.person.id = PersonId(demo_uuid(seed, ID_PERSON, 999_999));
    twin.person.external_id = Some("P-19999".into());
    twin.person.email.clear();
    twin.person.mobile = "0176 98765432".into();
    twin.person.consents = Consents::default();
    // Replace the last patient with the twin, so the number of patients stays the same.
    persons[DEMO_PATIENTS - 1] = twin;
}

/// A weekday-aware day schedule: (opening, closing) in hours, or `None` when closed.
fn opening_hours(day: NaiveDate, tomorrow: NaiveDate) -> Option<(u32, u32, usize)> {
    match day.weekday() {
        // A course day when tomorrow is a Sunday: a demo on a Saturday still has reminders
        // to send for tomorrow.
        Weekday::Sun if day == tomorrow => Some((9, 15, 3)),
        Weekday::Sun => None,
        Weekday::Sat => Some((9, 13, 2)),
        Weekday::Fri => Some((8, 15, THERAPISTS.len())),
        _ => Some((8, 18, THERAPISTS.len())),
    }
}

/// The demo practice for `today`, deterministic in `seed`.
pub fn generate(seed: u64, today: NaiveDate) -> DemoPractice {
    let mut persons: Vec<PersonRecord> = (0..(DEMO_PATIENTS + DEMO_PROSPECTS) as u64)
        .map(|i| {
            let kind = if (i as usize) < DEMO_PATIENTS {
                Kind::Patient
            } else {
                Kind::Prospect
            };
            make_person(seed, i, kind, today)
        })
        .collect();
    apply_messy_cases(&mut persons, seed, today);
    // The messy cases changed contacts, consents and birth dates: the guardians follow.
    for p in persons.iter_mut() {
        *p = std::mem::take(p).with_demo_guardian(today);
    }

    let mut rng = Rng::stream(seed, 0xA990);
    let mut appointments = Vec::new();
    let mut next_id = 0u64;
    let mut push = |appointments: &mut Vec<Appointment>,
                    person: &PersonId,
                    start: NaiveDateTime,
                    minutes: i64,
                    therapist: usize,
                    kind: &str,
                    status: AppointmentStatus| {
        let (name, room) = THERAPISTS[therapist];
        appointments.push(Appointment {
            id: AppointmentId(demo_uuid(seed, ID_APPOINTMENT, next_id)),
            person_id: person.clone(),
            start,
            end: start + Duration::minutes(minutes),
            therapist: name.to_string(),
            location: if kind == "Hausbesuch" {
                "Hausbesuch".to_string()
            } else {
                room.to_string()
            },
            kind: kind.to_string(),
            status,
        });
        next_id += 1;
    };

    // Patient groups: ~15 % are due for a recall (last seen 7–24 months ago, nothing
    // planned); the others were seen in the last half year.
    let patients: Vec<usize> = (0..persons.len())
        .filter(|&i| persons[i].person.kind == Kind::Patient)
        .collect();
    let mut recall = vec![false; persons.len()];
    for &i in &patients {
        recall[i] = rng.chance(15);
    }
    let active: Vec<usize> = patients.iter().copied().filter(|&i| !recall[i]).collect();
    let prospects: Vec<usize> = (0..persons.len())
        .filter(|&i| persons[i].person.kind == Kind::Prospect)
        .collect();

    let patient_types: Vec<_> = APPOINTMENT_TYPES.iter().filter(|t| !t.2).collect();
    let prospect_types: Vec<_> = APPOINTMENT_TYPES.iter().filter(|t| t.2).collect();

    // Past appointments.
    for &i in &patients {
        let (lo, hi) = if recall[i] { (200, 720) } else { (1, 180) };
        let count = 1 + rng.below(4);
        for _ in 0..count {
            let day = today - Duration::days(rng.range(lo, hi));
            if day.weekday() == Weekday::Sun {
                continue;
            }
            let &&(kind, minutes, _) = rng.pick(&patient_types);
            let start = day
                .and_time(NaiveTime::from_hms_opt(8 + rng.below(9) as u32, 0, 0).unwrap())
                + Duration::minutes(30 * rng.below(2) as i64);
            let status = if rng.chance(6) {
                AppointmentStatus::Cancelled
            } else {
                AppointmentStatus::Done
            };
            let pid = persons[i].person.id.clone();
            push(
                &mut appointments,
                &pid,
                start,
                minutes,
                rng.below(THERAPISTS.len() as u64) as usize,
                kind,
                status,
            );
        }
    }

    // Future appointments: today and the next 14 days, per therapist without overlaps.
    let tomorrow = today + Duration::days(1);
    for offset in 0..=14 {
        let day = today + Duration::days(offset);
        let Some((open, close, therapists)) = opening_hours(day, tomorrow) else {
            continue;
        };
        for therapist in 0..therapists {
            let mut t = day.and_time(NaiveTime::from_hms_opt(open, 0, 0).unwrap());
            let end_of_day = day.and_time(NaiveTime::from_hms_opt(close, 0, 0).unwrap());
            while t < end_of_day {
                let fill = if day == tomorrow { 85 } else { 65 };
                if !rng.chance(fill) {
                    t += Duration::minutes(30);
                    continue;
                }
                let prospect = rng.chance(8);
                let (pi, &&(kind, minutes, _)) = if prospect {
                    (*rng.pick(&prospects), rng.pick(&prospect_types))
                } else if rng.chance(3) {
                    (*rng.pick(&active), &&("Hausbesuch", 60, false))
                } else {
                    (*rng.pick(&active), rng.pick(&patient_types))
                };
                if t + Duration::minutes(minutes) > end_of_day {
                    break;
                }
                let status = if rng.chance(7) {
                    AppointmentStatus::Cancelled
                } else {
                    AppointmentStatus::Planned
                };
                let pid = persons[pi].person.id.clone();
                push(&mut appointments, &pid, t, minutes, therapist, kind, status);
                t += Duration::minutes(minutes);
            }
        }
    }
    appointments.sort_by(|a, b| a.start.cmp(&b.start).then(a.id.cmp(&b.id)));

    DemoPractice {
        settings: demo_settings(),
        persons,
        appointments,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn large_sets_are_deterministic_varied_and_consistent() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let a = generate_large(2000, 7, today);
        assert_eq!(a, generate_large(2000, 7, today));
        assert_ne!(a.persons[..20], generate_large(20, 8, today).persons[..]);
        // Person i is the same record on its own and in any set.
        assert_eq!(generate_person(7, 1234, today), a.persons[1234]);
        let ids: std::collections::HashSet<_> = a.persons.iter().map(|p| &p.person.id).collect();
        assert_eq!(ids.len(), 2000);
        assert!(a.appointments.iter().all(|x| ids.contains(&x.person_id)));
        assert!(a.appointments.len() > 3000, "{}", a.appointments.len());
        assert!(a.appointments.windows(2).all(|w| w[0].start <= w[1].start));
        assert!(a
            .appointments
            .iter()
            .any(|x| x.status == AppointmentStatus::Cancelled));
        assert!(a.appointments.iter().any(|x| x.start.date() > today));
        assert!(a.persons.iter().any(|p| p
            .sensitive
            .birth_date
            .is_some_and(|d| d.month() == 2 && d.day() == 29)));
        assert!(a.persons.iter().any(|p| p.person.kind == Kind::Prospect));
    }

    use super::*;
    use std::collections::{HashMap, HashSet};

    fn today() -> NaiveDate {
        date(2026, 11, 26)
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = generate(42, today());
        let b = generate(42, today());
        assert_eq!(a, b);
        let c = generate(43, today());
        assert_ne!(a.persons, c.persons);
        assert_eq!(
            generate_persons(300, 7, today()),
            generate_persons(300, 7, today())
        );
        assert_ne!(
            generate_persons(300, 7, today()),
            generate_persons(300, 8, today())
        );
    }

    #[test]
    fn counts() {
        let d = generate(1, today());
        let patients = d
            .persons
            .iter()
            .filter(|p| p.person.kind == Kind::Patient)
            .count();
        let prospects = d
            .persons
            .iter()
            .filter(|p| p.person.kind == Kind::Prospect)
            .count();
        assert_eq!(patients, DEMO_PATIENTS);
        assert_eq!(prospects, DEMO_PROSPECTS);
        assert!(
            d.appointments.len() > 300,
            "{} appointments",
            d.appointments.len()
        );
        assert_eq!(generate_persons(1234, 1, today()).len(), 1234);
    }

    #[test]
    fn ids_unique_and_recognisable() {
        for seed in [0, 1, 99] {
            let d = generate(seed, today());
            let mut ids = HashSet::new();
            for p in &d.persons {
                assert!(is_demo_id(&p.person.id.0), "{}", p.person.id);
                assert!(
                    ids.insert(p.person.id.0.clone()),
                    "duplicate {}",
                    p.person.id
                );
            }
            for a in &d.appointments {
                assert!(is_demo_id(&a.id.0));
                assert!(ids.insert(a.id.0.clone()), "duplicate {}", a.id);
            }
        }
        let many = generate_persons(100_000, 5, today());
        let set: HashSet<_> = many.iter().map(|p| &p.person.id).collect();
        assert_eq!(set.len(), many.len());
        // App-made ids are v4 and are not mistaken for demo ids.
        assert!(!is_demo_id("3f2504e0-4f89-41d3-9a0c-0305e82c3301"));
        assert!(!is_demo_id("kein-uuid"));
    }

    #[test]
    fn appointments_reference_existing_persons_and_do_not_overlap() {
        let d = generate(3, today());
        let ids: HashSet<_> = d.persons.iter().map(|p| &p.person.id).collect();
        let mut by_therapist: HashMap<(&str, NaiveDate), Vec<&Appointment>> = HashMap::new();
        for a in &d.appointments {
            assert!(ids.contains(&a.person_id), "unknown person {}", a.person_id);
            assert!(a.end > a.start);
            if a.start.date() >= today() {
                by_therapist
                    .entry((&a.therapist, a.day()))
                    .or_default()
                    .push(a);
            }
        }
        for list in by_therapist.values() {
            for w in list.windows(2) {
                assert!(w[0].end <= w[1].start, "overlap {:?} {:?}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn appointments_cover_next_14_days_with_variety() {
        let d = generate(11, today());
        let t = today();
        let future: Vec<_> = d.appointments.iter().filter(|a| a.day() >= t).collect();
        assert!(future.iter().all(|a| a.day() <= t + Duration::days(14)));
        let tomorrow: Vec<_> = future
            .iter()
            .filter(|a| a.day() == t + Duration::days(1))
            .collect();
        assert!(tomorrow.len() >= 5, "tomorrow has {}", tomorrow.len());
        let therapists: HashSet<_> = future.iter().map(|a| a.therapist.as_str()).collect();
        assert!(therapists.len() >= 3);
        let rooms: HashSet<_> = future.iter().map(|a| a.location.as_str()).collect();
        assert!(rooms.len() >= 3);
        let kinds: HashSet<_> = future.iter().map(|a| a.kind.as_str()).collect();
        assert!(kinds.len() >= 4);
        assert!(future
            .iter()
            .any(|a| a.status == AppointmentStatus::Cancelled));
        assert!(future
            .iter()
            .any(|a| a.status == AppointmentStatus::Planned));
        assert!(d
            .appointments
            .iter()
            .any(|a| a.day() < t && a.status == AppointmentStatus::Done));
        // Whatever the weekday (tomorrow a Saturday or a Sunday too), tomorrow has enough
        // appointments to remind about.
        for offset in 0..7 {
            let day = date(2026, 11, 23) + Duration::days(offset);
            let d = generate(11, day);
            let n = d
                .appointments
                .iter()
                .filter(|a| a.day() == day + Duration::days(1))
                .count();
            assert!(n >= 5, "{day}: tomorrow has {n}");
        }
    }

    #[test]
    fn recall_candidates_exist() {
        let d = generate(5, today());
        let six_months_ago = today() - Duration::days(183);
        let mut last_seen: HashMap<&PersonId, NaiveDate> = HashMap::new();
        let mut has_future: HashSet<&PersonId> = HashSet::new();
        for a in &d.appointments {
            if a.day() >= today() {
                has_future.insert(&a.person_id);
            } else if a.status == AppointmentStatus::Done {
                let e = last_seen.entry(&a.person_id).or_insert(a.day());
                *e = (*e).max(a.day());
            }
        }
        let recall = last_seen
            .iter()
            .filter(|(id, seen)| **seen < six_months_ago && !has_future.contains(*id))
            .count();
        assert!(recall >= 20, "only {recall} recall candidates");
    }

    #[test]
    fn every_messy_case_is_present() {
        for seed in [0, 1, 2, 12345] {
            let d = generate(seed, today());
            let ps: Vec<&Person> = d.persons.iter().map(|r| &r.person).collect();
            let any = |f: &dyn Fn(&Person) -> bool| ps.iter().any(|p| f(p));
            assert!(any(&|p| p.email.is_empty()), "no e-mail");
            assert!(
                any(&|p| p.email.is_empty() && p.mobile.is_empty() && !p.landline.is_empty()),
                "landline only"
            );
            for cc in ["43", "48", "90", "30"] {
                assert!(
                    any(&|p| p.mobile.starts_with(&format!("+{cc}"))
                        || p.mobile.starts_with(&format!("00{cc}"))),
                    "foreign mobile +{cc}"
                );
            }
            for (what, f) in [
                (
                    "0171 1234567",
                    &(|m: &str| m.starts_with("01") && m.contains(' ')) as &dyn Fn(&str) -> bool,
                ),
                ("0171/1234567", &|m: &str| {
                    m.starts_with("01") && m.contains('/')
                }),
                ("+49 (0)171", &|m: &str| m.starts_with("+49 (0)")),
                ("0049171", &|m: &str| m.starts_with("00491")),
            ] {
                assert!(ps.iter().any(|p| f(&p.mobile)), "mobile format {what}");
            }
            assert!(any(
                &|p| p.address.postcode.is_empty() && !p.address.street.is_empty()
            ));
            assert!(any(
                &|p| p.address.house_number.is_empty() && !p.address.street.is_empty()
            ));
            assert!(any(&|p| p.address.street.is_empty()));
            assert!(any(&|p| !p.address.is_domestic()));
            assert!(any(&|p| p.consents.is_empty()), "missing consents");
            let withdrawn_by = |p: &Person, source| {
                p.consents.cells().iter().any(|c| {
                    matches!(c.status(), ConsentStatus::Withdrawn { source: s, .. } if s == source)
                })
            };
            assert!(any(&|p| withdrawn_by(p, ConsentSource::UnsubscribeLink)));
            assert!(any(&|p| withdrawn_by(p, ConsentSource::Practice)));
            // Two patients sharing one e-mail.
            let mut emails: HashMap<String, usize> = HashMap::new();
            for p in &ps {
                if !p.email.is_empty() {
                    *emails.entry(p.email.to_lowercase()).or_default() += 1;
                }
            }
            assert!(emails.values().any(|&n| n >= 2), "shared e-mail");
            // One person twice (same name and birth date, different ids).
            let mut seen: HashMap<(String, String, Option<NaiveDate>), &PersonId> = HashMap::new();
            let mut twice = false;
            for r in &d.persons {
                if r.sensitive.birth_date.is_none() {
                    continue;
                }
                let key = (
                    r.person.first_name.clone(),
                    r.person.last_name.clone(),
                    r.sensitive.birth_date,
                );
                if let Some(other) = seen.insert(key, &r.person.id) {
                    assert_ne!(other, &r.person.id);
                    twice = true;
                }
            }
            assert!(twice, "duplicate person");
            for g in Gender::ALL {
                assert!(any(&|p| p.gender == g), "gender {g:?}");
            }
            assert!(any(&|p| p.title == "Dr."));
            assert!(any(&|p| p.title == "Prof. Dr."));
            // Characters of all four name origins.
            for ch in ['ä', 'ö', 'ü', 'ß', 'ı', 'ł', 'ğ', 'ş'] {
                assert!(
                    any(&|p| p.first_name.contains(ch) || p.last_name.contains(ch)),
                    "no name with {ch}"
                );
            }
        }
    }

    #[test]
    fn birth_dates_include_special_days() {
        let d = generate(8, today());
        let bds: Vec<NaiveDate> = d
            .persons
            .iter()
            .filter_map(|r| r.sensitive.birth_date)
            .collect();
        assert!(bds.iter().any(|b| b.month() == 2 && b.day() == 29));
        assert!(bds
            .iter()
            .any(|b| (b.month() == 12 && b.day() >= 20) || (b.month() == 1 && b.day() <= 6)));
        let t = today();
        let upcoming = bds
            .iter()
            .filter(|b| {
                (0..=7).any(|o| {
                    let day = t + Duration::days(o);
                    day.month() == b.month() && day.day() == b.day()
                })
            })
            .count();
        assert!(upcoming >= 10, "only {upcoming} birthdays in the next week");
        assert!(bds
            .iter()
            .any(|b| b.month() == t.month() && b.day() == t.day()));
        assert!(bds.iter().all(|b| *b < t));
        assert!(d.persons.iter().any(|r| r.sensitive.birth_date.is_none()));
    }

    fn professions_fit(d: &DemoPractice) {
        // Professions match gender and age ("Rentnerin", not "Rentner", for a woman of 80).
        let female_forms: HashSet<&str> = PROFESSIONS
            .iter()
            .map(|p| p.1)
            .chain(["Rentnerin", "Schülerin", "Studentin"])
            .collect();
        let male_forms: HashSet<&str> = PROFESSIONS
            .iter()
            .map(|p| p.0)
            .chain(["Rentner", "Schüler", "Student"])
            .collect();
        for r in &d.persons {
            let prof = r.sensitive.profession.as_str();
            match r.person.gender {
                Gender::Female => assert!(
                    !male_forms.contains(prof) || female_forms.contains(prof),
                    "{prof}"
                ),
                Gender::Male => assert!(
                    !female_forms.contains(prof) || male_forms.contains(prof),
                    "{prof}"
                ),
                _ => {}
            }
            if let Some(b) = r.sensitive.birth_date {
                if (today() - b).num_days() > 68 * 366 && !prof.is_empty() {
                    assert!(prof.starts_with("Rentner"), "{prof} at {b}");
                }
            }
        }
        assert!(d.persons.iter().any(|r| !r.person.tags.is_empty()));
    }

    #[test]
    fn sensitive_and_consent_data_is_plausible() {
        for seed in [9, 10, 11] {
            professions_fit(&generate(seed, today()));
        }
        let d = generate(9, today());
        let kinds: HashSet<_> = d
            .persons
            .iter()
            .map(|r| r.sensitive.insurance_kind)
            .collect();
        assert_eq!(kinds.len(), InsuranceKind::ALL.len());
        for r in &d.persons {
            if r.sensitive.insurance_kind == InsuranceKind::Statutory {
                let n = &r.sensitive.insurance_number;
                assert_eq!(n.len(), 10, "{n}");
                assert!(n.as_bytes()[0].is_ascii_uppercase());
            }
            let cells: Vec<_> = r
                .person
                .consents
                .cells()
                .iter()
                .map(|c| (c.channel, c.purpose))
                .collect();
            assert!(
                cells.windows(2).all(|w| w[0] < w[1]),
                "matrix not sorted/unique"
            );
            for c in r.person.consents.cells() {
                let status = c.status();
                let given = status
                    .grant()
                    .expect("every demo cell has a grant")
                    .given_at;
                assert!(given < today());
                if let Some(w) = status.withdrawn_at() {
                    assert!(w > given && w <= today());
                }
            }
            let e = &r.person.email;
            assert!(
                e.is_empty() || (e.contains('@') && e.to_lowercase().contains("example")),
                "{e}"
            );
            if !r.person.address.postcode.is_empty() && r.person.address.is_domestic() {
                assert_eq!(r.person.address.postcode.len(), 5);
            }
        }
        assert!(d.persons.iter().any(|r| !r.sensitive.profession.is_empty()));
        let evidences: HashSet<_> = d
            .persons
            .iter()
            .flat_map(|r| {
                r.person
                    .consents
                    .cells()
                    .iter()
                    .filter_map(|c| c.status().grant().map(|g| g.evidence))
            })
            .collect();
        assert_eq!(evidences.len(), Evidence::ALL.len());
        let s = &d.settings;
        assert!(!s.name.is_empty() && !s.phone.is_empty() && !s.bank_details.is_empty());
        assert!(s.sender_names.sms_sender_id.chars().count() <= 11);
        assert_eq!(s.address.postcode.len(), 5);
    }

    #[test]
    fn generation_does_not_depend_on_today_for_ids() {
        let a = generate(4, today());
        let b = generate(4, today() + Duration::days(100));
        let ia: Vec<_> = a.persons.iter().map(|p| &p.person.id).collect();
        let ib: Vec<_> = b.persons.iter().map(|p| &p.person.id).collect();
        assert_eq!(ia, ib);
    }
}
