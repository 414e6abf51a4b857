/*
 * Multica web app glue. Pages are rendered on the server; this file
 *   - sends forms and buttons marked `data-api="METHOD /api/path"` to the JSON API (cookie auth
 *     with the X-CSRF-Token header, X-Workspace-Slug for workspace routes);
 *   - keeps pages live: every workspace event (MulticaRealtime, static/multica/realtime.js) or
 *     resync re-fetches the page and swaps each `[data-live]` region by id; `task:message`
 *     frames are appended to the run panel as they arrive;
 *   - drives the board's drag and drop (SortableJS) and its keyboard alternative, persisted
 *     through POST /api/issues/{id}/move, optimistic with rollback;
 *   - offers @-mention completion in comment boxes and draws the usage charts.
 */
"use strict";
(function () {
  const body = document.body;
  const slug = body.dataset.workspaceSlug || "";
  const workspaceId = body.dataset.workspaceId || "";

  // --- API ---------------------------------------------------------------------------------
  function cookie(name) {
    const match = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return match ? decodeURIComponent(match.slice(name.length + 1)) : "";
  }

  async function api(method, path, payload) {
    const headers = { "X-CSRF-Token": cookie("multica_csrf"), Accept: "application/json" };
    if (slug) headers["X-Workspace-Slug"] = slug;
    const init = { method, headers, credentials: "same-origin" };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (err) { data = null; }
    if (!response.ok) {
      const error = new Error((data && data.error) || `request failed (${response.status})`);
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  function toast(message) {
    const box = document.querySelector("[data-toast]");
    if (!box) { window.alert(message); return; }
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  // --- live regions --------------------------------------------------------------------------
  let refreshTimer = null;
  let refreshing = false;
  let dragging = false;
  let pendingRefresh = false;

  const stats = { refreshes: 0 };

  function scheduleRefresh(delay) {
    if (dragging) { pendingRefresh = true; return; }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, delay === undefined ? 150 : delay);
  }

  function busy() { return refreshing || refreshTimer !== null || pendingRefresh || dragging; }

  async function refresh() {
    if (refreshing) { pendingRefresh = true; return; }
    if (!document.querySelector("[data-live]")) return;
    refreshing = true;
    try {
      const response = await fetch(window.location.href, {
        credentials: "same-origin", headers: { Accept: "text/html" },
      });
      if (response.redirected && new URL(response.url).pathname === "/login") {
        window.location.assign(response.url); // the session ended
        return;
      }
      if (response.status === 404) { window.location.assign("/"); return; } // removed from here
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      document.querySelectorAll("[data-live]").forEach((region) => {
        const fresh = region.id && doc.getElementById(region.id);
        if (!fresh) return;
        if (region.contains(document.activeElement) && document.activeElement.matches("input, textarea")) return;
        const open = new Set([...region.querySelectorAll("details[open][id]")].map((d) => d.id));
        const focusedId = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : "";
        region.innerHTML = fresh.innerHTML;
        open.forEach((id) => { const d = document.getElementById(id); if (d) d.open = true; });
        if (focusedId) { const f = document.getElementById(focusedId); if (f) f.focus(); }
      });
      body.dispatchEvent(new CustomEvent("multica:refreshed"));
      initBoard();
      initCharts();
    } finally {
      refreshing = false;
      stats.refreshes += 1;
      if (pendingRefresh) { pendingRefresh = false; scheduleRefresh(); }
    }
  }

  // --- realtime ------------------------------------------------------------------------------
  function appendMessage(frame) {
    const payload = frame.payload || {};
    const run = document.querySelector(`[data-run-panel] [data-task-id="${payload.task_id}"]`);
    if (!run) { scheduleRefresh(); return; }
    const list = run.querySelector("[data-run-messages]");
    if (list.querySelector(`[data-seq="${payload.seq}"]`)) return;
    const item = document.createElement("li");
    item.className = `msg msg-${payload.type}`;
    item.dataset.seq = payload.seq;
    const folded = (summary, text) => {
      const details = document.createElement("details");
      const sum = document.createElement("summary");
      sum.textContent = summary;
      const pre = document.createElement("pre");
      pre.textContent = typeof text === "string" ? text : JSON.stringify(text, null, 2);
      details.append(sum, pre);
      return details;
    };
    if (payload.type === "tool_use") item.append(folded(`Tool: ${payload.tool || "tool"}`, payload.input || ""));
    else if (payload.type === "tool_result") item.append(folded(`Result${payload.tool ? ": " + payload.tool : ""}`, payload.output || payload.content || ""));
    else if (payload.type === "thinking") item.append(folded("Thinking", payload.content || ""));
    else {
      const p = document.createElement("p");
      if (payload.type === "error") p.className = "error";
      p.textContent = payload.content || "";
      item.append(p);
    }
    const after = [...list.children].find((li) => Number(li.dataset.seq) > payload.seq);
    list.insertBefore(item, after || null);
  }

  function showProgress(frame) {
    const payload = frame.payload || {};
    const run = document.querySelector(`[data-run-panel] [data-task-id="${payload.task_id}"]`);
    const box = run && run.querySelector("[data-run-progress]");
    if (!box) return;
    const step = payload.total ? ` (${payload.step || 0}/${payload.total})` : "";
    box.textContent = `${payload.summary || ""}${step}`;
  }

  function onEvent(frame) {
    const payload = frame.payload || {};
    if (frame.type === "workspace:deleted" && payload.workspace_id === workspaceId) {
      window.location.assign("/");
      return;
    }
    if (frame.type === "member:removed" && payload.user_id === body.dataset.me) {
      window.location.assign("/");
      return;
    }
    if (frame.type === "task:message") { appendMessage(frame); return; }
    if (frame.type === "task:progress") { showProgress(frame); return; }
    scheduleRefresh();
  }

  function startRealtime() {
    if (!workspaceId || typeof MulticaRealtime === "undefined") return;
    const status = document.querySelector("[data-live-status]");
    const rt = new MulticaRealtime({
      workspaceId,
      onEvent,
      onResync: () => scheduleRefresh(0),
      onStatus: (state) => {
        if (!status) return;
        status.textContent = state === "open" ? "live" : "reconnecting…";
        status.dataset.state = state;
      },
    });
    rt.start();
    window.multicaRealtime = rt;
  }

  // --- forms and buttons ---------------------------------------------------------------------
  function parseSpec(spec) {
    const [method, ...rest] = spec.trim().split(/\s+/);
    return { method: method.toUpperCase(), path: rest.join(" ") };
  }

  function formPayload(form) {
    const data = {};
    const lists = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") continue;
      const type = el.dataset.type || "";
      if (type === "list") {
        lists[el.name] = lists[el.name] || [];
        if (el.checked) {
          lists[el.name].push(el.dataset.targetType ? { target_type: el.dataset.targetType, target_id: el.value } : el.value);
        }
        continue;
      }
      if (el.type === "radio") { if (el.checked) data[el.name] = el.value; continue; }
      if (el.type === "checkbox") { data[el.name] = el.checked; continue; }
      const value = el.value;
      if (type === "assignee") {
        const [kind, id] = value ? value.split(":") : [null, null];
        data.assignee_type = kind || null;
        data.assignee_id = id || null;
        continue;
      }
      if (type === "nullable") { data[el.name] = value || null; continue; }
      if (value === "" && !("keepEmpty" in el.dataset)) continue;
      if (type === "json") {
        try { data[el.name] = JSON.parse(value); } catch (err) { throw new Error(`${el.name}: invalid JSON`); }
      } else if (type === "lines") {
        data[el.name] = value.split("\n").map((s) => s.trim()).filter(Boolean);
      } else if (type === "env") {
        data[el.name] = parseEnv(value);
      } else if (el.type === "number") {
        data[el.name] = Number(value);
      } else {
        data[el.name] = value;
      }
    }
    return Object.assign(data, lists);
  }

  function parseEnv(text) {
    const env = {};
    text.split("\n").forEach((line) => {
      const i = line.indexOf("=");
      if (i > 0) env[line.slice(0, i).trim()] = line.slice(i + 1);
    });
    return env;
  }

  function fill(template, data) {
    return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent((data && data[key]) || ""));
  }

  async function after(el, data) {
    if (el.dataset.redirect) { window.location.assign(fill(el.dataset.redirect, data)); return; }
    const then = el.dataset.then || "refresh";
    if (then === "reload") window.location.reload();
    else if (then === "show-token") {
      const box = document.querySelector("[data-new-token]");
      box.querySelector("code").textContent = data.token;
      box.hidden = false;
      scheduleRefresh(0);
    } else scheduleRefresh(0);
  }

  async function submitForm(form) {
    const error = form.querySelector("[role=alert]");
    if (error) error.hidden = true;
    try {
      const { method, path } = parseSpec(form.dataset.api);
      const data = await api(method, path, formPayload(form));
      if ("reset" in form.dataset) form.reset();
      await after(form, data);
    } catch (err) {
      if (error) { error.textContent = err.message; error.hidden = false; } else toast(err.message);
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-api]");
    if (!form) return;
    event.preventDefault();
    submitForm(form);
  });

  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-api][data-autosubmit]");
    if (form) submitForm(form);
    const switcher = event.target.closest("[data-switcher] select");
    if (switcher) window.location.assign(switcher.value ? `/w/${switcher.value}/` : "/?new");
    const usageDays = event.target.closest("[data-usage-days] select");
    if (usageDays) initCharts();
    const moveStatus = event.target.closest("[data-move-status]");
    if (moveStatus) keyboardMove(moveStatus.closest(".issue-card"), { status: moveStatus.value });
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-api]");
    if (button) {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      button.disabled = true;
      try {
        const { method, path } = parseSpec(button.dataset.api);
        const payload = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
        await after(button, await api(method, path, payload));
      } catch (err) {
        toast(err.message);
      } finally {
        button.disabled = false;
      }
      return;
    }
    const move = event.target.closest("[data-move]");
    if (move) { keyboardMove(move.closest(".issue-card"), { direction: move.dataset.move }); return; }
    if (event.target.closest("[data-logout]")) {
      try { await api("POST", "/auth/logout"); } finally { window.location.assign("/login"); }
      return;
    }
    const toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      document.getElementById("sidebar").classList.toggle("open", open);
      return;
    }
    const reveal = event.target.closest("[data-env-reveal]");
    if (reveal) revealEnv(reveal);
  });

  // workspace creation: suggest a slug from the name
  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-slug-source]")) {
      const target = document.querySelector("[data-slug-target]");
      if (target && !target.dataset.touched) {
        target.value = event.target.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
      }
    } else if (event.target.matches("[data-slug-target]")) {
      event.target.dataset.touched = "1";
    }
  });

  // --- agent env (revealed on demand: every read is audited) ----------------------------------
  async function revealEnv(button) {
    const id = button.dataset.envReveal;
    const form = document.querySelector(`[data-env-form="${id}"]`);
    try {
      const data = await api("GET", `/api/agents/${id}/env`);
      form.env.value = Object.entries(data.custom_env || {}).map(([k, v]) => `${k}=${v}`).join("\n");
      form.hidden = false;
      button.hidden = true;
      form.env.focus();
    } catch (err) { toast(err.message); }
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-env-form]");
    if (!form) return;
    event.preventDefault();
    const error = form.querySelector("[role=alert]");
    try {
      await api("PUT", `/api/agents/${form.dataset.envForm}/env`, { custom_env: parseEnv(form.env.value) });
      form.hidden = true;
      form.env.value = "";
      document.querySelector(`[data-env-reveal="${form.dataset.envForm}"]`).hidden = false;
      scheduleRefresh(0);
    } catch (err) { error.textContent = err.message; error.hidden = false; }
  });

  // --- board ---------------------------------------------------------------------------------
  function anchors(card) {
    const prev = card.previousElementSibling;
    const next = card.nextElementSibling;
    return { before_id: prev ? prev.dataset.id : null, after_id: next ? next.dataset.id : null };
  }

  async function persistMove(card, status) {
    const body = Object.assign(anchors(card), { status });
    try {
      await api("POST", `/api/issues/${card.dataset.id}/move`, body);
    } catch (err) {
      toast(`Could not move ${card.dataset.identifier}: ${err.message}`);
      scheduleRefresh(0); // rollback: the server's order wins
      throw err;
    }
  }

  async function keyboardMove(card, { status, direction }) {
    if (!card) return;
    const list = card.parentElement;
    if (status) {
      const target = document.querySelector(`.column-list[data-status="${status}"]`);
      if (!target) return;
      target.prepend(card);
    } else if (direction === "up" && card.previousElementSibling) {
      list.insertBefore(card, card.previousElementSibling);
    } else if (direction === "down" && card.nextElementSibling) {
      list.insertBefore(card.nextElementSibling, card);
    } else return;
    const focusSelector = status ? "[data-move-status]" : `[data-move="${direction}"]`;
    card.querySelector(focusSelector).focus();
    try { await persistMove(card, card.parentElement.dataset.status); } catch (err) { /* rolled back */ }
  }

  function initBoard() {
    if (typeof Sortable === "undefined") return;
    document.querySelectorAll("[data-board] .column-list").forEach((list) => {
      if (list.sortable) return;
      list.sortable = Sortable.create(list, {
        group: "board",
        animation: 120,
        forceFallback: true, // pointer events: the same path for mouse, touch and tests
        delayOnTouchOnly: true,
        delay: 150,
        filter: "select, button",
        preventOnFilter: false,
        onStart: () => { dragging = true; },
        onEnd: async (evt) => {
          dragging = false;
          const card = evt.item;
          const select = card.querySelector("[data-move-status]");
          if (select) select.value = evt.to.dataset.status;
          if (evt.from !== evt.to || evt.oldIndex !== evt.newIndex) {
            try { await persistMove(card, evt.to.dataset.status); } catch (err) { /* rolled back */ }
          }
          if (pendingRefresh) { pendingRefresh = false; scheduleRefresh(); }
        },
      });
    });
  }

  // --- @-mentions ----------------------------------------------------------------------------
  function initMentions() {
    const source = document.getElementById("mention-candidates");
    if (!source) return;
    const candidates = JSON.parse(source.textContent);
    document.querySelectorAll("textarea[data-mentions]").forEach((area) => {
      const list = document.getElementById(area.getAttribute("aria-controls"));
      let matches = [];
      let active = 0;
      const query = () => {
        const upto = area.value.slice(0, area.selectionStart);
        const m = /(^|\s)@([^\s@]*)$/.exec(upto);
        return m ? { text: m[2], start: upto.length - m[2].length - 1 } : null;
      };
      const close = () => { list.hidden = true; area.removeAttribute("aria-activedescendant"); };
      const render = () => {
        list.innerHTML = "";
        matches.forEach((c, i) => {
          const li = document.createElement("li");
          li.id = `mention-opt-${i}`;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", String(i === active));
          li.textContent = c.type === "agent" ? `${c.name} (agent)` : c.name;
          li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
          list.append(li);
        });
        list.hidden = matches.length === 0;
        if (matches.length) area.setAttribute("aria-activedescendant", `mention-opt-${active}`);
      };
      const choose = (i) => {
        const q = query();
        const c = matches[i];
        if (!q || !c) return close();
        const markup = `[@${c.name}](mention://${c.type}/${c.id}) `;
        const rest = area.value.slice(area.selectionStart);
        area.value = area.value.slice(0, q.start) + markup + rest;
        const caret = q.start + markup.length;
        area.setSelectionRange(caret, caret);
        close();
      };
      area.addEventListener("input", () => {
        const q = query();
        if (!q) return close();
        const needle = q.text.toLowerCase();
        matches = candidates.filter((c) => c.name.toLowerCase().includes(needle)).slice(0, 8);
        active = 0;
        render();
      });
      area.addEventListener("keydown", (e) => {
        if (list.hidden) return;
        if (e.key === "ArrowDown") { active = (active + 1) % matches.length; render(); e.preventDefault(); }
        else if (e.key === "ArrowUp") { active = (active - 1 + matches.length) % matches.length; render(); e.preventDefault(); }
        else if (e.key === "Enter" || e.key === "Tab") { choose(active); e.preventDefault(); }
        else if (e.key === "Escape") { close(); e.preventDefault(); }
      });
      area.addEventListener("blur", () => setTimeout(close, 100));
    });
  }

  // --- usage charts ----------------------------------------------------------------------------
  const TOKEN_KEYS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"];

  function tokens(row) { return TOKEN_KEYS.reduce((sum, k) => sum + (Number(row[k]) || 0), 0); }
  function fmt(n) { return Number(n).toLocaleString("en-US"); }

  function groupRows(rows, group) {
    const names = (() => {
      const el = document.getElementById("agent-names");
      return el ? JSON.parse(el.textContent) : {};
    })();
    const out = new Map();
    rows.forEach((row) => {
      const key = group === "date" ? row.date : group === "agent" ? (names[row.agent_id] || row.agent_id) : (row.model || "unknown");
      out.set(key, (out.get(key) || 0) + tokens(row));
    });
    const entries = [...out.entries()];
    if (group === "date") entries.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    else entries.sort((a, b) => b[1] - a[1]);
    return entries;
  }

  function drawBars(container, entries) {
    container.innerHTML = "";
    if (!entries.length) { container.innerHTML = '<p class="empty">No usage in this period.</p>'; return; }
    const max = Math.max(...entries.map((e) => e[1]), 1);
    const ns = "http://www.w3.org/2000/svg";
    const barH = 22;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 400 ${entries.length * barH}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-hidden", "true");
    svg.classList.add("bars");
    entries.forEach(([label, value], i) => {
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", "140");
      rect.setAttribute("y", String(i * barH + 3));
      rect.setAttribute("height", String(barH - 6));
      rect.setAttribute("width", String(Math.max(1, (value / max) * 180)));
      const title = document.createElementNS(ns, "title");
      title.textContent = `${label}: ${fmt(value)} tokens`;
      rect.append(title);
      const text = document.createElementNS(ns, "text");
      text.setAttribute("x", "0");
      text.setAttribute("y", String(i * barH + 15));
      text.textContent = String(label).slice(0, 22);
      const num = document.createElementNS(ns, "text");
      num.setAttribute("x", String(146 + (value / max) * 180));
      num.setAttribute("y", String(i * barH + 15));
      num.textContent = fmt(value);
      svg.append(rect, text, num);
    });
    const table = document.createElement("table");
    table.className = "table sr-table";
    table.innerHTML = "<thead><tr><th scope='col'>Group</th><th scope='col'>Tokens</th></tr></thead>";
    const tbody = document.createElement("tbody");
    entries.forEach(([label, value]) => {
      const tr = document.createElement("tr");
      const a = document.createElement("td");
      a.textContent = label;
      const b = document.createElement("td");
      b.textContent = fmt(value);
      b.dataset.tokens = String(value);
      tr.append(a, b);
      tbody.append(tr);
    });
    table.append(tbody);
    container.append(svg, table);
  }

  function usageQuery() {
    const select = document.querySelector("[data-usage-days] select");
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    return { days: select ? select.value : null, tz };
  }

  function withQuery(src) {
    const url = new URL(src, window.location.origin);
    const { days, tz } = usageQuery();
    if (days && !url.searchParams.has("days")) url.searchParams.set("days", days);
    url.searchParams.set("tz", tz);
    return url.pathname + url.search;
  }

  async function initCharts() {
    const charts = document.querySelectorAll("[data-usage-chart]");
    const cache = new Map();
    const load = (src) => {
      const url = withQuery(src);
      if (!cache.has(url)) cache.set(url, api("GET", url));
      return cache.get(url);
    };
    charts.forEach(async (chart) => {
      const container = chart.querySelector(".chart-body");
      try {
        const rows = await load(chart.dataset.src);
        drawBars(container, groupRows(rows || [], chart.dataset.group));
      } catch (err) {
        container.innerHTML = "";
        const p = document.createElement("p");
        p.className = "error";
        p.textContent = `Usage unavailable: ${err.message}`;
        container.append(p);
      }
    });
    const totals = document.querySelector("[data-usage-totals]");
    if (totals) {
      try {
        const rows = (await load(totals.dataset.src)) || [];
        const sum = (k) => rows.reduce((s, r) => s + (Number(r[k]) || 0), 0);
        totals.innerHTML = "";
        [["Input", "input_tokens"], ["Output", "output_tokens"], ["Cache read", "cache_read_tokens"], ["Cache write", "cache_write_tokens"]].forEach(([label, key]) => {
          const div = document.createElement("div");
          div.className = "total";
          div.dataset.total = key;
          div.innerHTML = `<span class="hint">${label}</span> <strong></strong>`;
          div.querySelector("strong").textContent = fmt(sum(key));
          totals.append(div);
        });
        const all = document.createElement("div");
        all.className = "total";
        all.dataset.total = "all";
        all.innerHTML = '<span class="hint">All tokens</span> <strong></strong>';
        all.querySelector("strong").textContent = fmt(rows.reduce((s, r) => s + tokens(r), 0));
        totals.append(all);
      } catch (err) { totals.textContent = `Usage unavailable: ${err.message}`; }
    }
  }

  // --- start ---------------------------------------------------------------------------------
  initBoard();
  initMentions();
  initCharts();
  startRealtime();
  window.multica = { api, refresh, scheduleRefresh, busy, stats };
})();
