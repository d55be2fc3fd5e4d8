// durableObjectStore in a Durable Object, driven over HTTP (tests/tests/edge_workerd.rs):
//   GET /save?key=K&size=N  saves N characters under K  -> {saved: N} or {name, message}
//   GET /load?key=K         -> {length: n | null, sample}
//   GET /delete?key=K       -> {deleted: true}
import { DurableObject } from "cloudflare:workers";
import { durableObjectStore } from "client-wasm";

export class Store extends DurableObject {
  async fetch(request) {
    const store = durableObjectStore(this.ctx.storage);
    const params = new URL(request.url).searchParams;
    const key = params.get("key") ?? "client";
    const path = new URL(request.url).pathname;
    try {
      if (path === "/save") {
        const size = Number(params.get("size") ?? 10);
        await store.save(key, "x".repeat(Math.max(0, size - 1)) + "!");
        return Response.json({ saved: size });
      }
      if (path === "/load") {
        const text = await store.load(key);
        return Response.json({ length: text === null ? null : text.length, sample: text?.slice(-3) ?? null });
      }
      if (path === "/delete") {
        await store.save(key, null);
        return Response.json({ deleted: true });
      }
    } catch (error) {
      return Response.json({ name: error.name, message: error.message });
    }
    return new Response("not found", { status: 404 });
  }
}

export default {
  fetch(request, env) {
    return env.STORE.get(env.STORE.idFromName("store")).fetch(request);
  },
};
