// medcodes: suggestions as you type (a WAI-ARIA 1.2 combobox) and link prefetching.
// Everything works without this file; it only makes the search box quicker to use.
(function () {
  "use strict";
  var MIN_CHARS = 2, DELAY_MS = 120, LIMIT = 8;

  function decode(html) {  // entity text to plain text, never parsed as markup that runs
    var t = document.createElement("textarea");
    t.innerHTML = html;
    return t.value;
  }

  function highlighted(fragment) {  // "a <mark>b</mark>" -> nodes; <mark> is the only element kept
    var out = document.createDocumentFragment(), inMark = null;
    fragment.split(/(<\/?mark>)/).forEach(function (part) {
      if (part === "<mark>") { inMark = document.createElement("mark"); out.appendChild(inMark); return; }
      if (part === "</mark>") { inMark = null; return; }
      if (part) (inMark || out).appendChild(document.createTextNode(decode(part)));
    });
    return out;
  }

  function Combobox(input) {
    this.input = input;
    this.list = document.getElementById(input.id + "-list");
    this.status = input.form.querySelector("[data-suggest-status]");
    this.url = input.getAttribute("data-suggest");
    this.codeUrl = input.getAttribute("data-code-url");
    this.items = []; this.active = -1; this.timer = null; this.controller = null; this.seq = 0;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.addEventListener("input", this.onInput.bind(this));
    input.addEventListener("keydown", this.onKey.bind(this));
    input.addEventListener("blur", function () { setTimeout(this.close.bind(this), 150); }.bind(this));
    this.list.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep focus in the input
    this.list.addEventListener("click", this.onClick.bind(this));
  }

  Combobox.prototype.onInput = function () {
    clearTimeout(this.timer);
    var q = this.input.value.trim();
    if (q.length < MIN_CHARS) { this.cancel(); this.close(); return; }
    this.timer = setTimeout(this.fetch.bind(this, q), DELAY_MS);
  };

  Combobox.prototype.cancel = function () {
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.seq++;  // any answer still on its way is now stale
  };

  Combobox.prototype.fetch = function (q) {
    this.cancel();
    var seq = this.seq, self = this;
    this.controller = window.AbortController ? new AbortController() : null;
    var url = this.url + "?limit=" + LIMIT + "&q=" + encodeURIComponent(q);
    fetch(url, { headers: { Accept: "application/json" }, signal: this.controller && this.controller.signal })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { if (seq === self.seq) self.render(data.results || []); })
      .catch(function () { /* aborted or offline: the form still submits */ });
  };

  Combobox.prototype.href = function (r) {
    return this.codeUrl.replace("__SYSTEM__", encodeURIComponent(r.system))
      .replace("__CODE__", encodeURIComponent(r.code));
  };

  Combobox.prototype.render = function (results) {
    var self = this;
    this.list.textContent = "";
    this.items = results;
    this.active = -1;
    results.forEach(function (r, i) {
      var li = document.createElement("li"), code = document.createElement("span"),
          title = document.createElement("span"), sys = document.createElement("span");
      li.id = self.list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-href", self.href(r));
      code.className = "code"; code.textContent = r.code;
      title.className = "title";
      var m = r.match || {};
      if (m.field === "title" && m.fragment) title.appendChild(highlighted(m.fragment));
      else title.textContent = r.title;
      if (m.field && m.field !== "title" && m.field !== "code" && m.fragment) {
        var why = document.createElement("span");  // why a lay word found this code: "heart attack"
        why.className = "why";
        why.appendChild(document.createTextNode(" — "));
        why.appendChild(highlighted(m.fragment));
        title.appendChild(why);
      }
      sys.className = "sys"; sys.textContent = r.system_name || r.system;
      li.appendChild(code); li.appendChild(title); li.appendChild(sys);
      self.list.appendChild(li);
    });
    this.setOpen(results.length > 0);
    this.status.textContent = results.length ? results.length + " suggestions" : "No suggestions";
  };

  Combobox.prototype.setOpen = function (open) {
    this.list.hidden = !open;
    this.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) { this.input.removeAttribute("aria-activedescendant"); this.active = -1; }
  };

  Combobox.prototype.close = function () { this.setOpen(false); };

  Combobox.prototype.move = function (to) {
    var options = this.list.children;
    if (!options.length) return;
    if (this.list.hidden) this.setOpen(true);
    if (this.active >= 0) options[this.active].setAttribute("aria-selected", "false");
    this.active = (to + options.length) % options.length;
    var li = options[this.active];
    li.setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", li.id);
    li.scrollIntoView({ block: "nearest" });
  };

  Combobox.prototype.onKey = function (e) {
    var open = !this.list.hidden;
    if (e.key === "ArrowDown") { e.preventDefault(); this.move(open ? this.active + 1 : 0); }
    else if (e.key === "ArrowUp") { e.preventDefault(); this.move(open ? this.active - 1 : -1); }
    else if (e.key === "Enter" && open && this.active >= 0) {
      e.preventDefault();
      window.location.assign(this.list.children[this.active].getAttribute("data-href"));
    } else if (e.key === "Escape") {
      if (open) { e.preventDefault(); this.close(); } else { this.input.value = ""; }
    } else if (e.key === "Tab") { this.close(); }
  };

  Combobox.prototype.onClick = function (e) {
    var li = e.target.closest("[role=option]");
    if (li) window.location.assign(li.getAttribute("data-href"));
  };

  // Fetch a code page while the pointer rests on its link, so opening it feels instant.
  var prefetched = {};
  function prefetch(e) {
    var a = e.target.closest && e.target.closest("a[href^='/codes/']");
    if (!a || prefetched[a.href]) return;
    prefetched[a.href] = true;
    var link = document.createElement("link");
    link.rel = "prefetch"; link.href = a.href;
    document.head.appendChild(link);
  }

  // The code page's similar codes when the server left them for later: the server renders the list
  // (escaped like every page); on any failure the link to their own page stays.
  function loadDeferred(box) {
    box.setAttribute("aria-busy", "true");
    fetch(box.getAttribute("data-similar-src"), { headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {})
      .then(function () { box.removeAttribute("aria-busy"); });
  }

  // While an explanation is being written: ask for the explainer section again now and then, and put
  // it in place of the old one once it no longer says so (a reload does the same without this file).
  function pollExplainer(box, wait, left) {
    if (left <= 0) return;  // this long without it: leave it to a reload
    setTimeout(function () {
      fetch(box.getAttribute("data-explainer-poll"), { headers: { Accept: "text/html" }, cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          var t = document.createElement("template");
          t.innerHTML = html;  // the server's own escaped fragment, as the similar codes above
          var fresh = t.content.querySelector("section.explainer"), old = box.closest("section.explainer");
          if (fresh && old && !fresh.querySelector("[data-explainer-poll]")) old.replaceWith(fresh);
          else pollExplainer(box, Math.min(wait * 1.5, 15000), left - wait);
        })
        .catch(function () { pollExplainer(box, Math.min(wait * 2, 30000), left - wait); });
    }, wait);
  }

  // "Copy code": the code onto the clipboard, said to screen readers through the button's own text.
  function copyCode(button) {
    var text = button.getAttribute("data-copy"), label = button.textContent;
    function done(ok) {
      button.textContent = ok ? "Copied" : "Press Ctrl+C to copy";
      setTimeout(function () { button.textContent = label; }, 1500);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else { done(false); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (b) {
      b.addEventListener("click", function () { copyCode(b); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), function (input) {
      new Combobox(input);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-similar-src]"), loadDeferred);
    Array.prototype.forEach.call(document.querySelectorAll("[data-explainer-poll]"), function (box) {
      pollExplainer(box, 2000, 1200000);  // twenty minutes
    });
    document.addEventListener("pointerover", prefetch);
    document.addEventListener("focusin", prefetch);
  });
})();
