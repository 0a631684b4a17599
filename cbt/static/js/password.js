/* Password strength while typing: the server's rules (length, not the username) and a rough strength from
   length and variety. Only a hint: the server checks again, and the list of common passwords stays there.
   Without script the box stays hidden and the rules are in the field's hint. */
(function () {
  "use strict";
  var box = document.getElementById("password-meter");
  var input = box && document.getElementById(box.getAttribute("data-for"));
  if (!input) { return; }
  var min = parseInt(box.getAttribute("data-min"), 10) || 12;
  var username = (box.getAttribute("data-username") || "").toLowerCase();
  var meter = box.querySelector("meter");
  var kinds = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{L}\p{Nd}]/u];

  function mark(name, met) {
    box.querySelector('[data-check="' + name + '"]').setAttribute("data-met", met ? "true" : "false");
  }

  function update() {
    var value = input.value;
    var length = Array.from(value).length; /* characters, as the server counts them */
    var variety = kinds.filter(function (kind) { return kind.test(value); }).length;
    var longEnough = length >= min;
    var noName = !username || value.toLowerCase().indexOf(username) === -1;
    var varied = variety >= 2 || length >= min + 8;
    mark("length", longEnough);
    mark("username", noName);
    mark("variety", varied);
    var level = 0;
    if (value) { level = !(longEnough && noName) ? 1 : !varied ? 2 : length >= min + 4 && variety >= 3 ? 4 : 3; }
    if (length >= 2 * min && longEnough && noName) { level = 4; } /* a long passphrase is strong as it is */
    meter.value = level;
    box.querySelectorAll("[data-level]").forEach(function (label) {
      label.hidden = label.getAttribute("data-level") !== String(level);
    });
  }

  box.hidden = false;
  input.addEventListener("input", update);
  update();
}());
