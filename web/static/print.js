// The print page's one button; a file, because the CSP forbids inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  var b = document.getElementById("print-button");
  if (b) {
    b.addEventListener("click", function () { window.print(); });
  }
});
