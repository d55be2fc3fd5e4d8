#!/usr/bin/env python3
"""paho-mqtt 2.1.0 over WebSockets as a persistent-session client for tests/tests/scale_out.rs.

One client (clean session off, fixed client id) subscribes to TOPIC/# at QoS 2 and publishes
"q1 <n>" on TOPIC/q1 (QoS 1) and "q2 <n>" on TOPIC/q2 (QoS 2), n = 1..COUNT, one pair every
INTERVAL seconds, through whatever bridge the load balancer picks; paho reconnects by itself
when the bridge dies. The test feeds "feed1 <n>" / "feed2 <n>" from the broker side.

Prints JSON lines on stdout: {"event": "connected", "session_present": bool, "at": ms},
{"event": "disconnected", "at": ms}, and at the end {"event": "done", "acked": {...},
"received": [...]}. It ends once every publish is acknowledged and every expected message
arrived (then waits GRACE seconds for late duplicates), or after TIMEOUT seconds.
"""
import argparse
import json
import sys
import threading
import time

try:
    import paho.mqtt.client as mqtt
except ImportError:
    print("paho-mqtt missing: python3 -m pip install paho-mqtt==2.1.0", file=sys.stderr)
    sys.exit(2)

lock = threading.RLock()


def emit(obj):
    with lock:
        print(json.dumps(obj), flush=True)


def now_ms():
    return int(time.time() * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--feed", type=int, required=True, help="feed messages expected per QoS")
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--timeout", type=float, default=40)
    ap.add_argument("--grace", type=float, default=0.5)
    ap.add_argument("--hold", type=float, default=0, help="seconds to stay connected at the end")
    args = ap.parse_args()

    acked = {"q1": [], "q2": []}
    received = []
    mids = {}
    expected = {f"{c} {n}" for c in ("q1", "q2") for n in range(1, args.count + 1)}
    expected |= {f"{c} {n}" for c in ("feed1", "feed2") for n in range(1, args.feed + 1)}
    seen = set()
    complete = threading.Event()
    subscribed = threading.Event()

    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=args.client_id,
        clean_session=False,
        transport="websockets",
        protocol=mqtt.MQTTv311,
    )
    c.ws_set_options(path="/mqtt")
    c.max_queued_messages_set(0)
    c.reconnect_delay_set(min_delay=0.1, max_delay=1)
    if args.username:
        c.username_pw_set(args.username, args.password)

    def check_complete():
        if len(acked["q1"]) == args.count and len(acked["q2"]) == args.count and expected <= seen:
            complete.set()

    def on_connect(client, userdata, flags, reason_code, properties):
        emit({"event": "connected", "session_present": bool(flags.session_present),
              "rc": str(reason_code), "at": now_ms()})
        if not flags.session_present:
            client.subscribe(f"{args.topic}/#", 2)

    def on_disconnect(client, userdata, flags, reason_code, properties):
        emit({"event": "disconnected", "rc": str(reason_code), "at": now_ms()})

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        subscribed.set()

    def on_message(client, userdata, msg):
        body = msg.payload.decode()
        with lock:
            received.append(body)
            seen.add(body)
        check_complete()

    early = set()  # acknowledged before publish() returned its mid

    def on_publish(client, userdata, mid, reason_code, properties):
        with lock:
            entry = mids.pop(mid, None)
            if entry is None:
                early.add(mid)
            else:
                acked[entry[0]].append(entry[1])
        check_complete()

    c.on_connect = on_connect
    c.on_disconnect = on_disconnect
    c.on_subscribe = on_subscribe
    c.on_message = on_message
    c.on_publish = on_publish
    c.connect("127.0.0.1", args.port, keepalive=30)
    c.loop_start()
    if not subscribed.wait(15):
        emit({"event": "done", "error": "not subscribed", "acked": acked, "received": received})
        return 1
    emit({"event": "subscribed", "at": now_ms()})

    def progress():
        while not complete.is_set():
            with lock:
                n = len(acked["q1"]) + len(acked["q2"]) + len(received)
            emit({"event": "progress", "n": n})
            time.sleep(0.05)

    threading.Thread(target=progress, daemon=True).start()
    deadline = time.time() + args.timeout
    for n in range(1, args.count + 1):
        for q in (1, 2):
            # Not under `lock`: paho calls on_publish holding its own lock, which publish takes.
            info = c.publish(f"{args.topic}/q{q}", f"q{q} {n}", qos=q)
            with lock:
                if info.mid in early:
                    early.discard(info.mid)
                    acked[f"q{q}"].append(n)
                else:
                    mids[info.mid] = (f"q{q}", n)
        time.sleep(args.interval)
    complete.wait(max(0.0, deadline - time.time()))
    time.sleep(args.grace + args.hold)
    c.disconnect()
    c.loop_stop()
    with lock:
        emit({"event": "done", "acked": acked, "received": list(received),
              "complete": complete.is_set()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
