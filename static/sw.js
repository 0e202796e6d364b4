// Lets a cadre open her work list without a connection: pages and assets are
// fetched from the network when it answers and from the last copy when it does
// not. Outcomes saved offline live in localStorage (cadre.js), not here.
const CACHE = "telecollect-v1";
const OFFLINE_PAGES = ["/cadre", "/cadre/letter", "/static/app.css", "/static/cadre.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(OFFLINE_PAGES).catch(() => {})));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && OFFLINE_PAGES.includes(url.pathname)) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request))
  );
});
