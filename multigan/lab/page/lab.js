// multigan lab: draws the frames the server streams (/events) and sends the buttons' commands (POST /command).
// The canvas's data-fake and data-heatmap attributes are checksums of what was last drawn (the browser tests
// compare them across a step D or a step G).
"use strict";

const REAL = [27, 120, 55], FAKE = [118, 42, 131];  // PiYG's ends: green real, purple generated
const state = {setup: null, frame: null, history: [], frames: 0};
const $ = id => document.getElementById(id);

function checksum(values) {  // a number that changes when any value does
  let sum = 0, i = 0;
  for (const v of values.flat(3)) sum += (v === null ? 0 : v) * (1 + (i++ % 97) / 97);
  return sum.toFixed(6);
}

function send(command, value) {
  return fetch("command", {method: "POST", headers: {"Content-Type": "application/json"},
                           body: JSON.stringify(value === undefined ? {do: command} : {do: command, value})})
    .then(answer => answer.ok ? null : answer.text().then(text => showError(text)));
}

function showError(text) {
  $("error").hidden = !text;
  $("error").textContent = text || "";
}

// --- the view: data coordinates (box) to canvas pixels, y upwards ---------------------------------------------
function projection(canvas, box) {
  const [x0, x1, y0, y1] = box;
  const scale = Math.min(canvas.width / (x1 - x0), canvas.height / (y1 - y0));
  return ([x, y]) => [(x - x0) * scale, canvas.height - (y - y0) * scale];
}

function colourAt(p) {  // p in [0, 1]: purple (generated) -> white -> green (real)
  const [end, t] = p < 0.5 ? [FAKE, 1 - 2 * p] : [REAL, 2 * p - 1];
  return end.map(c => Math.round(255 + (c - 255) * t * 0.75));
}

function drawHeatmap(ctx, heat) {
  const cells = heat.length, image = new ImageData(cells, cells);
  heat.forEach((row, r) => row.forEach((p, c) => {  // row 0 is the bottom of the view, ImageData's is the top
    const at = ((cells - 1 - r) * cells + c) * 4, [R, G, B] = colourAt(p === null ? 0.5 : p);
    image.data.set([R, G, B, 255], at);
  }));
  const small = document.createElement("canvas");
  small.width = small.height = cells;
  small.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, ctx.canvas.width, ctx.canvas.height);
}

function drawPoints(ctx, points, at, rgb, radius) {
  ctx.fillStyle = `rgba(${rgb.join(",")}, 0.75)`;
  for (const p of points) {
    if (p[0] === null || p[1] === null) continue;
    const [x, y] = at(p);
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function drawManifold(ctx, lattice, at) {  // lattice (K, K, 2): lines along both lattice directions
  ctx.strokeStyle = "rgba(60, 60, 60, 0.3)";
  ctx.lineWidth = 0.8;
  const K = lattice.length, line = pick => {
    ctx.beginPath();
    for (let i = 0; i < K; i++) { const [x, y] = at(pick(i)); i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); }
    ctx.stroke();
  };
  for (let r = 0; r < K; r++) { line(i => lattice[r][i]); line(i => lattice[i][r]); }
}

function drawArrows(ctx, points, arrows, at, box) {  // the longest arrow is 6 % of the view
  const longest = Math.max(1e-12, ...arrows.map(([u, v]) => Math.hypot(u || 0, v || 0)));
  const scale = 0.06 * (box[1] - box[0]) / longest;
  ctx.strokeStyle = "rgba(40, 40, 40, 0.7)";
  ctx.lineWidth = 1;
  points.forEach((p, i) => {
    const [u, v] = arrows[i];
    if (p[0] === null || u === null) return;
    const [x, y] = at(p), [x2, y2] = at([p[0] + u * scale, p[1] + v * scale]);
    const angle = Math.atan2(y2 - y, x2 - x), head = Math.min(4, Math.hypot(x2 - x, y2 - y) / 2);
    ctx.beginPath();
    ctx.moveTo(x, y); ctx.lineTo(x2, y2);
    ctx.lineTo(x2 - head * Math.cos(angle - 0.5), y2 - head * Math.sin(angle - 0.5));
    ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - head * Math.cos(angle + 0.5), y2 - head * Math.sin(angle + 0.5));
    ctx.stroke();
  });
}

