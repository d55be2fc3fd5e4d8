// Murano activation from an edge process (seed 000), legacy or current API:
//   legacy:    subscribe activate/<identity>, publish <identity> to "activate"; the reply is the password
//   provision: subscribe $provision/<identity>, publish an empty message there (QoS 1); the reply is the token
//
//   MQTT_URL=mqtts://<product>.m2.exosite.io IDENTITY=007 MODE=provision node activate.mjs
//   deno run --allow-net --allow-read --allow-env activate.mjs     (same variables)
//   bun activate.mjs
// Optional: MQTT_CA (a PEM file to trust), MQTT_SERVERNAME (the TLS name, when the URL's host is an address).
import { readFileSync } from "node:fs";
import { connect } from "client-wasm";

const env = process.env;
const identity = env.IDENTITY ?? "007";
const provision = (env.MODE ?? "legacy") === "provision";
const tls = {
  ...(env.MQTT_CA && { ca: readFileSync(env.MQTT_CA, "utf8") }),
  ...(env.MQTT_SERVERNAME && { servername: env.MQTT_SERVERNAME }),
};
const say = (event) => console.log(JSON.stringify(event));

// Anonymous, client id = identity, as Murano's activation expects.
const client = connect(env.MQTT_URL, { clientId: identity, reconnect: false, ...tls });
const reply = provision ? `$provision/${identity}` : `activate/${identity}`;
const password = new Promise((resolve) => {
  client.onMessage(({ topic, payload }) => {
    // $provision: our own empty request comes back on the same topic; the token is not empty.
    if (topic === reply && payload.length > 0) resolve(new TextDecoder().decode(payload));
  });
});
client.onState((s) => {
  if (s.state === "closed" && s.error) {
    say({ event: "error", code: s.error.code, tls: s.error.tls, message: s.error.message });
    process.exit(1);
  }
});

try {
  await client.subscribe(reply, 1);
  if (provision) await client.publish(reply, "", { qos: 1 });
  else await client.publish("activate", identity, { qos: 1 });
  const token = await Promise.race([
    password,
    new Promise((_, reject) => setTimeout(() => reject(Object.assign(new Error("no activation reply within 20 s"), { code: "timeout" })), 20_000)),
  ]);
  say({ event: "activated", identity, username: identity, password: token });
  client.end();
  process.exit(0);
} catch (error) {
  say({ event: "error", code: error.code, tls: error.tls, message: error.message });
  process.exit(1);
}
