//! The one error type of the UI layer: a kind with its arguments (docs/design/errors.md).
//!
//! Like minijinja's `Error` (a kind, a detail, a source), an [`AppError`] keeps what went
//! wrong as data: the storage layer's [`StoreError`] and the relay client's `RelayError`
//! stay matchable sources, the app's own failures and the domain's messages are a stable
//! catalogue key with named arguments, and a failed step wraps its cause. Text is made only
//! when the error is shown (`Display` = `crate::i18n::msg`, in the current language), never
//! where it happens.
//!
//! Pure (no web API): compiled natively too, so its rendering is tested in
//! `src/i18n/tests.rs` (without the relay variant, which needs the browser's client).

#[cfg(target_arch = "wasm32")]
use crate::app::send::relay_client::RelayError;
use crate::domain::message::UiMessage;
use crate::domain::outbox::OutboxError;
use crate::storage::StoreError;

/// Everything that can go wrong in the UI layer.
#[derive(Clone, Debug, PartialEq)]
pub enum AppError {
    /// The store refused or failed.
    Store(StoreError),
    /// The relay did not give the expected answer.
    #[cfg(target_arch = "wasm32")]
    Relay(RelayError),
    /// The outbox refused a change (its channel and state names are translated when shown).
    Outbox(OutboxError),
    /// The app's own kind of failure, or a domain message: a catalogue key and the values of
    /// its `{placeholders}`.
    Message {
        key: &'static str,
        args: Vec<(&'static str, String)>,
    },
    /// A step (`key`, whose catalogue text has an `{error}` placeholder) failed because of
    /// `source`; the source is put into the text when it is shown.
    Context {
        key: &'static str,
        source: Box<AppError>,
    },
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl AppError {
    /// The app's own kind of failure: `AppError::msg("transmit.batch_not_found", [])`.
    pub fn msg<const N: usize>(key: &'static str, args: [(&'static str, String); N]) -> AppError {
        AppError::Message {
            key,
            args: args.into(),
        }
    }

    /// `key` (a catalogue text with an `{error}` placeholder) failed because of `source`.
    pub fn context(key: &'static str, source: impl Into<AppError>) -> AppError {
        AppError::Context {
            key,
            source: Box::new(source.into()),
        }
    }

    /// A CSV document could not be written (the writer's detail as the argument).
    pub fn csv(e: impl std::fmt::Display) -> AppError {
        AppError::msg("error.csv", [("error", e.to_string())])
    }

    /// A domain message (its key and arguments).
    pub fn message(m: &dyn UiMessage) -> AppError {
        AppError::Message {
            key: m.key(),
            args: m.args(),
        }
    }
}

impl UiMessage for AppError {
    fn key(&self) -> &'static str {
        match self {
            AppError::Store(e) => e.key(),
            #[cfg(target_arch = "wasm32")]
            AppError::Relay(e) => e.key(),
            AppError::Outbox(e) => crate::i18n::outbox::error_key(e),
            AppError::Message { key, .. } | AppError::Context { key, .. } => key,
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            AppError::Store(e) => e.args(),
            #[cfg(target_arch = "wasm32")]
            AppError::Relay(e) => e.args(),
            AppError::Outbox(e) => crate::i18n::outbox::error_args(e),
            AppError::Message { args, .. } => args.clone(),
            AppError::Context { source, .. } => vec![("error", crate::i18n::msg(&**source))],
        }
    }
}

/// The text in the current language (from the catalogue).
impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::i18n::msg(self))
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Store(e) => Some(e),
            #[cfg(target_arch = "wasm32")]
            AppError::Relay(e) => Some(e),
            AppError::Context { source, .. } => Some(&**source),
            AppError::Outbox(_) | AppError::Message { .. } => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Store(e)
    }
}

#[cfg(target_arch = "wasm32")]
impl From<RelayError> for AppError {
    fn from(e: RelayError) -> Self {
        AppError::Relay(e)
    }
}

impl From<OutboxError> for AppError {
    fn from(e: OutboxError) -> Self {
        AppError::Outbox(e)
    }
}

/// Data that cannot be written or read as JSON (serde's detail as the argument).
impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::msg("error.json", [("error", e.to_string())])
    }
}

/// The domain's messages used in the app keep their key and arguments.
macro_rules! from_domain {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                AppError::message(&e)
            }
        })*
    };
}

from_domain!(
    crate::domain::message::Msg,
    crate::domain::import::ImportError,
    crate::domain::import::SheetError,
    crate::domain::import::CalendarError,
    crate::domain::backup::BackupError,
    crate::domain::phone::PhoneError,
    crate::domain::email::EmailError,
    crate::domain::address::AddressProblem,
    crate::domain::labels::LabelError,
    crate::domain::sms::SenderIdError,
);
