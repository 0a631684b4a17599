/* CBT quiz enhancements. Every page works without this file; it adds:
   autosave as the trainee answers, a live countdown, clicking a point on hotspot images,
   moving ordering items with buttons, and a submit button that cannot be pressed twice. */
(function () {
  "use strict";

  function autosave(form) {
    var url = form.getAttribute("data-autosave");
    var status = form.querySelector(".save-status");
    var seqField = form.querySelector("input[name=seq]");
    var timer = null;
    function send() {
      var data = new FormData(form);
      data.delete("action");
      fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.json(); })
        .then(function (reply) {
          if (reply.status === "saved") {
            if (reply.seq !== undefined) { seqField.value = reply.seq; }
            status.textContent = form.getAttribute("data-saved-text");
          } else if (reply.status === "stale") {
            status.textContent = form.getAttribute("data-stale-text");
          } else if (reply.status === "invalid") {
            status.textContent = reply.message || "";
          } else if (reply.status === "late" || reply.status === "closed") {
            window.location.reload();
          }
        })
        .catch(function () { status.textContent = form.getAttribute("data-error-text"); });
    }
    function later() { window.clearTimeout(timer); timer = window.setTimeout(send, 600); }
    form.addEventListener("change", function (e) {
      // A scenario decision is confirmed with its button, not by autosave.
      if (form.querySelector(".scenario") && e.target.name === "answer") { return; }
      later();
    });
    form.addEventListener("input", function (e) { if (e.target.type === "text") { later(); } });
    form.addEventListener("cbt:changed", later);
  }

  function countdown(el) {
    var end = Date.now() + parseInt(el.getAttribute("data-remaining"), 10) * 1000;
    var template = el.textContent.replace(/\d+/, "{n}");
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      var minutes = Math.floor(left / 60), seconds = left % 60;
      el.textContent = template.replace("{n}", minutes + ":" + (seconds < 10 ? "0" : "") + seconds).replace(/ min$/, "");
      if (left <= 60) { el.classList.add("urgent"); }
      if (left === 0) { window.clearInterval(handle); window.setTimeout(function () { window.location.reload(); }, 1500); }
    }
    var handle = window.setInterval(tick, 1000);
    tick();
  }

  function hotspot(box) {
    var img = box.querySelector("img");
    var x = box.querySelector("input[name=x]"), y = box.querySelector("input[name=y]");
    var dims = (box.getAttribute("data-box") || "").split(",").map(Number);
    if (dims.length !== 4 || !dims[2]) { return; }
    var marker = document.createElement("span");
    marker.className = "hotspot-marker";
    marker.setAttribute("aria-hidden", "true");
    box.appendChild(marker);
    box.classList.add("js-hotspot");
    function place() {
      if (x.value === "" || y.value === "") { marker.hidden = true; return; }
      marker.hidden = false;
      marker.style.left = ((parseFloat(x.value) - dims[0]) / dims[2] * img.clientWidth) + "px";
      marker.style.top = ((parseFloat(y.value) - dims[1]) / dims[3] * img.clientHeight) + "px";
    }
    img.addEventListener("click", function (e) {
      var rect = img.getBoundingClientRect();
      x.value = (dims[0] + (e.clientX - rect.left) / rect.width * dims[2]).toFixed(1);
      y.value = (dims[1] + (e.clientY - rect.top) / rect.height * dims[3]).toFixed(1);
      var radios = box.parentNode.querySelectorAll(".hotspot-regions input");
      for (var i = 0; i < radios.length; i++) { radios[i].checked = false; }
      place();
      box.dispatchEvent(new CustomEvent("cbt:changed", { bubbles: true }));
    });
    var regions = box.parentNode.querySelector(".hotspot-regions");
    if (regions) {
      regions.addEventListener("change", function () { x.value = ""; y.value = ""; place(); });
    }
    window.addEventListener("resize", place);
    img.addEventListener("load", place);
    place();
  }

  function ordering(list) {
    var items = Array.prototype.slice.call(list.querySelectorAll(".order-item"));
    var selects = items.map(function (li) { return li.querySelector("select"); });
    if (selects.some(function (s) { return s.disabled; })) { return; }
    // Start from the saved positions, or the order shown.
    var order = items.slice().sort(function (a, b) {
      var pa = parseInt(a.querySelector("select").value || "0", 10) || 999;
      var pb = parseInt(b.querySelector("select").value || "0", 10) || 999;
      return pa - pb;
    });
    function sync() {
      order.forEach(function (li, i) {
        list.appendChild(li);
        li.querySelector("select").value = String(i + 1);
        li.querySelector(".up").disabled = i === 0;
        li.querySelector(".down").disabled = i === order.length - 1;
      });
    }
    order.forEach(function (li) {
      li.querySelector("select").classList.add("visually-hidden");
      ["up", "down"].forEach(function (dir) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "move " + dir;
        b.textContent = dir === "up" ? "↑" : "↓";
        b.setAttribute("aria-label", (dir === "up" ? list.getAttribute("data-up") : list.getAttribute("data-down")) || dir);
        b.addEventListener("click", function () {
          var i = order.indexOf(li), j = dir === "up" ? i - 1 : i + 1;
          if (j < 0 || j >= order.length) { return; }
          order[i] = order[j]; order[j] = li;
          sync();
          b.focus();
          list.dispatchEvent(new CustomEvent("cbt:changed", { bubbles: true }));
        });
        li.appendChild(b);
      });
    });
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-autosave]");
    if (form && window.fetch && window.FormData) { autosave(form); }
    Array.prototype.forEach.call(document.querySelectorAll("[data-remaining]"), countdown);
    Array.prototype.forEach.call(document.querySelectorAll("[data-hotspot]"), hotspot);
    Array.prototype.forEach.call(document.querySelectorAll("[data-ordering]"), ordering);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submit-once]"), function (f) {
      f.addEventListener("submit", function () {
        var b = f.querySelector("button[type=submit]");
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
}());
