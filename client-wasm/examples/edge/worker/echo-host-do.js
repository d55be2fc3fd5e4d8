// The Azure Sphere echo host (seed 003) in a Durable Object: every message on
// azuresphere/sample/host comes back on azuresphere/sample/device rotated left by one character
// ("hello" -> "elloh"; by characters, never splitting UTF-8). The Worker routes every request to
// one object; an alarm every 30 s brings the object (and its MQTT session) back if it was
// evicted. Bindings: ECHO_HOST (this class's namespace), MQTT_URL, optional MQTT_SERVERNAME,
// MQTT_USERNAME, MQTT_PASSWORD, ECHO_CLIENT_ID.
//
//   GET /start  -> 200 {"state": "connected", "echoed": n} once subscribed

import { DurableObject } from "cloudflare:workers";
import { connect } from "client-wasm";

const IN_TOPIC = "azuresphere/sample/host";
const OUT_TOPIC = "azuresphere/sample/device";
const KEEP_ALIVE_MS = 30_000;

/** Moves the first character to the end; bytes that are not UTF-8 rotate by bytes. */
export function rotateLeft(payload) {
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
  } catch {
    return payload.length === 0 ? payload : Uint8Array.of(...payload.subarray(1), payload[0]);
  }
  const chars = Array.from(text);
  chars.push(...chars.splice(0, 1));
  return chars.join("");
}

export class EchoHost extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.echoed = 0;
    this.client = null;
    this.subscribed = null;
  }

  start() {
    if (this.client && this.client.state.state !== "ended") return this.subscribed;
    const client = connect(this.env.MQTT_URL, {
      clientId: this.env.ECHO_CLIENT_ID ?? "echo-host-do",
      username: this.env.MQTT_USERNAME,
      password: this.env.MQTT_PASSWORD,
      servername: this.env.MQTT_SERVERNAME,
    });
    client.onMessage((message) => {
      if (message.topic !== IN_TOPIC) return;
      this.echoed += 1;
      client.publish(OUT_TOPIC, rotateLeft(message.payload)).catch((error) => console.error("echo failed", error.code, error.message));
    });
    this.client = client;
    this.subscribed = client.subscribe(IN_TOPIC, 0);
    return this.subscribed;
  }

  async fetch() {
    await this.ctx.storage.setAlarm(Date.now() + KEEP_ALIVE_MS);
    try {
      await this.start();
      return Response.json({ state: this.client.state.state, echoed: this.echoed });
    } catch (error) {
      this.client = null;
      return Response.json({ code: error.code, tls: error.tls, message: error.message }, { status: 502 });
    }
  }

  async alarm() {
    await this.ctx.storage.setAlarm(Date.now() + KEEP_ALIVE_MS);
    await this.start().catch(() => {});
  }
}

export default {
  fetch(request, env) {
    return env.ECHO_HOST.get(env.ECHO_HOST.idFromName("echo-host")).fetch(request);
  },
};
