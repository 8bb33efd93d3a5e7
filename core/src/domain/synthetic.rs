//! Deterministic generator of large synthetic person sets for benchmarks and property tests
//! (100,000 persons with appointments). Not the demo practice: the data is varied on
//! purpose (umlauts, 29 February births, invalid e-mails, landline-only persons, incomplete
//! and foreign addresses, withdrawn consents, cancelled appointments), not pretty.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::model::*;

/// SplitMix64: small, fast, deterministic.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const FIRST_F: &[&str] = &[
    "Anna",
    "Maria",
    "Sophie",
    "Jörg",
    "Ayşe",
    "Zoë",
    "Renée",
    "Katarzyna",
    "Elif",
    "Lena",
    "Hannah",
    "Ülkü",
    "Małgorzata",
    "Chloé",
    "Greta",
];
const FIRST_M: &[&str] = &[
    "Max",
    "Jörg",
    "Lukas",
    "Mehmet",
    "Łukasz",
    "José",
    "Paul",
    "Jürgen",
    "Björn",
    "Ömer",
    "Felix",
    "Noah",
    "Stefan",
    "Dimitrios",
    "Tomáš",
];
const LAST: &[&str] = &[
    "Müller",
    "Mueller",
    "Schmidt",
    "Weiß",
    "Weiss",
    "Yılmaz",
    "Schneider",
    "Fischer",
    "Meyer",
    "Wagner",
    "Becker",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Kowalski",
    "Wałęsa",
    "Papadopoulos",
    "Öztürk",
    "Çelik",
    "Dvořák",
    "Nowak",
    "Jäger",
];
const CITIES: &[(&str, &str)] = &[
    ("10115", "Berlin"),
    ("20095", "Hamburg"),
    ("80331", "München"),
    ("50667", "Köln"),
    ("60311", "Frankfurt am Main"),
    ("70173", "Stuttgart"),
    ("40210", "Düsseldorf"),
    ("04109", "Leipzig"),
    ("01067", "Dresden"),
    ("90402", "Nürnberg"),
    ("83646", "Bad Tölz"),
    ("24103", "Kiel"),
    ("79098", "Freiburg im Breisgau"),
    ("48143", "Münster"),
];
const STREETS: &[&str] = &[
    "Hauptstraße",
    "Bahnhofstraße",
    "Gartenweg",
    "Schulstraße",
    "Am Markt",
    "Lindenallee",
    "Königsplatz",
    "Mühlenweg",
    "Goethestraße",
    "Kirchgasse",
];
const TAGS: &[&str] = &[
    "Rücken",
    "Sport",
    "Kurs",
    "Newsletter",
    "Senioren",
    "Kinder",
    "Yoga",
    "VIP",
];
pub const THERAPISTS: &[&str] = &["Dr. Weber", "Frau Kaya", "Herr Lind", "Frau Nowak"];
pub const LOCATIONS: &[&str] = &["Praxis Mitte", "Praxis Nord", "Raum 2"];
pub const APPOINTMENT_KINDS: &[&str] = &[
    "Physiotherapie",
    "Erstgespräch",
    "Massage",
    "Manuelle Therapie",
    "Kontrolle",
];

/// Persons and their appointments.
#[derive(Clone, Debug, Default)]
pub struct SyntheticData {
    pub persons: Vec<PersonRecord>,
    pub appointments: Vec<Appointment>,
}

fn mobile(rng: &mut Rng) -> String {
    let prefix = rng.pick(&[
        "0151",
        "0160",
        "0170",
        "0171",
        "0176",
        "+49 (0)172",
        "0049 157",
    ]);
    let sep = rng.pick(&[" ", "/", "-", ""]);
    format!("{prefix}{sep}{}", 1_000_000 + rng.below(9_000_000))
}

fn landline(rng: &mut Rng) -> String {
    let prefix = rng.pick(&["030", "040", "089", "0221", "069", "0711", "08041"]);
    format!("{prefix} {}", 100_000 + rng.below(900_000))
}

