//! Letters for discounted bulk mail (Dialogpost and the like): sorted by postcode, with the
//! number of letters per postcode region ("Leitregion", the first two digits), which is how
//! the post wants bundles handed over.

use super::model::PostalAddress;

/// Where a letter belongs for sorting.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Region {
    /// A German postcode region "01" … "99".
    Leitregion(String),
    /// A German address without a valid five-digit postcode.
    NoPostcode,
    /// Abroad (by country code).
    Abroad(String),
}

impl Region {
    pub fn of(a: &PostalAddress) -> Region {
        if !a.is_domestic() {
            return Region::Abroad(a.country.trim().to_uppercase());
        }
        let pc = a.postcode.trim();
        if pc.len() == 5 && pc.bytes().all(|b| b.is_ascii_digit()) {
            Region::Leitregion(pc[..2].to_string())
        } else {
            Region::NoPostcode
        }
    }

    /// German label: "Leitregion 01", "ohne gültige PLZ", "Ausland (AT)".
    pub fn label_de(&self) -> String {
        match self {
            Region::Leitregion(r) => format!("Leitregion {r}"),
            Region::NoPostcode => "ohne gültige PLZ".into(),
            Region::Abroad(c) => format!("Ausland ({c})"),
        }
    }
}

/// The order of `addresses` sorted for bulk mail: German postcodes ascending (then city,
/// then the original order), then addresses without a valid postcode, then abroad by
/// country. Returns indices into `addresses`; stable.
pub fn postcode_order(addresses: &[&PostalAddress]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..addresses.len()).collect();
    idx.sort_by_key(|&i| {
        let a = addresses[i];
        let region = Region::of(a);
        (
            region,
            a.postcode.trim().to_string(),
            a.city.trim().to_lowercase(),
            i,
        )
    });
    idx
}

/// Letters per region, in sort order.
pub fn region_counts(addresses: &[&PostalAddress]) -> Vec<(Region, usize)> {
    let mut out: Vec<(Region, usize)> = Vec::new();
    let mut regions: Vec<Region> = addresses.iter().map(|a| Region::of(a)).collect();
    regions.sort();
    for r in regions {
        match out.last_mut() {
            Some((last, n)) if *last == r => *n += 1,
            _ => out.push((r, 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(postcode: &str, city: &str, country: &str) -> PostalAddress {
        PostalAddress {
            street: "Weg".into(),
            house_number: "1".into(),
            postcode: postcode.into(),
            city: city.into(),
            country: country.into(),
            ..Default::default()
        }
    }

    #[test]
    fn sorted_by_postcode_with_counts_per_leitregion() {
        let list = [
            a("50667", "Köln", ""),
            a("1010", "Wien", "AT"),
            a("01067", "Dresden", ""),
            a("10115", "Berlin", "DE"),
            a("", "Irgendwo", ""),
            a("50668", "Köln", ""),
            a("01069", "Dresden", ""),
            a("8001", "Zürich", "CH"),
            a("50667", "Köln", ""),
        ];
        let refs: Vec<&PostalAddress> = list.iter().collect();
        let order = postcode_order(&refs);
        let codes: Vec<&str> = order.iter().map(|&i| list[i].postcode.as_str()).collect();
        assert_eq!(
            codes,
            ["01067", "01069", "10115", "50667", "50667", "50668", "", "1010", "8001"]
        );
        // Equal postcodes keep their original order (stable).
        assert_eq!(&order[3..5], &[0, 8]);
        let counts: Vec<(String, usize)> = region_counts(&refs)
            .into_iter()
            .map(|(r, n)| (r.label_de(), n))
            .collect();
        assert_eq!(
            counts,
            vec![
                ("Leitregion 01".to_string(), 2),
                ("Leitregion 10".to_string(), 1),
                ("Leitregion 50".to_string(), 3),
                ("ohne gültige PLZ".to_string(), 1),
                ("Ausland (AT)".to_string(), 1),
                ("Ausland (CH)".to_string(), 1),
            ]
        );
    }
}
