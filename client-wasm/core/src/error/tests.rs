use super::*;
use crate::wire::close;
use crate::wire::tls::TlsFailure;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn codes_stay_what_the_javascript_api_documents() {
    let refused = ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword);
    assert_eq!(refused.code(), "bad_credentials");
    assert_eq!(ConnectionError::ConnectTimeout(1).code(), "connect_timeout");
    assert_eq!(
        ConnectionError::KeepaliveTimeout(1).code(),
        "keepalive_timeout"
    );
    let violation = ConnectionError::Violation(ProtocolViolation::SecondConnack);
    assert_eq!(violation.code(), "protocol_violation");
    let dropped = ConnectionError::Transport(TransportFailure::Dropped("gone".into()));
    assert_eq!(dropped.code(), "transport");
    let closed = ConnectionError::Transport(TransportFailure::closed(4001, ""));
    assert_eq!(closed.code(), "closed");
    assert_eq!(closed.close_code(), Some(4001));
    let tls = TransportFailure::TlsVerification {
        kind: TlsFailure::NameMismatch,
        detail: "not valid for b.example".into(),
    };
    assert_eq!(tls.code(), "tls");
    assert_eq!(tls.tls_failure(), Some(TlsFailure::NameMismatch));
    assert_eq!(
        TransportFailure::TlsHandshake("alert".into()).tls_failure(),
        Some(TlsFailure::HandshakeFailed)
    );
    let refused = TransportFailure::TlsClientCertRefused("alert UnknownCA".into());
    assert_eq!(refused.code(), "tls");
    assert_eq!(refused.tls_failure(), Some(TlsFailure::ClientCertRefused));
    assert!(!refused.is_retried());
    assert_eq!(refused.to_string(), "alert UnknownCA");
    assert_eq!(TransportFailure::Dropped("x".into()).tls_failure(), None);
    assert_eq!(CommandError::QueueFull(3).code(), "queue_full");
    assert_eq!(CommandError::NoFilters.code(), "no_filters");
    assert_eq!(CommandError::Ended.code(), "ended");
    let url = CommandError::InvalidUrl {
        url: "x".into(),
        reason: "no scheme".into(),
    };
    assert_eq!(url.code(), "invalid_url");
}

#[test]
fn texts_stay_what_users_saw() {
    let dropped = ConnectionError::Transport(TransportFailure::Dropped("socket closed".into()));
    assert_eq!(dropped.to_string(), "connection closed: socket closed");
    let closed = ConnectionError::Transport(TransportFailure::closed(4001, ""));
    assert_eq!(
        closed.to_string(),
        "closed by the server (4001): route unknown"
    );
    let violation = ConnectionError::Violation(ProtocolViolation::NotConnack {
        found: "PUBLISH",
        first_byte: 0x30,
    });
    assert_eq!(
        violation.to_string(),
        "protocol violation by the broker: expected CONNACK, got PUBLISH (first byte 0x30)"
    );
}

/// RFC 6455 §7.4 codes and ws-bridge's own: a close frame is retried exactly when the one rule
/// in `wire::close` says so, whatever the adapter thinks.
#[test]
fn a_close_frame_is_retried_by_the_wire_rule() {
    for code in [
        1000, 1001, 1002, 1003, 1008, 1011, 4000, 4001, 4003, 4010, 4016, 4502,
    ] {
        let error = ConnectionError::Transport(TransportFailure::closed(code, ""));
        assert_eq!(error.is_retried(), close::is_retried(code), "{code}");
    }
}

#[test]
fn tls_failures_are_permanent_like_their_close_codes() {
    for kind in TlsFailure::ALL.into_iter().filter(|k| k.is_verification()) {
        let failure = TransportFailure::TlsVerification {
            kind,
            detail: String::new(),
        };
        assert_eq!(failure.is_retried(), close::is_retried(kind.close_code()));
        assert_eq!(
            close::CloseClass::of(kind.close_code()),
            close::CloseClass::TlsVerification
        );
    }
    let handshake = TransportFailure::TlsHandshake("alert".into());
    assert_eq!(
        handshake.is_retried(),
        close::is_retried(close::TLS_HANDSHAKE_FAILED)
    );
    assert!(TransportFailure::Unreachable("x".into()).is_retried());
    assert!(!TransportFailure::Setup("x".into()).is_retried());
}

