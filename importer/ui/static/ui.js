// The page's own script: upload as soon as files are chosen or dropped, and live progress from
// the run's events. Every rule stays on the server; without this script the forms still work.
"use strict";
(function () {
  var form = document.getElementById("upload-form");
  var input = document.getElementById("file-input");
  if (form && input) {
    input.addEventListener("change", function () { if (input.files.length) form.submit(); });
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (e) { e.preventDefault(); form.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function () { form.classList.remove("over"); });
    });
    form.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; form.submit(); }
    });
  }
  var box = document.getElementById("progress");
  if (box && window.EventSource) {
    var source = new EventSource(box.getAttribute("data-events"));
    var set = function (id, text) { var el = document.getElementById(id); if (el) el.textContent = text; };
    source.onmessage = function (e) {
      var s = JSON.parse(e.data);
      document.getElementById("bar").value = s.percent;
      set("percent", s.percent + " %");
      set("line", s.line);
      set("note", s.note);
      if (s.stopping) set("job-label", s.label + ": stopping");
    };
    source.addEventListener("end", function () { source.close(); window.location.reload(); });
  }
})();
