// Lets a cadre open her work list without a connection: pages, assets and the
// whole list as compact data (/cadre/list.json, rendered by cadre.js) are
// fetched from the network when it answers and from the last copy when it does
// not. Outcomes saved offline live in localStorage (cadre.js), not here.
//
// Signing out drops the copies of the work list (its families, names and
// numbers are the signed-out cadre's), so the next person to sign in on this
// phone never sees them offline. Unsent entries are not touched: they stay in
// localStorage, tagged with the cadre who made them, and only she sends them.
const CACHE = "telecollect-v1";
const OFFLINE_PAGES = [
  "/cadre",
  "/cadre/list.json",
  "/cadre/letter",
  "/static/app.css",
  "/static/page.js",
  "/static/cadre.js",
  "/static/outbox-guard.js",
];
const PERSONAL_PAGES = ["/cadre", "/cadre/list.json", "/cadre/letter"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(OFFLINE_PAGES).catch(() => {})));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

const LIST = "/cadre/list.json";

// The whole list: asked with the ETag of the copy kept here, so an unchanged list costs a 304 on a
// slow line; the copy answers when there is no connection.
async function freshList(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(LIST);
  const headers = new Headers(request.headers);
  if (kept && kept.headers.get("ETag")) headers.set("If-None-Match", kept.headers.get("ETag"));
  try {
    const response = await fetch(LIST, { headers, credentials: "same-origin", cache: "no-store" });
    if (response.status === 304 && kept) return kept;
    if (response.ok && !response.redirected) await cache.put(LIST, response.clone());
    return response;
  } catch (err) {
    return kept || Response.error();
  }
}

function forgetPersonalPages() {
  return caches.open(CACHE).then((cache) => Promise.all(PERSONAL_PAGES.map((path) => cache.delete(path))));
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin === location.origin && event.request.method === "POST" && url.pathname === "/logout") {
    event.waitUntil(forgetPersonalPages()); // the sign-out itself goes to the network untouched
    return;
  }
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  if (url.pathname === LIST) {
    event.respondWith(freshList(event.request));
    return;
  }
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        // Only a page served to a signed-in cadre is kept (a sign-in page after a redirect is not the list).
        if (response.ok && !response.redirected && OFFLINE_PAGES.includes(url.pathname)) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: true }))
  );
});

