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
pub fn fill(template: &str, args: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
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
