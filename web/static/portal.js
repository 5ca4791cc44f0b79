// The portal: an issuer's staff list, issue, import, print and revoke
// certificates through the JSON API. The session cookie authenticates;
// every unsafe request carries the CSRF token from <meta name=csrf-token>
// in the X-CSRF-Token header. Labels come from the message table the page
// carries (#messages), never from this file.
(function () {
  "use strict";
  var M = JSON.parse(document.getElementById("messages").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var canIssue = document.body.dataset.canIssue === "true";

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
  function show(node, text, isError) {
    node.textContent = text;
    node.classList.toggle("error", !!isError);
    node.hidden = false;
  }
  function errorText(body) {
    if (body && body.error) {
      return t("error.generic") + "：" + body.error.message;
    }
    return t("error.generic");
  }

  // api sends a request and resolves to {ok, status, body}.
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

  // --- the list ---------------------------------------------------------
  var page = 1, pages = 1;
  var flash = $("flash");

  function query() {
    var f = $("search"), p = new URLSearchParams();
    ["q", "occupation", "level", "status"].forEach(function (n) {
      var v = f.elements[n].value.trim();
      if (v) { p.set(n, v); }
    });
    p.set("page", page);
    p.set("per_page", 20);
    return p.toString();
  }

  function load() {
    return api("GET", "/api/v1/certificates?" + query()).then(function (r) {
      if (!r.ok) { show(flash, errorText(r.body), true); return; }
      var rows = $("cert-rows");
      rows.textContent = "";
      r.body.items.forEach(function (c) { rows.appendChild(row(c)); });
      $("cert-empty").hidden = r.body.items.length > 0;
      pages = Math.max(1, Math.ceil(r.body.total / 20));
      $("page-info").textContent = t("list.page", { page: page, pages: pages, total: r.body.total });
      $("page-prev").disabled = page <= 1;
      $("page-next").disabled = page >= pages;
    });
  }

  function cell(label, text, cls) {
    var td = el("td", { "data-label": label }, text);
    if (cls) { td.className = cls; }
    return td;
  }

  function row(c) {
    var tr = el("tr", { "data-number": c.number });
    tr.appendChild(cell(t("col.number"), c.number, "number"));
    tr.appendChild(cell(t("col.holder"), c.holder_name + " " + c.holder_id_masked));
    tr.appendChild(cell(t("col.occupation"), c.occupation_name + "（" + c.occupation_code + "）"));
    tr.appendChild(cell(t("col.level"), c.level_name));
    tr.appendChild(cell(t("col.status"), t("status." + c.status), "st-" + c.status));
    tr.appendChild(cell(t("col.issued_on"), c.issued_on));
    var actions = el("td", { "data-label": t("col.actions") });
    if (c.status === "valid") {
      var p = el("button", { type: "button", "class": "btn small print", "data-number": c.number }, t("action.print"));
      p.addEventListener("click", function () { printOne(c.number); });
      var v = el("button", { type: "button", "class": "btn small danger revoke", "data-number": c.number }, t("action.revoke"));
      v.addEventListener("click", function () { askRevoke(c.number); });
      actions.appendChild(p);
      actions.appendChild(v);
    }
    tr.appendChild(actions);
    return tr;
  }

  $("search").addEventListener("submit", function (e) { e.preventDefault(); page = 1; load(); });
  $("page-prev").addEventListener("click", function () { if (page > 1) { page--; load(); } });
  $("page-next").addEventListener("click", function () { if (page < pages) { page++; load(); } });

  // --- print: a ticket, then a link to the print page -------------------
  function printOne(number) {
    api("POST", "/api/v1/print-tickets", { numbers: [number] }).then(function (r) {
      if (!r.ok) { show(flash, errorText(r.body), true); return; }
      var link = $("print-link");
      link.href = r.body.url;
      link.dataset.number = number;
      $("print-result").hidden = false;
    });
  }

  // --- revoke: a dialog asks for the reason -----------------------------
  var dialog = $("revoke-dialog"), revoking = "";
  function askRevoke(number) {
    revoking = number;
    $("revoke-number").textContent = number;
    $("revoke-reason").value = "";
    dialog.showModal();
    $("revoke-reason").focus();
  }
  $("revoke-cancel").addEventListener("click", function () { dialog.close(); });
  $("revoke-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var reason = $("revoke-reason").value.trim();
    if (!reason) { $("revoke-reason").focus(); return; }
    api("POST", "/api/v1/certificates/" + encodeURIComponent(revoking) + "/revoke", { reason: reason }).then(function (r) {
      dialog.close();
      if (!r.ok) { show(flash, errorText(r.body), true); return; }
      show(flash, t("revoke.done", { number: revoking }));
      load();
    });
  });

  load();
  if (!canIssue) { return; }

  // --- issue, with the occupation picker --------------------------------
  var search = $("occ-search"), list = $("occ-list"), code = $("occ-code"), timer = 0, seq = 0;
  function pick(o) {
    code.value = o.code;
    search.value = o.name;
    $("occ-chosen").textContent = t("issue.occupation_pick") + o.name + "（" + o.code + "）";
    list.hidden = true;
    search.setAttribute("aria-expanded", "false");
  }
  function suggest() {
    var q = search.value.trim(), mine = ++seq;
    code.value = "";
    $("occ-chosen").textContent = t("issue.occupation_none");
    if (!q) { list.hidden = true; return; }
    api("GET", "/api/v1/occupations?limit=12&q=" + encodeURIComponent(q)).then(function (r) {
      if (mine !== seq || !r.ok) { return; }
      list.textContent = "";
      if (r.body.items.length === 0) {
        list.appendChild(el("li", { "class": "none" }, t("issue.no_match")));
      }
      r.body.items.forEach(function (o) {
        var li = el("li", { role: "option", "data-code": o.code });
        li.appendChild(el("span", { "class": "code" }, o.code));
        li.appendChild(document.createTextNode(o.name));
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(o); });
        list.appendChild(li);
      });
      list.hidden = false;
      search.setAttribute("aria-expanded", "true");
    });
  }
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, 150); });
  search.addEventListener("keydown", function (e) {
    var items = Array.prototype.slice.call(list.querySelectorAll("li[role=option]"));
    var i = items.findIndex(function (li) { return li.getAttribute("aria-selected") === "true"; });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (items.length === 0) { return; }
      if (i >= 0) { items[i].removeAttribute("aria-selected"); }
      i = e.key === "ArrowDown" ? (i + 1) % items.length : (i - 1 + items.length) % items.length;
      items[i].setAttribute("aria-selected", "true");
    } else if (e.key === "Enter" && i >= 0) {
      e.preventDefault();
      items[i].dispatchEvent(new MouseEvent("mousedown"));
    } else if (e.key === "Escape") {
      list.hidden = true;
    }
  });
  search.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });

  $("issue-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var out = $("issue-result");
    if (!code.value) { show(out, t("issue.occupation_none"), true); search.focus(); return; }
    var f = e.target;
    var body = {
      holder_name: f.elements.holder_name.value.trim(),
      id_number: f.elements.id_number.value.trim(),
      occupation_code: code.value,
      level: parseInt(f.elements.level.value, 10),
      channel: f.elements.channel.value
    };
    if (f.elements.issued_on.value) { body.issued_on = f.elements.issued_on.value; }
    if (f.elements.name_change_reason.value.trim()) { body.name_change_reason = f.elements.name_change_reason.value.trim(); }
    api("POST", "/api/v1/certificates", body).then(function (r) {
      if (!r.ok) { show(out, errorText(r.body), true); return; }
      show(out, r.status === 201 ? t("issue.done", { number: r.body.number }) : t("issue.exists", { number: r.body.number }));
      out.dataset.number = r.body.number;
      f.reset();
      code.value = "";
      $("occ-chosen").textContent = t("issue.occupation_none");
      page = 1;
      load();
    });
  });

  // --- batch import: a dry run, its report, then the real run -----------
  var file = $("import-file");
  file.addEventListener("change", function () { $("import-run").disabled = true; $("import-report").hidden = true; });
  $("import-encoding").addEventListener("change", function () { $("import-run").disabled = true; });

  function upload(dry) {
    if (!file.files.length) { show(flash, t("import.file"), true); return; }
    var p = new URLSearchParams({ wait: "true" });
    if (dry) { p.set("dry_run", "true"); }
    if ($("import-aon").checked) { p.set("all_or_nothing", "true"); }
    if ($("import-encoding").value) { p.set("encoding", $("import-encoding").value); }
    var fd = new FormData();
    fd.append("file", file.files[0]);
    var summary = $("import-summary");
    $("import-report").hidden = false;
    $("import-errors").hidden = true;
    $("import-ok").hidden = true;
    show(summary, t("import.running"));
    $("import-dry").disabled = $("import-run").disabled = true;
    return api("POST", "/api/v1/imports?" + p.toString(), fd, true).then(function (r) {
      $("import-dry").disabled = false;
      if (!r.ok) { show(summary, errorText(r.body), true); return; }
      return finish(r.body.id, r.body, dry);
    });
  }

  // finish waits for the job (polling if ?wait gave up) and shows its bad rows.
  function finish(id, job, dry) {
    if (job.status === "running") {
      return new Promise(function (res) { setTimeout(res, 1000); }).then(function () {
        return api("GET", "/api/v1/imports/" + id + "?only=errors&per_page=200");
      }).then(function (r) { return finish(id, r.body, dry); });
    }
    return api("GET", "/api/v1/imports/" + id + "?only=errors&per_page=200").then(function (r) {
      var j = r.body || job;
      var summary = $("import-summary");
      show(summary, t("import.summary", { total: j.total, valid: j.valid, issued: j.issued, skipped: j.skipped, not_issued: j.not_issued, errors: j.errors }), j.errors > 0);
      summary.dataset.status = j.status;
      var names = $("import-names");
      names.textContent = t("import.names", { names: (j.sample_names || []).join("、") });
      names.hidden = !(j.sample_names || []).length;
      summary.dataset.dryRun = String(dry);
      var tbody = $("import-error-rows");
      tbody.textContent = "";
      var problems = (j.file_errors || []).slice();
      (j.rows || []).forEach(function (row) { (row.errors || []).forEach(function (e) { problems.push(e); }); });
      problems.forEach(function (e) {
        var tr = el("tr");
        tr.appendChild(el("td", {}, String(e.row)));
        tr.appendChild(el("td", {}, e.column || ""));
        var msg = el("td", {}, e.message);
        msg.appendChild(el("br"));
        msg.appendChild(el("small", { lang: "en" }, e.message_en));
        tr.appendChild(msg);
        tbody.appendChild(tr);
      });
      $("import-errors").hidden = problems.length === 0;
      $("import-ok").hidden = problems.length > 0;
      $("import-report-link").href = j.report_url;
      $("import-run").disabled = !(dry && j.status === "done" && (j.file_errors || []).length === 0);
      if (!dry) { page = 1; load(); }
    });
  }

  $("import-dry").addEventListener("click", function () { upload(true); });
  $("import-run").addEventListener("click", function () { upload(false); });
})();
