//! The SubjectPublicKeyInfo of an X.509 certificate of any version, read with a small DER walk
//! that never panics (every slice is checked): webpki reads only v3 certificates.

/// The DER SubjectPublicKeyInfo of an X.509 certificate of any version (RFC 5280 §4.1):
/// `Certificate ::= SEQUENCE { tbsCertificate, ... }`, and in `tbsCertificate` the optional
/// `[0] version`, then serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
pub(crate) fn subject_public_key_info(cert: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const VERSION: u8 = 0xa0;
    let (certificate, _) = element(cert, SEQUENCE)?;
    let (tbs, _) = element(certificate.content, SEQUENCE)?;
    let mut rest = tbs.content;
    if rest.first() == Some(&VERSION) {
        rest = element(rest, VERSION)?.1;
    }
    for tag in [INTEGER, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE] {
        rest = element(rest, tag)?.1;
    }
    Some(element(rest, SEQUENCE)?.0.whole)
}

struct Element<'a> {
    whole: &'a [u8],
    content: &'a [u8],
}

/// One DER element with the expected tag at the start of `input`, and what follows it.
fn element(input: &[u8], tag: u8) -> Option<(Element<'_>, &[u8])> {
    let (&found, after_tag) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut after_length) = after_tag.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        // Long form: 1 to 4 length bytes (no certificate needs more).
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || after_length.len() < count {
            return None;
        }
        let (digits, rest) = after_length.split_at(count);
        after_length = rest;
        digits
            .iter()
            .fold(0usize, |n, &d| (n << 8) | usize::from(d))
    };
    if after_length.len() < length {
        return None;
    }
    let header = input.len() - after_length.len();
    let (content, rest) = after_length.split_at(length);
    Some((
        Element {
            whole: input.get(..header + length)?,
            content,
        },
        rest,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_foreign_der_is_not_a_certificate() {
        assert!(subject_public_key_info(&[]).is_none());
        assert!(subject_public_key_info(&[0x30, 0x82, 0xff]).is_none());
        assert!(subject_public_key_info(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(subject_public_key_info(&[0x02, 0x01, 0x00]).is_none());
        // Every prefix of a well-formed element list is refused without a panic.
        let mut der = vec![0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x01];
        der.extend([0x30, 0x00, 0x30, 0x00, 0x30, 0x00]);
        for end in 0..der.len() {
            assert!(subject_public_key_info(&der[..end]).is_none());
        }
    }

    #[test]
    fn the_key_of_a_generated_certificate_is_found() {
        use rcgen::PublicKeyData;
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec!["device.test".into()]).expect("params");
        let cert = params.self_signed(&key).expect("self-signed");
        assert_eq!(
            subject_public_key_info(cert.der()),
            Some(key.subject_public_key_info().as_slice())
        );
    }
}
