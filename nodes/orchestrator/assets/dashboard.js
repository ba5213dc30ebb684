// The SustainML dashboard: the orchestrator's REST API and its event stream
// (GET /events), nothing fetched from anywhere else. Plain JavaScript, no build.
"use strict";

const NODES = ["APP_REQUIREMENTS", "HW_CONSTRAINTS", "ML_MODEL_METADATA", "ML_MODEL", "HW_RESOURCES", "CARBON_FOOTPRINT"];
const NODE_OF_NAME = Object.fromEntries(NODES.map((k) => [k + "_NODE", k]));
const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
};

const state = {
  nodes: {},          // KEY → node info (GET /status "nodes")
  tasks: new Map(),   // "P.I" → {task_id, state, steps: {KEY: "running"|"done"|"failed"}}
  focus: null,        // the problem whose result and chart are shown
  runs: new Set(),    // problems that are optimisation runs
};

// ----------------------------------------------------------------------------
// REST

async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new Error(`the orchestrator cannot be reached (${e.message})`);
  }
  let json = null;
  try { json = await resp.json(); } catch (_) { /* not JSON */ }
  if (!resp.ok) {
    const why = json && json.error ? json.error : `HTTP ${resp.status}`;
    const err = new Error(why);
    err.status = resp.status;
    throw err;
  }
  return json;
}

const id = (t) => `${t.problem_id}.${t.iteration_id}`;
const num = (v, digits = 4) => (typeof v === "number" && isFinite(v) ? String(+v.toFixed(digits)) : "–");
const ago = (ms) => {
  if (!ms) return "–";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : new Date(ms).toLocaleString();
};

// ----------------------------------------------------------------------------
// Nodes

function renderNodes() {
  const body = $("#nodes tbody");
  const keys = Object.keys(state.nodes).sort();
  if (keys.length === 0) return;
  $("tr.empty", body)?.remove();
  for (const key of keys) {
    const n = state.nodes[key];
    let row = body.querySelector(`tr[data-node="${key}"]`);
    if (!row) {
      row = el("tr", { "data-node": key },
        el("td", { class: "name", textContent: key }),
        el("td", { class: "state" }),
        el("td", { class: "seen" }),
        el("td", { class: "error" }),
        controlCell(key),
        configCell(key));
      body.append(row);
    }
    const status = n.alive === false ? "INACTIVE" : n.status || "?";
    const cell = $(".state", row);
    cell.textContent = status;
    cell.className = `state ${status}`;
    row.classList.toggle("inactive", status === "INACTIVE");
    $(".seen", row).textContent = ago(n.last_seen_ms);
    $(".error", row).textContent = n.error_description || "";
  }
}

function controlCell(key) {
  const td = el("td", { class: "control" });
  for (const [label, cmd] of [["stop", "STOP_NODE"], ["start", "START_NODE"], ["reset", "RESET_NODE"]]) {
    const b = el("button", { type: "button", textContent: label, "data-cmd": cmd });
    b.addEventListener("click", async () => {
      try {
        await api("POST", "/control", { target_node: key, cmd_node: cmd });
      } catch (e) {
        $(`tr[data-node="${key}"] .error`).textContent = `${label}: ${e.message}`;
      }
    });
    td.append(b);
  }
  return td;
}

function configCell(key) {
  const input = el("input", { placeholder: "query", "data-config": key });
  const out = el("span", { class: "config-answer" });
  const go = el("button", { type: "button", textContent: "ask" });
  const ask = async () => {
    const configuration = input.value.trim();
    if (!configuration) { out.textContent = "write a query first"; return; }
    out.textContent = "…";
    try {
      const r = await api("POST", "/config_request", { configuration, node_id: key });
      const res = r.response || {};
      out.textContent = `${res.success === false ? "refused: " : ""}${res.configuration ?? JSON.stringify(r)}`;
    } catch (e) {
      out.textContent = e.message;
    }
  };
  go.addEventListener("click", ask);
  input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") ask(); });
  return el("td", { class: "config" }, input, go, out);
}

// ----------------------------------------------------------------------------
// Tasks

function task(tid) {
  const key = id(tid);
  if (!state.tasks.has(key)) state.tasks.set(key, { task_id: tid, state: "running", steps: {} });
  return state.tasks.get(key);
}

