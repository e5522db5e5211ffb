// The status page (SPEC §8): draws /v1/status, and /v1/fleet in a fleet,
// every few seconds; drains, forces up and returns members to auto through
// the member PUT; explains a client's answer through /v1/explain.
// Any field may be missing or new: the page shows what the server has.
"use strict";

const refreshMs = 3000;
const tokenKey = "dnsd-http-token";
const tiers = ["primary", "fallback", "fail-open"];

// ---- DOM helpers ----

// el("td", {class: "x", data: {zone: "a"}, title: "t"}, "text", child...)
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "data") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === "") continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A table's head and body; each cell carries its column's name, shown beside
// it where the table becomes a list of cards (narrow screens).
function fillTable(table, columns, rows) {
  table.replaceChildren(
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c)))),
    el("tbody", {}, rows));
  for (const row of rows)
    [...row.children].forEach((cell, i) => { if (cell.tagName === "TD") cell.dataset.label = columns[i]; });
}

function show(node, visible) { node.hidden = !visible; }

// ---- time ----

function when(iso) {
  if (!iso) return null;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? null : at;
}

// "3 min ago", "in 25 s": a person's reading of a time, with the exact time as a tooltip.
function relative(iso) {
  const at = when(iso);
  if (!at) return el("span", {}, "—");
  const seconds = Math.round((at.getTime() - Date.now()) / 1000);
  const size = Math.abs(seconds);
  const amount = size < 90 ? `${size} s` : size < 5400 ? `${Math.round(size / 60)} min`
    : size < 172800 ? `${Math.round(size / 3600)} h` : `${Math.round(size / 86400)} d`;
  const text = seconds > 0 ? `in ${amount}` : size < 2 ? "now" : `${amount} ago`;
  return el("time", { datetime: iso, title: at.toISOString() }, text);
}

