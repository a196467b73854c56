// The page of `multigan watch`: one EventSource per shown run (`events?run=ID`); the server pushes what changed
// in the run's files (see multigan/watch/stream.py for the events) and this script draws it.
"use strict";

const $ = id => document.getElementById(id);
const state = {source: null, run: null, summary: null, records: [], groups: [], followNewest: true,
               status: null, statusAt: 0, runs: [], runsAt: 0, now: 0, pending: false};

function wantedRun() {
  const match = /run=([^&]*)/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function connect() {
  if (state.source) state.source.close();
  const run = wantedRun();
  state.source = new EventSource("events" + (run === null ? "" : "?run=" + encodeURIComponent(run)));
  const on = (name, handler) => state.source.addEventListener(name, e => handler(JSON.parse(e.data)));
  on("runs", showRuns);
  on("run", startRun);
  on("metrics", data => { state.records.push(...data.records); schedulePlots(); });
  on("eval", showEvaluation);
  on("previews", data => { state.groups = data.groups; showPreviews(); });
  on("status", data => { state.status = data; state.statusAt = Date.now(); showStatus(); });
  state.source.onopen = () => setConnection("live", "live");
  state.source.onerror = () => setConnection("reconnecting…", "lost");
}

function setConnection(text, kind) {
  $("connection").textContent = text;
  $("connection").dataset.state = kind;
}

function startRun(data) {
  Object.assign(state, {run: data.id, summary: data, records: [], groups: [], followNewest: true, status: null});
  if (wantedRun() !== data.id) history.replaceState(null, "", "#run=" + encodeURIComponent(data.id));
  $("run-title").textContent = `${data.model} on ${data.data}`;
  $("run-title").title = data.id;
  document.title = `${data.id === "." ? data.model : data.id} · multigan watch`;
  showEvaluation({step: null, metrics: {}});
  showPreviews();
  schedulePlots();
  markCurrentRun();
}

// --- the run list ------------------------------------------------------------------------------------------
function showRuns(data) {
  Object.assign(state, {runs: data.runs, now: data.now, runsAt: Date.now()});
  const list = $("runs");
  list.replaceChildren(...data.runs.map(run => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#run=" + encodeURIComponent(run.id);
    link.dataset.run = run.id;
    const name = document.createElement("span");
    name.textContent = run.id === "." ? `${run.model}` : run.id;
    const detail = document.createElement("small");
    detail.className = "age";
    link.append(name, detail);
    item.appendChild(link);
    return item;
  }));
  list.dataset.count = String(data.runs.length);
  markCurrentRun();
  tick();
}

