// One fuzz input: the first byte picks the maximum packet size, the rest is split into chunks
// at 0xff bytes and fed to a connected session; the whole input also goes to the decoder.
use mqtt_core::{codec, Instant, Options, Session};

pub fn run(data: &[u8]) {
    let Some((&size_byte, rest)) = data.split_first() else { return };
    let max_packet = usize::from(size_byte) * 64 + 2;
    let mut offset = 0;
    while let Ok(Some((_, used))) = codec::decode(&rest[offset..], max_packet) {
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
