/* Shared terminals: warn one minute before the idle sign-out, let the officer stay, and show the sign-in
   page when the time is up. The server enforces the timeout anyway; this only makes it visible. */
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box) { return; }
  var idle = parseInt(box.getAttribute("data-idle-seconds"), 10) * 1000;
  if (box.getAttribute("data-exempt") === "true" || !idle) { return; }
  var warnTimer, endTimer;
  function schedule() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    box.hidden = true;
    warnTimer = window.setTimeout(function () {
      box.hidden = false;
      document.getElementById("idle-stay").focus();
    }, Math.max(0, idle - 60000));
    endTimer = window.setTimeout(function () { window.location.reload(); }, idle + 5000);
  }
  document.getElementById("idle-stay").addEventListener("click", function () {
    fetch(box.getAttribute("data-ping"), { credentials: "same-origin" }).then(schedule, schedule);
  });
  schedule();
}());