function renderTasks() {
  const body = $("#tasks tbody");
  if (state.tasks.size === 0) return;
  $("tr.empty", body)?.remove();
  const keys = [...state.tasks.keys()].sort((a, b) => {
    const [pa, ia] = a.split(".").map(Number), [pb, ib] = b.split(".").map(Number);
    return pb - pa || ib - ia;
  }).slice(0, 20);
  body.replaceChildren(...keys.map((k) => {
    const t = state.tasks.get(k);
    const row = el("tr", { "data-task": k },
      el("td", {}, el("a", { href: "#", textContent: k, onclick: (ev) => { ev.preventDefault(); focusOn(t.task_id); } })),
      el("td", { class: `task-state ${t.state}`, textContent: t.state + (t.reason ? `: ${t.reason}` : "") }));
    for (const n of NODES) {
      const s = t.steps[n] || (t.state === "done" ? "done" : "");
      row.append(el("td", { class: `step ${s}`, "data-node": n, textContent: s ? (s === "done" ? "✓" : s === "failed" ? "✗" : "…") : "" }));
    }
    return row;
  }));
}

async function loadTasks() {
  const r = await api("GET", "/tasks");
  for (const t of r.tasks || []) {
    const entry = task(t.task_id);
    entry.state = t.state;
    entry.reason = t.reason;
    if (t.state === "done") for (const n of NODES) entry.steps[n] = "done";
  }
  renderTasks();
}

// ----------------------------------------------------------------------------
// Result and chart of the focused problem

async function focusOn(tid) {
  state.focus = tid.problem_id;
  await showResult(tid);
  await drawChart();
}

async function showResult(tid) {
  $("#result-task").textContent = `task ${id(tid)}`;
  const errors = $("#result-error");
  errors.textContent = "";
  let t;
  try {
    t = await api("GET", `/tasks/${tid.problem_id}/${tid.iteration_id}`);
  } catch (e) {
    errors.textContent = e.message;
    return;
  }
  const o = t.outputs || {};
  const ml = o.ML_MODEL || {}, hw = o.HW_RESOURCES || {}, co2 = o.CARBON_FOOTPRINT || {};
  const set = (f, v) => { $(`#result [data-field="${f}"]`).textContent = v; };
  set("model", ml.model || "–");
  set("hardware", hw.hw_description || "–");
  set("latency", num(hw.latency));
  set("power", num(hw.power_consumption));
  set("energy", num(co2.energy_consumption, 6));
  set("carbon_footprint", num(co2.carbon_footprint, 6));
  set("carbon_intensity", num(co2.carbon_intensity));
  const reasons = [];
  for (const [k, out] of Object.entries(o)) {
    const x = out && out.extra_data;
    if (x && typeof x === "object") {
      // What the nodes say of their choice: ML_MODEL's reason and source,
      // CARBON_FOOTPRINT's intensity source and fallback, HW_RESOURCES' estimate.
      const said = [];
      for (const f of ["reason", "why", "error", "note", "source", "fallback"]) {
        if (typeof x[f] === "string" && x[f]) said.push(f === "reason" ? x[f] : `${f}: ${x[f]}`);
      }
      if (x.estimated === true) said.push("estimated, not measured");
      if (said.length) reasons.push(`${k}: ${said.join("; ")}`);
    }
  }
  set("reasons", reasons.length ? reasons.join("\n") : "–");
  if (t.state === "failed") errors.textContent = `Task ${id(tid)} failed: ${t.reason || "no reason given"}`;
}

async function drawChart() {
  const p = state.focus;
  if (p == null) return;
  $("#chart-problem").textContent = `problem ${p}`;
  const r = await api("GET", "/tasks");
  const its = (r.tasks || []).filter((t) => t.task_id.problem_id === p && t.state === "done")
    .sort((a, b) => a.task_id.iteration_id - b.task_id.iteration_id);
  const points = [];
  for (const t of its) {
    const d = await api("GET", `/tasks/${p}/${t.task_id.iteration_id}`);
    const o = d.outputs || {};
    points.push({
      i: t.task_id.iteration_id,
      carbon: (o.CARBON_FOOTPRINT || {}).carbon_footprint,
      energy: (o.CARBON_FOOTPRINT || {}).energy_consumption,
      latency: (o.HW_RESOURCES || {}).latency,
    });
  }
  plot("#chart-carbon", points, "carbon");
  plot("#chart-energy", points, "energy");
  plot("#chart-latency", points, "latency");
  try {
    const run = await api("GET", `/optimizations/${p}`);
    $("#run-state").textContent = run.state === "running"
      ? `optimisation running (${run.iterations.length} iteration(s))`
      : `optimisation stopped: ${run.stop_reason ? run.stop_reason.message : ""}`;
  } catch (_) {
    $("#run-state").textContent = "";
  }
}

