// The page to_html writes, around the graph's data (a JSON object in <script id="graph-data">).
// Everything is inline: the page must open from a file on a machine without network.
//
// The script draws the graph in layers (data.nodes[i].layer, computed in core/html.cpp), orders
// each layer by where its consumers sit, and replays data.steps, the engine's order. Opened as
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

// ---- layout: one row per layer, the root on top, each row ordered by its consumers' places ----
const consumers = nodes.map(() => []);
nodes.forEach(n => n.inputs.forEach(i => { if (i >= 0) consumers[i].push(n.id); }));
const layers = [];
nodes.forEach(n => { (layers[n.layer] = layers[n.layer] || []).push(n.id); });
const W = 170, H = 40, GAP = 24, VGAP = 70, MARGIN = 30;
const widest = Math.max(...layers.map(l => l.length));
const width = widest * (W + GAP) + 2 * MARGIN, height = layers.length * (H + VGAP) + 2 * MARGIN;
const x = new Array(nodes.length), y = new Array(nodes.length);
layers.forEach((row, depth) => {
  if (depth > 0) {
    const key = id => consumers[id].reduce((s, c) => s + x[c], 0) / Math.max(1, consumers[id].length);
    row.sort((a, b) => key(a) - key(b));
  }
  row.forEach((id, i) => {
    x[id] = width / 2 + (i - (row.length - 1) / 2) * (W + GAP);
    y[id] = MARGIN + depth * (H + VGAP);
  });
});

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
const canvas = svg('svg', {width: width, height: height, id: 'canvas'});
const defs = svg('defs', {});
// Sized in user units, so that a highlighted (thicker) edge keeps the same arrow head.
const marker = svg('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8,
                              markerUnits: 'userSpaceOnUse', orient: 'auto'});
marker.appendChild(svg('path', {d: 'M0,0 L10,5 L0,10 z', fill: '#777'}));
defs.appendChild(marker);
canvas.appendChild(defs);
// Edges point as the forward pass ran: from an input up to the op that read it. Gradients flow back.
const edgeLayer = svg('g', {id: 'edges'});
nodes.forEach(n => n.inputs.forEach((input, slot) => {
  if (input < 0) return;
  const x1 = x[input], y1 = y[input];
  const x2 = x[n.id] + (slot - (n.inputs.length - 1) / 2) * 18, y2 = y[n.id] + H;
  const mid = (y1 + y2) / 2;
  edgeLayer.appendChild(svg('path', {class: 'edge', d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`,
                                     'data-from': input, 'data-to': n.id, 'data-slot': slot}));
}));
canvas.appendChild(edgeLayer);
const nodeLayer = svg('g', {id: 'nodes'});
const nodeElements = nodes.map(n => {
  const cls = ['node', n.kind];
  if (n.root) cls.push('root');
  if (n.retained) cls.push('retained');
  const g = svg('g', {class: cls.join(' '), id: 'node-' + n.id, 'data-id': n.id, 'data-name': n.name,
                      transform: `translate(${x[n.id] - W / 2},${y[n.id]})`});
  g.appendChild(svg('title', {}, nodeTitle(n)));
  g.appendChild(svg('rect', {width: W, height: H}));
  g.appendChild(svg('text', {class: 'name', x: W / 2, y: 16}, n.kind === 'leaf' && n.label ? n.label : n.name));
  g.appendChild(svg('text', {x: W / 2, y: 32}, shapeText(n.shape) + ' ' + n.dtype));
  g.addEventListener('click', () => showNode(n.id));
  nodeLayer.appendChild(g);
  return g;
});
canvas.appendChild(nodeLayer);
document.getElementById('graph').appendChild(canvas);

// ---- the node panel ----
const stepOf = new Array(nodes.length).fill(-1);
steps.forEach((s, k) => { stepOf[s.node] = k; });
let selected = -1;
function showNode(id) {
  if (selected >= 0) nodeElements[selected].classList.remove('selected');
  selected = id;
  nodeElements[id].classList.add('selected');
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
  nodeElements.forEach(e => e.classList.remove('current', 'done'));
  document.querySelectorAll('path.edge.active').forEach(e => e.classList.remove('active'));
  orderItems.forEach(li => li.classList.remove('current'));
  for (let j = 0; j < current; j++) nodeElements[steps[j].node].classList.add('done');
  const s = steps[current], n = nodes[s.node];
  nodeElements[s.node].classList.add('current');
  // A graph of a few hundred nodes is taller than the window: keep the running node in view.
  nodeElements[s.node].scrollIntoView({block: 'nearest', inline: 'nearest'});
  orderItems[current].classList.add('current');
  document.querySelectorAll(`path.edge[data-to="${s.node}"]`).forEach(e => e.classList.add('active'));
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
    const shown = document.querySelector('g.node.current');
    visited.appendChild(el('li', {'data-node': shown.getAttribute('data-id')}, shown.getAttribute('data-name')));
  }
  report.appendChild(visited);
  const leaves = el('ul', {id: 'leaf-grads'});
  nodes.filter(n => n.kind === 'leaf').forEach(n => {
    nodeElements[n.id].dispatchEvent(new MouseEvent('click'));
    const shown = document.querySelector('#node-panel pre.grad');
    leaves.appendChild(el('li', {'data-node': n.id, 'data-label': n.label}, shown ? shown.textContent : '(none)'));
  });
  report.appendChild(leaves);
  report.appendChild(el('p', {id: 'counts', 'data-nodes': document.querySelectorAll('g.node').length,
                              'data-edges': document.querySelectorAll('path.edge').length,
                              'data-steps': steps.length}));
  document.body.appendChild(report);
}
</script>
</body>
</html>
)PAGE";

}  // namespace xgrad::detail
