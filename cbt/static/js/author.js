/* Trainer workspace enhancement: draw a hotspot rectangle on the image to fill a region's coordinates.
   Without this script the trainer types "x, y, width, height"; with it, each region row gets a button that
   arms drawing, and a drag on the image writes the coordinates (in the image's own units) and sets the shape
   to a rectangle. Nothing is saved until the form is submitted. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function setup(editor) {
    var box = (editor.getAttribute("data-box") || "").split(",").map(Number);
    var canvas = editor.querySelector(".region-canvas");
    var overlay = editor.querySelector(".region-overlay");
    var form = editor.closest("form");
    if (box.length !== 4 || !canvas || !overlay || !form) { return; }
    var armed = null, start = null, shape = null;

    function toImage(event) {
      var rect = canvas.getBoundingClientRect();
      var x = box[0] + (event.clientX - rect.left) / rect.width * box[2];
      var y = box[1] + (event.clientY - rect.top) / rect.height * box[3];
      return [Math.max(box[0], Math.min(box[0] + box[2], x)), Math.max(box[1], Math.min(box[1] + box[3], y))];
    }
    function round(n) { return Math.round(n * 10) / 10; }
    function disarm() {
      if (armed) { armed.button.setAttribute("aria-pressed", "false"); armed.button.textContent = editor.getAttribute("data-draw-label"); }
      armed = null;
      editor.classList.remove("js-drawing");
    }

    Array.prototype.forEach.call(form.querySelectorAll("[data-region-row]"), function (row) {
      var coords = row.querySelector("[data-coords]");
      var select = row.querySelector("[data-shape]");
      if (!coords) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "draw-button";
      button.textContent = editor.getAttribute("data-draw-label");
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        var again = armed && armed.button === button;
        disarm();
        if (again) { return; }
        armed = {button: button, coords: coords, select: select};
        button.setAttribute("aria-pressed", "true");
        button.textContent = editor.getAttribute("data-drawing-label");
        editor.classList.add("js-drawing");
        editor.scrollIntoView({block: "nearest"});
      });
      coords.parentNode.insertBefore(button, coords.parentNode.firstChild);
    });

    overlay.addEventListener("pointerdown", function (event) {
      if (!armed) { return; }
      event.preventDefault();
      start = toImage(event);
      shape = document.createElementNS(SVG, "rect");
      shape.setAttribute("class", "drawing");
      overlay.appendChild(shape);
      overlay.setPointerCapture(event.pointerId);
    });
    overlay.addEventListener("pointermove", function (event) {
      if (!start || !shape) { return; }
      var p = toImage(event);
      shape.setAttribute("x", Math.min(start[0], p[0]));
      shape.setAttribute("y", Math.min(start[1], p[1]));
      shape.setAttribute("width", Math.abs(p[0] - start[0]));
      shape.setAttribute("height", Math.abs(p[1] - start[1]));
    });
    overlay.addEventListener("pointerup", function (event) {
      if (!start || !armed) { return; }
      var p = toImage(event);
      var x = Math.min(start[0], p[0]), y = Math.min(start[1], p[1]);
      var w = Math.abs(p[0] - start[0]), h = Math.abs(p[1] - start[1]);
      start = null;
      if (w < 1 || h < 1) { if (shape) { overlay.removeChild(shape); } shape = null; return; }
      armed.coords.value = [round(x), round(y), round(w), round(h)].join(", ");
      if (armed.select) { armed.select.value = "rect"; }
      armed.coords.focus();
      shape = null;
      disarm();
    });
    document.addEventListener("keydown", function (event) { if (event.key === "Escape") { disarm(); } });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-draw]"), setup);
  });
})();
