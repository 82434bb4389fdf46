//! Stream identities: a 256-bit key derived with SHA-256 from a seed and a path of typed
//! names. Spec: docs/spec.md#keys.
//!
//! A child key depends on the parent key and the names only, never on a position, so
//! children are independent of how much the parent drew and of the order they are made in.

#![forbid(unsafe_code)]

use sha2::{Digest, Sha256};

/// Domain-separation prefixes, each ending in a NUL byte (spec: docs/spec.md#keys).
const ROOT_DOMAIN: &[u8] = b"seedstream/root/v1\0";
const CHILD_DOMAIN: &[u8] = b"seedstream/child/v1\0";
const EXTENSION_DOMAIN: &[u8] = b"seedstream/extension/v1\0";

/// A seed or a child name, with its type. `Int(3)`, `Str("3")` and `Bytes(b"3")` differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name<'a> {
    Str(&'a str),
    Int(u64),
    Bytes(&'a [u8]),
}

impl Name<'_> {
    fn tag(&self) -> u8 {
        match self {
            Name::Str(_) => 0x01,
            Name::Int(_) => 0x02,
            Name::Bytes(_) => 0x03,
        }
    }

    /// Appends `tag (1 byte) || payload length (u64 LE) || payload` to `buf`.
    pub fn encode_into(&self, buf: &mut Vec<u8>) {
        let int_bytes;
        let payload: &[u8] = match self {
            Name::Str(s) => s.as_bytes(),
            Name::Int(v) => {
                int_bytes = v.to_le_bytes();
                &int_bytes
            }
            Name::Bytes(b) => b,
        };
        buf.push(self.tag());
        buf.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        buf.extend_from_slice(payload);
    }
}

/// A 256-bit stream identity. `Copy`: a key is a value, not a stream with a position.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key(pub [u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

impl Key {
    /// The root key of `seed`: `SHA-256(ROOT_DOMAIN || encode(seed))`.
    ///
    /// The same seed gives the same key on every platform and in every release.
    pub fn from_seed(seed: &Name<'_>) -> Key {
        let mut buf = Vec::with_capacity(ROOT_DOMAIN.len() + 64);
        buf.extend_from_slice(ROOT_DOMAIN);
        seed.encode_into(&mut buf);
        Key(Sha256::digest(&buf).into())
    }

    /// The key of the child `name`: `SHA-256(CHILD_DOMAIN || parent key || encode(name))`.
    pub fn child(&self, name: &Name<'_>) -> Key {
        let mut buf = Vec::with_capacity(CHILD_DOMAIN.len() + 32 + 64);
        buf.extend_from_slice(CHILD_DOMAIN);
        buf.extend_from_slice(&self.0);
        name.encode_into(&mut buf);
        Key(Sha256::digest(&buf).into())
    }

    /// The key of this stream's extension stream, which supplies the rare extra words of
    /// `integers` and `permutation`: `SHA-256(EXTENSION_DOMAIN || key)`.
    pub fn extension(&self) -> Key {
        let mut buf = Vec::with_capacity(EXTENSION_DOMAIN.len() + 32);
        buf.extend_from_slice(EXTENSION_DOMAIN);
        buf.extend_from_slice(&self.0);
        Key(Sha256::digest(&buf).into())
    }

    /// The key reached through a path of names; `child_path(&[a, b]) == child(a).child(b)`.
    pub fn child_path(&self, names: &[Name<'_>]) -> Key {
        names.iter().fold(*self, |k, n| k.child(n))
    }

    /// Little-endian 32-bit word `i` of the key.
    pub fn word(&self, i: usize) -> u32 {
        u32::from_le_bytes([
            self.0[4 * i],
            self.0[4 * i + 1],
            self.0[4 * i + 2],
            self.0[4 * i + 3],
        ])
    }

    /// Little-endian 128-bit half `i` (0 or 1) of the key.
    pub fn half(&self, i: usize) -> u128 {
        let mut b = [0u8; 16];
        b.copy_from_slice(&self.0[16 * i..16 * i + 16]);
        u128::from_le_bytes(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_names_differ() {
        let root = Key::from_seed(&Name::Int(42));
        let kids = [
            root.child(&Name::Int(3)),
            root.child(&Name::Str("3")),
            root.child(&Name::Bytes(b"3")),
        ];
        assert_ne!(kids[0], kids[1]);
        assert_ne!(kids[1], kids[2]);
        assert_ne!(kids[0], kids[2]);
        assert_ne!(
            Key::from_seed(&Name::Int(3)),
            Key::from_seed(&Name::Str("3"))
        );
    }

    #[test]
    fn length_prefix_separates_split_points() {
        let root = Key::from_seed(&Name::Int(0));
        let a = root.child_path(&[Name::Str("ab"), Name::Str("c")]);
        let b = root.child_path(&[Name::Str("a"), Name::Str("bc")]);
        assert_ne!(a, b);
    }

    #[test]
    fn path_equals_chain() {
        let root = Key::from_seed(&Name::Str("hello"));
        assert_eq!(
            root.child_path(&[Name::Str("a"), Name::Int(7)]),
            root.child(&Name::Str("a")).child(&Name::Int(7))
        );
    }

    #[test]
    fn encoding_is_as_specified() {
        let mut buf = Vec::new();
        Name::Str("ab").encode_into(&mut buf);
        Name::Int(258).encode_into(&mut buf);
        assert_eq!(
            buf,
            [
                1, 2, 0, 0, 0, 0, 0, 0, 0, b'a', b'b', //
                2, 8, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0
            ]
        );
    }
}
