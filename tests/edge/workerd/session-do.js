// A `clean: false` session in a Durable Object, on durableObjectStore (tests/tests/edge_workerd.rs):
//   GET /publish?n=N&qos=Q&tag=T  publishes N messages <TOPIC_PREFIX>/T/<i> (payload "T-<i>") and
//                                 answers once every save the client started has resolved
//   GET /drain                    connects (restoring the stored session) and answers once
//                                 nothing is pending
// Bindings: SESSION (this class's namespace), MQTT_URL, MQTT_SERVERNAME, MQTT_USERNAME,
// MQTT_PASSWORD, TOPIC_PREFIX.

import { DurableObject } from "cloudflare:workers";
import { connect, durableObjectStore } from "client-wasm";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Session extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    const inner = durableObjectStore(ctx.storage);
    this.saving = 0;
    this.saves = 0;
    // Counts saves in flight, so /publish can answer once the session is on disk.
    this.store = {
      load: (key) => inner.load(key),
      save: async (key, text) => {
        this.saving += 1;
        try {
          await inner.save(key, text);
          this.saves += 1;
        } finally {
          this.saving -= 1;
        }
      },
    };
    this.client = null;
  }

  open() {
    this.client ??= connect(this.env.MQTT_URL, {
      clientId: "session-do",
      clean: false,
      username: this.env.MQTT_USERNAME,
      password: this.env.MQTT_PASSWORD,
      servername: this.env.MQTT_SERVERNAME,
      reconnect: { initialMs: 200, maxMs: 1_000 },
      store: this.store,
    });
    return this.client;
  }

  async settled() {
    // Saves start after the calls return: wait until none has been in flight for 300 ms.
    for (let quiet = 0; quiet < 3; quiet += 1) {
      await sleep(100);
      if (this.saving > 0) quiet = -1;
    }
  }

  async fetch(request) {
    const url = new URL(request.url);
    const client = this.open();
    if (url.pathname === "/publish") {
      const n = Number(url.searchParams.get("n") ?? 10);
      const qos = Number(url.searchParams.get("qos") ?? 1);
      const tag = url.searchParams.get("tag") ?? "a";
      const savesBefore = this.saves;
      for (let i = 0; i < n; i += 1) {
        client.publish(`${this.env.TOPIC_PREFIX}/${tag}/${i}`, `${tag}-${i}`, { qos }).catch(() => {});
      }
      await this.settled();
      return Response.json({ accepted: n, pending: client.pendingCount, saves: this.saves - savesBefore, state: client.state.state });
    }
    if (url.pathname === "/drain") {
      const deadline = Date.now() + 20_000;
      while ((client.pendingCount > 0 || !client.connected) && Date.now() < deadline) await sleep(50);
      await this.settled();
      return Response.json({ pending: client.pendingCount, connected: client.connected, state: client.state.state });
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  fetch(request, env) {
    return env.SESSION.get(env.SESSION.idFromName("session")).fetch(request);
  },
};
