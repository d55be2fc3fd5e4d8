// The package in browsers (and the default): today's browser wasm, initialised at import with
// the .wasm next to this module, and its whole API (connect, MqttClient). `init` stays exported
// for pages that load the wasm themselves: import it from "client-wasm/client_wasm.js", which
// does not initialise on import, and call `await init({ module_or_path })` first.

import init from "./client_wasm.js";

export * from "./client_wasm.js";
export { init };

await init({ module_or_path: new URL("./client_wasm_bg.wasm", import.meta.url) });
