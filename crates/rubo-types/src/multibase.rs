//! Multibase names as go-multibase (and so Kubo) spells them.
//!
//! Only go-multibase's 21 bases are accepted, so that a string rubo takes is one
//! Kubo takes too (base8, base10 and base32z are left out on purpose).

use multibase::Base;

/// Every base rubo supports, with go-multibase's name.
pub const BASES: &[(Base, &str)] = &[
    (Base::Identity, "identity"),
    (Base::Base2, "base2"),
    (Base::Base16Lower, "base16"),
    (Base::Base16Upper, "base16upper"),
    (Base::Base32Lower, "base32"),
    (Base::Base32Upper, "base32upper"),
    (Base::Base32PadLower, "base32pad"),
    (Base::Base32PadUpper, "base32padupper"),
    (Base::Base32HexLower, "base32hex"),
    (Base::Base32HexUpper, "base32hexupper"),
    (Base::Base32HexPadLower, "base32hexpad"),
    (Base::Base32HexPadUpper, "base32hexpadupper"),
    (Base::Base36Lower, "base36"),
    (Base::Base36Upper, "base36upper"),
    (Base::Base58Flickr, "base58flickr"),
    (Base::Base58Btc, "base58btc"),
    (Base::Base64, "base64"),
    (Base::Base64Pad, "base64pad"),
    (Base::Base64Url, "base64url"),
    (Base::Base64UrlPad, "base64urlpad"),
    (Base::Base256Emoji, "base256emoji"),
];

/// go-multibase's name of `base`.
pub fn name_of(base: Base) -> &'static str {
    BASES.iter().find(|(b, _)| *b == base).map_or("unknown", |(_, n)| n)
}

/// A base by name (`base32`) or by its one-character prefix (`b`), as go-multibase's
/// `EncoderByName` accepts.
pub fn by_name(name: &str) -> Option<Base> {
    if let Some((b, _)) = BASES.iter().find(|(_, n)| *n == name) {
        return Some(*b);
    }
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => from_prefix(c),
        _ => None,
    }
}

/// The prefix character of `base`.
pub fn code_of(base: Base) -> char {
    base.code()
}

/// The base for a multibase prefix character, among the supported ones.
pub fn from_prefix(c: char) -> Option<Base> {
    let b = Base::from_code(c).ok()?;
    BASES.iter().any(|(x, _)| *x == b).then_some(b)
}
