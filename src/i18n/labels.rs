//! Labels of the domain's enums in the current UI language. The domain keeps its German
//! `label_de()` (used in German messages and logs); the UI shows these instead. The German
//! catalogue values equal `label_de()` exactly (tested), so German screens do not change.

use super::t;
use crate::domain::outbox::StateKind;
use crate::domain::template::Language;
use crate::domain::{
    AppointmentStatus, Channel, ConsentAction, ConsentSource, Evidence, Gender, InsuranceKind,
    Kind, Purpose,
};

pub fn kind(k: Kind) -> &'static str {
    match k {
        Kind::Patient => t("label.kind.patient"),
        Kind::Prospect => t("label.kind.prospect"),
    }
}

pub fn gender(g: Gender) -> &'static str {
    match g {
        Gender::Female => t("label.gender.female"),
        Gender::Male => t("label.gender.male"),
        Gender::Diverse => t("label.gender.diverse"),
        Gender::Unknown => t("label.gender.unknown"),
    }
}

pub fn channel(c: Channel) -> &'static str {
    match c {
        Channel::Letter => t("label.channel.letter"),
        Channel::Sms => t("label.channel.sms"),
        Channel::Email => t("label.channel.email"),
    }
}

pub fn purpose(p: Purpose) -> &'static str {
    match p {
        Purpose::AppointmentReminder => t("label.purpose.appointment_reminder"),
        Purpose::Birthday => t("label.purpose.birthday"),
        Purpose::Invitation => t("label.purpose.invitation"),
        Purpose::Recall => t("label.purpose.recall"),
        Purpose::Other => t("label.purpose.other"),
    }
}

pub fn evidence(e: Evidence) -> &'static str {
    match e {
        Evidence::WrittenForm => t("label.evidence.written_form"),
        Evidence::OnlineForm => t("label.evidence.online_form"),
        Evidence::DoubleOptIn => t("label.evidence.double_opt_in"),
        Evidence::Verbal => t("label.evidence.verbal"),
    }
}

pub fn consent_source(s: ConsentSource) -> &'static str {
    match s {
        ConsentSource::Practice => t("label.consent_source.practice"),
        ConsentSource::UnsubscribeLink => t("label.consent_source.unsubscribe_link"),
        ConsentSource::Import => t("label.consent_source.import"),
        ConsentSource::DoubleOptIn => t("label.consent_source.double_opt_in"),
    }
}

pub fn consent_action(a: ConsentAction) -> &'static str {
    match a {
        ConsentAction::Granted => t("label.consent_action.granted"),
        ConsentAction::Withdrawn => t("label.consent_action.withdrawn"),
    }
}

pub fn insurance(k: InsuranceKind) -> &'static str {
    match k {
        InsuranceKind::Statutory => t("label.insurance.statutory"),
        InsuranceKind::Private => t("label.insurance.private"),
        InsuranceKind::SelfPay => t("label.insurance.self_pay"),
        InsuranceKind::Unknown => t("label.insurance.unknown"),
    }
}

pub fn appointment_status(s: AppointmentStatus) -> &'static str {
    match s {
        AppointmentStatus::Planned => t("label.appointment.planned"),
        AppointmentStatus::Cancelled => t("label.appointment.cancelled"),
        AppointmentStatus::Done => t("label.appointment.done"),
    }
}

/// A template's language.
pub fn template_language(l: Language) -> &'static str {
    match l {
        Language::De => t("label.language.de"),
        Language::En => t("label.language.en"),
    }
}

pub fn state_kind(s: StateKind) -> &'static str {
    match s {
        StateKind::Queued => t("label.state.queued"),
        StateKind::Transmitted => t("label.state.transmitted"),
        StateKind::Retrying => t("label.state.retrying"),
        StateKind::Sent => t("label.state.sent"),
        StateKind::Failed => t("label.state.failed"),
        StateKind::Printed => t("label.state.printed"),
        StateKind::Cancelled => t("label.state.cancelled"),
    }
}

/// The SMS encoding (technical names; the same in every language, but from the catalogue).
pub fn sms_encoding(e: crate::domain::sms::Encoding) -> &'static str {
    match e {
        crate::domain::sms::Encoding::Gsm7 => t("label.sms_encoding.gsm7"),
        crate::domain::sms::Encoding::Ucs2 => t("label.sms_encoding.ucs2"),
    }
}

/// A relay's delivery state (the test send's answer).
pub fn delivery_state(d: crate::wire::DeliveryState) -> &'static str {
    use crate::wire::DeliveryState;
    match d {
        DeliveryState::Queued => t("label.delivery.queued"),
        DeliveryState::Sending => t("label.delivery.sending"),
        DeliveryState::Sent => t("label.delivery.sent"),
        DeliveryState::Failed => t("label.delivery.failed"),
        DeliveryState::Retrying => t("label.delivery.retrying"),
        DeliveryState::Ambiguous => t("label.delivery.ambiguous"),
    }
}
