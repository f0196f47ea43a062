/* The console's light touch of script: due times counting down, shops picked by floor, framed
   reports as tall as their content, a canned reply put into the reply's text,
   a field shown only under the answer it belongs to. */
(function () {
  "use strict";

  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), rest = minutes % 60;
    var zh = document.body.dataset.lang === "zh-CN";
    var parts = [];
    if (days) parts.push(days + (zh ? "天" : "d"));
    if (days || hours) parts.push(hours + (zh ? "小时" : "h"));
    parts.push(rest + (zh ? "分" : "m"));
    return parts.join(zh ? "" : " ");
  }

  function countdowns(root, text) {
    var server = document.querySelector("[data-now]");
    // Count from the server's clock (the mall's), not the browser's, which may be off.
    var offset = server ? Date.parse(server.dataset.now) - Date.now() : 0;
    function tick() {
      root.querySelectorAll("[data-due]").forEach(function (cell) {
        var out = cell.classList.contains("countdown") ? cell : cell.querySelector(".countdown");
        if (!out) return;
        var left = Date.parse(cell.dataset.due) - (Date.now() + offset);
        out.textContent = left < 0 ? text.overdue + " " + span(left) : span(left) + " " + text.left;
        out.classList.toggle("late", left < 0);
        out.classList.toggle("soon", left >= 0 && left < 4 * 3600000);
        var row = cell.closest("tr");
        if (row) row.classList.toggle("overdue", left < 0);
      });
    }
    tick();
    setInterval(tick, 30000);
  }

  function merchantsByFloor() {
    var floor = document.getElementById("floor"), merchant = document.getElementById("merchant");
    if (!floor || !merchant) return;
    function filter() {
      Array.prototype.forEach.call(merchant.options, function (option) {
        var shown = !option.dataset.floor || !floor.value || option.dataset.floor === floor.value;
        option.hidden = !shown;
        if (!shown && option.selected) merchant.value = "";
      });
    }
    merchant.addEventListener("change", function () {  // picking a shop sets its floor
      var chosen = merchant.options[merchant.selectedIndex];
      if (chosen && chosen.dataset.floor) floor.value = chosen.dataset.floor;
    });
    floor.addEventListener("change", filter);
    filter();
  }

  function fitFrames(root) {
    // A report framed from reporting (same origin, no script of its own) is shown whole, not scrolled.
    root.querySelectorAll("iframe[data-fit]").forEach(function (frame) {
      function fit() {
        var page = frame.contentDocument && frame.contentDocument.documentElement;
        if (!page) return;
        frame.style.height = page.scrollHeight + 24 + "px";
        frame.dataset.ready = "true";
      }
      frame.addEventListener("load", fit);
      var loaded = frame.contentDocument;  // it may have loaded before this ran
      if (loaded && loaded.URL !== "about:blank" && loaded.readyState === "complete") fit();
    });
  }

  function cannedReplies() {
    // Picking a canned reply puts its text into the field that follows, for the desk to edit.
    document.querySelectorAll("select[data-canned-reply]").forEach(function (select) {
      var target = select.form && select.dataset.fills ? select.form.elements[select.dataset.fills] : null;
      if (!target) return;
      function fill() {
        var chosen = select.options[select.selectedIndex];
        if (!chosen || !chosen.dataset.body) return;
        target.value = chosen.dataset.body;
        target.focus();
      }
      select.addEventListener("change", fill);
      // A reply chosen before this ran (a quick hand, a slow page) is filled in as well, if its text is still empty.
      if (!target.value.trim()) fill();
    });
  }

  function customerHistory() {
    // As the desk types a phone number, its earlier complaints appear beside the form (a fragment
    // the console renders in the reader's language); the newest answer wins.
    var aside = document.querySelector("#customer-history[data-src]");
    var phone = document.querySelector("#intake-form input[name=customer_phone]");
    if (!aside || !phone) return;
    var timer = null, asked = 0;
    function show() {
      var mine = ++asked;
      fetch(aside.dataset.src + "?phone=" + encodeURIComponent(phone.value.trim()), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null || mine !== asked) return;
          var body = document.getElementById("history-body");
          body.outerHTML = html;
        })
        .catch(function () {});
    }
    phone.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(show, 300);
    });
    if (phone.value.trim()) show();
  }

  function fieldsTakenOnlyWhen() {
    // A field the diagram takes only under another field's answer (only_when: how satisfied the
    // customer is, only once reached) shows only under that answer. Hidden, it is disabled, so the
    // form sends nothing the server would refuse; what was typed stays for when it shows again.
    var form = document.getElementById("task-form");
    if (!form) return;
    var labels = [];
    form.querySelectorAll(".only-when[data-only-when]").forEach(function (hint) {
      var label = hint.closest("label");
      if (label && labels.indexOf(label) < 0) labels.push(label);
    });
    function holds(hint) {
      var rule = hint.dataset.onlyWhen, at = rule.indexOf("=");
      // escalating is the button beside 提交, not an option of the outcome (task.html)
      if (rule === "f_outcome=escalate") return form.dataset.escalating === "true";
      var field = form.elements[rule.slice(0, at)];  // radios answer with the checked one's value
      return Boolean(field) && field.value === rule.slice(at + 1);
    }
    function update() {
      labels.forEach(function (label) {
        var shown = Array.prototype.some.call(label.querySelectorAll(".only-when[data-only-when]"), holds);
        label.style.display = shown ? "" : "none";
        label.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !shown; });
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "f_outcome") form.dataset.escalating = "false";  // another outcome chosen
      update();
    });
    // The first press of 上报上一级 shows what escalating asks (its reason) instead of sending;
    // the second asks to confirm and sends.
    var escalate = document.getElementById("escalate");
    var asks = labels.filter(function (label) {
      return label.querySelector(".only-when[data-only-when='f_outcome=escalate']");
    });
    if (escalate && asks.length) {
      escalate.addEventListener("click", function (event) {
        if (form.dataset.escalating === "true") return;
        event.preventDefault();
        event.stopPropagation();  // no confirmation yet: nothing is sent by this press
        form.dataset.escalating = "true";
        update();
        var first = asks[0].querySelector("input, select, textarea");
        if (first) first.focus();
      });
    }
    update();
  }

  // A button whose step cannot be taken back asks first (上报上一级 sits beside 提交 on a phone).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", merchantsByFloor);
  document.addEventListener("DOMContentLoaded", cannedReplies);
  document.addEventListener("DOMContentLoaded", customerHistory);
  document.addEventListener("DOMContentLoaded", fieldsTakenOnlyWhen);
  window.Console = { countdowns: countdowns, fitFrames: fitFrames };
})();
