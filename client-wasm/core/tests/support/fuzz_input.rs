// One fuzz input: the first byte picks the maximum packet size, the rest is split into chunks
// at 0xff bytes and fed to a connected session; the whole input also goes to the client's decoder
// and to the server-side one, and every packet that decodes goes back through mqttrs's encoder
// and must decode to itself.
use mqtt_core::{codec, Instant, Options, Session};

fn reencodes_to_itself(packet: &mqtt_core::packet::Packet<'_>) {
    match codec::encode(packet) {
        Ok(bytes) => match codec::decode_any(&bytes, usize::MAX) {
            Ok(Some((again, used))) => {
                assert_eq!(used, bytes.len(), "re-encoded frame length");
                assert_eq!(&again, packet, "re-encoded packet");
            }
            other => panic!("{packet:?} encoded to {bytes:02x?}, which decodes to {other:?}"),
        },
        // MQTT 3.1 CONNECT: mqttrs 0.4.1 cannot write it; nothing else may be refused.
        Err(e) => assert_eq!(e, codec::EncodeError::UnsupportedProtocol, "{packet:?}"),
    }
}

pub(crate) fn run(data: &[u8]) {
    let Some((&size_byte, rest)) = data.split_first() else { return };
    let max_packet = usize::from(size_byte) * 64 + 2;
    let mut offset = 0;
    while let Ok(Some((packet, used))) = codec::decode(&rest[offset..], max_packet) {
        reencodes_to_itself(&packet);
        offset += used;
    }
    let mut offset = 0;
    while let Ok(Some((packet, used))) = codec::decode_any(&rest[offset..], max_packet) {
        reencodes_to_itself(&packet);
        offset += used;
    }
    let mut options = Options::new("fuzz");
    options.max_incoming_packet = max_packet;
    let mut session = Session::new(options);
    let mut now = Instant::from_millis(0);
    session.connect(now);
    session.handle_transport_open(now);
    session.handle_bytes(now, &[0x20, 0x02, 0x00, 0x00]);
    for chunk in rest.split(|&b| b == 0xff) {
        session.handle_bytes(now, chunk);
        now = Instant::from_millis(now.as_millis() + 700);
        session.handle_timeout(now);
        while session.poll_transmit().is_some() {}
        while session.poll_event().is_some() {}
        while session.poll_transport().is_some() {}
    }
}
