// Checks, in the browser, each audit entry's inclusion proof against the signed
// checkpoint shown on the page (RFC 9162 §2.1.3.2), and the checkpoint's Ed25519
// signature where the browser supports it. Nothing is sent anywhere.
"use strict";
(function () {
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const equal = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

  async function verifyInclusion(leaf, index, size, proof, root) {
    if (index >= size) return false;
    let fn = BigInt(index), sn = BigInt(size) - 1n, r = leaf;
    for (const p of proof) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256(concat([1], p, r));
        if ((fn & 1n) === 0n) { while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; } }
      } else {
        r = await sha256(concat([1], r, p));
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n && equal(r, root);
  }

  async function run() {
    const cpEl = document.querySelector("[data-audit-checkpoint]");
    if (!cpEl || !window.crypto || !crypto.subtle) return;
    const lines = cpEl.textContent.replace(/\n+$/, "").split("\n");
    const size = Number(lines[1]);
    const root = b64(lines[2]);
    const cpStatus = document.querySelector("[data-audit-checkpoint-status]");
    try {
      const keyEl = document.querySelector("[data-audit-public-key]");
      const key = await crypto.subtle.importKey("raw", b64(keyEl.textContent.trim()), { name: "Ed25519" }, false, ["verify"]);
      const signature = b64(lines[5].split(" ").pop());
      const body = new TextEncoder().encode(lines.slice(0, 4).join("\n") + "\n");
      const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, body);
      cpStatus.textContent = ok ? "✓ Signature valid." : "✗ The signature does not match the key.";
      cpStatus.dataset.result = ok ? "ok" : "failed";
    } catch (e) {
      cpStatus.textContent = "This browser cannot check Ed25519 signatures; compare the checkpoint with a published one.";
    }
    for (const el of document.querySelectorAll("[data-audit-entry][data-proof]")) {
      const status = el.querySelector("[data-audit-status]");
      const leaf = await sha256(concat([0], b64(el.dataset.leaf)));
      const proof = el.dataset.proof ? el.dataset.proof.split(",").map(b64) : [];
      const ok = await verifyInclusion(leaf, Number(el.dataset.seq), size, proof, root);
      status.textContent = ok ? "✓ Proven to be in the log (checkpoint of " + size + " entries)."
                              : "✗ This entry's proof does not check out against the checkpoint.";
      status.dataset.result = ok ? "ok" : "failed";
    }
  }
  document.addEventListener("DOMContentLoaded", run);
})();