function markCurrentRun() {
  for (const link of document.querySelectorAll("#runs a")) {
    if (link.dataset.run === state.run) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// --- status: stage, step, ETA --------------------------------------------------------------------------------
function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "?";
  seconds = Math.round(seconds);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

function showStatus() {
  const s = state.status;
  if (!s) return;
  const silent = s.silent_seconds + (Date.now() - state.statusAt) / 1000;
  const parts = [];
  if (s.stage_count > 1) parts.push(`stage ${s.stage_number} of ${s.stage_count} (${s.stage})`);
  else parts.push(s.stage);
  parts.push(`step ${s.step.toLocaleString("en")} / ${s.total_steps.toLocaleString("en")}`);
  if (s.sec_per_step !== null) parts.push(`${formatNumber(s.sec_per_step)} s/step`);
  const words = {starting: "waiting for the first log line", training: `ETA ${duration(s.eta_seconds)}`,
                 finished: "finished", silent: `no new line for ${duration(silent)}: stopped, or evaluating`};
  parts.push(words[s.state] || s.state);
  if (s.state === "training") parts.push(`last line ${duration(silent)} ago`);
  $("status-line").textContent = parts.join(" · ");
  $("status").dataset.state = s.state;
  $("status").dataset.step = String(s.step);
  $("bar-fill").style.width = `${Math.min(100, 100 * s.step / Math.max(s.total_steps, 1))}%`;
}

function tick() {
  showStatus();
  for (const link of document.querySelectorAll("#runs a")) {
    const run = state.runs.find(r => r.id === link.dataset.run);
    if (!run) continue;
    const seconds = state.now - run.updated + (Date.now() - state.runsAt) / 1000;
    const age = run.updated === null ? "" : ` · ${duration(seconds)} ago`;
    link.querySelector(".age").textContent = `${run.model} on ${run.data}${age}`;
  }
}

// --- plots ---------------------------------------------------------------------------------------------------
function schedulePlots() {
  if (state.pending) return;
  state.pending = true;
  setTimeout(() => { state.pending = false; drawPlots(); }, 50);
}

function seriesOf(records, keys) {
  return keys.map(key => ({name: key, points: records.filter(r => key in r).map(r => [r.step, Number(r[key])])}));
}

function stageMarks(train) {
  const marks = [];
  for (let i = 1; i < train.length; i++) {
    if (train[i].stage !== train[i - 1].stage) marks.push({x: train[i - 1].step, label: train[i].stage || ""});
  }
  return marks;
}

function drawPlots() {
  const train = state.records.filter(r => r.kind === "train");
  const notPlotted = ["step", "kind", "stage", "sec_per_step"];
  const keys = [...new Set(train.flatMap(r => Object.keys(r)))].filter(k => !notPlotted.includes(k));
  const marks = stageMarks(train);
  linePlot($("loss-plot"), seriesOf(train, keys.filter(k => k.startsWith("loss_"))), {marks});
  const others = keys.filter(k => !k.startsWith("loss_"));
  $("scalars").hidden = others.length === 0;
  if (others.length) linePlot($("scalar-plot"), seriesOf(train, others), {marks});
  drawEvaluationPlots();
}

// --- evaluation ------------------------------------------------------------------------------------------------
function showEvaluation(data) {
  state.evaluation = data;
  const names = Object.keys(data.metrics);
  $("eval-empty").hidden = names.length > 0;
  $("eval-table").hidden = names.length === 0;
  $("eval-step").textContent = data.step === null ? "" : `(eval.json, step ${data.step})`;
  $("eval-table").tBodies[0].replaceChildren(...names.map(name => evaluationRow(name, data.metrics[name])));
  drawEvaluationPlots();
}

function evaluationRow(name, metric) {
  const row = document.createElement("tr");
  const protocol = metric.protocol || {};
  const said = ["extractor", "n_generated", "reference_split", "floor_split"].filter(k => k in protocol)
    .map(k => `${k} ${protocol[k]}`).join(", ");
  const floor = metric.floor === null || metric.floor === undefined ? "—" : formatNumber(metric.floor);
  const better = metric.higher_is_better === null ? "" : (metric.higher_is_better ? "higher ↑" : "lower ↓");
  const cells = [name, formatNumber(metric.value), floor, better, said];
  for (const text of cells) {
    const cell = document.createElement("td");
    cell.textContent = text;
    row.appendChild(cell);
  }
  row.lastChild.title = JSON.stringify(protocol, null, 1);
  row.dataset.metric = name;
  return row;
}

function drawEvaluationPlots() {
  const evals = state.records.filter(r => r.kind === "eval");
  const names = [...new Set(evals.flatMap(r => Object.keys(r)))].filter(k => !["step", "kind"].includes(k));
  const metrics = (state.evaluation || {}).metrics || {};
  $("eval-plots").replaceChildren(...names.map(name => {
    const figure = document.createElement("figure");
    const caption = document.createElement("figcaption");
    caption.textContent = name;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "plot small");
    figure.append(caption, svg);
    const floor = metrics[name] ? Number(metrics[name].floor) : NaN;
    const levels = isFinite(floor) ? [{y: floor, label: "real vs real"}] : [];
    linePlot(svg, seriesOf(evals, [name]), {width: 440, height: 200, levels});
    return figure;
  }));
}

// --- previews --------------------------------------------------------------------------------------------------
function showPreviews() {
  const pick = $("preview-pick"), groups = state.groups;
  $("preview-empty").hidden = groups.length > 0;
  pick.hidden = groups.length < 2;
  pick.max = String(Math.max(groups.length - 1, 0));
  if (state.followNewest) pick.value = pick.max;
  showPreview(groups[Number(pick.value)]);
}

function showPreview(group) {
  const box = $("preview-files");
  $("preview-step").textContent = group ? `(step ${group.step}${state.followNewest ? ", newest" : ""})` : "";
  $("previews").dataset.step = group ? String(group.step) : "";
  if (box.dataset.shown === (group ? JSON.stringify(group) : "")) return;
  box.dataset.shown = group ? JSON.stringify(group) : "";
  box.replaceChildren(...(group ? group.files.map(previewElement) : []));
}

function previewElement(file) {
  if (file.kind === "image") {
    const image = document.createElement("img");
    Object.assign(image, {src: file.url, alt: file.name, title: file.name});
    return image;
  }
  if (file.kind === "audio") {
    const audio = document.createElement("audio");
    Object.assign(audio, {src: file.url, controls: true, preload: "metadata", title: file.name});
    return audio;
  }
  if (file.kind === "text") {
    const text = document.createElement("pre");
    text.className = "samples";
    fetch(file.url).then(r => r.text()).then(body => { text.textContent = body; text.dataset.loaded = "1"; });
    return text;
  }
  const link = document.createElement("a");
  Object.assign(link, {href: file.url, textContent: file.name});
  return link;
}

$("preview-pick").addEventListener("input", () => {
  state.followNewest = $("preview-pick").value === $("preview-pick").max;
  showPreview(state.groups[Number($("preview-pick").value)]);
});
window.addEventListener("hashchange", () => { if (wantedRun() !== state.run) connect(); });
setInterval(tick, 1000);
connect();
