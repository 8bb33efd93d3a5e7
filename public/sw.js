// praxisbote service worker: precaches the app shell so the app starts without network.
//
// `cargo xtask` fills in PB_VERSION and PB_PRECACHE after every Trunk build (see
// xtask/src/precache.rs): the list holds every file of dist/ with its hashed name, and the
// version is a hash over their contents, so a new build installs a new cache and the page
// offers "Neue Version verfügbar — neu laden".
const PB_VERSION = "dev";
const PB_PRECACHE = [];

const CACHE = "praxisbote-" + PB_VERSION;
const scoped = (path) => new URL(path, self.registration.scope).href;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      cache.addAll(PB_PRECACHE.map((p) => new Request(scoped(p), { cache: "reload" })))
    )
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith("praxisbote-") && k !== CACHE)
            .map((k) => caches.delete(k))
        )
      )
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skipWaiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname.slice(new URL(self.registration.scope).pathname.length);
  // The relay's API, its unsubscribe and its confirmation pages always go to the network.
  if (path.startsWith("v1/") || path.startsWith("u/") || path.startsWith("b/")) return;
  if (req.mode === "navigate") {
    // App shell first (works offline); the page itself reads the query string.
    event.respondWith(
      caches
        .open(CACHE)
        .then((cache) => cache.match(scoped("index.html")))
        .then((hit) => hit || fetch(req))
    );
    return;
  }
  event.respondWith(
    caches
      .open(CACHE)
      .then((cache) => cache.match(req, { ignoreSearch: true }))
      .then((hit) => hit || fetch(req))
  );
});
