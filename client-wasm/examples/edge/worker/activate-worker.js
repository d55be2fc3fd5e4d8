// Murano activation (seed 000) from an edge function: the device's identity in, its password
// out. Legacy API: subscribe activate/<identity>, publish the identity on `activate`, the reply
// is the password. Current API (?provision=1): subscribe $provision/<identity>, publish an empty
// message there, the non-empty message that comes back is the token. Murano stays silent for an
// identity already activated: 504 after REPLY_TIMEOUT_MS. Bindings: MQTT_URL (e.g.
// mqtts://<product>.m2.exosite.io:8883), optional MQTT_SERVERNAME.
//
//   GET /activate?identity=007[&provision=1]  -> 200 {"username": "007", "password": "..."}
//   GET /console?identity=007&password=...&resource=temperature&value=32
//       the console of seed 000: publishes <identity>/<resource>, answers with the messages
//       that arrive on <identity>/# (the echo, then the first value written on the platform
//       side) -> 200 {"received": [{"topic": ..., "payload": ...}, ...]}

import { connect } from "client-wasm";

const REPLY_TIMEOUT_MS = 5_000;

export async function activate(url, identity, { provision = false, servername } = {}) {
  const client = connect(url, { clientId: identity, servername, reconnect: false, connectTimeoutMs: 5_000 });
  try {
    const topic = provision ? `$provision/${identity}` : `activate/${identity}`;
    const reply = new Promise((resolve) => {
      client.onMessage((message) => {
        // Our own empty request on $provision/<identity> comes back too: only a payload counts.
        if (message.topic === topic && message.payload.length > 0) resolve(new TextDecoder().decode(message.payload));
      });
    });
    await client.subscribe(topic, 1);
    await client.publish(provision ? topic : "activate", provision ? "" : identity, { qos: 1 });
    let timer;
    const silence = new Promise((resolve) => (timer = setTimeout(resolve, REPLY_TIMEOUT_MS, null)));
    const password = await Promise.race([reply, silence]);
    clearTimeout(timer);
    return password;
  } finally {
    client.end();
  }
}

/** Publishes one value as the device and collects what comes back: the echo, then a platform write. */
export async function consoleRoundTrip(url, { identity, password, resource, value, servername }) {
  const client = connect(url, { clientId: identity, username: identity, password, servername, reconnect: false, connectTimeoutMs: 5_000 });
  try {
    const received = [];
    const done = new Promise((resolve) => {
      client.onMessage((message) => {
        received.push({ topic: message.topic, payload: new TextDecoder().decode(message.payload) });
        if (received.length === 2) resolve();
      });
    });
    await client.subscribe(`${identity}/#`, 1);
    await client.publish(`${identity}/${resource}`, value, { qos: 1 });
    let timer;
    await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, REPLY_TIMEOUT_MS * 2)))]);
    clearTimeout(timer);
    return received;
  } finally {
    client.end();
  }
}

export default {
  async fetch(request, env) {
    const params = new URL(request.url).searchParams;
    const identity = params.get("identity");
    if (!identity) return Response.json({ message: "identity is required" }, { status: 400 });
    try {
      if (new URL(request.url).pathname === "/console") {
        const received = await consoleRoundTrip(env.MQTT_URL, {
          identity,
          password: params.get("password") ?? "",
          resource: params.get("resource") ?? "temperature",
          value: params.get("value") ?? "",
          servername: env.MQTT_SERVERNAME,
        });
        return Response.json({ received });
      }
      const password = await activate(env.MQTT_URL, identity, { provision: params.get("provision") === "1", servername: env.MQTT_SERVERNAME });
      if (password === null) return Response.json({ code: "no_reply", message: `no activation reply for ${identity} (already activated?)` }, { status: 504 });
      return Response.json({ username: identity, password });
    } catch (error) {
      return Response.json({ code: error.code, tls: error.tls, message: error.message }, { status: 502 });
    }
  },
};
