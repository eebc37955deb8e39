"""The tracking snippet served at ``GET /t.js`` (docs/tracking.md, "The snippet"): no dependencies, no cookies
before consent, a first-party random id in the site's own localStorage after it.

Contract (on the lender's page):

    <script src="https://UPSWING/t.js" data-site="SITE_KEY" defer></script>

* consent: ``window.upswingConsent = "granted" | "implied" | "denied"`` (set by the site's consent banner before
  or after the script loads), or ``upswing.consent(true | false)`` (an explicit opt-in / withdrawal, which wins).
  No consent state, or ``navigator.globalPrivacyControl`` (Do Not Sell or Share): the anonymous daily count only.
* ``upswing.page()`` (sent once on load), ``upswing.track(name, properties)``,
  ``upswing.identify({link_token} | {external_id | email, user_hash})``; a ``?upswing_t=TOKEN`` in the page's URL
  is sent as a link token and removed from the address bar.
* calls made before the script loaded (``window.upswing = window.upswing || []; upswing.push(["track", …])``)
  are replayed.
"""

SNIPPET = r"""/* Upswing first-party tracking: docs/tracking.md. Nothing per visitor without consent. */
(function (w, d) {
  "use strict";
  var script = d.currentScript || d.querySelector("script[data-site]");
  if (!script) return;
  var siteKey = script.getAttribute("data-site");
  var endpoint = new URL(script.src, w.location.href).origin + "/api/v1/tracking/";
  var ID_KEY = "upswing_aid";
  var explicit = null;
  var queued = Array.isArray(w.upswing) ? w.upswing : [];

  function consent() {
    if (explicit === false) return "none";
    if (w.navigator && w.navigator.globalPrivacyControl === true && explicit !== true) return "none";
    if (explicit === true) return "granted";
    var v = w.upswingConsent;
    return v === "granted" || v === "implied" ? v : "none";
  }
  function store() { try { return w.localStorage; } catch (e) { return null; } }
  function anonymousId() {
    var s = store(), id = s && s.getItem(ID_KEY);
    if (id) return id;
    var bytes = new Uint8Array(16);
    w.crypto.getRandomValues(bytes);
    id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    if (s) s.setItem(ID_KEY, id);
    return id;
  }
  function forget() { var s = store(); if (s) s.removeItem(ID_KEY); }
  function send(kind, body) {
    var state = consent();
    body.site_key = siteKey;
    body.consent = state;
    body.path = w.location.pathname;
    if (state !== "none") body.anonymous_id = anonymousId();
    else if (kind === "identify") return Promise.resolve(null);
    /* text/plain keeps it a simple CORS request (no preflight); the API reads the JSON body. */
    return w.fetch(endpoint + kind, { method: "POST", body: JSON.stringify(body), keepalive: true,
      credentials: "omit", headers: { "Content-Type": "text/plain;charset=UTF-8" } })
      .then(function (r) { return r.ok ? r.json() : null; }, function () { return null; });
  }
  var api = {
    consent: function (granted) { explicit = !!granted; if (!granted) forget(); },
    page: function () { return send("page", {}); },
    track: function (name, properties) { return send("track", { name: String(name), properties: properties || {} }); },
    identify: function (proof) {
      var body = {}, k;
      for (k in proof || {}) if (Object.prototype.hasOwnProperty.call(proof, k)) body[k] = proof[k];
      return send("identify", body);
    },
    consentState: consent
  };
  w.upswing = api;
  for (var i = 0; i < queued.length; i++) {
    var call = queued[i];
    if (call && api[call[0]]) api[call[0]].apply(null, call.slice(1));
  }
  var ready = api.page();
  var params = new URLSearchParams(w.location.search), token = params.get("upswing_t");
  if (token) {
    params.delete("upswing_t");
    var rest = params.toString();
    w.history.replaceState(null, "", w.location.pathname + (rest ? "?" + rest : "") + w.location.hash);
    ready.then(function () { return api.identify({ link_token: token }); });
  }
})(window, document);
"""
