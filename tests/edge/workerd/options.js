// What connect() in workerd says to options it cannot honour (tests/tests/edge_workerd.rs).
import { connect } from "client-wasm";

function attempt(options) {
  try {
    connect("mqtts://127.0.0.1:1", { reconnect: false, ...options }).end();
    return "accepted";
  } catch (error) {
    return error.code ?? String(error);
  }
}

export default {
  fetch() {
    return Response.json({
      cert: attempt({ cert: "PEM", key: "PEM" }),
      rejectUnauthorized: attempt({ rejectUnauthorized: false }),
      ca: attempt({ ca: "PEM" }),
    });
  },
};
