//! Hand-encoded MQTT 3.1.1 packets (just enough for raw protocol tests).

use mqtt_core::wire::frame::{read_frame_header, write_remaining_length};

/// Packet type of a packet's first byte.
pub fn kind(p: &[u8]) -> u8 {
    p.first().map_or(0, |b| b >> 4)
}
/// CONNACK = 2, PUBLISH = 3, PUBACK = 4, SUBACK = 9, PINGRESP = 13.
pub const CONNACK: u8 = 2;
/// PUBLISH
pub const PUBLISH: u8 = 3;
/// PUBACK
pub const PUBACK: u8 = 4;
/// SUBACK
pub const SUBACK: u8 = 9;
/// PINGRESP
pub const PINGRESP: u8 = 13;

fn string(s: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
}

fn packet(first: u8, body: Vec<u8>) -> Vec<u8> {
    let mut p = vec![first];
    // Test packets are small; a body over the MQTT maximum would be a bug in the test.
    write_remaining_length(body.len(), &mut p).expect("test packet within MQTT's maximum");
    p.extend(body);
    p
}

/// CONNECT with clean session and the given keepalive (seconds).
pub fn connect(client_id: &str, user: Option<(&str, &str)>, keepalive: u16) -> Vec<u8> {
    let mut b = Vec::new();
    string(b"MQTT", &mut b);
    b.push(4);
    b.push(if user.is_some() { 0xC2 } else { 0x02 });
    b.extend_from_slice(&keepalive.to_be_bytes());
    string(client_id.as_bytes(), &mut b);
    if let Some((u, p)) = user {
        string(u.as_bytes(), &mut b);
        string(p.as_bytes(), &mut b);
    }
    packet(0x10, b)
}

/// SUBSCRIBE to one filter.
pub fn subscribe(pid: u16, filter: &str, qos: u8) -> Vec<u8> {
    let mut b = pid.to_be_bytes().to_vec();
    string(filter.as_bytes(), &mut b);
    b.push(qos);
    packet(0x82, b)
}

/// PUBLISH (QoS 0 ignores `pid`).
pub fn publish(topic: &str, payload: &[u8], qos: u8, pid: u16) -> Vec<u8> {
    let mut b = Vec::new();
    string(topic.as_bytes(), &mut b);
    if qos > 0 {
        b.extend_from_slice(&pid.to_be_bytes());
    }
    b.extend_from_slice(payload);
    packet(0x30 | (qos << 1), b)
}

/// PUBACK.
pub fn puback(pid: u16) -> Vec<u8> {
    packet(0x40, pid.to_be_bytes().to_vec())
}

/// PINGREQ.
pub fn pingreq() -> Vec<u8> {
    vec![0xC0, 0]
}

/// DISCONNECT.
pub fn disconnect() -> Vec<u8> {
    vec![0xE0, 0]
}

/// Splits a buffer of whole packets; `None` if it ends inside a packet.
pub fn split_packets(mut b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let total = read_frame_header(b).ok()??.frame_len();
        out.push(b.get(..total)?.to_vec());
        b = b.get(total..)?;
    }
    Some(out)
}

/// Length of the first whole packet in `b`, or `None` if `b` does not hold one yet.
pub fn first_packet_len(b: &[u8]) -> Option<usize> {
    let total = read_frame_header(b).ok()??.frame_len();
    (b.len() >= total).then_some(total)
}

/// A raw MQTT connection over plain TCP (for test-side helpers talking to mosquitto's
/// plain listener). Keeps unread bytes between calls.
#[derive(Debug)]
pub struct TcpMqtt {
    /// The socket.
    pub stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl TcpMqtt {
    /// Connects and sends CONNECT; panics unless CONNACK accepts within `timeout`.
    pub async fn connect(
        addr: std::net::SocketAddr,
        client_id: &str,
        user: Option<(&str, &str)>,
        timeout: std::time::Duration,
    ) -> TcpMqtt {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut c = TcpMqtt {
            stream,
            buf: Vec::new(),
        };
        c.send(&connect(client_id, user, 60)).await;
        let ack = c.next_packet(timeout).await;
        assert_eq!(
            (kind(&ack), ack.get(3).copied()),
            (CONNACK, Some(0)),
            "CONNACK for {client_id}"
        );
        c
    }

    /// Writes bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        self.stream.write_all(bytes).await.expect("write");
    }

    /// The next whole packet; panics after `timeout` or if the broker closes.
    pub async fn next_packet(&mut self, timeout: std::time::Duration) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        tokio::time::timeout(timeout, async {
            loop {
                if let Some(n) = first_packet_len(&self.buf) {
                    return self.buf.drain(..n).collect();
                }
                let mut chunk = [0u8; 8192];
                let n = self.stream.read(&mut chunk).await.expect("read");
                assert!(n > 0, "broker closed the connection");
                self.buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .expect("packet timed out")
    }
}

/// Topic and payload of a PUBLISH packet.
pub fn publish_parts(p: &[u8]) -> Option<(String, Vec<u8>)> {
    let i = read_frame_header(p).ok()??.header_len;
    let tl = usize::from(u16::from_be_bytes([*p.get(i)?, *p.get(i + 1)?]));
    let topic = String::from_utf8(p.get(i + 2..i + 2 + tl)?.to_vec()).ok()?;
    let mut j = i + 2 + tl;
    if (p.first()? >> 1) & 3 > 0 {
        j += 2;
    }
    Some((topic, p.get(j..)?.to_vec()))
}
