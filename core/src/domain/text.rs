//! Small text helpers shared by the formatters (names, salutations, letter lines).

/// Appends the non-empty parts of `parts`, separated by `sep`.
pub fn push_joined<S: AsRef<str>>(out: &mut String, parts: &[S], sep: &str) {
    let mut first = true;
    for p in parts.iter().map(AsRef::as_ref).filter(|p| !p.is_empty()) {
        if !first {
            out.push_str(sep);
        }
        out.push_str(p);
        first = false;
    }
}

/// The non-empty parts of `parts`, separated by `sep`.
pub fn join_nonempty<S: AsRef<str>>(parts: &[S], sep: &str) -> String {
    let mut out = String::new();
    push_joined(&mut out, parts, sep);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_only_non_empty_parts() {
        assert_eq!(join_nonempty(&["a", "", "b"], " · "), "a · b");
        assert_eq!(join_nonempty::<&str>(&[], " "), "");
        assert_eq!(join_nonempty(&["", ""], " "), "");
        let mut s = String::from("x:");
        push_joined(&mut s, &["", "y", "z"], " ");
        assert_eq!(s, "x:y z");
    }
}
