/* Safehold consent: the banner, blocked scripts, Google Consent Mode v2 and GPC.
   On Safehold's pages it enhances the server's banner; on another site,
   <script src=".../static/consent/consent.js" data-site="KEY"> builds it.
   No dependencies; no request to any host but the Safehold server. */
(function (w, d) {
  "use strict";
  var me = d.currentScript;
  var site = me && me.getAttribute("data-site");
  var base = me ? new URL(me.src, location.href).origin : "";
  var CHOICE = "sh_consent", VISITOR = "sh_vid", AGE = 400 * 86400;
  var gpc = navigator.globalPrivacyControl === true;
  var allowed = {}, cfg = null, lang = /^zh/i.test(d.documentElement.lang) ? "zh-hans" : "en";
  var GCM = { ad_storage: "marketing", ad_user_data: "marketing", ad_personalization: "marketing",
    analytics_storage: "analytics", functionality_storage: "preferences",
    personalization_storage: "preferences" };

  w.dataLayer = w.dataLayer || [];
  function gtag() { w.dataLayer.push(arguments); }
  function modes() {
    var o = {};
    for (var k in GCM) o[k] = allowed[GCM[k]] ? "granted" : "denied";
    return o;
  }
  var first = modes();
  first.security_storage = "granted";
  first.wait_for_update = 500;
  gtag("consent", "default", first);

  function cookie(n) {
    var m = d.cookie.match("(?:^|; )" + n + "=([^;]*)");
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(n, v, age, dom) {
    d.cookie = n + "=" + v + "; Path=/; Max-Age=" + age + "; SameSite=Lax" +
      (dom ? "; Domain=" + dom : "") + (location.protocol === "https:" ? "; Secure" : "");
  }
  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }
  function apply(list) {
    var before = JSON.stringify(Object.keys(allowed).sort());
    allowed = {};
    list.forEach(function (s) { allowed[s] = true; });
    gtag("consent", "update", modes());
    run();
    if (JSON.stringify(Object.keys(allowed).sort()) !== before) {
      w.dispatchEvent(new CustomEvent("safehold:consent", { detail: { allowed: Object.keys(allowed) } }));
    }
  }
  function run() {
    d.querySelectorAll('script[type="text/plain"][data-category]').forEach(function (s) {
      if (!allowed[s.getAttribute("data-category")]) return;
      var n = d.createElement("script"), src = s.getAttribute("data-src") || s.getAttribute("src");
      for (var i = 0; i < s.attributes.length; i++) {
        var a = s.attributes[i].name;
        if (!/^(type|src|data-src|data-category)$/.test(a)) n.setAttribute(a, s.attributes[i].value);
      }
      if (src) n.src = src; else n.text = s.text;
      s.parentNode.replaceChild(n, s);
    });
  }
  // Blocked scripts further down the page than this one.
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", run);
  function toTop(node) {
    if (!d.body) return d.addEventListener("DOMContentLoaded", function () { toTop(node); });
    // First in the tab order (after the skip link), whatever its place on screen.
    var skip = d.querySelector("body > a.skip");
    d.body.insertBefore(node, skip ? skip.nextSibling : d.body.firstChild);
  }

  w.SafeholdConsent = {
    allows: function (c) { return allowed[c] === true; },
    allowed: function () { return Object.keys(allowed); },
    onChange: function (f) { w.addEventListener("safehold:consent", function (e) { f(e.detail.allowed); }); },
    show: function () { if (site) { if (cfg) banner(false); } else location.href = "/cookies/"; }
  };

  if (!site) { // Safehold's own pages: the server rendered the state and the banner.
    var state = d.getElementById("sh-consent-state");
    apply(((state && state.getAttribute("data-allowed")) || "").split(" ").filter(Boolean));
    var note = d.getElementById("sh-language-note"), switcher = d.querySelector("form.lang");
    if (note && switcher) switcher.parentNode.insertBefore(note, switcher.nextSibling);
    var own = d.getElementById("sh-consent");
    if (!own) return;
    toTop(own);
    var form = own.querySelector("form"), sent = false;
    form.addEventListener("submit", function (e) {
      var b = e.submitter;
      if (sent || !b || !b.name) return;
      e.preventDefault();
      var data = new FormData(form);
      data.append(b.name, b.value);
      fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw r.status; return r.json(); })
        .then(function (j) {
          own.remove();
          apply(j.allowed);
          var main = d.getElementById("main");
          if (main) main.focus();
        })
        .catch(function () { sent = true; form.requestSubmit(b); });
    });
    return;
  }

  // Another site: the choice lives in that site's own cookies and is recorded in Safehold.
  var headers = { Authorization: "Bearer " + site };
  var link = el("link", { rel: "stylesheet", href: base + "/static/consent/consent.css" });
  d.head.appendChild(link);

  function stored() {
    var p = (cookie(CHOICE) || "").split("|");
    if (p.length !== 6 || p[0] !== "1") return null;
    return { allowed: p[1] ? p[1].split(".") : [], at: +p[2], cv: p[3], sv: +p[4], gpc: p[5] === "1" };
  }
  function necessary() {
    return cfg.categories.filter(function (c) { return c.necessary; }).map(function (c) { return c.slug; });
  }
  function sale(c) { return c.sale_or_sharing; }
  function newId() {
    var b = new Uint8Array(18);
    crypto.getRandomValues(b);
    return btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, "-").replace(/\//g, "_");
  }
  function record(list, method) {
    var vid = cookie(VISITOR);
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(vid || "")) vid = newId();
    var now = Math.floor(Date.now() / 1000), choices = {};
    cfg.categories.forEach(function (c) {
      choices[c.slug] = list.indexOf(c.slug) >= 0 || c.necessary;
      if (!choices[c.slug]) (c.cookies || []).forEach(function (n) {
        setCookie(n, "", 0);
        setCookie(n, "", 0, location.hostname);
      });
    });
    setCookie(VISITOR, vid, AGE);
    setCookie(CHOICE, ["1", list.join("."), now, cfg.categories_version,
      cfg.cookie_section_version, gpc ? 1 : 0].join("|"), AGE);
    apply(list);
    return send(JSON.stringify({ visitor_id: vid, choices: choices, method: method, gpc: gpc,
      language: lang }), newId(), 3);
  }
  function send(body, key, tries) {
    // A lost answer is retried with the same Idempotency-Key: recorded once.
    return fetch(base + "/api/v1/consent/choices", { method: "POST", credentials: "omit",
      headers: { Authorization: headers.Authorization, "Content-Type": "application/json",
        "Idempotency-Key": key }, body: body })
      .then(function (r) { if (r.status >= 500 || r.status === 409 || r.status === 429) throw r; })
      .catch(function () {
        if (tries > 0) setTimeout(function () { send(body, key, tries - 1); }, 2000);
      });
  }
  function banner(renewal) {
    var old = d.getElementById("sh-consent");
    if (old) old.remove();
    var t = cfg.texts, box = el("section", { id: "sh-consent", "class": "sh-consent", role: "region",
      "aria-labelledby": "sh-consent-title" });
    box.appendChild(el("h2", { id: "sh-consent-title" }, t.title));
    if (renewal) box.appendChild(el("p", { "class": "sh-renewal" }, t.renewal));
    box.appendChild(el("p", {}, t.body));
    var saleOff = gpc && cfg.categories.some(sale);
    if (saleOff) box.appendChild(el("p", { "class": "sh-gpc" }, t.gpc));
    var cats = el("div", { "class": "sh-cats" });
    cats.hidden = true;
    cfg.categories.forEach(function (c) {
      var row = el("div", { "class": "sh-category" }), id = "sh-cat-" + c.slug;
      var box2 = el("input", { type: "checkbox", id: id, value: c.slug, "aria-describedby": id + "-d" });
      box2.checked = c.necessary || (!!allowed[c.slug] && !(saleOff && c.sale_or_sharing));
      box2.disabled = c.necessary;
      row.appendChild(box2);
      row.appendChild(el("label", { "for": id }, c.name + (c.necessary ? " (" + t.always + ")" : "")));
      row.appendChild(el("p", { id: id + "-d" }, c.description));
      cats.appendChild(row);
    });
    box.appendChild(cats);
    var actions = el("div", { "class": "sh-actions" });
    function button(label, fn) {
      var b = el("button", { type: "button", "class": "sh-btn" }, label);
      b.addEventListener("click", fn);
      actions.appendChild(b);
      return b;
    }
    function done(list, method) { box.remove(); record(list, method); }
    button(t.accept, function () {
      done(cfg.categories.filter(function (c) { return !(gpc && c.sale_or_sharing); })
        .map(function (c) { return c.slug; }), "banner");
    });
    button(t.reject, function () { done(necessary(), "banner"); });
    var choose = button(t.choose, function () {
      if (cats.hidden) {
        cats.hidden = false;
        choose.textContent = t.save;
        cats.querySelector("input:not([disabled])").focus();
        return;
      }
      var list = [];
      cats.querySelectorAll("input:checked").forEach(function (i) { list.push(i.value); });
      done(list, "banner");
    });
    box.appendChild(actions);
    toTop(box);
  }

  fetch(base + "/api/v1/consent/config?lang=" + lang, { headers: headers, credentials: "omit" })
    .then(function (r) { if (!r.ok) throw r.status; return r.json(); })
    .then(function (c) {
      cfg = c;
      var s = stored();
      var current = s && s.cv === c.categories_version && s.sv >= c.cookie_section_version &&
        Date.now() / 1000 - s.at < c.renew_days * 86400;
      if (!current) {
        apply(necessary());
        banner(!!s);
      } else {
        var list = s.allowed.filter(function (slug) {
          return c.categories.some(function (x) { return x.slug === slug; });
        });
        var saleSlugs = c.categories.filter(sale).map(function (x) { return x.slug; });
        var dropped = list.filter(function (x) { return saleSlugs.indexOf(x) < 0; });
        if (gpc && !s.gpc && dropped.length < list.length) record(dropped, "gpc");
        else apply(list);
      }
      d.addEventListener("click", function (e) {
        if (e.target.closest && e.target.closest("[data-safehold-consent-open]")) {
          e.preventDefault();
          banner(false);
        }
      });
    })
    .catch(function () { /* Safehold unreachable: nothing optional runs. */ });
})(window, document);
