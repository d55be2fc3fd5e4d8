//! Error texts written without `core::fmt`. Each error's words are defined once, in its
//! [`Text`] impl; `Display` (the CLI, logs) writes the same words. The browser package asks for
//! `message()` instead of `to_string()`, so the wasm leaves out the errors' `Display` impls and
//! the integer, hex and `{:?}` formatting they pull in (about 7 KB gzip, see docs/size.md).

/// An error that writes its own text.
pub(crate) trait Text {
    /// Appends the text for people to `out`.
    fn write_text(&self, out: &mut String);
}

/// Implements `Display` and an inherent `message()` from the type's [`Text`].
macro_rules! display_from_text {
    ($($ty:ty),* $(,)?) => {$(
        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.message())
            }
        }

        impl $ty {
            /// The error's text for people, as `Display` writes it, built without `core::fmt`.
            pub fn message(&self) -> String {
                let mut out = String::new();
                $crate::text::Text::write_text(self, &mut out);
                out
            }
        }
    )*};
}
pub(crate) use display_from_text;

/// Appends `n` in decimal.
pub(crate) fn push_num(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// `n` in decimal, for adapters that build their own texts without `core::fmt`.
pub fn decimal(n: u64) -> String {
    let mut out = String::new();
    push_num(&mut out, n);
    out
}

/// Appends `n` as `{n:#0Wb}` (`bits` 1) or `{n:#0Wx}` (`bits` 4) would: the `0b`/`0x` prefix,
/// then the digits, zero-padded to `min_digits`.
pub(crate) fn push_radix(out: &mut String, n: u8, bits: u32, min_digits: u32) {
    out.push_str(if bits == 1 { "0b" } else { "0x" });
    let mut digits = min_digits;
    while digits * bits < 8 && n >> (digits * bits) != 0 {
        digits += 1;
    }
    for i in (0..digits).rev() {
        let digit = (n >> (i * bits)) & ((1 << bits) - 1);
        out.push(char::from(b"0123456789abcdef"[usize::from(digit)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn numbers_read_as_core_fmt_writes_them() {
        for n in [0u64, 7, 10, 65_535, 4_001, u64::MAX] {
            let mut out = String::new();
            push_num(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        for n in [0u8, 1, 5, 0xf, 0x10, 0x30, 0xff] {
            let mut hex = String::new();
            push_radix(&mut hex, n, 4, 2);
            assert_eq!(hex, format!("{n:#04x}"));
            let mut bin = String::new();
            push_radix(&mut bin, n, 1, 4);
            assert_eq!(bin, format!("{n:#06b}"));
        }
    }
}
