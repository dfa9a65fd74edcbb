// The page to_html writes, around the graph's data (a JSON object in <script id="graph-data">).
// Everything is inline: the page must open from a file on a machine without network.
//
// The script draws the graph in layers (the longest path from the root, as data.nodes[i].layer, but
// counted over what is drawn: a collapsed box of a repeated module, data.nodes[i].box, is one unit),
// orders each layer by where its consumers sit, and replays data.steps, the engine's order. Opened as
// page.html#selftest it also steps through every node and copies what it showed into
// <section id="selftest">, which tests/core/test_html_browser.cpp reads with headless Chromium.
namespace xgrad::detail {

extern const char* const kHtmlPageHead;
extern const char* const kHtmlPageTail;

const char* const kHtmlPageHead = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>xgrad backward pass</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
header { padding: 8px 16px; background: #f4f4f8; border-bottom: 1px solid #ccd; }
header h1 { font-size: 18px; margin: 0 0 6px 0; }
#controls button { font-size: 14px; min-width: 2.5em; }
#controls input[type=range] { width: 300px; vertical-align: middle; }
#note { color: #a40; }
#help { color: #555; font-size: 12px; }
main { display: flex; height: calc(100vh - 90px); }
#graph { flex: 1 1 auto; overflow: auto; border-right: 1px solid #ccd; }
aside { flex: 0 0 430px; overflow: auto; padding: 8px 12px; }
aside h2 { font-size: 15px; margin: 10px 0 4px 0; }
pre { background: #f7f7f7; padding: 4px 6px; margin: 2px 0 8px 0; white-space: pre-wrap; font-size: 12px; }
.formula { font-family: ui-monospace, monospace; color: #036; }
g.node rect { fill: #fff; stroke: #555; stroke-width: 1; rx: 5; }
g.node.leaf rect { fill: #dbeafe; }
g.node.root rect { stroke-width: 3; }
g.node.retained rect { stroke: #d97706; stroke-dasharray: 4 2; stroke-width: 2; }
g.node.done rect { fill: #e5e7eb; }
g.node.leaf.done rect { fill: #bfdbfe; }
g.node.current rect { fill: #fde047; stroke: #a16207; stroke-width: 3; }
g.node.selected rect { stroke: #2563eb; stroke-width: 3; }
g.node { cursor: pointer; }
g.node text { font-size: 11px; text-anchor: middle; pointer-events: none; }
g.node text.name { font-weight: bold; }
path.edge { fill: none; stroke: #999; stroke-width: 1.2; marker-end: url(#arrow); }
path.edge.active { stroke: #dc2626; stroke-width: 3; }
g.box { cursor: pointer; }
g.box rect { fill: #ede9fe; stroke: #6d28d9; stroke-width: 2; rx: 8; }
g.box.done rect { fill: #d4d4d8; }
g.box.current rect { fill: #fde047; stroke: #a16207; stroke-width: 3; }
g.box.selected rect { stroke: #2563eb; stroke-width: 3; }
g.box text { font-size: 11px; text-anchor: middle; pointer-events: none; }
g.box text.name { font-weight: bold; }
g.frame { cursor: pointer; }
g.frame rect { fill: #f5f3ff; stroke: #6d28d9; stroke-dasharray: 6 3; rx: 8; }
g.frame text { font-size: 11px; fill: #6d28d9; }
#order li.current { background: #fde047; }
#order li { cursor: pointer; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 4px; border: 1px solid #555; border-radius: 4px; font-size: 12px; }
</style>
</head>
<body>
)PAGE";

const char* const kHtmlPageTail = R"PAGE(<header>
<h1 id="title"></h1>
<div id="controls">
<button id="first" title="first step (Home)">|&#x25C0;</button>
<button id="prev" title="previous step (left arrow)">&#x25C0;</button>
<button id="play" title="play / pause">play</button>
<button id="next" title="next step (right arrow)">&#x25B6;</button>
<button id="last" title="last step (End)">&#x25B6;|</button>
<input id="slider" type="range" min="0" value="0">
<span id="position"></span>
<span class="legend"><span style="background:#dbeafe">leaf</span><span style="border-width:3px">root</span><span style="border:2px dashed #d97706">retained</span><span style="background:#fde047">running</span><span style="background:#e5e7eb">done</span></span>
</div>
<div id="help">Arrows point as the forward pass ran, from an op's inputs up to it; backward walks them down. Red: the edges along which the running node sends gradients to its inputs. Keys: &#x2190; &#x2192; Home End.</div>
<div id="note"></div>
</header>
<main>
<div id="graph"></div>
<aside>
<section id="step-panel"></section>
<section id="node-panel"><p>Click a node to see its values and gradient.</p></section>
<h2>The engine's order</h2>
<ol id="order"></ol>
</aside>
</main>
<script>
'use strict';
const data = JSON.parse(document.getElementById('graph-data').textContent);
const nodes = data.nodes, steps = data.steps;
document.getElementById('title').textContent = data.title;
if (!data.accumulated)
  document.getElementById('note').textContent =
    'These gradients come from a backward pass to_html ran itself: no leaf\'s grad() was changed by it.';

// ---- numbers and tensors as text ----
function num(v) {
  if (typeof v === 'string') return v;  // "nan", "inf", "-inf"
  if (v === 0) return '0';
  const a = Math.abs(v);
  return (a >= 1e-4 && a < 1e6) ? String(Number(v.toPrecision(4))) : v.toExponential(3);
}
// Nested brackets by shape; the depth is the tensor's rank, never the graph's.
function nested(values, shape, start, dim) {
  if (dim === shape.length) return num(values[start]);
  const stride = shape.slice(dim + 1).reduce((p, d) => p * d, 1);
  const parts = [];
  for (let i = 0; i < shape[dim]; i++) parts.push(nested(values, shape, start + i * stride, dim + 1));
  return '[' + parts.join(dim === shape.length - 1 ? ', ' : ',\n ') + ']';
}
function shapeText(shape) { return '[' + shape.join(', ') + ']'; }
function tensorText(v) {
  if (!v) return '(none)';
  let text = v.values ? nested(v.values, v.shape, 0, 0)
                      : 'min ' + num(v.min) + '   mean ' + num(v.mean) + '   max ' + num(v.max);
  if (v.nan || v.inf) text += '\n(' + v.nan + ' NaN, ' + v.inf + ' infinite)';
  return text;
}
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function pre(cls, v) { return el('pre', {class: cls}, tensorText(v)); }
function nodeTitle(n) { return n.name + (n.label ? ' (' + n.label + ')' : ''); }

// ---- boxes: on a large graph each repeated module (data.nodes[i].box, core/html.cpp) is drawn as
// one box until clicked ----
const boxNames = [], boxMembers = {};
if (data.collapse)
  nodes.forEach(n => {
    if (!n.box) return;
    if (!boxMembers[n.box]) { boxMembers[n.box] = []; boxNames.push(n.box); }
    boxMembers[n.box].push(n.id);
  });
const collapsed = new Set(boxNames);
if (boxNames.length)
  document.getElementById('help').textContent +=
    ' Purple boxes are repeated modules (blocks of the same kind): click one to see its nodes, click its frame to fold it again.';
// What node `id` is drawn as: itself ('n:3'), or its box while that is collapsed ('b:h.3').
function unitOf(id) { const b = nodes[id].box; return b && collapsed.has(b) ? 'b:' + b : 'n:' + id; }

// ---- layout: one row per layer, the root on top, each row ordered by its consumers' places ----
// A layer is the longest path from the root, counted over what is drawn (a collapsed box is one unit).
const consumers = nodes.map(() => []);
nodes.forEach(n => n.inputs.forEach(i => { if (i >= 0) consumers[i].push(n.id); }));
const W = 170, H = 40, GAP = 24, VGAP = 70, MARGIN = 30;
function layout() {
  const units = [], seen = new Set(), unitConsumers = {}, unitInputs = {};
  nodes.forEach(n => {
    const u = unitOf(n.id);
    if (!seen.has(u)) { seen.add(u); units.push(u); unitConsumers[u] = []; unitInputs[u] = []; }
  });
  nodes.forEach(n => n.inputs.forEach(i => {
    if (i < 0 || unitOf(i) === unitOf(n.id)) return;
    unitConsumers[unitOf(i)].push(unitOf(n.id));
    unitInputs[unitOf(n.id)].push(unitOf(i));
  }));
  const depth = {}, pending = {}, ready = [];
  units.forEach(u => { depth[u] = 0; pending[u] = unitConsumers[u].length; if (!pending[u]) ready.push(u); });
  while (ready.length) {
    const u = ready.pop();
    unitInputs[u].forEach(v => {
      depth[v] = Math.max(depth[v], depth[u] + 1);
      if (--pending[v] === 0) ready.push(v);
    });
  }
  const layers = [];
  units.forEach(u => { (layers[depth[u]] = layers[depth[u]] || []).push(u); });
  const widest = Math.max(...layers.map(l => l.length));
  const place = {width: widest * (W + GAP) + 2 * MARGIN, height: layers.length * (H + VGAP) + 2 * MARGIN, x: {}, y: {}};
  layers.forEach((row, d) => {
    if (d > 0) {
      const key = u => unitConsumers[u].reduce((s, c) => s + place.x[c], 0) / Math.max(1, unitConsumers[u].length);
      row.sort((a, b) => key(a) - key(b));
    }
    row.forEach((u, i) => {
      place.x[u] = place.width / 2 + (i - (row.length - 1) / 2) * (W + GAP);
      place.y[u] = MARGIN + d * (H + VGAP);
    });
  });
  return place;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
let nodeElements = [], boxElements = {};
function boxLabel(name) { return name + ' \u2014 ' + boxMembers[name].length + ' nodes'; }
// Draws the graph afresh: at the start, and whenever a box is expanded or collapsed.
function render() {
  const place = layout(), x = id => place.x[unitOf(id)], y = id => place.y[unitOf(id)];
  const canvas = svg('svg', {width: place.width, height: place.height, id: 'canvas'});
  const defs = svg('defs', {});
  // Sized in user units, so that a highlighted (thicker) edge keeps the same arrow head.
  const marker = svg('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8,
                                markerUnits: 'userSpaceOnUse', orient: 'auto'});
  marker.appendChild(svg('path', {d: 'M0,0 L10,5 L0,10 z', fill: '#777'}));
  defs.appendChild(marker);
  canvas.appendChild(defs);
  // An expanded box: a frame around its nodes, whose title collapses it again.
  const frameLayer = svg('g', {id: 'frames'});
  boxNames.filter(b => !collapsed.has(b)).forEach(b => {
    const xs = boxMembers[b].map(x), ys = boxMembers[b].map(y);
    const left = Math.min(...xs) - W / 2 - 8, top = Math.min(...ys) - 22;
    const frame = svg('g', {class: 'frame', 'data-box': b});
    frame.appendChild(svg('rect', {x: left, y: top, width: Math.max(...xs) - Math.min(...xs) + W + 16,
                                   height: Math.max(...ys) - Math.min(...ys) + H + 30}));
    frame.appendChild(svg('text', {x: left + 6, y: top + 14}, boxLabel(b) + ' (click to collapse)'));
    frame.addEventListener('click', () => { collapsed.add(b); redraw(); });
    frameLayer.appendChild(frame);
  });
  canvas.appendChild(frameLayer);
  // Edges point as the forward pass ran: from an input up to the op that read it. Gradients flow back.
  // Edges into or out of a collapsed box are drawn once per pair of units.
  const edgeLayer = svg('g', {id: 'edges'}), drawn = new Set();
  nodes.forEach(n => n.inputs.forEach((input, slot) => {
    if (input < 0) return;
    const from = unitOf(input), to = unitOf(n.id), units = from + '>' + to;
    if (from === to) return;
    const toBox = to[0] === 'b', fromBox = from[0] === 'b';
    if ((toBox || fromBox) && drawn.has(units)) return;
    drawn.add(units);
    const x1 = x(input), y1 = y(input);
    const x2 = x(n.id) + (toBox ? 0 : (slot - (n.inputs.length - 1) / 2) * 18), y2 = y(n.id) + H;
    const mid = (y1 + y2) / 2;
    const attrs = {class: 'edge', d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`, 'data-units': units};
    if (!toBox && !fromBox) Object.assign(attrs, {'data-from': input, 'data-to': n.id, 'data-slot': slot});
    edgeLayer.appendChild(svg('path', attrs));
  }));
  canvas.appendChild(edgeLayer);
  const nodeLayer = svg('g', {id: 'nodes'});
  nodeElements = nodes.map(n => {
    if (unitOf(n.id)[0] === 'b') return null;
    const cls = ['node', n.kind];
    if (n.root) cls.push('root');
    if (n.retained) cls.push('retained');
    const g = svg('g', {class: cls.join(' '), id: 'node-' + n.id, 'data-id': n.id, 'data-name': n.name,
                        transform: `translate(${x(n.id) - W / 2},${y(n.id)})`});
    g.appendChild(svg('title', {}, nodeTitle(n)));
    g.appendChild(svg('rect', {width: W, height: H}));
    g.appendChild(svg('text', {class: 'name', x: W / 2, y: 16}, n.kind === 'leaf' && n.label ? n.label : n.name));
    g.appendChild(svg('text', {x: W / 2, y: 32}, shapeText(n.shape) + ' ' + n.dtype));
    g.addEventListener('click', () => showNode(n.id));
    nodeLayer.appendChild(g);
    return g;
  });
  boxElements = {};
  boxNames.filter(b => collapsed.has(b)).forEach(b => {
    const u = 'b:' + b;
    const g = svg('g', {class: 'box', id: 'box-' + boxNames.indexOf(b), 'data-box': b,
                        'data-members': boxMembers[b].length, transform: `translate(${place.x[u] - W / 2},${place.y[u]})`});
    g.appendChild(svg('title', {}, boxLabel(b) + ': click to expand'));
    g.appendChild(svg('rect', {width: W, height: H}));
    g.appendChild(svg('text', {class: 'name', x: W / 2, y: 16}, b));
    g.appendChild(svg('text', {x: W / 2, y: 32}, boxMembers[b].length + ' nodes'));
    g.addEventListener('click', () => { collapsed.delete(b); redraw(); });
    nodeLayer.appendChild(g);
    boxElements[b] = g;
  });
  canvas.appendChild(nodeLayer);
  document.getElementById('graph').replaceChildren(canvas);
}
// What shows node `id`: its own element, or its collapsed box.
function shownAs(id) { return nodeElements[id] || boxElements[nodes[id].box]; }
render();

// ---- the node panel ----
const stepOf = new Array(nodes.length).fill(-1);
steps.forEach((s, k) => { stepOf[s.node] = k; });
let selected = -1;
function showNode(id) {
  if (selected >= 0) shownAs(selected).classList.remove('selected');
  selected = id;
  shownAs(id).classList.add('selected');
  const n = nodes[id], panel = document.getElementById('node-panel');
  panel.replaceChildren();
  panel.appendChild(el('h2', {}, nodeTitle(n)));
  const kinds = [n.kind === 'leaf' ? 'leaf tensor' : 'op'];
  if (n.root) kinds.push('root (the tensor given to to_html)');
  if (n.retained) kinds.push('retains its gradient (retain_grad)');
  panel.appendChild(el('p', {}, kinds.join(', ') + '; output ' + shapeText(n.shape) + ' ' + n.dtype +
                        (stepOf[id] >= 0 ? '; runs at step ' + (stepOf[id] + 1) : '; not reached by backward')));
  panel.appendChild(el('div', {}, n.kind === 'leaf' ? 'value' : 'output value'));
  panel.appendChild(n.value ? pre('value', n.value)
                            : el('pre', {class: 'value'}, 'not recorded (create an HtmlRecorder before the forward pass)'));
  if (n.kind === 'leaf' || n.retained) {
    panel.appendChild(el('div', {}, n.kind === 'leaf' ? 'grad()' : 'grad() (retained)'));
    panel.appendChild(pre('grad', n.grad));
  }
  if (stepOf[id] >= 0) {
    panel.appendChild(el('div', {}, 'gradient that reached it (d loss / d output)'));
    panel.appendChild(pre('grad-received', steps[stepOf[id]].grad));
  }
}

// ---- the stepper ----
const order = document.getElementById('order');
const orderItems = steps.map((s, k) => {
  const li = el('li', {'data-node': s.node}, nodeTitle(nodes[s.node]));
  li.addEventListener('click', () => goTo(k));
  order.appendChild(li);
  return li;
});
const slider = document.getElementById('slider');
slider.max = Math.max(0, steps.length - 1);
let current = 0;
// What reached node `id` from the steps before `k`: one entry per consumer edge that sent something.
function contributions(id, k) {
  const found = [];
  for (let j = 0; j < k; j++) {
    const s = steps[j];
    nodes[s.node].inputs.forEach((input, slot) => {
      if (input === id && s.sent[slot]) found.push({step: j, slot: slot, grad: s.sent[slot]});
    });
  }
  return found;
}
function goTo(k) {
  if (steps.length === 0) return;
  current = Math.max(0, Math.min(steps.length - 1, k));
  document.querySelectorAll('g.node, g.box').forEach(e => e.classList.remove('current', 'done'));
  document.querySelectorAll('path.edge.active').forEach(e => e.classList.remove('active'));
  orderItems.forEach(li => li.classList.remove('current'));
  for (let j = 0; j < current; j++) if (nodeElements[steps[j].node]) nodeElements[steps[j].node].classList.add('done');
  // A collapsed box is done once every member that backward reaches has run.
  for (const b in boxElements)
    if (boxMembers[b].some(id => stepOf[id] >= 0) && boxMembers[b].every(id => stepOf[id] < current))
      boxElements[b].classList.add('done');
  const s = steps[current], n = nodes[s.node];
  shownAs(s.node).classList.add('current');
  // A graph of a few hundred nodes is taller than the window: keep the running node in view.
  shownAs(s.node).scrollIntoView({block: 'nearest', inline: 'nearest'});
  orderItems[current].classList.add('current');
  n.inputs.forEach(input => {
    if (input >= 0) document.querySelectorAll(`path.edge[data-units="${unitOf(input)}>${unitOf(s.node)}"]`)
                      .forEach(e => e.classList.add('active'));
  });
  slider.value = current;
  document.getElementById('position').textContent = 'step ' + (current + 1) + ' of ' + steps.length;

  const panel = document.getElementById('step-panel');
  panel.replaceChildren();
  panel.appendChild(el('h2', {}, 'Step ' + (current + 1) + ': ' + nodeTitle(n)));
  const arrived = contributions(s.node, current);
  if (arrived.length === 0) {
    panel.appendChild(el('div', {}, n.root ? 'the seed: d loss / d loss' : 'gradient arriving'));
  } else {
    arrived.forEach(c => {
      panel.appendChild(el('div', {}, 'from ' + nodes[steps[c.step].node].name + ' (step ' + (c.step + 1) + ', its input ' + c.slot + ')'));
      panel.appendChild(pre('contribution', c.grad));
    });
    panel.appendChild(el('div', {}, arrived.length > 1 ? 'their sum, the gradient this node receives' : 'the gradient this node receives'));
  }
  panel.appendChild(pre('grad-in', s.grad));
  if (n.formula.length) {
    panel.appendChild(el('div', {}, 'local derivative (g is the gradient received, y the output):'));
    n.formula.forEach(line => panel.appendChild(el('div', {class: 'formula'}, line)));
  }
  if (n.kind === 'leaf') {
    panel.appendChild(el('div', {}, (n.label || 'the leaf') + '.grad() after this backward'));
    panel.appendChild(pre('leaf-grad', n.grad));
  }
  n.inputs.forEach((input, slot) => {
    const target = input >= 0 ? nodes[input] : null;
    panel.appendChild(el('div', {}, 'sent to input ' + slot + (target ? ' (' + nodeTitle(target) + ')' : '')));
    panel.appendChild(target && s.sent[slot] ? pre('sent', s.sent[slot])
                                             : el('pre', {class: 'sent'}, 'nothing: this input needs no gradient'));
  });
}
// After a box is expanded or collapsed: the same step and the same selected node, drawn anew.
function redraw() {
  const keep = selected;
  selected = -1;
  render();
  goTo(current);
  if (keep >= 0) showNode(keep);
}
let timer = null;
function play() {
  if (timer) { clearInterval(timer); timer = null; document.getElementById('play').textContent = 'play'; return; }
  if (current >= steps.length - 1) goTo(0);
  document.getElementById('play').textContent = 'pause';
  timer = setInterval(() => { if (current >= steps.length - 1) play(); else goTo(current + 1); }, 900);
}
document.getElementById('first').onclick = () => goTo(0);
document.getElementById('prev').onclick = () => goTo(current - 1);
document.getElementById('next').onclick = () => goTo(current + 1);
document.getElementById('last').onclick = () => goTo(steps.length - 1);
document.getElementById('play').onclick = play;
slider.addEventListener('input', () => goTo(Number(slider.value)));
document.addEventListener('keydown', e => {
  if (e.key === 'ArrowRight') goTo(current + 1);
  else if (e.key === 'ArrowLeft') goTo(current - 1);
  else if (e.key === 'Home') goTo(0);
  else if (e.key === 'End') goTo(steps.length - 1);
  else return;
  e.preventDefault();
});
// page.html#step=5 opens at the fifth step, page.html#node=3 with node 3's panel open.
const link = /^#(step|node)=(\d+)$/.exec(location.hash);
goTo(link && link[1] === 'step' ? Number(link[2]) - 1 : 0);
if (link && link[1] === 'node' && Number(link[2]) < nodes.length) showNode(Number(link[2]));

// ---- #selftest: step through everything and copy what was shown, for the browser test ----
if (location.hash === '#selftest') {
  const report = el('section', {id: 'selftest'});
  const visited = el('ol', {id: 'visited'});
  document.getElementById('first').click();
  for (let k = 0; k < steps.length; k++) {
    if (k > 0) document.getElementById('next').click();
    const shown = document.querySelector('g.node.current, g.box.current');
    if (shown.classList.contains('box'))  // a node inside a collapsed box: the box is what lights up
      visited.appendChild(el('li', {'data-node': steps[k].node, 'data-box': shown.getAttribute('data-box')},
                             nodes[steps[k].node].name));
    else
      visited.appendChild(el('li', {'data-node': shown.getAttribute('data-id')}, shown.getAttribute('data-name')));
  }
  report.appendChild(visited);
  const leaves = el('ul', {id: 'leaf-grads'});
  nodes.filter(n => n.kind === 'leaf').forEach(n => {
    if (nodeElements[n.id]) nodeElements[n.id].dispatchEvent(new MouseEvent('click'));
    else showNode(n.id);
    const shown = document.querySelector('#node-panel pre.grad');
    leaves.appendChild(el('li', {'data-node': n.id, 'data-label': n.label}, shown ? shown.textContent : '(none)'));
  });
  report.appendChild(leaves);
  report.appendChild(el('p', {id: 'counts', 'data-nodes': document.querySelectorAll('g.node').length,
                              'data-edges': document.querySelectorAll('path.edge').length,
                              'data-steps': steps.length, 'data-boxes': document.querySelectorAll('g.box').length}));
  // The first box, expanded by a click and collapsed again by a click on its frame.
  if (boxNames.length) {
    const box = boxNames[0], before = document.querySelectorAll('g.node').length;
    boxElements[box].dispatchEvent(new MouseEvent('click'));
    const expanded = document.querySelectorAll('g.node').length, boxesLeft = document.querySelectorAll('g.box').length;
    document.querySelector('g.frame').dispatchEvent(new MouseEvent('click'));
    report.appendChild(el('p', {id: 'expand', 'data-box': box, 'data-members': boxMembers[box].length,
                                'data-before': before, 'data-expanded': expanded, 'data-boxes-left': boxesLeft,
                                'data-after': document.querySelectorAll('g.node').length}));
  }
  document.body.appendChild(report);
}
</script>
</body>
</html>
)PAGE";

}  // namespace xgrad::detail