function duration(seconds) {
  if (typeof seconds !== "number") return "";
  if (seconds < 120) return `${Math.floor(seconds)} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}

// ---- members ----

// What a member is, for people: a word and a symbol beside the colour.
function memberState(member) {
  const effective = member.override || member.state;
  if (member.draining) return { key: "draining", icon: "◐", word: "draining" };
  if (effective === "down") return { key: "out", icon: "⊘", word: "out" };
  if (effective === "up") return { key: "up", icon: "✔", word: "up" };
  if (member.health === "down") return { key: "down", icon: "✖", word: "down" };
  return { key: "up", icon: "✔", word: "up" };
}

function badge(state) {
  return el("span", { class: `badge ${state.key}` }, `${state.icon} ${state.word}`);
}

function text(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "object")
    return Object.entries(value).filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
  return String(value);
}

function stateCell(member) {
  const state = memberState(member);
  const notes = [];
  if (member.override) notes.push(el("div", { class: "note" }, `override: ${member.override}`));
  else if (member.state && member.state !== "auto") notes.push(el("div", { class: "note" }, `zone file: ${member.state}`));
  if (member.out_since && (state.key === "draining" || state.key === "out"))
    notes.push(el("div", { class: "note" }, "out since ", relative(member.out_since)));
  if (member.safe_to_remove_at && state.key === "draining")
    notes.push(el("div", { class: "note" }, "safe to remove ", relative(member.safe_to_remove_at)));
  return el("td", { class: "state" }, badge(state), notes);
}

function healthCell(member) {
  const parts = [el("span", { class: member.health === "down" ? "health bad" : "health" },
    member.health === "down" ? "✖ down" : member.health === "up" ? "✔ up" : text(member.health))];
  if (member.fleet_health && member.own_health && member.own_health !== member.fleet_health)
    parts.push(el("div", { class: "note" }, `this node: ${member.own_health}`));
  if (member.votes && typeof member.votes === "object" && Object.keys(member.votes).length)
    parts.push(el("div", { class: "votes" }, Object.entries(member.votes).map(([node, vote]) =>
      el("span", { class: `vote ${vote === "down" ? "bad" : ""}`, title: `${node} says ${vote}` },
        `${node} ${vote === "down" ? "✖" : "✔"}`))));
  parts.push(el("div", { class: "note" }, "since ", relative(member.since)));
  return el("td", {}, parts);
}

function probeCell(member) {
  if (member.probed === false) return el("td", { class: "note" }, "not probed");
  if (!member.last_check) return el("td", { class: "note" }, member.target ? `${member.target}: not yet` : "not yet");
  const ok = member.last_result === "success";
  const parts = [el("span", { class: ok ? "" : "bad" }, ok ? "✔ ok" : "✖ failed"), " ", relative(member.last_check)];
  if (typeof member.last_latency_ms === "number") parts.push(` · ${member.last_latency_ms.toFixed(1)} ms`);
  if (member.target) parts.push(el("div", { class: "note" }, member.target));
  if (member.last_error) parts.push(el("div", { class: ok ? "note" : "error" }, `last error: ${member.last_error}`));
  return el("td", {}, parts);
}

function actionCell(pool, member) {
  const current = member.override || null;
  const button = (state, label, title) => {
    const b = el("button", { type: "button", data: { action: state }, title, disabled: current === state || (state === "auto" && !current) }, label);
    b.addEventListener("click", () => setMemberState(pool, member.address, state, b));
    return b;
  };
  return el("td", { class: "actions" },
    button("down", "Drain", "state down: out of the answers, drained"),
    button("up", "Force up", "state up: answered whatever its probes say"),
    button("auto", "Auto", "end the override: the zone file's state and the probes decide"));
}

function memberRow(pool, member) {
  const state = memberState(member);
  return el("tr", { class: `member ${state.key}`, data: { zone: pool.zone, pool: pool.pool, address: member.address, state: state.key } },
    el("td", { class: "address" }, member.address),
    stateCell(member),
    healthCell(member),
    probeCell(member),
    el("td", {}, text(member.source) || el("span", { class: "note" }, "—")),
    actionCell(pool, member));
}

// A member gone from its pool (a reload, a discovery set that lost it), kept while it drains.
function goneRow(pool, member) {
  const state = member.draining ? { key: "draining", icon: "◐", word: "draining" } : { key: "out", icon: "⊘", word: "removed" };
  return el("tr", { class: `member ${state.key}`, data: { zone: pool.zone, pool: pool.pool, address: member.address, state: state.key } },
    el("td", { class: "address" }, member.address),
    el("td", { class: "state" }, badge(state),
      member.safe_to_remove_at ? el("div", { class: "note" }, member.draining ? "safe to remove " : "safe to remove since ",
        relative(member.safe_to_remove_at)) : null),
    el("td", {}), el("td", {}), el("td", {}, text(member.source)), el("td", {}));
}

const memberColumns = ["Address", "State", "Health", "Last probe", "Source", "Change"];

function regionOf(member) { return member.region || ""; }

function poolSection(pool) {
  const members = pool.members || [];
  const counts = {};
  for (const m of members) { const k = memberState(m).key; counts[k] = (counts[k] || 0) + 1; }
  const regions = [...new Set(members.map(regionOf))].sort((a, b) => (a === "") - (b === "") || a.localeCompare(b));
  const rows = [];
  for (const region of regions) {
    const inRegion = members.filter((m) => regionOf(m) === region);
    const up = inRegion.filter((m) => memberState(m).key === "up").length;
    rows.push(el("tr", { class: "region" }, el("th", { colspan: memberColumns.length, scope: "rowgroup" },
      region ? `region ${region}` : "every region", el("span", { class: "note" }, ` · ${up} of ${inRegion.length} up`))));
    for (const m of inRegion) rows.push(memberRow(pool, m));
  }
  if (pool.gone && pool.gone.length)
    rows.push(el("tr", { class: "region" }, el("th", { colspan: memberColumns.length, scope: "rowgroup" }, "gone from the pool")));
  for (const m of pool.gone || []) rows.push(goneRow(pool, m));
  const table = el("table", { class: "members" });
  fillTable(table, memberColumns, rows);
  const summary = ["up", "down", "draining", "out"].filter((k) => counts[k])
    .map((k) => el("span", { class: `badge ${k}` }, `${counts[k]} ${k}`));
  const extra = Object.entries(pool).filter(([k, v]) => !["zone", "pool", "check", "members", "gone"].includes(k) && v !== null
    && !(Array.isArray(v) && v.length === 0));
  return el("section", { class: "pool", data: { zone: pool.zone, pool: pool.pool } },
    el("h3", {}, pool.pool, el("span", { class: "note" }, ` in ${pool.zone} · check ${pool.check || "none"} · `), summary),
    extra.map(([k, v]) => el("p", { class: "note" }, `${k}: `,
      Array.isArray(v) ? v.map((item) => el("div", {}, text(item))) : text(v))),
    el("div", { class: "scroll" }, table));
}

// ---- answers per second ----

let lastReading = null;  // {uptime, counts: Map}

function drawRates(status) {
  const table = document.getElementById("rates");
  const answers = status.answers;
  if (!Array.isArray(answers)) { fillTable(table, ["Region"], [el("tr", {}, el("td", {}, "this dnsd does not count answers in /v1/status"))]); return; }
  const counts = new Map();
  for (const a of answers) counts.set(JSON.stringify([a.zone, a.pool, a.region, a.tier]), a);
  const reading = { uptime: status.uptime_seconds, counts };
  const before = lastReading;
  const elapsed = before ? reading.uptime - before.uptime : 0;
  // A refresh right after another (a button's) keeps the older base, whose
  // rate is steadier; a restart (uptime went back) starts again.
  if (!before || elapsed >= 1 || elapsed < 0) lastReading = reading;
  const perRegion = new Map();  // region → {tier → {rate, total}}
  for (const [key, a] of counts) {
    const region = a.region || "";
    if (!perRegion.has(region)) perRegion.set(region, {});
    const cell = perRegion.get(region)[a.tier] ||= { rate: 0, total: 0 };
    cell.total += a.count;
    if (elapsed > 0) {
      const old = before.counts.get(key);
      const delta = a.count - (old ? old.count : 0);
      if (delta >= 0) cell.rate += delta / elapsed;
    }
  }
  const rows = [...perRegion.keys()].sort().map((region) => {
    const cells = perRegion.get(region);
    let sum = 0;
    const tds = tiers.map((tier) => {
      const c = cells[tier];
      if (!c) return el("td", { class: "number note" }, "—");
      sum += c.rate;
      return el("td", { class: "number", title: `${c.total} since start-up` }, elapsed > 0 ? c.rate.toFixed(1) : "…");
    });
    return el("tr", { data: { region } }, el("td", {}, region || "none (fail-open or no regions)"), tds,
      el("td", { class: "number" }, elapsed > 0 ? sum.toFixed(1) : "…"));
  });
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: 5, class: "note" }, "no answers from pools yet")));
  fillTable(table, ["Region", ...tiers, "total"], rows);
}

// ---- zones, reload, fleet ----

function drawZones(status) {
  const rows = (status.zones || []).map((z) => {
    const errors = z.errors && z.errors.length ? z.errors : z.last_error ? [z.last_error] : [];
    return el("tr", { class: errors.length ? "problem-row" : "", data: { zone: z.zone || "" } },
      el("td", {}, z.zone || el("span", { class: "note" }, "(not loaded)")),
      el("td", { class: "number" }, z.serial ?? "—"),
      el("td", {}, relative(z.loaded_at)),
      el("td", {}, errors.length
        ? [el("span", { class: "badge down" }, z.serial != null ? "✖ invalid, previous version serves" : "✖ invalid"),
          errors.map((e) => el("div", { class: "error" }, e))]
        : el("span", { class: "badge up" }, "✔ loaded")),
      el("td", { class: "note file" }, z.file || ""));
  });
  fillTable(document.getElementById("zones"), ["Zone", "Serial", "Loaded", "Status", "File"], rows);
  const r = status.last_reload;
  document.getElementById("reload").replaceChildren(r
    ? el("span", {}, `Last reload (${r.trigger || "?"}) `, relative(r.finished_at), r.ok ? ": ok" : ": failed",
      (r.changes || []).map((c) => ` · ${c.zone} ${c.serial_before ?? "new"} → ${c.serial_after ?? "removed"}`),
      r.changes_total > (r.changes || []).length ? ` · and ${r.changes_total - r.changes.length} more` : "",
      (r.errors || []).map((e) => el("div", { class: "error" }, e)))
    : "No reload since start-up.");
}

function drawFleet(fleet) {
  show(document.getElementById("fleet-section"), !!fleet);
  if (!fleet) return;
  document.getElementById("fleet-summary").replaceChildren(
    `This node: ${fleet.node} · `, el("span", { class: `badge ${fleet.connection === "connected" ? "up" : "down"}` },
      `${fleet.connection === "connected" ? "✔" : "✖"} ${fleet.connection}`),
    fleet.problem ? el("span", { class: "error" }, ` ${fleet.problem}`) : "",
    ` · health quorum ${fleet.health_quorum} · zones ${fleet.zones}`,
    fleet.drift ? el("span", { class: "badge down" }, " ✖ drift: nodes serve different serials") : "");
  const rows = (fleet.nodes || []).map((n) => el("tr", { class: n.stale ? "problem-row" : "", data: { node: n.node } },
    el("td", {}, n.node, n.self ? el("span", { class: "note" }, " (this node)") : ""),
    el("td", {}, el("span", { class: `badge ${n.stale ? "down" : "up"}` }, n.stale ? "✖ stale" : `✔ ${n.connection}`)),
    el("td", {}, typeof n.age_seconds === "number" ? `${n.age_seconds.toFixed(1)} s ago` : "never"),
    el("td", {}, n.version ?? "—"),
    el("td", {}, Object.entries(n.zones || {}).map(([z, s]) => el("div", {}, `${z} ${s}`)),
      (n.zone_errors || []).map((e) => el("div", { class: "error" }, e))),
    el("td", {}, n.drift ? el("span", { class: "badge down" }, "✖ drift") : "—")));
  fillTable(document.getElementById("fleet"), ["Node", "Connection", "Heartbeat", "Version", "Zones", "Drift"], rows);
}

function drawSummary(status) {
  document.getElementById("version").textContent = status.version || "";
  const counts = { up: 0, down: 0, draining: 0, out: 0 };
  let members = 0;
  for (const pool of status.pools || [])
    for (const m of pool.members || []) { counts[memberState(m).key]++; members++; }
  const time = new Date().toLocaleTimeString();
  document.getElementById("summary").replaceChildren(
    `Up ${duration(status.uptime_seconds)} · ${members} members: `,
    ...["up", "down", "draining", "out"].map((k) => el("span", { class: `badge ${counts[k] ? k : "none"}` }, `${counts[k]} ${k}`)),
    ` · refreshed ${time}, every ${refreshMs / 1000} s`);
}

// ---- reading ----

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body && body.error ? body.error : `${response.status} ${response.statusText}`);
  return body;
}

function setProblem(message) {
  const p = document.getElementById("problem");
  p.textContent = message || "";
  show(p, !!message);
}

// Drawing replaces the tables' rows, buttons and all. A press whose button is
// replaced before the release makes no click, so a refresh that arrives while
// a pointer is down is drawn just after the release and its click. A pointer
// held down for half a minute is no click in progress: drawing goes on.
const pressHoldMs = 30000;
let pressedAt = null;
let heldDraw = null;
document.addEventListener("pointerdown", () => { pressedAt = Date.now(); }, true);
for (const type of ["pointerup", "pointercancel"])
  document.addEventListener(type, () => {
    pressedAt = null;
    const draw = heldDraw;
    heldDraw = null;
    if (draw) setTimeout(draw);  // after the click this release makes
  }, true);

function drawUnlessPressed(draw) {
  heldDraw = null;
  if (pressedAt !== null && Date.now() - pressedAt < pressHoldMs) heldDraw = draw;
  else draw();
}

let timer = null;
let refreshes = 0;

// The body's data-refresh and data-drawn: the number of the last refresh
// begun, and of the last one drawn.
async function refresh() {
  clearTimeout(timer);
  const number = ++refreshes;
  document.body.dataset.refresh = String(number);
  try {
    const status = await getJson("/v1/status");
    // 404: no fleet configured.
    const fleet = await fetch("/v1/fleet", { cache: "no-store" }).then((r) => r.ok ? r.json() : null).catch(() => null);
    setProblem(null);
    drawUnlessPressed(() => {
      drawSummary(status);
      document.getElementById("pools").replaceChildren(...(status.pools || []).map(poolSection));
      drawRates(status);
      drawZones(status);
      drawFleet(fleet);
      document.body.dataset.drawn = String(number);
    });
  } catch (error) {
    setProblem(`Cannot read /v1/status: ${error.message}. Trying again every ${refreshMs / 1000} s.`);
  }
  timer = setTimeout(refresh, refreshMs);
}

// ---- changing a member ----

// Resolves with the token the person typed, or null when they cancel.
function askToken(wrong) {
  const form = document.getElementById("token-form");
  const input = document.getElementById("token");
  document.getElementById("token-problem").textContent = wrong ? "That token was refused." : "";
  show(form, true);
  input.value = "";
  input.focus();
  return new Promise((resolve) => {
    const done = (token) => {
      form.removeEventListener("submit", submit);
      document.getElementById("token-cancel").removeEventListener("click", cancel);
      show(form, false);
      resolve(token);
    };
    const submit = (event) => { event.preventDefault(); done(input.value); };
    const cancel = () => done(null);
    form.addEventListener("submit", submit);
    document.getElementById("token-cancel").addEventListener("click", cancel);
  });
}

async function setMemberState(pool, address, state, button) {
  const path = ["/v1/zones", pool.zone, "pools", pool.pool, "members", address]
    .map((part, i) => i === 0 ? part : encodeURIComponent(part)).join("/");
  button.disabled = true;
  try {
    for (;;) {
      const token = sessionStorage.getItem(tokenKey);
      const headers = { "Content-Type": "application/json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      const response = await fetch(path, { method: "PUT", headers, body: JSON.stringify({ state }) });
      if (response.status === 401) {
        const typed = await askToken(!!token);
        if (!typed) return;
        sessionStorage.setItem(tokenKey, typed);
        continue;
      }
      const body = await response.json().catch(() => ({}));
      if (!response.ok) setProblem(`${address} in ${pool.zone}/${pool.pool}: ${body.error || response.status}`);
      else if (body.warning) setProblem(`${address}: ${state}, but ${body.warning}`);
      else setProblem(null);
      return;
    }
  } catch (error) {
    setProblem(`${address}: ${error.message}`);
  } finally {
    await refresh();
  }
}

// ---- explain ----

function explainReport(report) {
  const parts = [];
  const c = report.client || {};
  const g = report.geo;
  parts.push(el("p", {}, el("strong", {}, "Client "), c.address || "", c.from_ecs ? ` (ECS ${c.ecs_source || ""})` : "",
    g ? [" is in region ", el("strong", {}, g.region || "none"), ` (${g.reason}${g.subnet ? ` ${g.subnet}` : ""}${g.record && g.record.country ? `, country ${g.record.country}` : ""})`,
      g.region_order && g.region_order.length ? ` · order ${g.region_order.join(", ")}` : "", g.order_rule ? ` (${g.order_rule})` : ""] : ""));
  if (report.zone) parts.push(el("p", {}, el("strong", {}, "Zone "), report.zone.name, " · ", (report.steps || []).join(" · ")));
  else if (report.steps && report.steps.length) parts.push(el("p", {}, (report.steps || []).join(" · ")));
  const p = report.pool;
  if (p) {
    parts.push(el("p", {}, el("strong", {}, "Pool "), `${p.name} (${p.policy}) · answered from the ${p.tier} tier · TTL ${p.ttl}`,
      p.order ? ` · ${p.order}` : ""));
    const rows = (p.members || []).map((m) => el("tr", { class: m.eligible ? "" : "muted", data: { address: m.address } },
      el("td", { class: "address" }, m.address), el("td", {}, m.region || "every"), el("td", {}, `${m.state}${m.overridden ? " (override)" : ""}`),
      el("td", {}, m.health ?? "—"), el("td", {}, m.eligible ? "✔ yes" : "✖ no"), el("td", {}, m.tier ?? "—"),
      el("td", {}, m.position ?? "—")));
    const table = el("table", { class: "compact" });
    fillTable(table, ["Member", "Region", "State", "Health", "Eligible", "Tier", "Position"], rows);
    parts.push(el("div", { class: "scroll" }, table));
  }
  parts.push(el("p", {}, el("strong", {}, "Response "), report.rcode || "", report.authoritative ? " (authoritative)" : "",
    report.ecs_scope != null ? ` · ECS scope /${report.ecs_scope}` : ""));
  const sections = [["answer", report.answer], ["authority", report.authority], ["additional", report.additional]]
    .filter(([, lines]) => lines && lines.length);
  parts.push(el("pre", { id: "explain-answer" }, sections.map(([name, lines]) => `;; ${name}\n${lines.join("\n")}\n`).join("") || ";; no records"));
  parts.push(el("details", {}, el("summary", {}, "The whole report (JSON)"), el("pre", {}, JSON.stringify(report, null, 2))));
  return parts;
}

async function explain(event) {
  event.preventDefault();
  const form = event.target;
  const query = new URLSearchParams();
  for (const key of ["name", "type", "client"]) {
    const value = form.elements[key].value.trim();
    if (value) query.set(key, value);
  }
  const out = document.getElementById("explain");
  out.replaceChildren(el("p", { class: "note" }, "Asking…"));
  try {
    out.replaceChildren(...explainReport(await getJson(`/v1/explain?${query}`)));
  } catch (error) {
    out.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

document.getElementById("explain-form").addEventListener("submit", explain);
refresh();