function plot(sel, points, series) {
  const svg = $(sel);
  const NS = "http://www.w3.org/2000/svg";
  const s = (tag, attrs) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  };
  svg.replaceChildren();
  const vals = points.map((p) => p[series]).filter((v) => typeof v === "number");
  svg.append(s("line", { class: "axis", x1: 25, y1: 105, x2: 295, y2: 105 }));
  if (vals.length === 0) {
    const t = s("text", { x: 30, y: 60 });
    t.textContent = "no finished iteration yet";
    svg.append(t);
    return;
  }
  const max = Math.max(...vals), min = Math.min(0, ...vals);
  const span = max - min || 1;
  const x = (k) => (points.length === 1 ? 160 : 35 + (k * 250) / (points.length - 1));
  const y = (v) => 100 - ((v - min) * 85) / span;
  const top = s("text", { x: 2, y: 15 });
  top.textContent = num(max, 3);
  svg.append(top);
  let path = "";
  points.forEach((p, k) => {
    if (typeof p[series] !== "number") return;
    path += `${path ? "L" : "M"}${x(k)},${y(p[series])}`;
    const c = s("circle", { class: "point", cx: x(k), cy: y(p[series]), r: 3.5, "data-series": series, "data-iteration": p.i });
    const tip = s("title", {});
    tip.textContent = `iteration ${p.i}: ${p[series]}`;
    c.append(tip);
    svg.append(c);
    const label = s("text", { x: x(k) - 3, y: 117 });
    label.textContent = p.i;
    svg.append(label);
  });
  svg.prepend(s("path", { class: "line", d: path }));
}

// ----------------------------------------------------------------------------
// The form

const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);

function validate(form) {
  const errors = [];
  const v = (name) => form.elements[name].value.trim();
  const integer = (name, label, min = 0) => {
    const s = v(name);
    if (s === "") return undefined;
    if (!/^\d+$/.test(s) || Number(s) < min) errors.push([name, `${label} must be an integer ≥ ${min}, not "${s}"`]);
    return Number(s);
  };
  const decimal = (name, label, positive) => {
    const s = v(name);
    if (s === "") return undefined;
    const x = Number(s);
    if (!isFinite(x) || x < 0 || (positive && x === 0)) errors.push([name, `${label} must be a number ${positive ? "> 0" : "≥ 0"}, not "${s}"`]);
    return x;
  };
  if (!v("problem_short_description")) errors.push(["problem_short_description", "Short description is required"]);
  const minimum = integer("minimum_samples", "Minimum samples");
  const maximum = integer("maximum_samples", "Maximum samples");
  if (minimum !== undefined && maximum !== undefined && minimum > maximum) {
    errors.push(["maximum_samples", `Maximum samples (${maximum}) must not be below minimum samples (${minimum})`]);
  }
  const memory = integer("max_memory_footprint", "Max memory footprint");
  const optimise = form.elements.optimise.checked;
  const target = decimal("target", "Target footprint", false);
  const iterations = optimise ? integer("max_iterations", "Max iterations", 1) : undefined;
  const seconds = optimise ? decimal("max_seconds", "Max seconds", true) : undefined;
  const extra = {};
  if (v("goal")) extra.goal = v("goal");
  if (v("hardware_required")) extra.hardware_required = v("hardware_required");
  if (memory !== undefined) extra.max_memory_footprint = memory;
  const user_input = {
    problem_short_description: v("problem_short_description"),
    modality: v("modality"),
    problem_definition: v("problem_definition"),
    inputs: list(v("inputs")),
    outputs: list(v("outputs")),
    minimum_samples: minimum ?? 1,
    maximum_samples: maximum ?? 1,
    geo_location_continent: v("geo_location_continent"),
    geo_location_region: v("geo_location_region"),
    previous_iteration: 0,
    extra_data: extra,
  };
  return { errors, optimise, user_input, target, iterations, seconds };
}

