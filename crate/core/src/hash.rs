//! The salted hash that item and category ids are kept as.
//!
//! SipHash-1-3 keyed with the window's 16-byte salt. A per-device random salt means the same
//! product hashes differently on every device, so stored state cannot be joined across devices by
//! hash. It is pseudonymisation, not anonymisation: whoever holds both the salt and the catalogue
//! can test which product a hash stands for.

use siphasher::sip::SipHasher13;
use std::hash::Hasher;

/// The salt length in bytes.
pub const SALT_BYTES: usize = 16;

/// A 16-byte salt.
pub type Salt = [u8; SALT_BYTES];

/// The salted 64-bit hash of an id.
///
/// ```
/// use shopper_intent::hash::hash_id;
/// let a = hash_id(&[1; 16], "sku-1");
/// assert_eq!(a, hash_id(&[1; 16], "sku-1"));
/// assert_ne!(a, hash_id(&[2; 16], "sku-1"));
/// ```
pub fn hash_id(salt: &Salt, id: &str) -> u64 {
    let mut h = SipHasher13::new_with_key(salt);
    h.write(id.as_bytes());
    // Never 0: the window uses 0 for "no id".
    h.finish().max(1)
}

/// The hasher of the window's tables keyed by [`hash_id`]'s values: those are SipHash outputs
/// already, so the table's own hash is the key itself rather than a second SipHash (the
/// standard library's default), which a profile of `shopper-intent bench` showed at 3-4% of
/// featurizing and scoring. Anything but a `u64` (never written by those tables) is mixed with
/// FNV-1a.
#[derive(Clone, Copy, Debug)]
pub struct KeyHasher(u64);

impl Default for KeyHasher {
    fn default() -> KeyHasher {
        KeyHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// A table keyed by [`hash_id`] values.
pub type KeyMap<V> = std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<KeyHasher>>;
/// A set of [`hash_id`] values.
pub type KeySet = std::collections::HashSet<u64, std::hash::BuildHasherDefault<KeyHasher>>;

#[cfg(test)]
mod key_tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    #[test]
    fn a_key_hashes_to_itself_and_tables_keep_every_key() {
        let build = BuildHasherDefault::<KeyHasher>::default();
        assert_eq!(build.hash_one(0x1234_5678_9abc_def0_u64), 0x1234_5678_9abc_def0);
        assert_ne!(build.hash_one("a"), build.hash_one("b"));
        let keys: Vec<u64> = (0..2000).map(|i| hash_id(&[7; 16], &format!("sku-{i}"))).collect();
        let mut map = KeyMap::default();
        for (i, &k) in keys.iter().enumerate() {
            map.insert(k, i);
        }
        assert_eq!(map.len(), keys.len());
        assert!(keys.iter().enumerate().all(|(i, k)| map.get(k) == Some(&i)));
    }
}
