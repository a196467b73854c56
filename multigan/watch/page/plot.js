// A small SVG line plot, written by hand so that the page needs nothing from the network.
//   linePlot(svg, series, options): series [{name, points: [[x, y], ...]}] (a non-finite y breaks the line),
//   options {marks: [{x, label}] vertical lines (stage changes), levels: [{y, label}] dashed horizontal lines
//   (real-vs-real floors), width, height}. The svg's data-points says how many points it drew.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

// about `count` round tick values covering [low, high]
function niceTicks(low, high, count) {
  const span = high - low || Math.abs(high) || 1;
  const raw = span / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw) || 10 * power;
  const ticks = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatNumber(value) {
  if (typeof value !== "number" || !isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

function extent(values, padding) {
  let low = Math.min(...values), high = Math.max(...values);
  if (!isFinite(low) || !isFinite(high)) return [0, 1];
  if (low === high) { low -= Math.abs(low) * 0.1 || 1; high += Math.abs(high) * 0.1 || 1; }
  const pad = (high - low) * padding;
  return [low - pad, high + pad];
}

function linePlot(svg, series, options) {
  const opts = Object.assign({width: 800, height: 240, marks: [], levels: []}, options || {});
  const margin = {left: 56, right: 16, top: 26, bottom: 24};  // the legend sits above the frame
  const [W, H] = [opts.width, opts.height];
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const finite = series.flatMap(s => s.points.filter(p => isFinite(p[0]) && isFinite(p[1])));
  svg.dataset.points = String(finite.length);
  svg.dataset.series = series.map(s => s.name).join(",");
  if (!finite.length) {
    svg.appendChild(svgElement("text", {x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty"}, "no values yet"));
    return;
  }
  const xs = finite.map(p => p[0]);
  const ys = finite.map(p => p[1]).concat(opts.levels.map(l => l.y).filter(isFinite));
  const [x0, x1] = extent(xs, 0);
  const [y0, y1] = extent(ys, 0.05);
  const X = x => margin.left + (x - x0) / (x1 - x0) * (W - margin.left - margin.right);
  const Y = y => H - margin.bottom - (y - y0) / (y1 - y0) * (H - margin.top - margin.bottom);
  drawAxes(svg, X, Y, [x0, x1], [y0, y1], W, H, margin);
  for (const mark of opts.marks) {
    const x = X(mark.x);
    svg.appendChild(svgElement("line", {x1: x, x2: x, y1: margin.top, y2: H - margin.bottom, class: "mark"}));
    svg.appendChild(svgElement("text", {x: x + 4, y: margin.top + 10, class: "mark-label"}, mark.label));
  }
  for (const level of opts.levels.filter(l => isFinite(l.y))) {
    const y = Y(level.y);
    svg.appendChild(svgElement("line", {x1: margin.left, x2: W - margin.right, y1: y, y2: y, class: "level"}));
    svg.appendChild(svgElement("text", {x: W - margin.right - 4, y: y - 4, "text-anchor": "end", class: "level-label"},
                               level.label));
  }
  series.forEach((s, index) => drawSeries(svg, s, PALETTE[index % PALETTE.length], X, Y));
  drawLegend(svg, series, margin);
}

function drawAxes(svg, X, Y, [x0, x1], [y0, y1], W, H, margin) {
  for (const y of niceTicks(y0, y1, 5)) {
    svg.appendChild(svgElement("line", {x1: margin.left, x2: W - margin.right, y1: Y(y), y2: Y(y), class: "grid"}));
    const label = formatNumber(y);
    svg.appendChild(svgElement("text", {x: margin.left - 6, y: Y(y) + 4, "text-anchor": "end", class: "tick"}, label));
  }
  for (const x of niceTicks(x0, x1, 8)) {
    if (x < x0 || x > x1) continue;
    const below = H - margin.bottom + 16;
    svg.appendChild(svgElement("text", {x: X(x), y: below, "text-anchor": "middle", class: "tick"}, formatNumber(x)));
  }
  svg.appendChild(svgElement("rect", {x: margin.left, y: margin.top, width: W - margin.left - margin.right,
                                      height: H - margin.top - margin.bottom, class: "frame"}));
}

function drawSeries(svg, s, colour, X, Y) {
  let d = "", pen = "M", lonely = [];
  s.points.forEach((p, i) => {
    if (!isFinite(p[0]) || !isFinite(p[1])) { pen = "M"; return; }
    const next = s.points[i + 1], previous = s.points[i - 1];
    const alone = pen === "M" && !(next && isFinite(next[1]));
    if (alone && !(previous && isFinite(previous[1]))) lonely.push(p);
    d += `${pen}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)} `;
    pen = "L";
  });
  svg.appendChild(svgElement("path", {d, stroke: colour, class: "series"}));
  for (const p of lonely) svg.appendChild(svgElement("circle", {cx: X(p[0]), cy: Y(p[1]), r: 3, fill: colour}));
}

function drawLegend(svg, series, margin) {
  let x = margin.left;
  series.forEach((s, index) => {
    const last = [...s.points].reverse().find(p => isFinite(p[1]));
    const label = last ? `${s.name} ${formatNumber(last[1])}` : s.name;
    svg.appendChild(svgElement("rect", {x, y: 6, width: 10, height: 10, fill: PALETTE[index % PALETTE.length]}));
    svg.appendChild(svgElement("text", {x: x + 14, y: 15, class: "legend"}, label));
    x += 24 + label.length * 6.5;
  });
}
