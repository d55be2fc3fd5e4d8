// Publish a value the way seed 000's publish.py does (the Murano console): log in as the
// device, subscribe <identity>/#, publish <identity>/<resource> at QoS 1 and resolve on PUBACK;
// with LISTEN=N, print the next N messages on the device's tree (the echo of our own publish,
// values written on the platform) and exit.
//
//   MQTT_URL=mqtts://<product>.m2.exosite.io IDENTITY=007 PASSWORD=... RESOURCE=temperature VALUE=32 node publish.mjs
// Optional: MQTT_CA, MQTT_SERVERNAME (as in activate.mjs), LISTEN.
import { readFileSync } from "node:fs";
import { connect } from "client-wasm";

const env = process.env;
const identity = env.IDENTITY ?? "007";
const listen = Number(env.LISTEN ?? 0);
const say = (event) => console.log(JSON.stringify(event));
const client = connect(env.MQTT_URL, {
  clientId: env.CLIENT_ID ?? `${identity}-console`,
  username: identity,
  password: env.PASSWORD,
  reconnect: false,
  ...(env.MQTT_CA && { ca: readFileSync(env.MQTT_CA, "utf8") }),
  ...(env.MQTT_SERVERNAME && { servername: env.MQTT_SERVERNAME }),
});

let seen = 0;
client.onMessage(({ topic, payload }) => {
  say({ event: "message", topic, payload: new TextDecoder().decode(payload) });
  if (++seen >= listen) {
    client.end();
    process.exit(0);
  }
});

try {
  if (listen > 0) await client.subscribe(`${identity}/#`, 1);
  say({ event: "subscribed" });
  const topic = `${identity}/${env.RESOURCE ?? "temperature"}`;
  await client.publish(topic, env.VALUE ?? "32", { qos: 1 });
  say({ event: "published", topic });
  if (listen === 0) {
    client.end();
    process.exit(0);
  }
} catch (error) {
  say({ event: "error", code: error.code, tls: error.tls, message: error.message });
  process.exit(1);
}
