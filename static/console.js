// Perdura console: the few behaviours htmx does not cover. No framework, no build step.
(function () {
  "use strict";

  // The live indicator follows the page's websocket (the htmx ws extension reconnects with
  // backoff by itself; on reconnecting, the server pushes the page's live regions again).
  function setLive(state, text) {
    var indicator = document.getElementById("live-status");
    if (indicator) {
      indicator.dataset.state = state;
      indicator.textContent = text;
    }
  }
  document.addEventListener("htmx:wsConnecting", function () { setLive("connecting", "connecting"); });
  document.addEventListener("htmx:wsOpen", function () { setLive("live", "live"); });
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event && event.detail.event.code;
    setLive("off", code === 4401 ? "signed out" : "reconnecting");
    // The extension retries by itself after abnormal closures; a server that says it is going
    // away (a restart) gets a retry too, a few seconds later.
    if (code === 1001 && event.detail.socketWrapper) {
      setTimeout(event.detail.socketWrapper.reconnect, 2000 + Math.random() * 3000);
    }
  });

  // Row selection survives live swaps of the table: note it before a message, restore it after.
  var selected = new Set();
  document.addEventListener("htmx:wsBeforeMessage", function () {
    selected = new Set(Array.from(document.querySelectorAll("input[name=instance_ids]:checked"), function (box) { return box.value; }));
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    document.querySelectorAll("input[name=instance_ids]").forEach(function (box) {
      if (selected.has(box.value)) box.checked = true;
    });
    updateSelectionCount();
  });

  function updateSelectionCount() {
    var count = document.querySelectorAll("input[name=instance_ids]:checked").length;
    document.querySelectorAll("[data-selected-count]").forEach(function (node) { node.textContent = String(count); });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name=instance_ids]").forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-select-all], input[name=instance_ids]")) {
      updateSelectionCount();
    }
    if (target.matches("[data-custom-range]")) {
      var range = document.querySelector(target.dataset.customRange);
      if (range) range.hidden = target.value !== "custom";
    }
  }, true);

  // Dialogs: a button names the dialog it opens; a button inside closes it.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog) {
        var eventName = opener.dataset.eventName;
        var field = dialog.querySelector("input[name=event_name]");
        if (field && eventName) field.value = eventName;
        dialog.showModal();
      }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) {
      event.preventDefault();
      closer.closest("dialog").close();
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.dataset.copy);
      if (source) copyText(source.textContent, copy);
    }
  });

  function copyText(text, button) {
    function done() {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1200);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    }
  }

  // The bulk form asks the server for a confirmation, shown in a dialog.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "bulk-dialog-body") {
      document.getElementById("bulk-dialog").showModal();
    }
  });

  // Filter forms leave their empty fields out of the address, which stays short and shareable.
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-drop-empty]")) return;
    var formData = event.detail.formData;
    Array.from(formData.entries()).forEach(function (entry) {
      if (entry[1] === "") formData.delete(entry[0]);
    });
  });

  // Forms that need a plain yes/no before they go.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // JSON fields are checked as they are typed; the browser refuses to submit a bad one.
  document.addEventListener("input", function (event) {
    if (event.target.matches("textarea[data-json]")) checkJson(event.target);
  });

  function checkJson(area) {
    var message = "";
    if (area.value.trim() !== "") {
      try { JSON.parse(area.value); } catch (error) { message = "Not valid JSON: " + error.message; }
    }
    area.setCustomValidity(message);
    var form = area.closest("form");
    var note = form && form.querySelector("[data-json-error]");
    if (note) {
      note.textContent = message;
      note.hidden = message === "";
    }
    return message === "";
  }
})();
