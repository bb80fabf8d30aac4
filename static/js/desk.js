/* PacketDesk pages: drag-and-drop upload, live progress, copy link, print. Plain JS, no build step. */
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const text = (el, value) => { if (el) el.textContent = value; };

  function csrf(form) {
    const input = $("input[name=csrfmiddlewaretoken]", form || document);
    return input ? input.value : "";
  }

  function seconds(s) {
    if (s === null || s === undefined) return "";
    if (s < 60) return Math.max(1, Math.round(s)) + " s";
    return Math.round(s / 60) + " min";
  }

  /* ---- drag-and-drop upload: one XHR per file, per-file progress and result ---- */
  function setupUploader(form) {
    const zone = $("[data-dropzone]", form);
    const list = $("[data-upload-list]", form);
    const summary = $("[data-upload-summary]", form);
    const input = $("input[type=file]", form);
    const totals = { stored: 0, already_in_request: 0, refused: 0, failed: 0 };
    const words = { stored: "stored", already_in_request: "already in this request", refused: "refused" };
    let queue = [], active = 0;
    const LIMIT = 3;

    function showTotals() {
      text(summary, `${totals.stored} stored, ${totals.already_in_request} already in this request, ` +
        `${totals.refused} refused` + (totals.failed ? `, ${totals.failed} failed to upload` : "") +
        (queue.length || active ? ` — ${queue.length + active} still uploading…` : ". Reload the page to see them listed."));
    }

    function row(file) {
      const li = document.createElement("li");
      li.innerHTML = '<span class="name"></span><progress max="100" value="0"></progress><span class="result" aria-live="polite"></span>';
      text($(".name", li), file.name + " (" + Math.ceil(file.size / 1024) + " KB)");
      list.appendChild(li);
      return li;
    }

    function send(job) {
      active++;
      const data = new FormData();
      data.append("csrfmiddlewaretoken", csrf(form));
      const dept = $("[name=department]", form);
      if (dept && dept.value) data.append("department", dept.value);
      data.append("files", job.file, job.file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      const bar = $("progress", job.li), result = $(".result", job.li);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = () => {
        bar.value = 100;
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status >= 200 && xhr.status < 300 && body.outcomes) {
          result.innerHTML = "";
          const outcomes = body.outcomes;
          if (outcomes.length > 1) {
            const counts = {};
            outcomes.forEach((o) => { counts[o.result] = (counts[o.result] || 0) + 1; });
            const p = document.createElement("div");
            text(p, Object.keys(counts).map((k) => `${counts[k]} ${words[k] || k}`).join(", "));
            result.appendChild(p);
          }
          outcomes.forEach((o) => {
            totals[o.result] = (totals[o.result] || 0) + 1;
            if (outcomes.length === 1 || o.result !== "stored") {
              const span = document.createElement("div");
              span.className = o.result;
              text(span, (outcomes.length > 1 ? o.name + ": " : "") + (words[o.result] || o.result) + (o.reason ? ": " + o.reason : ""));
              result.appendChild(span);
            }
          });
        } else {
          totals.failed++;
          result.innerHTML = '<div class="refused"></div>';
          text($(".refused", result), "Not uploaded: " + ((body.error && body.error.message) || ("server answered " + xhr.status)));
        }
        done();
      };
      xhr.onerror = () => { totals.failed++; text(result, "Not uploaded: the connection failed."); done(); };
      xhr.send(data);
    }

    function done() { active--; pump(); showTotals(); }
    function pump() { while (active < LIMIT && queue.length) send(queue.shift()); }

    function add(files) {
      Array.from(files).forEach((file) => queue.push({ file, li: row(file) }));
      showTotals();
      pump();
    }

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (input.files.length) { add(input.files); input.value = ""; }
    });
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
    zone.addEventListener("drop", (e) => { if (e.dataTransfer && e.dataTransfer.files.length) add(e.dataTransfer.files); });
  }

  /* ---- dedupe run progress: polls the JSON endpoint; the server knows the run, so reload is safe ---- */
  function setupRunProgress(box) {
    const url = box.dataset.url;
    let timer = null;
    function render(p) {
      if (!p.run) return;
      let bar = $("[data-role=bar]", box);
      if (!bar) {
        box.insertAdjacentHTML("beforeend", '<div class="progress" role="progressbar" aria-label="Duplicate detection progress" aria-valuemin="0" aria-valuemax="100"><span data-role="bar"></span></div><p data-role="eta" class="muted"></p>');
        bar = $("[data-role=bar]", box);
      }
      bar.style.width = p.percent + "%";
      bar.parentElement.setAttribute("aria-valuenow", p.percent);
      const label = $("[data-role=label]", box);
      if (p.state === "completed") {
        text(label, `Finished: ${p.groups} duplicate group${p.groups === 1 ? "" : "s"}.`);
        text($("[data-role=eta]", box), "");
      } else if (p.state === "failed") {
        text(label, "The run failed: " + p.error);
      } else {
        text(label, p.total ? `${p.phase_label}: ${p.done} of ${p.total} ${p.unit} (${p.percent}%)` : `${p.phase_label}…`);
        const eta = p.remaining_seconds !== null ? `about ${seconds(p.remaining_seconds)} left` : "estimating time left…";
        text($("[data-role=eta]", box), `${eta}; running for ${seconds(p.elapsed_seconds)}.`);
      }
      return p.state === "queued" || p.state === "running";
    }
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => r.json())
        .then((p) => {
          if (render(p)) { timer = setTimeout(poll, 1000); }
          else if (box.dataset.active) { window.location.reload(); }
        })
        .catch(() => { timer = setTimeout(poll, 3000); });
    }
    if (box.dataset.active) poll();
  }

  /* ---- packet build state: reload when the worker is done ---- */
  function setupPacketState(box) {
    if (box.dataset.state !== "building") return;
    const poll = () => fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => r.json())
      .then((p) => { if (p.state && p.state !== "building") window.location.reload(); else setTimeout(poll, 1000); })
      .catch(() => setTimeout(poll, 3000));
    setTimeout(poll, 1000);
  }

  /* ---- new-request form: show the computed deadline as the received date changes ---- */
  function setupDeadlinePreview(box) {
    const input = $("#id_received_at");
    if (!input) return;
    input.addEventListener("change", () => {
      fetch(box.dataset.url + "?received=" + encodeURIComponent(input.value), { credentials: "same-origin" })
        .then((r) => r.json())
        .then((d) => {
          if (d.error) {
            box.innerHTML = '<strong class="error" data-role="refusal"></strong>';
            text($("[data-role=refusal]", box), d.error.message);
            return;
          }
          box.innerHTML = 'Determination due <strong data-role="due"></strong><br><small data-role="explanation"></small>';
          text($("[data-role=due]", box), d.due_label);
          text($("[data-role=explanation]", box), d.explanation);
        });
    });
  }

  function setupCopy(button) {
    button.addEventListener("click", () => {
      const field = $(button.dataset.copy);
      const status = $("[data-copy-status]");
      field.select();
      const ok = () => text(status, "Copied.");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(ok, () => { document.execCommand("copy"); ok(); });
      } else { document.execCommand("copy"); ok(); }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    // Widths come as data attributes: the Content Security Policy forbids inline styles.
    $$("[data-percent]").forEach((el) => { el.style.width = el.dataset.percent + "%"; });
    $$("form[data-uploader]").forEach(setupUploader);
    $$("[data-run-progress]").forEach(setupRunProgress);
    $$("[data-packet-state]").forEach(setupPacketState);
    $$("#deadline-preview").forEach(setupDeadlinePreview);
    $$("[data-copy]").forEach(setupCopy);
    $$("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
    $$("form[data-run-start]").forEach((f) => f.addEventListener("submit", () => { const b = $("button", f); setTimeout(() => { b.disabled = true; }, 0); }));
  });
})();