/// Every variant's words, as the thiserror attributes wrote them before the texts were built
/// without `core::fmt`; `message()` (the browser package) and `Display` (the CLI) agree.
#[test]
fn every_text_reads_as_before_and_message_matches_display() {
    use crate::session::PublishFailure;
    use crate::topic::TopicError;
    fn both<E: core::fmt::Display>(error: &E, message: String, want: &str) {
        assert_eq!(message, want);
        assert_eq!(error.to_string(), want);
    }
    let decode = [
        (
            DecodeError::RemainingLengthTooLong,
            "remaining length uses more than four bytes",
        ),
        (
            DecodeError::TooLarge {
                size: 300,
                max: 256,
            },
            "packet of 300 bytes exceeds the maximum of 256",
        ),
        (
            DecodeError::ReservedPacketType(15),
            "reserved packet type 15",
        ),
        (
            DecodeError::InvalidFlags {
                packet: "PUBREL",
                flags: 0,
            },
            "invalid fixed header flags 0b0000 for PUBREL",
        ),
        (
            DecodeError::InvalidFlags {
                packet: "PUBREL",
                flags: 0b1010,
            },
            "invalid fixed header flags 0b1010 for PUBREL",
        ),
        (
            DecodeError::WrongLength {
                packet: "PUBACK",
                length: 3,
            },
            "PUBACK has remaining length 3, which its type does not allow",
        ),
        (
            DecodeError::Truncated {
                packet: "PUBLISH",
                field: "topic name",
            },
            "PUBLISH: topic name runs past the end of the packet",
        ),
        (
            DecodeError::TrailingBytes { packet: "SUBACK" },
            "SUBACK has bytes after its last field",
        ),
        (
            DecodeError::ZeroPacketId { packet: "PUBACK" },
            "PUBACK carries packet identifier 0",
        ),
        (
            DecodeError::InvalidCode {
                packet: "CONNACK",
                code: 7,
            },
            "CONNACK carries invalid code 0x07",
        ),
        (
            DecodeError::NotUtf8 {
                packet: "PUBLISH",
                field: "topic name",
            },
            "PUBLISH: topic name is not UTF-8",
        ),
        (
            DecodeError::UnknownProtocol { level: 5 },
            "CONNECT asks for protocol level 5, not MQTT 3.1.1 (or 3.1)",
        ),
        (
            DecodeError::ClientOnlyPacket { packet: "CONNECT" },
            "a server must not send CONNECT",
        ),
    ];
    for (error, want) in decode {
        let whole = ConnectionError::Protocol(error.clone());
        both(
            &whole,
            whole.message(),
            &format!("protocol error from the broker: {want}"),
        );
        both(&error, error.message(), want);
    }
    let violations = [
        (
            ProtocolViolation::NotConnack { found: "reserved", first_byte: 0xf0 },
            "expected CONNACK, got reserved (first byte 0xf0)",
        ),
        (ProtocolViolation::BeforeConnack { packet: "PUBLISH" }, "PUBLISH before CONNACK"),
        (ProtocolViolation::SecondConnack, "a second CONNACK on one connection"),
        (ProtocolViolation::ClientOnlyPacket { packet: "PINGREQ" }, "a server must not send PINGREQ"),
        (ProtocolViolation::SubackForUnsubscribe { pid: 9 }, "SUBACK 9 answers an UNSUBSCRIBE"),
        (ProtocolViolation::UnsubackForSubscribe { pid: 65535 }, "UNSUBACK 65535 answers a SUBSCRIBE"),
        (
            ProtocolViolation::InvalidTopicName(TopicError::WildcardInName),
            "PUBLISH with an invalid topic name: wildcards '+' and '#' are not allowed in a topic name",
        ),
        (
            ProtocolViolation::SessionPresentOnCleanSession,
            "CONNACK says session present for a clean session [MQTT-3.2.2-1]",
        ),
        (
            ProtocolViolation::SubackCountMismatch { pid: 2, codes: 1, filters: 3 },
            "SUBACK 2 has 1 codes for 3 filters",
        ),
    ];
    for (violation, want) in violations {
        let whole = ConnectionError::Violation(violation);
        both(
            &whole,
            whole.message(),
            &format!("protocol violation by the broker: {want}"),
        );
    }
    let connection = [
        (
            ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword),
            "connection refused: bad user name or password",
        ),
        (
            ConnectionError::ConnectTimeout(5000),
            "no CONNACK within 5000 ms",
        ),
        (
            ConnectionError::KeepaliveTimeout(0),
            "keepalive timeout: no PINGRESP within 0 ms",
        ),
        (
            ConnectionError::Transport(TransportFailure::Timeout(10)),
            "connection closed: no connection within 10 ms",
        ),
        (
            ConnectionError::Transport(TransportFailure::closed(4502, "busy")),
            "closed by the server (4502): busy",
        ),
        (
            ConnectionError::InvalidOptions(OptionsError::Unencodable(EncodeError::FieldTooLong(
                "client id",
            ))),
            "invalid options: the options cannot be sent: cannot encode packet: client id is \
             longer than 65,535 bytes",
        ),
        (
            ConnectionError::InvalidOptions(OptionsError::ContainsNul { field: "user name" }),
            "invalid options: the user name contains the NUL character [MQTT-1.5.3-2]",
        ),
        (
            ConnectionError::InvalidOptions(OptionsError::WillTopic(TopicError::TooLong(70000))),
            "invalid options: will topic: topic is 70000 bytes long; MQTT allows at most 65535",
        ),
        (
            ConnectionError::ConnectedElsewhere { drops: 3 },
            "connected elsewhere: the broker dropped 3 connections in a row soon after accepting \
             them (the client id is in use by another client)",
        ),
    ];
    for (error, want) in connection {
        both(&error, error.message(), want);
    }
    let commands = [
        (
            CommandError::QueueFull(1000),
            "publish queue is full (1000 messages waiting)",
        ),
        (
            CommandError::PayloadTooLarge(268_435_456),
            "payload of 268435456 bytes is too large for one MQTT packet",
        ),
        (
            CommandError::InvalidTopic(TopicError::Empty),
            "invalid topic: topic must not be empty",
        ),
        (
            CommandError::InvalidUrl {
                url: "ftp://x".into(),
                reason: "not ws".into(),
            },
            "invalid URL \"ftp://x\": not ws",
        ),
        (
            CommandError::Storage(StoreError::Full),
            "the publish was not accepted because it cannot be stored: storage is full",
        ),
    ];
    for (error, want) in commands {
        both(&error, error.message(), want);
    }
    let failures = [
        (
            PublishFailure::Refused(CommandError::Ended),
            "the publish was not accepted: the client was ended",
        ),
        (
            PublishFailure::RefusedBySharedConnection("queue_full"),
            "the tab holding the shared connection refused the publish (queue_full)",
        ),
        (
            PublishFailure::NotStored(StoreError::Unavailable),
            "the publish was not accepted because it cannot be stored: storage is unavailable",
        ),
    ];
    for (failure, want) in failures {
        both(&failure, failure.message(), want);
    }
}

#[test]
fn stored_row_texts_read_as_before() {
    use crate::session::RowError;
    use crate::topic::TopicError;
    let rows = [
        (
            RowError::Topic(TopicError::Empty),
            "invalid topic: topic must not be empty",
        ),
        (
            RowError::DuplicatePacketId(5),
            "packet identifier 5 is already used by another stored row",
        ),
        (
            RowError::OverCapacity,
            "more rows than the session holds (max_inflight + max_queued)",
        ),
    ];
    for (row, want) in rows {
        assert_eq!(row.message(), want);
        assert_eq!(row.to_string(), want);
    }
    assert_eq!(crate::decimal(4_294_967_296), "4294967296");
}
