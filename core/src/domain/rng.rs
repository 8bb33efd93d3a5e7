//! The one seeded random generator of praxisbote (SplitMix64): the demo practice, the large
//! generated sets of benchmarks and the randomised tests all draw from it. Deterministic and
//! identical on every platform; not for anything secret.

/// Mixes two words into one well-spread word (the SplitMix64 finaliser over `a` and a
/// rotated multiple of `b`): derives independent streams and stable ids from a seed.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64: small, fast, deterministic.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Stream `stream` of seed `seed`: different streams of one seed are independent, so a
    /// generator can give every item (person number, part of the practice) its own stream
    /// and stay stable when other items change.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        Rng(mix(seed, stream))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by multiplication (no modulo bias worth mentioning).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi_inclusive`.
    pub fn range(&mut self, lo: i64, hi_inclusive: i64) -> i64 {
        lo + self.below((hi_inclusive - lo + 1) as u64) as i64
    }

    /// True with the given probability in percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `n` random decimal digits.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_streams_and_ranges() {
        let a: Vec<u64> = {
            let mut r = Rng::stream(7, 1);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let mut again = Rng::stream(7, 1);
        assert_eq!(a, (0..5).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::stream(7, 2).next_u64(), a[0]);
        // The first value of seed 0 is SplitMix64's published first output.
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut r = Rng::new(3);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = r.range(-3, 6);
            assert!((-3..=6).contains(&v));
            seen[(v + 3) as usize] = true;
            assert!(r.below(7) < 7);
        }
        assert!(seen.iter().all(|s| *s), "every value of the range occurs");
        assert_eq!(r.digits(6).len(), 6);
    }
}
