#!/usr/bin/env python3
"""One large message through MQTT over WebSockets with Eclipse paho-mqtt 2.1.0 (driven by
tests/tests/bridge_large.rs).

Requires: python3 -m pip install paho-mqtt==2.1.0

A subscriber (QoS 1) and a publisher connect (each its own WebSocket session), the publisher
sends --size random bytes at QoS 1, and the subscriber must receive exactly them. paho's
websockets transport (`_WebsocketWrapper`) sends each MQTT packet as one unfragmented binary
frame, however large, and reads the MQTT byte stream across frames and messages. It answers
pings with unmasked pongs (RFC 6455 §5.1 violation: a conforming server closes with 1002), so
a run must finish before the bridge's first ping (30 s). PAHO_LARGE_DEBUG=1 logs paho's packets.

Prints one JSON line: {"ok", "size", "sent_sha256", "received_sha256", "seconds"}; exit
status 0 when the subscriber received the payload intact, 1 otherwise, 2 on usage.
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time
import uuid

try:
    import paho.mqtt.client as mqtt
except ImportError:
    print("paho-mqtt missing: python3 -m pip install paho-mqtt==2.1.0", file=sys.stderr)
    sys.exit(2)


def fail(msg, **extra):
    print(json.dumps({"ok": False, "error": msg, **extra}))
    sys.stdout.flush()
    return 1


def client(args, name):
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"{name}-{uuid.uuid4().hex[:8]}",
        transport="websockets",
        protocol=mqtt.MQTTv311,
    )
    c.ws_set_options(path=args.path)
    if args.ca:
        c.tls_set(ca_certs=args.ca)
    if args.username:
        c.username_pw_set(args.username, args.password)
    if os.environ.get("PAHO_LARGE_DEBUG"):
        import logging
        logging.basicConfig(level=logging.DEBUG, format="%(relativeCreated)d %(message)s")
        c.enable_logger(logging.getLogger(name))
    return c


def connect(c, args):
    connected = threading.Event()
    result = {}

    def on_connect(client, userdata, flags, reason_code, properties):
        result["rc"] = str(reason_code)
        connected.set()

    def on_disconnect(client, userdata, flags, reason_code, properties):
        result.setdefault("disconnect", str(reason_code))

    c.on_connect = on_connect
    c.on_disconnect = on_disconnect
    c.connect(args.host, args.port, keepalive=60)
    c.loop_start()
    if not connected.wait(15):
        raise SystemExit(fail("connect timed out"))
    if result["rc"] != "Success":
        raise SystemExit(fail(f"connect refused: {result['rc']}"))
    return result


def send_whole_frames(c, size):
    """Works around paho-mqtt 2.1.0's websockets writer (upstream issue eclipse-paho/
    paho.mqtt.python#887): when one socket send() takes only part of a frame, `_packet_write`
    drops the packet from its queue and the rest of the frame is never sent. A send buffer that
    holds the whole frame makes the first send() take all of it; the bridge still receives one
    frame of the packet's full size."""
    ws = c.socket()
    raw = getattr(ws, "_socket", ws)
    want = 2 * size + (1 << 20)
    try:
        raw.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_SNDBUFFORCE", 32), want)
    except OSError:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, want)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/mqtt")
    ap.add_argument("--ca", help="CA file: use wss://")
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    topic = f"{args.topic}/large-{uuid.uuid4().hex[:6]}"
    received = {}
    arrived = threading.Event()

    def on_message(client, userdata, msg):
        received["payload"] = msg.payload
        arrived.set()

    sub = client(args, "lsub")
    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub_state = connect(sub, args)
    sub.subscribe(topic, 1)
    if not subscribed.wait(15):
        return fail("suback timed out")

    pub = client(args, "lpub")
    pub_state = connect(pub, args)
    send_whole_frames(pub, args.size)
    payload = os.urandom(args.size)
    sent_sha = hashlib.sha256(payload).hexdigest()
    start = time.time()
    info = pub.publish(topic, payload, qos=1)
    del payload
    info.wait_for_publish(args.timeout)
    ok = arrived.wait(max(1.0, args.timeout - (time.time() - start)))
    seconds = round(time.time() - start, 3)
    pub.disconnect(); sub.disconnect()
    pub.loop_stop(); sub.loop_stop()
    if not ok:
        return fail("message not received", size=args.size, sent_sha256=sent_sha,
                    published=info.is_published(), seconds=seconds,
                    publisher_disconnect=pub_state.get("disconnect"),
                    subscriber_disconnect=sub_state.get("disconnect"))
    got = received["payload"]
    got_sha = hashlib.sha256(got).hexdigest()
    print(json.dumps({"ok": got_sha == sent_sha and len(got) == args.size, "size": len(got),
                      "sent_sha256": sent_sha, "received_sha256": got_sha,
                      "seconds": seconds}))
    return 0 if got_sha == sent_sha else 1


if __name__ == "__main__":
    sys.exit(main())
