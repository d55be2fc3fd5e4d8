#!/usr/bin/env python3
"""Third-party MQTT-over-WebSockets client (Eclipse paho-mqtt 2.1.0) driven by the Rust tests.

Requires: python3 -m pip install paho-mqtt==2.1.0

Modes:
  roundtrip  subscribe at QoS 0, 1 and 2; publish at QoS 0, 1 and 2; check every message
             arrives with QoS min(pub, sub).
  flood      one subscriber (QoS 1) and one publisher; publish --count QoS 1 messages and check
             every one arrives (none lost; duplicates tolerated and reported).
  steady     stay connected for --seconds (keepalive 2 s), then publish one QoS 1 message to
             itself; fails on any disconnect (paho answers WebSocket pings with unmasked pongs).
Prints one JSON line with the result; exit status 0 on success, 1 on failure, 2 on usage.
"""
import argparse
import json
import sys
import threading
import time
import uuid

try:
    import paho.mqtt.client as mqtt
except ImportError:
    print("paho-mqtt missing: python3 -m pip install paho-mqtt==2.1.0", file=sys.stderr)
    sys.exit(2)


def make_client(args, name):
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
    c.max_inflight_messages_set(100)
    c.max_queued_messages_set(0)
    return c


def connect(c, args, timeout):
    connected = threading.Event()
    result = {}

    def on_connect(client, userdata, flags, reason_code, properties):
        result["rc"] = str(reason_code)
        connected.set()

    c.on_connect = on_connect
    c.connect(args.host, args.port, keepalive=30)
    c.loop_start()
    if not connected.wait(timeout):
        raise SystemExit(fail("connect timed out"))
    if result["rc"] != "Success":
        raise SystemExit(fail(f"connect refused: {result['rc']}"))


def fail(msg, **extra):
    print(json.dumps({"ok": False, "error": msg, **extra}))
    sys.stdout.flush()
    return 1


def roundtrip(args):
    base = f"{args.topic}/rt-{uuid.uuid4().hex[:6]}"
    got = {}
    lock = threading.Lock()
    all_in = threading.Event()
    expected = {(s, p): min(s, p) for s in (0, 1, 2) for p in (0, 1, 2)}

    def on_message(client, userdata, msg):
        key = tuple(int(x) for x in msg.payload.decode().split(","))
        with lock:
            got[key] = msg.qos
            if len(got) == len(expected):
                all_in.set()

    sub = make_client(args, "sub")
    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    connect(sub, args, 10)
    sub.subscribe([(f"{base}/s{q}", q) for q in (0, 1, 2)])
    if not subscribed.wait(10):
        return fail("suback timed out")
    pub = make_client(args, "pub")
    connect(pub, args, 10)
    for s in (0, 1, 2):
        for p in (0, 1, 2):
            info = pub.publish(f"{base}/s{s}", f"{s},{p}", qos=p)
            info.wait_for_publish(10)
    if not all_in.wait(15):
        return fail("messages missing", got=[list(k) for k in got])
    wrong = {f"{k}": v for k, v in got.items() if expected[k] != v}
    pub.disconnect(); sub.disconnect()
    pub.loop_stop(); sub.loop_stop()
    if wrong:
        return fail("wrong QoS", wrong=wrong)
    print(json.dumps({"ok": True, "messages": len(got)}))
    return 0


def flood(args):
    topic = f"{args.topic}/flood-{uuid.uuid4().hex[:6]}"
    seen = set()
    dups = 0
    lock = threading.Lock()
    done = threading.Event()

    def on_message(client, userdata, msg):
        nonlocal dups
        n = int(msg.payload.split(b":", 1)[0])
        with lock:
            if n in seen:
                dups += 1
            seen.add(n)
            if len(seen) == args.count:
                done.set()

    sub = make_client(args, "fsub")
    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    connect(sub, args, 10)
    sub.subscribe(topic, 1)
    if not subscribed.wait(10):
        return fail("suback timed out")
    pub = make_client(args, "fpub")
    connect(pub, args, 10)
    start = time.time()
    pad = b"x" * args.size
    infos = [pub.publish(topic, str(i).encode() + b":" + pad, qos=1) for i in range(args.count)]
    for info in infos:
        info.wait_for_publish(args.timeout)
    ok = done.wait(args.timeout)
    elapsed = time.time() - start
    pub.disconnect(); sub.disconnect()
    pub.loop_stop(); sub.loop_stop()
    if not ok:
        return fail("messages lost", received=len(seen), expected=args.count)
    print(json.dumps({"ok": True, "received": len(seen), "duplicates": dups,
                      "seconds": round(elapsed, 3), "per_second": round(args.count / elapsed)}))
    return 0


def steady(args):
    c = make_client(args, "steady")
    drops = []
    got = threading.Event()
    c.on_disconnect = lambda client, userdata, flags, rc, properties: drops.append(str(rc))
    c.on_message = lambda client, userdata, msg: got.set()
    connected = threading.Event()
    c.on_connect = lambda client, userdata, flags, rc, properties: connected.set()
    c.connect(args.host, args.port, keepalive=2)
    c.loop_start()
    if not connected.wait(args.timeout):
        return fail("connect timed out")
    topic = f"{args.topic}/steady-{uuid.uuid4().hex[:6]}"
    c.subscribe(topic, 1)
    time.sleep(args.seconds)
    c.publish(topic, b"still here", qos=1)
    arrived = got.wait(10)
    c.loop_stop()
    if drops or not arrived:
        return fail("connection dropped", drops=drops, arrived=arrived)
    print(json.dumps({"ok": True, "seconds": args.seconds}))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["roundtrip", "flood", "steady"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/mqtt")
    ap.add_argument("--ca", help="CA file: use wss://")
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--seconds", type=float, default=3)
    args = ap.parse_args()
    return {"roundtrip": roundtrip, "flood": flood, "steady": steady}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
