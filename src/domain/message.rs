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