function draw() {
  const {setup, frame} = state, canvas = $("view");
  if (!setup || !frame) return;
  const ctx = canvas.getContext("2d"), at = projection(canvas, setup.box), shown = id => $(id).checked;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (frame.heatmap && shown("show-heatmap")) drawHeatmap(ctx, frame.heatmap);
  if (shown("show-manifold")) drawManifold(ctx, frame.manifold, at);
  if (shown("show-real")) drawPoints(ctx, setup.real, at, REAL, 2);
  if (shown("show-fake")) drawPoints(ctx, frame.fake, at, FAKE, 2.2);
  if (shown("show-arrows")) drawArrows(ctx, frame.fake, frame.arrows, at, setup.box);
  canvas.dataset.fake = checksum(frame.fake);
  canvas.dataset.heatmap = frame.heatmap ? checksum(frame.heatmap) : "none";
  canvas.dataset.frames = String(++state.frames);
}

// --- status, losses, controls -------------------------------------------------------------------------------
function showStatus(frame) {
  const lone = frame.lone_updates, extra = lone.D || lone.G ? ` (+ ${lone.D} D, ${lone.G} G updates alone)` : "";
  const status = $("status");
  status.textContent = `step ${frame.step} / ${frame.total_steps}${extra}` + (frame.done ? " · finished" : "");
  status.dataset.step = String(frame.step);
  status.dataset.playing = String(frame.playing);
  const play = $("play");
  play.dataset.do = frame.playing ? "pause" : "play";
  play.textContent = frame.playing ? "❚❚ pause" : "▶ play";
  play.disabled = frame.done;
  for (const id of ["step-d", "step-g", "step-both"]) $(id).disabled = frame.done;
  $("speed").value = String(frame.speed);
  showError(frame.error);
}

function plotLosses() {
  const series = ["loss_D", "loss_G"].map((name, k) =>
    ({name, points: state.history.map(point => [point[0], point[k + 1] === null ? NaN : point[k + 1]])}));
  linePlot($("loss-plot"), series, {width: 640, height: 220});
}

function onSetup(setup) {
  state.setup = setup;
  state.history = setup.history.slice();
  $("heatmap-note").textContent = setup.heatmap_note;
  $("recipe").textContent = `${setup.loss} loss · pack ${setup.pack}`;
  plotLosses();
  draw();
}

function onFrame(frame) {
  state.frame = frame;
  const last = state.history[state.history.length - 1];
  const point = [frame.updates, frame.losses.loss_D, frame.losses.loss_G];
  if (!last || last[0] !== point[0] || last[1] !== point[1]) state.history.push(point);
  showStatus(frame);
  plotLosses();
  draw();
}

function connect() {
  const events = new EventSource("events"), connection = $("connection");
  events.onopen = () => { connection.dataset.state = "live"; connection.textContent = "live"; };
  events.onerror = () => { connection.dataset.state = "lost"; connection.textContent = "reconnecting…"; };
  events.addEventListener("setup", event => onSetup(JSON.parse(event.data)));
  events.addEventListener("frame", event => onFrame(JSON.parse(event.data)));
}

document.querySelectorAll("button[data-do]").forEach(button =>
  button.addEventListener("click", () => send(button.dataset.do)));
$("speed").addEventListener("change", event => send("speed", Number(event.target.value)));
document.querySelectorAll("figcaption input").forEach(box => box.addEventListener("change", draw));
const KEYS = {" ": "play", d: "step-d", g: "step-g", s: "step-both"};  // the button each key presses
document.addEventListener("keydown", event => {
  const button = $(KEYS[event.key] || "");
  const typing = event.target.closest && event.target.closest("select, input");
  if (!button || typing || event.ctrlKey || event.metaKey || event.altKey) return;
  event.preventDefault();
  button.click();
});
connect();