/// Generates `n` persons (ids `s{seed}-{i}`) and about 2.5 appointments per patient around
/// `today` (three years back to two months ahead). Same seed, same data.
pub fn generate(n: usize, seed: u64, today: NaiveDate) -> SyntheticData {
    let mut rng = Rng::new(seed);
    let mut persons = Vec::with_capacity(n);
    let mut appointments = Vec::with_capacity(n * 3);
    let consent_day0 = today - Duration::days(5 * 365);
    for i in 0..n {
        let female = rng.chance(52);
        let gender = match rng.below(100) {
            0..=1 => Gender::Diverse,
            2..=4 => Gender::Unknown,
            _ if female => Gender::Female,
            _ => Gender::Male,
        };
        let first = if female {
            rng.pick(FIRST_F)
        } else {
            rng.pick(FIRST_M)
        };
        let last = rng.pick(LAST);
        let kind = if rng.chance(85) {
            Kind::Patient
        } else {
            Kind::Prospect
        };
        let (postcode, city) = *rng.pick(CITIES);
        let mut address = PostalAddress {
            street: rng.pick(STREETS).to_string(),
            house_number: format!("{}", 1 + rng.below(120)),
            extra: String::new(),
            postcode: postcode.to_string(),
            city: city.to_string(),
            country: String::new(),
        };
        match rng.below(100) {
            0..=2 => address.house_number.clear(),
            3..=4 => address.postcode.clear(),
            5 => address.street.clear(),
            6..=7 => {
                address.country = rng.pick(&["AT", "CH", "NL"]).to_string();
                address.postcode = "1010".into();
                address.city = "Wien".into();
            }
            8 => address = PostalAddress::default(),
            _ => {}
        }
        let email = match rng.below(100) {
            0..=24 => String::new(),
            25..=27 => format!("{}.{}web.de", i, seed), // missing @
            28 => format!("{i}@web"),
            _ => format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                i,
                rng.pick(&[
                    "web.de",
                    "gmx.de",
                    "t-online.de",
                    "example.com",
                    "müller.de"
                ])
            ),
        };
        let (mobile_no, landline_no) = match rng.below(100) {
            0..=54 => (mobile(&mut rng), String::new()),
            55..=69 => (mobile(&mut rng), landline(&mut rng)),
            70..=79 => (String::new(), landline(&mut rng)),
            80..=84 => (landline(&mut rng), String::new()), // landline in the mobile field
            85..=86 => ("0171 12".to_string(), String::new()),
            87..=88 => (
                format!("+43 664 {}", 1_000_000 + rng.below(9_000_000)),
                String::new(),
            ),
            _ => (String::new(), String::new()),
        };
        let birth_date = if rng.chance(97) {
            let d = if rng.chance(1) {
                // Leap day births.
                let years = [1940, 1952, 1968, 1980, 1996, 2000, 2004, 2012];
                NaiveDate::from_ymd_opt(*rng.pick(&years), 2, 29).expect("leap")
            } else {
                NaiveDate::from_ymd_opt(1930, 1, 1).expect("date")
                    + Duration::days(rng.below(95 * 365) as i64)
            };
            Some(d)
        } else {
            None
        };
        let mut consents = Consents::default();
        for ch in Channel::ALL {
            for pu in Purpose::ALL {
                let p = if pu == Purpose::AppointmentReminder {
                    60
                } else {
                    30
                };
                if rng.chance(p) {
                    let given = consent_day0 + Duration::days(rng.below(4 * 365) as i64);
                    consents.grant(ch, pu, given, *rng.pick(&Evidence::ALL));
                    if rng.chance(8) {
                        consents.withdraw(
                            ch,
                            pu,
                            given + Duration::days(30),
                            ConsentSource::Practice,
                        );
                    }
                }
            }
        }
        let tags = (0..rng.below(3))
            .map(|_| rng.pick(TAGS).to_string())
            .collect();
        let id = PersonId(format!("s{seed}-{i}"));
        if kind == Kind::Patient {
            for j in 0..rng.below(6) {
                let day = today - Duration::days(3 * 365)
                    + Duration::days(rng.below(3 * 365 + 60) as i64);
                let start = NaiveDateTime::new(
                    day,
                    NaiveTime::from_hms_opt(8 + rng.below(10) as u32, 15 * rng.below(4) as u32, 0)
                        .expect("time"),
                );
                let status = match rng.below(100) {
                    0..=9 => AppointmentStatus::Cancelled,
                    _ if day < today => AppointmentStatus::Done,
                    _ => AppointmentStatus::Planned,
                };
                appointments.push(Appointment {
                    id: AppointmentId(format!("a{seed}-{i}-{j}")),
                    person_id: id.clone(),
                    start,
                    end: start + Duration::minutes(30),
                    therapist: rng.pick(THERAPISTS).to_string(),
                    location: rng.pick(LOCATIONS).to_string(),
                    kind: rng.pick(APPOINTMENT_KINDS).to_string(),
                    status,
                });
            }
        }
        persons.push(PersonRecord {
            person: Person {
                id,
                kind,
                title: if rng.chance(5) {
                    "Dr.".into()
                } else {
                    String::new()
                },
                first_name: first.to_string(),
                last_name: last.to_string(),
                gender,
                address,
                email,
                mobile: mobile_no,
                landline: landline_no,
                tags,
                consents,
                external_id: None,
            },
            sensitive: Sensitive {
                birth_date,
                profession: String::new(),
                insurance_kind: *rng.pick(&InsuranceKind::ALL),
                insurance_number: String::new(),
            },
        });
    }
    appointments.sort_by_key(|a| a.start);
    SyntheticData {
        persons,
        appointments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_varied() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let a = generate(2000, 7, today);
        let b = generate(2000, 7, today);
        assert_eq!(a.persons, b.persons);
        assert_eq!(a.appointments, b.appointments);
        let c = generate(2000, 8, today);
        assert_ne!(a.persons[0..20], c.persons[0..20]);
        assert!(a.persons.iter().any(|p| p
            .sensitive
            .birth_date
            .is_some_and(|d| d.format("%m-%d").to_string() == "02-29")));
        assert!(a.appointments.len() > 2000);
        assert!(a
            .appointments
            .iter()
            .any(|x| x.status == AppointmentStatus::Cancelled));
    }
}
