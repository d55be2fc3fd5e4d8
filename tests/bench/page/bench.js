// The browser-client benchmark: one run of one client per page load. The runner
// (tests/bench/src/browser.rs) loads index.html?client=...&mode=... and polls
// `window.benchResult`: `{ ok: true, count, seconds, rate, ... }` or `{ ok: false, error }`.
// The page connects (and subscribes), sets `window.benchStatus = "ready"` and waits for the runner
// to call `window.benchGo()`, so that the runner can read Chromium's CPU counters right before.
// With `go=auto` it starts by itself.
//
// Query parameters:
//   client    "ours" (client-wasm, ./pkg/client_wasm.js) or "mqttjs" (./mqtt.min.js, global `mqtt`)
//   mode      "qos0": subscribe to a topic, publish QoS 0 to it, count messages received, keeping
//                     `window` messages outstanding (published and not yet received back);
//             "qos1": publish QoS 1 (nobody subscribed), count acknowledged publishes (PUBACK
//                     settles the promise / calls the callback), `window` un-acked at a time
//   size      payload bytes (one Uint8Array, the same bytes for every message)
//   window    outstanding messages
//   warmup    ms after the first publish before counting starts
//   duration  ms counted
//   clean     "false": a persistent session (client-wasm keeps it in IndexedDB, MQTT.js in its
//             in-memory store); default "true"
//   share     a client id: two tabs, one connection. client-wasm connects with it and
//             `share: true`, so the second page to load goes through the first one's connection;
//             MQTT.js, which cannot share, gives each page a connection of its own
//   hold      "true": this page only connects and holds the connection (the first tab of a
//             `share` pair): no subscription, no publishing, status "holding"
//   url       the bridge's MQTT WebSocket URL (default ws://<this host>/mqtt)
//   user, password
//
// Both clients get the same MQTT semantics: 3.1.1, clean session (unless clean=false), keepalive 60 s, no reconnect,
// 10 s connect timeout, QoS 0 subscription. Only the client under test is loaded.

const q = new URLSearchParams(location.search);
const cfg = {
  client: q.get("client"),
  mode: q.get("mode"),
  size: Number(q.get("size") || 1024),
  window: Number(q.get("window") || 16),
  warmupMs: Number(q.get("warmup") || 500),
  durationMs: Number(q.get("duration") || 3000),
  url: q.get("url") || `ws://${location.host}/mqtt`,
  username: q.get("user") || undefined,
  password: q.get("password") || undefined,
  clean: q.get("clean") !== "false",
  keepalive: 60,
  connectTimeoutMs: 10000,
  autoGo: q.get("go") === "auto",
  share: q.get("share") || null,
  hold: q.get("hold") === "true",
};
const tag = Math.random().toString(16).slice(2, 10);
// A shared connection is one client id; MQTT.js's second page needs an id of its own, or the
// broker would drop the first connection (MQTT-3.1.4-2).
const clientId = cfg.share
  ? cfg.client === "ours" || cfg.hold ? cfg.share : `${cfg.share}-${tag}`
  : `bench-${cfg.client}-${tag}`;
const topic = `bench/browser/${cfg.client}-${tag}`;

window.benchResult = null;
const status = (text) => {
  window.benchStatus = text;
  document.getElementById("status").textContent = text;
};
const describe = (e) =>
  e && e.code ? `${e.code}: ${e.message}` : (e && e.message) || String(e);

let settled = false;
let stopping = false;
let client = null;
function finish(result) {
  if (settled) return;
  settled = true;
  stopping = true;
  try {
    if (client) client.end();
  } catch (e) {
    result.endError = describe(e);
  }
  window.benchResult = result;
  status(JSON.stringify(result));
}
const fail = (error) => finish({ ok: false, error: String(error) });
window.addEventListener("error", (e) => fail(`page error: ${e.message}`));
window.addEventListener("unhandledrejection", (e) =>
  fail(`unhandled rejection: ${describe(e.reason)}`),
);
// The runner also has a deadline; this one names the state the page was stuck in. A holding
// page lives as long as the runner keeps its tab.
if (!cfg.hold) setTimeout(
  () => fail(`timed out in the page while: ${window.benchStatus}`),
  cfg.warmupMs + cfg.durationMs + 20000,
);

/** client-wasm through its JavaScript API. */
async function ours() {
  status("loading client-wasm");
  const mod = await import("./pkg/client_wasm.js");
  await mod.default();
  status("connecting");
  const c = mod.connect(cfg.url, {
    clientId,
    username: cfg.username,
    password: cfg.password,
    clean: cfg.clean,
    keepalive: cfg.keepalive,
    reconnect: false,
    connectTimeoutMs: cfg.connectTimeoutMs,
    share: cfg.share !== null,
  });
  let lost = () => {};
  await new Promise((resolve, reject) =>
    c.onState((s) => {
      if (s.state === "connected") {
        resolve();
      } else if (s.state === "closed") {
        const why = `connection closed: ${s.code}: ${s.reason}`;
        reject(new Error(why));
        lost(why);
      }
    }),
  );
  // The second page of a pair must go through the first one's connection.
  const wanted = cfg.share === null ? "solo" : cfg.hold ? "leader" : "follower";
  if (c.role !== wanted) throw new Error(`this tab is the ${c.role}, not the ${wanted}`);
  return {
    async subscribe(t) {
      await c.subscribe(t, 0);
    },
    onMessage(cb) {
      c.onMessage((m) => cb(m.payload));
    },
    // QoS 0 resolves when handed to the WebSocket; nothing to wait for.
    publish0(t, p) {
      c.publish(t, p, { qos: 0 });
    },
    publish1(t, p, done) {
      c.publish(t, p, { qos: 1 }).then(() => done(null), done);
    },
    onLost(cb) {
      lost = cb;
    },
    end() {
      c.end();
    },
  };
}

