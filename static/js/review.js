/* Review page: keyboard path through the groups, and the redaction editor (issue 8). */
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const text = (el, value) => { if (el) el.textContent = value; };

  /* ---- keyboard: j/n next, k/p previous, a accept (recorded on the server and audited) ---- */
  const groups = $$("article.group");
  function markAccepted(g) {
    g.classList.add("accepted");
    const badge = $("[data-accepted-badge]", g);
    if (badge) badge.hidden = false;
    const form = $("[data-accept-form]", g);
    if (form) form.hidden = true;
  }
  function accept(g) {
    return fetch(g.dataset.acceptUrl, {
      method: "POST",
      headers: { "X-CSRFToken": g.dataset.csrf, "Accept": "application/json" },
      credentials: "same-origin",
    }).then((r) => { if (r.ok) markAccepted(g); });
  }
  groups.forEach((g) => { if (g.hasAttribute("data-accepted")) markAccepted(g); });
  function current() {
    const focused = document.activeElement && document.activeElement.closest("article.group");
    if (focused) return groups.indexOf(focused);
    const top = groups.findIndex((g) => g.getBoundingClientRect().bottom > 80);
    return top === -1 ? -1 : top - 1;
  }
  function go(index) {
    if (index >= groups.length) {
      const next = $("[data-next-page]");
      if (next) { window.location = next.href; }
      return;
    }
    const g = groups[Math.max(0, index)];
    if (!g) return;
    g.focus({ preventScroll: true });
    g.scrollIntoView({ block: "start", behavior: "smooth" });
  }
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.closest("input, textarea, select, dialog, [contenteditable]") || t.isContentEditable)) return;
    const i = current();
    if (e.key === "j" || e.key === "n") { e.preventDefault(); go(i + 1); }
    else if (e.key === "k" || e.key === "p") { e.preventDefault(); go(i - 1); }
    else if (e.key === "a" && i >= 0 && groups[i]) {
      e.preventDefault();
      accept(groups[i]);
      go(i + 1);
    }
  });
  /* ---- the action bar: previous / next group by where the page is, whatever has focus ---- */
  const bar = $("[data-review-bar]");
  function barLine() { return (bar ? bar.getBoundingClientRect().bottom : 0) + 8; }
  function keepClearOfBar() {
    if (bar) document.documentElement.style.setProperty("--review-bar", Math.ceil(bar.offsetHeight + 8) + "px");
  }
  keepClearOfBar();
  window.addEventListener("resize", keepClearOfBar);
  $$("[data-go]").forEach((button) => button.addEventListener("click", () => {
    const line = barLine();
    let i = -1; // the group at the top of the view, just under the bar
    groups.forEach((g, n) => { if (g.getBoundingClientRect().top <= line + 4) i = n; });
    if (button.dataset.go === "next") { go(i + 1); return; }
    const inside = i !== -1 && groups[i].getBoundingClientRect().top < line - 4; // scrolled into it
    go(inside ? i : i - 1);
  }));

  if (location.hash && location.hash.startsWith("#group-")) {
    const g = $(location.hash);
    if (g) g.focus({ preventScroll: true });
  }

  /* ---- redaction editor ---- */
  const dialog = $("#redactor");
  if (!dialog) return;
  const stage = $(".redact-stage", dialog);
  const img = $("[data-role=image]", dialog);
  const list = $("[data-role=boxes]", dialog);
  const status = $("[data-role=status]", dialog);
  const exemption = $("#redact-exemption");
  const baseUrl = dialog.dataset.listUrl;
  const csrfToken = dialog.dataset.csrf;
  let state = null; // {item, width, height, boxes: [], zoom}
  let draft = null; // box being drawn, in image pixels

  function scale() { return img.clientWidth / state.width; } // displayed px per image px

  function post(url, fields) {
    const body = new URLSearchParams(fields);
    return fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json" },
    }).then((r) => r.json().then((j) => ({ ok: r.ok, body: j })));
  }

  function draw() {
    $$(".redact-box", stage).forEach((b) => b.remove());
    const s = scale();
    const all = state.boxes.concat(draft ? [Object.assign({ draft: true }, draft)] : []);
    all.forEach((b) => {
      const el = document.createElement("div");
      el.className = "redact-box" + (b.draft || !b.confirmed ? " pending" : "") + (b.draft ? " selected" : "");
      el.style.left = b.x * s + "px"; el.style.top = b.y * s + "px";
      el.style.width = b.width * s + "px"; el.style.height = b.height * s + "px";
      el.title = b.exemption_label || "new box";
      stage.appendChild(el);
    });
    list.innerHTML = "";
    state.boxes.forEach((b) => {
      const li = document.createElement("li");
      li.innerHTML = '<span></span> <button type="button" class="link" data-act="group">apply to the whole group</button> · <button type="button" class="link" data-act="delete">remove</button>';
      if (!b.confirmed) li.insertAdjacentHTML("beforeend", ' · <button type="button" class="link" data-act="confirm">confirm mapped box</button>');
      text($("span", li), `${b.width}×${b.height} px at (${b.x}, ${b.y}) — ${b.exemption_label}${b.confirmed ? "" : " (mapped from a copy; confirm it)"}`);
      $$("button", li).forEach((btn) => btn.addEventListener("click", () => act(b, btn.dataset.act)));
      list.appendChild(li);
    });
  }

  function load() {
    return fetch(baseUrl + "?item=" + state.item + "&page=" + state.page, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => r.json()).then((j) => { state.boxes = j.redactions || []; draw(); });
  }

  function act(box, action) {
    post(`${baseUrl}${box.id}/${action}/`, {}).then(({ ok, body }) => {
      if (!ok) { text(status, body.error ? body.error.message : "Not saved."); return; }
      if (action === "group") text(status, `Mapped onto ${body.mapped.length} other cop${body.mapped.length === 1 ? "y" : "ies"} in the group; confirm them on each copy.`);
      else if (action === "delete") text(status, "Box removed.");
      else text(status, "Box confirmed.");
      load();
    });
  }

  function save(box) {
    const b = { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
    if (b.width < 2 || b.height < 2) { draft = null; draw(); return; }
    post(baseUrl, { item: state.item, page: state.page, x: b.x, y: b.y, width: b.width, height: b.height, exemption: exemption.value })
      .then(({ ok, body }) => {
        draft = null;
        if (!ok) { text(status, body.error ? body.error.message : "Not saved."); draw(); return; }
        text(status, `Saved: ${body.redaction.exemption_label}.`);
        load();
      });
  }

  function toImage(e) {
    const r = img.getBoundingClientRect(), s = scale();
    return { x: Math.min(Math.max(0, (e.clientX - r.left) / s), state.width), y: Math.min(Math.max(0, (e.clientY - r.top) / s), state.height) };
  }
  let start = null;
  stage.addEventListener("pointerdown", (e) => { if (!state) return; e.preventDefault(); stage.setPointerCapture(e.pointerId); start = toImage(e); draft = { x: start.x, y: start.y, width: 0, height: 0 }; });
  stage.addEventListener("pointermove", (e) => {
    if (!start) return;
    const p = toImage(e);
    draft = { x: Math.min(start.x, p.x), y: Math.min(start.y, p.y), width: Math.abs(p.x - start.x), height: Math.abs(p.y - start.y) };
    draw();
  });
  stage.addEventListener("pointerup", () => { if (!start) return; start = null; save(draft); });
  stage.addEventListener("keydown", (e) => {
    if (!state) return;
    const step = Math.max(1, Math.round(state.width / 100));
    if (e.key === "Enter") {
      e.preventDefault();
      if (draft) { save(draft); return; }
      const w = Math.round(state.width / 5), h = Math.round(state.height / 5);
      draft = { x: Math.round((state.width - w) / 2), y: Math.round((state.height - h) / 2), width: w, height: h };
      text(status, "Move the box with the arrow keys, resize with Shift+arrows, Enter to save, Escape to cancel.");
      draw();
      return;
    }
    if (!draft) return;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) {
      e.preventDefault();
      const [dx, dy] = moves[e.key];
      if (e.shiftKey) { draft.width = Math.max(step, draft.width + dx); draft.height = Math.max(step, draft.height + dy); }
      else { draft.x = Math.min(Math.max(0, draft.x + dx), state.width - draft.width); draft.y = Math.min(Math.max(0, draft.y + dy), state.height - draft.height); }
      draw();
    } else if (e.key === "Escape" && draft) { e.preventDefault(); e.stopPropagation(); draft = null; draw(); }
  });

  function setZoom(z) {
    state.zoom = Math.min(4, Math.max(0.25, z));
    img.style.width = Math.round(state.fitWidth * state.zoom) + "px";
    text($("[data-role=zoom]", dialog), Math.round(state.zoom * 100) + "%");
    draw();
  }
  $$("[data-zoom]", dialog).forEach((b) => b.addEventListener("click", () => setZoom(state.zoom * (b.dataset.zoom === "1" ? 1.5 : 1 / 1.5))));
  $("[data-close]", dialog).addEventListener("click", () => { dialog.close(); window.location.reload(); });

  $$("[data-redact]").forEach((button) => button.addEventListener("click", () => {
    state = { item: button.dataset.item, page: +button.dataset.page || 0, width: +button.dataset.width, height: +button.dataset.height, boxes: [], zoom: 1 };
    draft = null;
    text($("[data-role=name]", dialog), button.dataset.name);
    text(status, "");
    img.onload = () => {
      const room = $(".redact-scroll", dialog).clientWidth - 4;
      state.fitWidth = Math.min(room, img.naturalWidth);
      if (!state.width) { state.width = img.naturalWidth; state.height = img.naturalHeight; }
      setZoom(1);
      load();
    };
    img.alt = "Image of " + button.dataset.name;
    dialog.showModal();
    img.src = button.dataset.view;
    stage.focus();
  }));
})();
