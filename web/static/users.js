// User management (admin): list, create, disable or enable, reset the
// password of and delete users through the JSON API, called with Staff.api
// (staff.js: the session cookie, and the CSRF token on every unsafe
// request). Labels come from the message table the page carries
// (#messages).
(function () {
  "use strict";
  var t = Staff.t, $ = Staff.$, el = Staff.el, errorText = Staff.errorText, api = Staff.api;
  var me = document.body.dataset.userId;

  var flash = $("flash");
  function show(text, isError) {
    flash.textContent = text;
    flash.classList.toggle("error", !!isError);
    flash.hidden = false;
  }
  // --- reference lists: issuers and provinces for the create form -------
  var issuerNames = {}, provinceNames = {};
  function loadChoices() {
    return Promise.all([
      api("GET", "/api/v1/issuers").then(function (r) {
        if (!r.ok) { return; }
        var sel = $("new-issuer");
        r.body.items.forEach(function (is) {
          issuerNames[is.id] = is.name;
          sel.appendChild(el("option", { value: is.id }, is.name + "（" + is.id + "）"));
        });
      }),
      api("GET", "/api/v1/regions?level=province").then(function (r) {
        if (!r.ok) { return; }
        var sel = $("new-province");
        r.body.items.forEach(function (p) {
          provinceNames[p.code] = p.name;
          sel.appendChild(el("option", { value: p.code }, p.name));
        });
      })
    ]);
  }
  function roleChanged() {
    var role = $("new-role").value;
    $("issuer-field").hidden = role !== "issuer";
    $("province-field").hidden = role !== "official";
  }
  $("new-role").addEventListener("change", roleChanged);

  // --- the list ---------------------------------------------------------
  // The list draws only the answer to its latest load, so that a slower
  // earlier answer never draws over a later one; #user-rows says
  // data-state="loading" until that answer is drawn, then "ready".
  var loads = 0;
  function load() {
    var mine = ++loads;
    $("user-rows").dataset.state = "loading";
    var p = new URLSearchParams();
    ["role", "status"].forEach(function (n) {
      var v = $("filter-" + n).value;
      if (v) { p.set(n, v); }
    });
    var qs = p.toString();
    return api("GET", "/api/v1/users" + (qs ? "?" + qs : "")).then(function (r) {
      if (mine !== loads) { return; } // a later load draws the list
      var rows = $("user-rows");
      rows.dataset.state = "ready";
      if (!r.ok) { show(errorText(r.body), true); return; }
      rows.textContent = "";
      r.body.items.forEach(function (u) { rows.appendChild(row(u)); });
      $("user-empty").hidden = r.body.items.length > 0;
      document.body.dataset.loaded = "true";
    });
  }
  function cell(label, text, cls) {
    var td = el("td", { "data-label": label }, text);
    if (cls) { td.className = cls; }
    return td;
  }
  function row(u) {
    var tr = el("tr", { "data-username": u.username, "data-id": u.id, "data-disabled": String(u.disabled) });
    var name = cell(t("users.col_username"), u.username, "number");
    if (u.id === me) { name.appendChild(el("span", { "class": "hint" }, t("users.you"))); }
    tr.appendChild(name);
    tr.appendChild(cell(t("users.col_role"), t("role." + u.role)));
    var scope = "";
    if (u.role === "issuer") { scope = issuerNames[u.issuer_id] || u.issuer_id; }
    if (u.role === "official") { scope = u.province ? (provinceNames[u.province] || u.province) : t("users.national"); }
    tr.appendChild(cell(t("users.col_scope"), scope));
    var st = u.disabled ? "disabled" : "active";
    tr.appendChild(cell(t("users.col_status"), t("ustatus." + st), "ust-" + st));
    tr.appendChild(cell(t("users.col_created"), (u.created_at || "").slice(0, 10)));
    var actions = el("td", { "data-label": t("users.col_actions") });
    if (u.id !== me) {
      var toggle = u.disabled ?
        el("button", { type: "button", "class": "btn small enable", "data-id": u.id }, t("action.enable")) :
        el("button", { type: "button", "class": "btn small disable", "data-id": u.id }, t("action.disable"));
      toggle.addEventListener("click", function () { setDisabled(u, !u.disabled); });
      var reset = el("button", { type: "button", "class": "btn small reset", "data-id": u.id }, t("action.reset"));
      reset.addEventListener("click", function () { openReset(u); });
      var del = el("button", { type: "button", "class": "btn small danger delete", "data-id": u.id }, t("action.delete"));
      del.addEventListener("click", function () { openDelete(u); });
      actions.appendChild(toggle);
      actions.appendChild(reset);
      actions.appendChild(del);
    }
    tr.appendChild(actions);
    return tr;
  }
  ["role", "status"].forEach(function (n) { $("filter-" + n).addEventListener("change", load); });

  function setDisabled(u, disabled) {
    api("POST", "/api/v1/users/" + encodeURIComponent(u.id) + (disabled ? "/disable" : "/enable")).then(function (r) {
      if (!r.ok) { show(errorText(r.body), true); return; }
      show(disabled ? t("users.disabled", { username: u.username }) : t("users.enabled", { username: u.username }));
      load();
    });
  }

  // --- reset password and delete: dialogs --------------------------------
  var resetting = null, deleting = null;
  function openReset(u) {
    resetting = u;
    $("reset-username").textContent = u.username;
    $("reset-password").value = "";
    $("reset-dialog").showModal();
    $("reset-password").focus();
  }
  $("reset-cancel").addEventListener("click", function () { $("reset-dialog").close(); });
  $("reset-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var pw = $("reset-password").value;
    if (pw.length < 10) { $("reset-password").focus(); return; }
    var u = resetting;
    api("POST", "/api/v1/users/" + encodeURIComponent(u.id) + "/password", { password: pw }).then(function (r) {
      $("reset-dialog").close();
      if (!r.ok) { show(errorText(r.body), true); return; }
      show(t("users.reset_done", { username: u.username }));
      load();
    });
  });
  function openDelete(u) {
    deleting = u;
    $("delete-username").textContent = u.username;
    $("delete-dialog").showModal();
  }
  $("delete-cancel").addEventListener("click", function () { $("delete-dialog").close(); });
  $("delete-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var u = deleting;
    api("DELETE", "/api/v1/users/" + encodeURIComponent(u.id)).then(function (r) {
      $("delete-dialog").close();
      if (!r.ok) { show(errorText(r.body), true); return; }
      show(t("users.deleted", { username: u.username }));
      load();
    });
  });

  // --- create -----------------------------------------------------------
  $("create-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var role = $("new-role").value;
    var body = { username: $("new-username").value.trim(), password: $("new-password").value, role: role };
    if (role === "issuer") { body.issuer_id = $("new-issuer").value; }
    if (role === "official") { body.province = $("new-province").value; }
    api("POST", "/api/v1/users", body).then(function (r) {
      if (!r.ok) { show(errorText(r.body), true); return; }
      show(t("users.created", { username: r.body.username }));
      $("create-form").reset();
      roleChanged();
      load();
    });
  });

  roleChanged();
  loadChoices().then(load);
})();