/** MQTT.js from its browser bundle (dist/mqtt.min.js defines the global `mqtt`). */
async function mqttjs() {
  status("loading MQTT.js");
  await new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = "mqtt.min.js";
    s.onload = resolve;
    s.onerror = () => reject(new Error("cannot load mqtt.min.js"));
    document.head.appendChild(s);
  });
  status("connecting");
  const c = window.mqtt.connect(cfg.url, {
    protocolVersion: 4,
    clientId,
    username: cfg.username,
    password: cfg.password,
    clean: cfg.clean,
    keepalive: cfg.keepalive,
    reconnectPeriod: 0,
    connectTimeout: cfg.connectTimeoutMs,
  });
  let lost = () => {};
  await new Promise((resolve, reject) => {
    c.once("connect", resolve);
    c.on("error", (e) => {
      reject(e);
      lost(`error: ${describe(e)}`);
    });
    c.on("close", () => {
      reject(new Error("connection closed"));
      lost("connection closed");
    });
  });
  return {
    subscribe(t) {
      return new Promise((resolve, reject) =>
        c.subscribe(t, { qos: 0 }, (err, granted) => {
          if (err) reject(err);
          else if (!granted || !granted[0] || granted[0].qos === 128)
            reject(new Error("subscription refused"));
          else resolve();
        }),
      );
    },
    onMessage(cb) {
      c.on("message", (_topic, payload) => cb(payload));
    },
    publish0(t, p) {
      c.publish(t, p, { qos: 0 });
    },
    publish1(t, p, done) {
      c.publish(t, p, { qos: 1 }, (err) => done(err || null));
    },
    onLost(cb) {
      lost = cb;
    },
    end() {
      c.end(true);
    },
  };
}

async function main() {
  if (cfg.client !== "ours" && cfg.client !== "mqttjs") throw new Error(`unknown client ${cfg.client}`);
  if (cfg.mode !== "qos0" && cfg.mode !== "qos1") throw new Error(`unknown mode ${cfg.mode}`);
  client = cfg.client === "ours" ? await ours() : await mqttjs();
  client.onLost((why) => {
    if (!stopping) fail(why);
  });
  if (cfg.hold) {
    status("holding");
    return;
  }
  const payload = new Uint8Array(cfg.size);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;

  let count = 0;
  let total = 0;
  let from = 0;
  let until = 0;
  const start = () => {
    from = performance.now() + cfg.warmupMs;
    until = from + cfg.durationMs;
    // Nothing after `until` (a stall): the run fails instead of reporting a partial rate.
    setTimeout(() => {
      if (!stopping) fail(`stalled: ${count} counted, none after ${cfg.warmupMs + cfg.durationMs} ms`);
    }, cfg.warmupMs + cfg.durationMs + 3000);
    status("running");
  };
  const done = () =>
    finish({
      ok: true,
      count,
      total,
      seconds: cfg.durationMs / 1000,
      rate: count / (cfg.durationMs / 1000),
      userAgent: navigator.userAgent,
    });
  // Counts one completion; false once the measured interval is over.
  const tick = () => {
    total++;
    const now = performance.now();
    if (now >= until) {
      done();
      return false;
    }
    if (now >= from) count++;
    return true;
  };

  if (cfg.mode === "qos0") {
    status("subscribing");
    await client.subscribe(topic);
    let checked = false;
    client.onMessage((p) => {
      if (stopping) return;
      if (!checked) {
        checked = true;
        const same =
          p.length === payload.length &&
          p[0] === payload[0] &&
          p[p.length - 1] === payload[payload.length - 1];
        if (!same) {
          fail(`the first message came back changed (${p.length} bytes)`);
          return;
        }
      }
      if (tick()) client.publish0(topic, payload);
    });
    ready(() => {
      start();
      for (let i = 0; i < cfg.window; i++) client.publish0(topic, payload);
    });
  } else {
    const acked = (err) => {
      if (stopping) return;
      if (err) {
        fail(`publish failed: ${describe(err)}`);
        return;
      }
      if (tick()) client.publish1(topic, payload, acked);
    };
    ready(() => {
      start();
      for (let i = 0; i < cfg.window; i++) client.publish1(topic, payload, acked);
    });
  }
}

/** Runs `go` when the runner calls `window.benchGo()` (or at once with `go=auto`). */
function ready(go) {
  if (cfg.autoGo) {
    go();
    return;
  }
  let started = false;
  window.benchGo = () => {
    if (started || stopping) return false;
    started = true;
    go();
    return true;
  };
  status("ready");
}

main().catch((e) => fail(`${window.benchStatus}: ${describe(e)}`));
