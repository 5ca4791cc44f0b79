// The portal: an issuer's staff list, issue, import, print and revoke
// certificates, and register training records and their outcomes; the
// admin also keeps the plans. All of it through the JSON API, called with
// Staff.api (staff.js: the session cookie, and the CSRF token on every
// unsafe request). Labels come from the message table the page carries
// (#messages), never from this file.
(function () {
  "use strict";
  var t = Staff.t, $ = Staff.$, el = Staff.el, errorText = Staff.errorText, api = Staff.api;
  var canIssue = document.body.dataset.canIssue === "true";

  function show(node, text, isError) {
    node.textContent = text;
    node.classList.toggle("error", !!isError);
    node.hidden = false;
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

  // Each list draws only the answer to its latest load, so that a slower
  // earlier answer never draws over a later one; its tbody says
  // data-state="loading" until that answer is drawn, then "ready".
  var loads = 0;
  function load() {
    var mine = ++loads;
    $("cert-rows").dataset.state = "loading";
    return api("GET", "/api/v1/certificates?" + query()).then(function (r) {
      if (mine !== loads) { return; } // a later load draws the list
      var rows = $("cert-rows");
      rows.dataset.state = "ready";
      if (!r.ok) { show(flash, errorText(r.body), true); return; }
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

  // --- training records: the list, with filters ---------------------------
  var tpage = 1, tpages = 1, issueFrom = null;
  function trainingQuery() {
    var f = $("training-search"), p = new URLSearchParams();
    ["q", "class_id", "target_group", "training_type", "year"].forEach(function (n) {
      var v = f.elements[n].value.trim();
      if (v) { p.set(n, v); }
    });
    p.set("page", tpage);
    p.set("per_page", 20);
    return p.toString();
  }
  var tloads = 0;
  function loadTraining() {
    var mine = ++tloads;
    $("training-rows").dataset.state = "loading";
    return api("GET", "/api/v1/training-records?" + trainingQuery()).then(function (r) {
      if (mine !== tloads) { return; } // a later load draws the list
      var rows = $("training-rows");
      rows.dataset.state = "ready";
      if (!r.ok) { show(flash, errorText(r.body), true); return; }
      rows.textContent = "";
      r.body.items.forEach(function (rec) { rows.appendChild(trainingRow(rec)); });
      $("training-empty").hidden = r.body.items.length > 0;
      tpages = Math.max(1, Math.ceil(r.body.total / 20));
      $("training-info").textContent = t("training.page", { page: tpage, pages: tpages, total: r.body.total });
      $("training-prev").disabled = tpage <= 1;
      $("training-next").disabled = tpage >= tpages;
    });
  }
  function outcomeText(rec) {
    var parts = [rec.completed ? t("tstate.completed") : t("tstate.open")];
    if (rec.exam_result) { parts.push(t("exam." + rec.exam_result)); }
    if (rec.certificate_number) { parts.push(t("tstate.certificate", { number: rec.certificate_number })); }
    if (rec.employed_within_6_months === true) { parts.push(t("tstate.employed")); }
    return parts.join(" · ");
  }
  function trainingRow(rec) {
    var tr = el("tr", { "data-id": rec.id });
    tr.appendChild(cell(t("tcol.trainee"), rec.name + " " + rec.id_number_masked));
    tr.appendChild(cell(t("tcol.class"), rec.class_id, "class"));
    tr.appendChild(cell(t("tcol.course"), (rec.occupation_name || "") + "（" + rec.occupation_code + "）· " + rec.target_level_name + " · " + rec.hours + "课时"));
    tr.appendChild(cell(t("tcol.group"), rec.target_group_name + " / " + rec.training_type_name));
    tr.appendChild(cell(t("tcol.dates"), rec.start + " ~ " + rec.end));
    tr.appendChild(cell(t("tcol.outcome"), outcomeText(rec), "outcome"));
    var actions = el("td", { "data-label": t("col.actions") });
    if (canIssue) {
      var o = el("button", { type: "button", "class": "btn small outcome", "data-id": rec.id }, t("action.outcome"));
      o.addEventListener("click", function () { askOutcome(rec); });
      actions.appendChild(o);
      if (rec.exam_result === "pass" && !rec.certificate_number) {
        var i = el("button", { type: "button", "class": "btn small primary issue-from", "data-id": rec.id }, t("action.issue"));
        i.addEventListener("click", function () { issueFrom(rec); });
        actions.appendChild(i);
      }
    }
    tr.appendChild(actions);
    return tr;
  }
  $("training-search").addEventListener("submit", function (e) { e.preventDefault(); tpage = 1; loadTraining(); });
  $("training-prev").addEventListener("click", function () { if (tpage > 1) { tpage--; loadTraining(); } });
  $("training-next").addEventListener("click", function () { if (tpage < tpages) { tpage++; loadTraining(); } });

  // --- a training record's outcome: a dialog ------------------------------
  var odialog = $("outcome-dialog"), orec = null;
  function askOutcome(rec) {
    orec = rec;
    $("outcome-who").textContent = rec.name + "（" + rec.class_id + "）";
    $("outcome-completed").checked = !!rec.completed;
    $("outcome-exam").value = rec.exam_result || "";
    $("outcome-employed").value = rec.employed_within_6_months === null || rec.employed_within_6_months === undefined ? "" : String(rec.employed_within_6_months);
    $("outcome-certificate").value = rec.certificate_number || "";
    $("outcome-subsidy-category").value = rec.subsidy_category || "";
    $("outcome-subsidy-amount").value = rec.subsidy_amount_fen ? (rec.subsidy_amount_fen / 100).toFixed(2) : "";
    $("outcome-payee").value = rec.subsidy_payee || "";
    $("outcome-error").hidden = true;
    odialog.showModal();
  }
  $("outcome-cancel").addEventListener("click", function () { odialog.close(); });
  $("outcome-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {
      completed: $("outcome-completed").checked,
      exam_result: $("outcome-exam").value,
      certificate_number: $("outcome-certificate").value.trim(),
      subsidy_category: $("outcome-subsidy-category").value.trim(),
      subsidy_payee: $("outcome-payee").value
    };
    if ($("outcome-employed").value) { body.employed_within_6_months = $("outcome-employed").value === "true"; }
    var amount = $("outcome-subsidy-amount").value.trim();
    if (amount) {
      if (!/^[0-9]+(\.[0-9]{1,2})?$/.test(amount)) { show($("outcome-error"), t("outcome.bad_amount"), true); return; }
      var parts = amount.split(".");
      body.subsidy_amount_fen = parseInt(parts[0], 10) * 100 + (parts[1] ? parseInt((parts[1] + "0").slice(0, 2), 10) : 0);
    } else {
      body.subsidy_amount_fen = 0;
    }
    api("POST", "/api/v1/training-records/" + encodeURIComponent(orec.id) + "/outcome", body).then(function (r) {
      if (!r.ok) { show($("outcome-error"), errorText(r.body), true); return; }
      odialog.close();
      show(flash, t("outcome.done", { name: r.body.name }));
      loadTraining();
    });
  });

  // --- plans (the admin): create, change, delete, choose the default ------
  var editing = "";
  function pctOf(f) { return String(Math.round(f * 100000) / 1000); }
  var ploads = 0;
  function loadPlans() {
    var mine = ++ploads;
    $("plan-rows").dataset.state = "loading";
    return api("GET", "/api/v1/plans").then(function (r) {
      if (mine !== ploads) { return; } // a later load draws the list
      var rows = $("plan-rows");
      rows.dataset.state = "ready";
      if (!r.ok) { show(flash, errorText(r.body), true); return; }
      rows.textContent = "";
      r.body.items.forEach(function (p) { rows.appendChild(planRow(p)); });
    });
  }
  function planRow(p) {
    var tr = el("tr", { "data-plan": p.id });
    if (p["default"]) { tr.className = "default"; }
    var name = cell(t("pcol.name"), p.name, "plan-name");
    name.appendChild(el("br"));
    name.appendChild(el("small", { "class": "mono" }, p.id));
    if (p["default"]) { name.appendChild(el("span", { "class": "tag default-tag" }, t("plans.default"))); }
    if (p.built_in) { name.appendChild(el("span", { "class": "tag" }, t("plans.built_in"))); }
    tr.appendChild(name);
    tr.appendChild(cell(t("pcol.end"), p.end_date));
    tr.appendChild(cell(t("pcol.workers"), new Intl.NumberFormat("zh-CN").format(p.targets.skilled_workers)));
    tr.appendChild(cell(t("pcol.technician"), pctOf(p.targets.technician) + "%"));
    tr.appendChild(cell(t("pcol.senior"), pctOf(p.targets.senior_worker) + "%"));
    tr.appendChild(cell(t("pcol.high"), pctOf(p.targets.high_skilled) + "%"));
    var actions = el("td", { "data-label": t("col.actions") });
    if (!p["default"]) {
      var d = el("button", { type: "button", "class": "btn small choose", "data-plan": p.id }, t("plans.choose"));
      d.addEventListener("click", function () {
        api("POST", "/api/v1/plans/" + encodeURIComponent(p.id) + "/default").then(function (r) {
          if (!r.ok) { show(flash, errorText(r.body), true); return; }
          show($("plan-result"), t("plans.chosen", { id: p.id }));
          loadPlans();
        });
      });
      actions.appendChild(d);
    }
    if (!p.built_in) {
      var ed = el("button", { type: "button", "class": "btn small edit", "data-plan": p.id }, t("plans.edit"));
      ed.addEventListener("click", function () { editPlan(p); });
      actions.appendChild(ed);
      var del = el("button", { type: "button", "class": "btn small danger delete", "data-plan": p.id }, t("plans.delete"));
      del.addEventListener("click", function () {
        // The first click asks, the second deletes.
        if (del.dataset.armed !== "true") {
          del.dataset.armed = "true";
          del.textContent = t("plans.confirm_delete");
          return;
        }
        api("DELETE", "/api/v1/plans/" + encodeURIComponent(p.id)).then(function (r) {
          if (!r.ok) { show(flash, errorText(r.body), true); return; }
          show($("plan-result"), t("plans.deleted", { id: p.id }));
          if (editing === p.id) { resetPlanForm(); }
          loadPlans();
        });
      });
      actions.appendChild(del);
    }
    tr.appendChild(actions);
    return tr;
  }
  function resetPlanForm() {
    editing = "";
    $("plan-form").reset();
    $("plan-id").disabled = false;
    $("plan-default-label").hidden = false;
    $("plan-cancel").hidden = true;
    $("plan-form-title").textContent = t("plans.new");
  }
  function editPlan(p) {
    editing = p.id;
    var f = $("plan-form").elements;
    f.id.value = p.id;
    $("plan-id").disabled = true;
    f.name.value = p.name;
    f.end_date.value = p.end_date;
    f.skilled_workers.value = p.targets.skilled_workers;
    f.technician.value = pctOf(p.targets.technician);
    f.senior_worker.value = pctOf(p.targets.senior_worker);
    f.high_skilled.value = pctOf(p.targets.high_skilled);
    $("plan-default-label").hidden = true;
    $("plan-cancel").hidden = false;
    $("plan-form-title").textContent = t("plans.edit_title", { id: p.id });
    $("plan-result").hidden = true;
    $("plan-name").focus();
  }
  if ($("plans")) {
    $("plan-cancel").addEventListener("click", resetPlanForm);
    $("plan-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var f = e.target.elements;
      var body = {
        name: f.name.value.trim(),
        end_date: f.end_date.value.trim(),
        targets: {
          skilled_workers: parseInt(f.skilled_workers.value, 10),
          technician: parseFloat(f.technician.value) / 100,
          senior_worker: parseFloat(f.senior_worker.value) / 100,
          high_skilled: parseFloat(f.high_skilled.value) / 100
        }
      };
      var id = editing, req;
      if (id) {
        req = api("PUT", "/api/v1/plans/" + encodeURIComponent(id), body);
      } else {
        id = f.id.value.trim();
        body.id = id;
        body["default"] = $("plan-default").checked;
        req = api("POST", "/api/v1/plans", body);
      }
      req.then(function (r) {
        if (!r.ok) { show($("plan-result"), errorText(r.body), true); return; }
        show($("plan-result"), editing ? t("plans.updated", { id: id }) : t("plans.created", { id: id }));
        resetPlanForm();
        loadPlans();
      });
    });
  }

  load();
  loadTraining();
  if (document.getElementById("plans")) { loadPlans(); }
  if (!canIssue) { return; }

  // --- the occupation picker, for the issue and training forms ----------
  function picker(prefix, onPick) {
    var search = $(prefix + "occ-search"), list = $(prefix + "occ-list"), code = $(prefix + "occ-code"), chosen = $(prefix + "occ-chosen");
    var timer = 0, seq = 0;
    function pick(o) {
      code.value = o.code;
      search.value = o.name;
      chosen.textContent = t("issue.occupation_pick") + o.name + "（" + o.code + "）";
      list.hidden = true;
      search.setAttribute("aria-expanded", "false");
      if (onPick) { onPick(o); }
    }
    function clear() {
      code.value = "";
      chosen.textContent = t("issue.occupation_none");
    }
    // The list's data-q is the text its suggestions are drawn for; it is
    // removed while suggestions for a newer text are on their way.
    function suggest() {
      var q = search.value.trim(), mine = ++seq;
      clear();
      delete list.dataset.q;
      if (!q) { list.hidden = true; return; }
      api("GET", "/api/v1/occupations?limit=12&q=" + encodeURIComponent(q)).then(function (r) {
        if (mine !== seq || !r.ok) { return; }
        list.textContent = "";
        list.dataset.q = q;
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
    return { pick: pick, clear: function () { clear(); search.value = ""; }, code: code, search: search };
  }

  // --- issue --------------------------------------------------------------
  var occ = picker("");
  function resetIssue(f) {
    f.reset();
    occ.clear();
    $("issue-training").value = "";
    $("issue-from-training").hidden = true;
  }
  $("issue-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var out = $("issue-result");
    if (!occ.code.value) { show(out, t("issue.occupation_none"), true); occ.search.focus(); return; }
    var f = e.target;
    var body = {
      holder_name: f.elements.holder_name.value.trim(),
      id_number: f.elements.id_number.value.trim(),
      occupation_code: occ.code.value,
      level: parseInt(f.elements.level.value, 10),
      channel: f.elements.channel.value
    };
    if (f.elements.issued_on.value) { body.issued_on = f.elements.issued_on.value.trim(); }
    if (f.elements.name_change_reason.value.trim()) { body.name_change_reason = f.elements.name_change_reason.value.trim(); }
    if (f.elements.training_record_id.value) { body.training_record_id = f.elements.training_record_id.value; }
    api("POST", "/api/v1/certificates", body).then(function (r) {
      if (!r.ok) { show(out, errorText(r.body), true); return; }
      show(out, r.status === 201 ? t("issue.done", { number: r.body.number }) : t("issue.exists", { number: r.body.number }));
      out.dataset.number = r.body.number;
      var fromTraining = !!body.training_record_id;
      resetIssue(f);
      page = 1;
      load();
      if (fromTraining) { loadTraining(); }
    });
  });

  // issueFrom fills the issue form from a training record: the name, the
  // occupation, the target level and the link to the record. The clerk
  // enters the ID number, which the page never has in full; the registry
  // checks that it is the trainee's.
  issueFrom = function (rec) {
    var f = $("issue-form");
    resetIssue(f);
    f.elements.holder_name.value = rec.name;
    occ.pick({ code: rec.occupation_code, name: rec.occupation_name || rec.occupation_code });
    f.elements.level.value = String(rec.target_level);
    $("issue-training").value = rec.id;
    show($("issue-from-training"), t("issue.from_training", { name: rec.name, "class": rec.class_id }));
    $("issue").scrollIntoView();
    f.elements.id_number.focus();
  };

  // --- batch import: a dry run, its report, then the real run -----------
  // importer wires one import form: certificates ("import-") or training
  // records ("timport-", kind=training).
  function importer(prefix, kind, summaryText, after) {
    var file = $(prefix + "file");
    file.addEventListener("change", function () { $(prefix + "run").disabled = true; $(prefix + "report").hidden = true; });
    $(prefix + "encoding").addEventListener("change", function () { $(prefix + "run").disabled = true; });

    function upload(dry) {
      if (!file.files.length) { show(flash, t("import.file"), true); return; }
      var p = new URLSearchParams({ wait: "true" });
      if (kind) { p.set("kind", kind); }
      if (dry) { p.set("dry_run", "true"); }
      if ($(prefix + "aon").checked) { p.set("all_or_nothing", "true"); }
      if ($(prefix + "encoding").value) { p.set("encoding", $(prefix + "encoding").value); }
      var fd = new FormData();
      fd.append("file", file.files[0]);
      var summary = $(prefix + "summary");
      $(prefix + "report").hidden = false;
      $(prefix + "errors").hidden = true;
      $(prefix + "ok").hidden = true;
      show(summary, t("import.running"));
      $(prefix + "dry").disabled = $(prefix + "run").disabled = true;
      return api("POST", "/api/v1/imports?" + p.toString(), fd, true).then(function (r) {
        $(prefix + "dry").disabled = false;
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
        var summary = $(prefix + "summary");
        show(summary, summaryText({ total: j.total, valid: j.valid, issued: j.issued, skipped: j.skipped, not_issued: j.not_issued, errors: j.errors }), j.errors > 0);
        summary.dataset.status = j.status;
        var names = $(prefix + "names");
        names.textContent = t("import.names", { names: (j.sample_names || []).join("、") });
        names.hidden = !(j.sample_names || []).length;
        summary.dataset.dryRun = String(dry);
        var tbody = $(prefix + "error-rows");
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
        $(prefix + "errors").hidden = problems.length === 0;
        $(prefix + "ok").hidden = problems.length > 0;
        $(prefix + "report-link").href = j.report_url;
        $(prefix + "run").disabled = !(dry && j.status === "done" && (j.file_errors || []).length === 0);
        if (!dry) { after(); }
      });
    }

    $(prefix + "dry").addEventListener("click", function () { upload(true); });
    $(prefix + "run").addEventListener("click", function () { upload(false); });
  }
  importer("import-", "", function (v) { return t("import.summary", v); }, function () { page = 1; load(); });
  importer("timport-", "training", function (v) { return t("timport.summary", v); }, function () { tpage = 1; loadTraining(); });

  // --- register one trainee ---------------------------------------------
  var trOcc = picker("tr-");
  $("training-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var out = $("training-result");
    if (!trOcc.code.value) { show(out, t("issue.occupation_none"), true); trOcc.search.focus(); return; }
    var f = e.target, body = { occupation_code: trOcc.code.value };
    ["name", "id_number", "sex", "education", "phone", "class_id", "target_group", "training_type", "start", "end"].forEach(function (n) {
      body[n] = f.elements[n].value.trim();
    });
    body.target_level = parseInt(f.elements.target_level.value, 10);
    body.hours = parseInt(f.elements.hours.value, 10);
    api("POST", "/api/v1/training-records", body).then(function (r) {
      if (!r.ok) { show(out, errorText(r.body), true); return; }
      var vars = { name: r.body.name, "class": r.body.class_id };
      show(out, r.status === 201 ? t("training.done", vars) : t("training.exists", vars));
      out.dataset.id = r.body.id;
      f.reset();
      trOcc.clear();
      tpage = 1;
      loadTraining();
    });
  });
})();
