//! The lock of an encrypted practice (issue 17): the pure rules behind the passphrase
//! set-up, the lock screen and the automatic lock. The app measures time and counts
//! attempts; these functions decide.

use serde::{Deserialize, Serialize};

/// The shortest passphrase the set-up accepts (characters).
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// The fewest different characters a passphrase must have ("aaaaaaaaaaaa" is no passphrase).
pub const MIN_DISTINCT_CHARS: usize = 5;
/// Automatic lock after this much idle time unless the practice set another.
pub const DEFAULT_AUTO_LOCK_SECS: u32 = 300;
/// The shortest idle time the settings accept.
pub const MIN_AUTO_LOCK_SECS: u32 = 5;
/// The longest idle time the settings accept (8 hours).
pub const MAX_AUTO_LOCK_SECS: u32 = 8 * 3600;
/// The longest wait between unlock attempts.
pub const MAX_UNLOCK_DELAY_SECS: u32 = 300;

/// The practice's lock settings (stored as a Meta document, sealed like every record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockSettings {
    /// Lock after this many seconds without input, or with the tab hidden that long.
    #[serde(default = "default_auto_lock")]
    pub auto_lock_secs: u32,
    /// "Versand während Sperre fortsetzen": a batch being transmitted when the app locks
    /// goes on (the storage keeps the key for the send records only until it is done).
    /// Off: sending pauses while locked and resumes after unlocking.
    #[serde(default)]
    pub transmit_while_locked: bool,
}

fn default_auto_lock() -> u32 {
    DEFAULT_AUTO_LOCK_SECS
}

impl Default for LockSettings {
    fn default() -> Self {
        LockSettings {
            auto_lock_secs: DEFAULT_AUTO_LOCK_SECS,
            transmit_while_locked: false,
        }
    }
}

/// Why a new passphrase is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassphraseProblem {
    /// Fewer than [`MIN_PASSPHRASE_CHARS`] characters.
    TooShort,
    /// Fewer than [`MIN_DISTINCT_CHARS`] different characters.
    TooSimple,
    /// The repetition differs.
    Mismatch,
}

/// Checks a new passphrase and its repetition (leading and trailing spaces count: the
/// passphrase is used exactly as typed).
pub fn check_new_passphrase(passphrase: &str, repeated: &str) -> Result<(), PassphraseProblem> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(PassphraseProblem::TooShort);
    }
    let mut distinct: Vec<char> = passphrase.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Err(PassphraseProblem::TooSimple);
    }
    if passphrase != repeated {
        return Err(PassphraseProblem::Mismatch);
    }
    Ok(())
}

/// Seconds to wait before the next unlock attempt after `failures` wrong attempts in a row:
/// 0, 0, 2, 4, 8, 16, … up to [`MAX_UNLOCK_DELAY_SECS`].
pub fn unlock_delay_secs(failures: u32) -> u32 {
    if failures < 2 {
        return 0;
    }
    let exp = (failures - 1).min(31);
    1u32.checked_shl(exp)
        .unwrap_or(u32::MAX)
        .min(MAX_UNLOCK_DELAY_SECS)
}

/// Whole seconds (rounded up) still to wait at `now_ms` after the last wrong attempt at
/// `last_failure_ms`, the `failures`-th in a row. 0: the next attempt may start.
pub fn unlock_wait_left(failures: u32, last_failure_ms: f64, now_ms: f64) -> u32 {
    let delay_ms = f64::from(unlock_delay_secs(failures)) * 1000.0;
    let elapsed = (now_ms - last_failure_ms).max(0.0);
    if elapsed >= delay_ms {
        0
    } else {
        ((delay_ms - elapsed) / 1000.0).ceil() as u32
    }
}

/// The idle time the settings accept for what was typed (seconds), or `None`.
pub fn parse_auto_lock_secs(text: &str) -> Option<u32> {
    let secs: u32 = text.trim().parse().ok()?;
    (MIN_AUTO_LOCK_SECS..=MAX_AUTO_LOCK_SECS)
        .contains(&secs)
        .then_some(secs)
}

/// Whether an unlocked tab locks itself at `now_ms`: after `idle_secs` without input since
/// `last_input_ms`, or when it has been hidden since `hidden_since_ms` for that long.
pub fn should_auto_lock(
    now_ms: f64,
    last_input_ms: f64,
    hidden_since_ms: Option<f64>,
    idle_secs: u32,
) -> bool {
    let limit = f64::from(idle_secs) * 1000.0;
    now_ms - last_input_ms >= limit || hidden_since_ms.is_some_and(|h| now_ms - h >= limit)
}

/// What a lock does with the data key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOnLock {
    /// The key is wiped; sending pauses until unlocked.
    Drop,
    /// The key is kept for the send records only (outbox, send log) until the batch is done;
    /// everything else is locked, and the page drops its data either way.
    KeepForSending,
}

