//! Data in and out as a whole: CSV import and the backup (download, restore, reminder).
pub(crate) mod backup;
pub(crate) mod import;
