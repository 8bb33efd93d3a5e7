//! Patients, prospects and appointments: the tables, the person form with its consent matrix,
//! and the appointment list of a day.
pub(crate) mod appointments;
mod consents;
mod guardians;
pub(crate) mod optin;
pub(crate) mod persons;
mod proof_pdf;
