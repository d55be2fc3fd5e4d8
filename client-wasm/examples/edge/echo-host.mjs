// The Azure Sphere echo host (seed 003) as a long-running Node, Deno or Bun process: every
// message on azuresphere/sample/host goes back on azuresphere/sample/device rotated left by
// one character ("hello" -> "elloh"; ROTATE=right gives "ohell"), by characters, never bytes.
// It reconnects by itself; stop it with Ctrl-C.
//
//   MQTT_URL=mqtts://broker:8883 MQTT_CA=trusted.crt MQTT_CERT=device.crt MQTT_KEY=device.key node echo-host.mjs
//   deno run --allow-net --allow-read --allow-env echo-host.mjs
// Optional: MQTT_SERVERNAME, MQTT_USERNAME / MQTT_PASSWORD, CLIENT_ID, IN_TOPIC, OUT_TOPIC.
import { readFileSync } from "node:fs";
import { connect } from "client-wasm";

const env = process.env;
const inTopic = env.IN_TOPIC ?? "azuresphere/sample/host";
const outTopic = env.OUT_TOPIC ?? "azuresphere/sample/device";
const file = (path) => path && readFileSync(path, "utf8");
const say = (event) => console.log(JSON.stringify(event));

function rotate(text, direction) {
  const chars = [...text]; // code points: a UTF-8 character is never split
  if (chars.length < 2) return text;
  return direction === "right"
    ? chars.at(-1) + chars.slice(0, -1).join("")
    : chars.slice(1).join("") + chars[0];
}

const client = connect(env.MQTT_URL, {
  clientId: env.CLIENT_ID ?? "echo-host",
  ...(env.MQTT_USERNAME && { username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD }),
  ...(env.MQTT_CA && { ca: file(env.MQTT_CA) }),
  ...(env.MQTT_CERT && { cert: file(env.MQTT_CERT), key: file(env.MQTT_KEY) }),
  ...(env.MQTT_SERVERNAME && { servername: env.MQTT_SERVERNAME }),
});
client.onState((s) => {
  if (s.state !== "connecting") say({ event: "state", state: s.state, code: s.error?.code, tls: s.error?.tls });
  if (s.state === "closed") process.exit(1);
});
client.onMessage(({ topic, payload }) => {
  if (topic !== inTopic) return;
  const text = new TextDecoder().decode(payload);
  const echoed = rotate(text, env.ROTATE ?? "left");
  client.publish(outTopic, echoed, { qos: 1 }).then(
    () => say({ event: "echoed", in: text, out: echoed }),
    (error) => say({ event: "publish_failed", code: error.code, message: error.message }),
  );
});
client.subscribe(inTopic, 1).then(
  () => say({ event: "subscribed", topic: inTopic }),
  (error) => {
    say({ event: "error", code: error.code, tls: error.tls, message: error.message });
    process.exit(1);
  },
);