/// Whether locking keeps the key for sending: only when the practice allowed it and this
/// tab runs the transmit loop (`sending_here`). Whether a batch is still running is then
/// decided by the transmit loop on the outbox read fresh from the store: when it has nothing
/// left to transmit or poll, the loop drops the key (at once for an idle outbox).
pub fn key_on_lock(settings: &LockSettings, sending_here: bool) -> KeyOnLock {
    if settings.transmit_while_locked && sending_here {
        KeyOnLock::KeepForSending
    } else {
        KeyOnLock::Drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_kept_for_sending_only_when_allowed_in_the_sending_tab_until_the_batch_is_done() {
        let on = LockSettings {
            transmit_while_locked: true,
            ..LockSettings::default()
        };
        let off = LockSettings::default();
        assert!(!off.transmit_while_locked, "off by default");
        assert_eq!(key_on_lock(&on, true), KeyOnLock::KeepForSending);
        assert_eq!(key_on_lock(&on, false), KeyOnLock::Drop);
        assert_eq!(key_on_lock(&off, true), KeyOnLock::Drop);
        // Stored settings from before the switch read as off.
        let old: LockSettings = serde_json::from_str(r#"{"auto_lock_secs":60}"#).unwrap();
        assert_eq!(old.auto_lock_secs, 60);
        assert!(!old.transmit_while_locked);
    }

    #[test]
    fn the_delay_grows_after_the_second_failure_and_is_capped() {
        let got: Vec<u32> = (0..12).map(unlock_delay_secs).collect();
        assert_eq!(got, [0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(unlock_delay_secs(u32::MAX), MAX_UNLOCK_DELAY_SECS);
    }

    #[test]
    fn the_countdown_rounds_up_and_ends_at_zero() {
        assert_eq!(unlock_wait_left(1, 1000.0, 1000.0), 0);
        assert_eq!(unlock_wait_left(3, 1000.0, 1000.0), 4);
        assert_eq!(unlock_wait_left(3, 1000.0, 1001.0), 4);
        assert_eq!(unlock_wait_left(3, 1000.0, 4001.0), 1);
        assert_eq!(unlock_wait_left(3, 1000.0, 5000.0), 0);
        // A clock that went back does not lengthen the wait.
        assert_eq!(unlock_wait_left(2, 1000.0, 0.0), 2);
    }

    #[test]
    fn new_passphrases_need_length_variety_and_the_same_repetition() {
        use PassphraseProblem::*;
        assert_eq!(check_new_passphrase("kurz", "kurz"), Err(TooShort));
        assert_eq!(
            check_new_passphrase("elf zeichen", "elf zeichen"),
            Err(TooShort)
        );
        assert_eq!(
            check_new_passphrase("abababababab", "abababababab"),
            Err(TooSimple)
        );
        assert_eq!(
            check_new_passphrase("Sonne über Ahlen 2024", "Sonne über Ahlen 2023"),
            Err(Mismatch)
        );
        assert_eq!(
            check_new_passphrase("Sonne über Ahlen 2024", "Sonne über Ahlen 2024"),
            Ok(())
        );
        // Characters, not bytes: twelve umlauts are twelve characters.
        assert_eq!(check_new_passphrase("äöüäöüÄÖÜßäö", "äöüäöüÄÖÜßäö"), Ok(()));
    }

    #[test]
    fn idle_and_hidden_tabs_lock_after_the_set_time() {
        let five_min = DEFAULT_AUTO_LOCK_SECS;
        assert!(!should_auto_lock(299_999.0, 0.0, None, five_min));
        assert!(should_auto_lock(300_000.0, 0.0, None, five_min));
        // Input resets the idle time.
        assert!(!should_auto_lock(400_000.0, 200_000.0, None, five_min));
        // Hidden for longer than the idle time locks (the hidden rule is checked on its own,
        // as a hidden tab's timers are throttled).
        assert!(should_auto_lock(
            700_000.0,
            690_000.0,
            Some(390_000.0),
            five_min
        ));
        assert!(!should_auto_lock(
            700_000.0,
            690_000.0,
            Some(600_000.0),
            five_min
        ));
    }

    #[test]
    fn auto_lock_settings_read_seconds_in_bounds_and_default_to_five_minutes() {
        assert_eq!(LockSettings::default().auto_lock_secs, 300);
        let s: LockSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, LockSettings::default());
        assert_eq!(parse_auto_lock_secs(" 300 "), Some(300));
        assert_eq!(parse_auto_lock_secs("5"), Some(5));
        assert_eq!(parse_auto_lock_secs("4"), None);
        assert_eq!(parse_auto_lock_secs("28801"), None);
        assert_eq!(parse_auto_lock_secs("fünf"), None);
    }
}
