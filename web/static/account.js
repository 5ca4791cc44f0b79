// Change one's own password. The session cookie authenticates and the
// CSRF token from <meta name=csrf-token> goes in the X-CSRF-Token header;
// the answer sets a new session cookie, because the change ends every
// login the user had, this one included.
(function () {
  "use strict";
  var M = JSON.parse(document.getElementById("messages").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  function t(id) { return M[id] || id; }
  function $(id) { return document.getElementById(id); }
  var flash = $("flash");
  function show(text, isError) {
    flash.textContent = text;
    flash.classList.toggle("error", !!isError);
    flash.hidden = false;
  }
  $("password-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var next = $("new-password").value;
    if (next !== $("repeat-password").value) { show(t("account.mismatch"), true); return; }
    fetch("/api/v1/account/password", {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ current_password: $("current-password").value, new_password: next })
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) {
        if (!r.ok) {
          show(t("error.generic") + (b && b.error ? "：" + b.error.message : ""), true);
          return;
        }
        // The new session has a new CSRF token: reload the page's copy.
        var m = document.cookie.match(/(?:^|;\s*)skillreg_csrf=([^;]+)/);
        if (m) {
          csrf = m[1];
          document.querySelector('meta[name="csrf-token"]').content = csrf;
          Array.prototype.forEach.call(document.querySelectorAll('input[name="csrf"]'), function (i) { i.value = csrf; });
        }
        $("password-form").reset();
        show(t("account.done"));
      });
    }, function () { show(t("error.network"), true); });
  });
})();
