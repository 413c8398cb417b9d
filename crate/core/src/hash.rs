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
