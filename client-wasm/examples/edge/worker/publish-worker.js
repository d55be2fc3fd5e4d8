// A Worker whose fetch handler publishes one QoS 1 message and answers once the broker's PUBACK
// has arrived. Bindings (wrangler.toml [vars], or the workerd config): MQTT_URL (e.g.
// mqtts://broker.example.com:8883), optional MQTT_SERVERNAME, MQTT_USERNAME, MQTT_PASSWORD.
//
//   POST /?topic=dev1/temperature  (body: the message)  ->  200 {"published":..., "bytes":...}
//   a failure                                            ->  502 {"code":..., "tls":..., "message":...}

import { connect } from "client-wasm";

export default {
  async fetch(request, env) {
    const params = new URL(request.url).searchParams;
    const topic = params.get("topic") ?? "edge/worker";
    const message = request.method === "POST" ? await request.text() : (params.get("message") ?? "hello from a Worker");
    let client;
    try {
      client = connect(env.MQTT_URL, {
        username: env.MQTT_USERNAME,
        password: env.MQTT_PASSWORD,
        servername: env.MQTT_SERVERNAME,
        reconnect: false, // one request, one attempt: a failure is the answer
        connectTimeoutMs: 5_000,
      });
      await client.publish(topic, message, { qos: 1 });
      return Response.json({ published: topic, bytes: new TextEncoder().encode(message).length });
    } catch (error) {
      return Response.json({ code: error.code, tls: error.tls, message: error.message }, { status: 502 });
    } finally {
      client?.end();
    }
  },
};
