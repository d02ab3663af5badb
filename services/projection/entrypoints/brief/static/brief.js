// The customer brief's only script: swap the parts of the page a live update sends, and say so politely.
// Plain JavaScript, no eval, no inline handlers: the page's Content-Security-Policy allows scripts from 'self' only.
"use strict";

(function () {
  function swapParts(html) {
    var template = document.createElement("template");
    template.innerHTML = html; // server-rendered with autoescaping; a <template> runs nothing it parses
    var parts = template.content.querySelectorAll("[id]");
    parts.forEach(function (part) {
      var current = document.getElementById(part.id);
      if (current && !part.parentElement.closest("[id]")) {
        current.replaceWith(part);
      }
    });
  }

  function announce(text) {
    var status = document.getElementById("live-status");
    if (status) {
      status.textContent = text;
    }
  }

  function listen(region) {
    var source = new EventSource(region.getAttribute("data-live"));
    source.addEventListener("brief", function (event) {
      var update = JSON.parse(event.data);
      swapParts(update.html);
      announce(update.announce);
      document.body.setAttribute("data-live-position", event.lastEventId);
    });
    source.addEventListener("erased", function (event) {
      var update = JSON.parse(event.data);
      source.close();
      var main = document.getElementById("main");
      var template = document.createElement("template");
      template.innerHTML = update.html;
      main.replaceChildren(template.content);
      announce(update.announce);
    });
    source.addEventListener("open", function () {
      document.body.setAttribute("data-live", "connected");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var region = document.getElementById("brief-live");
    if (region && region.getAttribute("data-live") && window.EventSource) {
      listen(region);
    }
  });
})();
