// A Worker that publishes one QoS 1 message over mutual TLS, with TLS inside the package
// (`client-wasm/tls`: rustls in the wasm over cloudflare:sockets' plain socket), since workerd's
// own TLS takes no client certificate and no per-connection CA. Bindings (wrangler.toml [vars]
// and secrets, or the workerd config): MQTT_URL (mqtts://...), MQTT_CA (PEM; replaces the web
// roots), MQTT_CERT and MQTT_KEY (PEM, the device's certificate and key), optional
// MQTT_SERVERNAME, MQTT_USERNAME, MQTT_PASSWORD.
//
//   POST /?topic=dev1/temperature  (body: the message)  ->  200 {"published":..., "connectedMs":...}
//   a failure                                            ->  502 {"code":"tls", "tls":"client_cert_refused", ...}

import { connect } from "client-wasm/tls";

export default {
  async fetch(request, env) {
    const params = new URL(request.url).searchParams;
    const topic = params.get("topic") ?? "edge/worker";
    const message = request.method === "POST" ? await request.text() : (params.get("message") ?? "hello over mutual TLS");
    const started = Date.now();
    let connectedMs;
    let client;
    try {
      client = connect(env.MQTT_URL, {
        ca: env.MQTT_CA,
        cert: env.MQTT_CERT,
        key: env.MQTT_KEY,
        servername: env.MQTT_SERVERNAME,
        username: env.MQTT_USERNAME,
        password: env.MQTT_PASSWORD,
        reconnect: false,
        connectTimeoutMs: 5_000,
      });
      client.onState((s) => {
        if (s.state === "connected") connectedMs ??= Date.now() - started;
      });
      await client.publish(topic, message, { qos: 1 }); // settles on PUBACK
      return Response.json({ published: topic, connectedMs, ms: Date.now() - started });
    } catch (error) {
      return Response.json({ code: error.code, tls: error.tls, message: error.message, ms: Date.now() - started }, { status: 502 });
    } finally {
      client?.end();
    }
  },
};
