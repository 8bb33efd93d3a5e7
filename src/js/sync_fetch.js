// Imported by wasm-bindgen (`module = "/src/js/sync_fetch.js"`), used by
// src/storage/sync/fetch.rs. A file, not inline JS: each wasm module built from this crate
// gets the same snippet path, so their copies never clash.
//
// One HTTP request to a CouchDB database with a deadline: the AbortController aborts the
// request (and the reading of its body) after `timeoutMs`. Resolves with {status, body}
// (body: Uint8Array) for any HTTP status; rejects with an Error whose name is "Timeout" when
// the deadline passed, else with the browser's error (offline, refused, CORS).
export async function pb_sync_fetch(url, method, auth, body, timeoutMs) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const headers = { Accept: "application/json" };
  if (auth) headers.Authorization = auth;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    const response = await fetch(url, {
      method,
      headers,
      body,
      credentials: "omit",
      cache: "no-store",
      signal: controller.signal,
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, body: bytes };
  } catch (e) {
    if (timedOut) {
      const err = new Error(`no answer within ${timeoutMs} ms`);
      err.name = "Timeout";
      throw err;
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
