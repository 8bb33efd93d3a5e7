//! Versand, the manual's workflow: recipients from a source ([`sources`], [`query_builder`]),
//! the review window ([`review`]), the composer ([`compose`]) with the letter output
//! ([`letters`], with labels, envelopes and the postcode sort in [`labels`]) or "Senden"
//! ([`panel`]) — both prepare their batch through [`queue`], the one path from the hand-over
//! into the outbox — and the transmit loop ([`transmit`]) that hands
//! e-mail and SMS to the relay ([`relay_client`]).
pub(crate) mod chip_editor;
pub(crate) mod compose;
mod files;
pub(crate) mod labels;
pub(crate) mod letters;
pub(crate) mod panel;
pub(crate) mod query_builder;
mod queue;
pub(crate) mod relay_client;
pub(crate) mod reminders;
pub(crate) mod review;
pub(crate) mod sheet;
pub(crate) mod sources;
pub mod transmit;
