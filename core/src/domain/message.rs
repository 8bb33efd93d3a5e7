//! Domain messages in the UI's language. The domain stays pure and German (`Display`); a
//! message type that the UI shows also names a stable catalogue key and its arguments, and the
//! UI translates it at its boundary (`crate::i18n::msg`). The German catalogue value filled
//! with the arguments equals the `Display` text (tested in `src/i18n/tests.rs`).

/// A domain message with a catalogue key (`domain.…`) and named arguments for its
/// `{placeholders}`.
pub trait UiMessage: std::fmt::Display {
    fn key(&self) -> &'static str;
    fn args(&self) -> Vec<(&'static str, String)>;
}

/// A message built in the domain from a table of German templates: a catalogue key, named
/// arguments and the German text (the template filled with the arguments). It dereferences
/// to the German text, so code (and tests) that treated it as a `String` keep working.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub de: String,
}

impl Msg {
    /// Fills `template` (German, `{name}` placeholders) with `args`.
    pub fn new(key: &'static str, template: &str, args: Vec<(&'static str, String)>) -> Msg {
        let de = fill(template, &args);
        Msg { key, args, de }
    }

    /// The message whose template `table` lists under `key` (`(key, German template)`).
    /// An unknown key shows as the key itself and trips a `debug_assert!`.
    pub fn from_table(
        table: &[(&'static str, &'static str)],
        key: &'static str,
        args: Vec<(&'static str, String)>,
    ) -> Msg {
        let template = table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        debug_assert!(template.is_some(), "no German template for {key}");
        Msg::new(key, template.unwrap_or(key), args)
    }
}

/// Replaces every `{name}` of `template` with its argument (unknown names stay as written).
/// The one filler of `{name}` templates: the domain's German messages and the UI catalogue
/// (`crate::i18n::fill` in the app) both use it.
pub fn fill<V: std::fmt::Display>(template: &str, args: &[(&str, V)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => {
                        let _ = write!(out, "{v}");
                    }
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.de)
    }
}

impl std::ops::Deref for Msg {
    type Target = str;
    fn deref(&self) -> &str {
        &self.de
    }
}

impl UiMessage for Msg {
    fn key(&self) -> &'static str {
        self.key
    }
    fn args(&self) -> Vec<(&'static str, String)> {
        self.args.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn fills_known_names_and_keeps_the_rest() {
        let args = [("n", "3".to_string()), ("name", "Anna".into())];
        assert_eq!(fill("{n} für {name}", &args), "3 für Anna");
        assert_eq!(fill("{unbekannt} {n}", &args), "{unbekannt} 3");
        assert_eq!(fill("offen { und {n", &args), "offen { und {n");
        assert_eq!(fill("{}", &args), "{}");
        let n = 5usize;
        let dyn_args: [(&str, &dyn std::fmt::Display); 1] = [("n", &n)];
        assert_eq!(fill("n = {n}", &dyn_args), "n = 5");
    }
}
