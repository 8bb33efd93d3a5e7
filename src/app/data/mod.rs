//! Data in and out as a whole: the import (CSV, GDT/BDT, spreadsheets, calendars) and the
//! backup (download, restore, reminder).
pub(crate) mod backup;
pub(crate) mod calendar;
pub(crate) mod import;
