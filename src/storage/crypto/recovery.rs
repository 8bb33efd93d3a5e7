//! The recovery key ("Notfallschlüssel"): 256 random bits, shown once as 52 characters of
//! Crockford base32 in groups of four. It is a key itself (no derivation): it wraps the
//! data key a second time in the keyring.

use super::{random, KeyBytes};
use crate::storage::Result;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of the text form (256 bits / 5 bits per character, rounded up).
const CHARS: usize = 52;

/// A recovery key (wiped from memory when dropped).
pub struct RecoveryKey(KeyBytes);

impl RecoveryKey {
    /// A fresh random recovery key.
    pub(crate) fn generate() -> Result<RecoveryKey> {
        Ok(RecoveryKey(KeyBytes::new(random()?)))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads the text form, forgiving what people do when typing it: lower case, spaces
    /// and dashes, O for 0, I and L for 1. `None` when it is no recovery key.
    pub fn parse(text: &str) -> Option<RecoveryKey> {
        let mut bits: u32 = 0;
        let mut n = 0u32;
        let mut out = KeyBytes::new([0; 32]);
        let mut len = 0usize;
        let mut chars = 0usize;
        for c in text.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\t' | '\n' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            let v = ALPHABET.iter().position(|&a| a as char == c)? as u32;
            chars += 1;
            bits = (bits << 5) | v;
            n += 5;
            if n >= 8 {
                n -= 8;
                if len == 32 {
                    return None;
                }
                out[len] = (bits >> n) as u8;
                len += 1;
                bits &= (1 << n) - 1;
            }
        }
        (chars == CHARS && len == 32 && bits == 0).then_some(RecoveryKey(out))
    }
}

impl std::fmt::Display for RecoveryKey {
    /// `XXXX-XXXX-…` (13 groups of four).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut bits: u32 = 0;
        let mut n = 0u32;
        let mut out = String::with_capacity(CHARS + CHARS / 4);
        let push = |v: u32, out: &mut String| {
            if !out.is_empty() && out.len() % 5 == 4 {
                out.push('-');
            }
            out.push(ALPHABET[v as usize] as char);
        };
        for &b in self.0.iter() {
            bits = (bits << 8) | b as u32;
            n += 8;
            while n >= 5 {
                n -= 5;
                push((bits >> n) & 31, &mut out);
            }
            bits &= (1 << n) - 1;
        }
        if n > 0 {
            push((bits << (5 - n)) & 31, &mut out);
        }
        f.write_str(&out)
    }
}

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey(…)")
    }
}
