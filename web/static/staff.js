// Shared by the staff pages' scripts (portal.js, users.js), loaded before
// them: the page's message table (#messages), its CSRF token
// (<meta name=csrf-token>) and the JSON API call through which every
// request of theirs goes, the unsafe ones with the X-CSRF-Token header.
// The session cookie authenticates.
var Staff = (function () {
  "use strict";
  var M = JSON.parse(document.getElementById("messages").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  // t returns the label id with {name} placeholders filled from vars.
  function t(id, vars) {
    var s = M[id] || id;
    if (vars) {
      Object.keys(vars).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    }
    return s;
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  // errorText is the message of an API error body.
  function errorText(body) {
    if (body && body.error) {
      return t("error.generic") + "：" + body.error.message;
    }
    return t("error.generic");
  }
  // api sends a request (a JSON body, or a FormData when isForm) and
  // resolves to {ok, status, body}.
  function api(method, path, body, isForm) {
    var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") { opts.headers["X-CSRF-Token"] = csrf; }
    if (body !== undefined) {
      if (isForm) { opts.body = body; } else {
        opts.headers["Content-Type"] = "application/json";
        opts.body = JSON.stringify(body);
      }
    }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return { ok: r.ok, status: r.status, body: b }; });
    }, function () { return { ok: false, status: 0, body: { error: { message: t("error.network") } } }; });
  }
  return { t: t, $: $, el: el, errorText: errorText, api: api };
})();