function showFormErrors(form, errors) {
  form.querySelectorAll(".field-error").forEach((e) => e.remove());
  form.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
  $("#form-errors").textContent = "";
  for (const [name, message] of errors) {
    const input = name && form.elements[name];
    if (input && input.closest) {
      input.classList.add("invalid");
      input.closest("label").append(el("span", { class: "field-error", "data-for": name, textContent: message }));
    } else {
      $("#form-errors").textContent += message + "\n";
    }
  }
}

async function submit(ev) {
  ev.preventDefault();
  const form = ev.target;
  const f = validate(form);
  showFormErrors(form, f.errors);
  if (f.errors.length) return;
  $("#submitted").textContent = "submitting…";
  try {
    let first;
    if (f.optimise) {
      const budget = {};
      if (f.iterations !== undefined) budget.max_iterations = f.iterations;
      if (f.seconds !== undefined) budget.max_seconds = f.seconds;
      const r = await api("POST", "/optimizations", { user_input: f.user_input, budget, target_carbon_footprint: f.target ?? 0 });
      first = r.first_task;
      state.runs.add(r.problem_id);
      $("#submitted").textContent = `optimisation run ${r.id} started`;
    } else {
      const r = await api("POST", "/user_input", f.user_input);
      first = r.task_id;
      $("#submitted").textContent = `task ${id(first)} submitted`;
    }
    task(first);
    renderTasks();
    // The task may already be done (its events came before this answer): show it now;
    // its later events refresh the view.
    await focusOn(first);
  } catch (e) {
    $("#submitted").textContent = "";
    // The API names the field: `minimum_samples`, `user_input.x`, `budget.y`…
    const m = /field `(?:user_input\.|budget\.)?([a-z_]+)`/.exec(e.message);
    const name = m && form.elements[m[1]] ? m[1] : null;
    showFormErrors(form, [[name, e.message]]);
  }
}

// ----------------------------------------------------------------------------
// Live: the event stream

function connected(yes) {
  $("#banner").hidden = yes;
  const pill = $("#connection");
  pill.textContent = yes ? "live" : "disconnected";
  pill.className = `pill ${yes ? "live" : "down"}`;
}

async function refresh() {
  try {
    const s = await api("GET", "/status");
    state.nodes = s.nodes || {};
    renderNodes();
    await loadTasks();
  } catch (e) {
    connected(false);
  }
}

function listen() {
  const events = new EventSource("/events");
  events.addEventListener("connected", () => { connected(true); refresh(); });
  events.onerror = () => connected(false); // EventSource reconnects by itself.
  events.addEventListener("node", (m) => {
    const n = JSON.parse(m.data);
    state.nodes[n.key] = n;
    renderNodes();
  });
  events.addEventListener("task_started", (m) => { task(JSON.parse(m.data).task_id); renderTasks(); });
  events.addEventListener("task_status", (m) => {
    const e = JSON.parse(m.data);
    const key = NODE_OF_NAME[e.status.node_name];
    if (!key) return;
    const s = e.status.task_status;
    task(e.task_id).steps[key] = s === "TASK_SUCCEEDED" ? "done" : s === "TASK_ERROR" ? "failed" : "running";
    renderTasks();
  });
  events.addEventListener("output", (m) => {
    const e = JSON.parse(m.data);
    task(e.task_id).steps[e.node] = "done";
    renderTasks();
  });
  events.addEventListener("task_done", (m) => {
    const e = JSON.parse(m.data);
    const t = task(e.task_id);
    t.state = "done";
    for (const n of NODES) t.steps[n] = "done";
    renderTasks();
    if (state.focus === e.task_id.problem_id) focusOn(e.task_id);
  });
  events.addEventListener("task_failed", (m) => {
    const e = JSON.parse(m.data);
    const t = task(e.task_id);
    t.state = "failed";
    t.reason = e.reason;
    renderTasks();
    if (state.focus === e.task_id.problem_id) showResult(e.task_id);
  });
  for (const name of ["iteration", "optimization_finished"]) {
    events.addEventListener(name, () => drawChart());
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#problem-form").addEventListener("submit", submit);
  setInterval(renderNodes, 5000); // "last seen" ages
  refresh();
  listen();
});
