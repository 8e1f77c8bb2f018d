// common.js: what every cnnlib widget front-end shares. base.py puts this text in front of the
// widget's own file, so these are plain top-level functions (no import, no export).

// ---- arrays from Python (base.pack) ------------------------------------------------------------

/** {shape, dtype, b64[, scale]} -> {data: typed array (Float64Array when scaled), shape}. */
function unpack(obj) {
  const bytes = Uint8Array.from(atob(obj.b64), (c) => c.charCodeAt(0));
  const raw = obj.dtype === "float32" ? new Float32Array(bytes.buffer) : bytes;
  if (obj.scale === undefined) return { data: raw, shape: obj.shape };
  const data = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) data[i] = raw[i] * obj.scale;
  return { data, shape: obj.shape };
}

/** Rows [h][w] of plain numbers from a flat array (what data-state attributes hold). */
function toRows(flat, h, w) {
  const rows = [];
  for (let i = 0; i < h; i++) rows.push(Array.from(flat.subarray(i * w, (i + 1) * w)));
  return rows;
}

// ---- the arithmetic cnnlib does, in float64 ------------------------------------------------------

/** floor((n + 2p - k) / s) + 1, as cnnlib.conv_output_size. */
function outputSize(n, k, stride, padding = 0) {
  return Math.floor((n + 2 * padding - k) / stride) + 1;
}

/** Zero-pad an (h, w) image by p on every side -> {data, h, w}. */
function pad2d(image, h, w, p) {
  if (!p) return { data: Float64Array.from(image), h, w };
  const ph = h + 2 * p, pw = w + 2 * p;
  const out = new Float64Array(ph * pw);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[(i + p) * pw + j + p] = image[i * w + j];
  return { data: out, h: ph, w: pw };
}

/** One k x k kernel over one (h, w) image, cross-correlation like cnnlib.conv2d -> {data, h, w}. */
function conv2d(image, h, w, kernel, k, stride = 1, padding = 0) {
  const x = pad2d(image, h, w, padding);
  const oh = outputSize(h, k, stride, padding), ow = outputSize(w, k, stride, padding);
  const out = new Float64Array(Math.max(oh, 0) * Math.max(ow, 0));
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let sum = 0;
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) sum += x.data[(r * stride + i) * x.w + c * stride + j] * kernel[i * k + j];
      }
      out[r * ow + c] = sum;
    }
  }
  return { data: out, h: oh, w: ow };
}

/** Max or average pooling of one (h, w) map, as cnnlib.MaxPool2d / AvgPool2d -> {data, h, w}. */
function pool2d(map, h, w, size, stride, mode) {
  const oh = outputSize(h, size, stride), ow = outputSize(w, size, stride);
  const out = new Float64Array(Math.max(oh, 0) * Math.max(ow, 0));
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let best = -Infinity, sum = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          const v = map[(r * stride + i) * w + c * stride + j];
          best = Math.max(best, v);
          sum += v;
        }
      }
      out[r * ow + c] = mode === "max" ? best : sum / (size * size);
    }
  }
  return { data: out, h: oh, w: ow };
}

function extent(data) {
  let lo = Infinity, hi = -Infinity;
  for (const v of data) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

// ---- colour maps (colour-blind safe) ------------------------------------------------------------

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** A 257-entry lookup table interpolated linearly between evenly spaced anchor colours (257:
 * the middle entry is the middle anchor exactly, white at 0 for a diverging map). */
function makeColourMap(anchors) {
  const rgb = anchors.map(hexToRgb), table = [];
  for (let i = 0; i <= 256; i++) {
    const t = (i / 256) * (rgb.length - 1), a = Math.min(Math.floor(t), rgb.length - 2), f = t - a;
    table.push(rgb[a].map((v, ch) => Math.round(v + f * (rgb[a + 1][ch] - v))));
  }
  return table;
}

const COLOUR_MAPS = {
  // viridis sampled at 0, 1/8, ..., 1: for images and values >= 0
  viridis: makeColourMap(["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80",
                          "#5ec962", "#addc30", "#fde725"]),
  // white paper, dark ink: for digits
  ink: makeColourMap(["#ffffff", "#000000"]),
  // blue - white - orange, after ColorBrewer PuOr: for signed values, white at 0
  diverging: makeColourMap(["#2d004b", "#542788", "#2166ac", "#92c5de", "#f7f7f7", "#fdb863",
                            "#e08214", "#b35806", "#7f3b08"]),
};

/** [r, g, b] of value v on [vmin, vmax] in the named colour map. */
function colourOf(v, vmin, vmax, cmap = "viridis") {
  const table = COLOUR_MAPS[cmap];
  const t = vmax > vmin ? (v - vmin) / (vmax - vmin) : 0.5;
  return table[Math.max(0, Math.min(256, Math.round(t * 256)))];
}

/** Symmetric limits for a signed array: [-m, m] with m the largest |value| (1 if all zero). */
function symmetricLimits(data) {
  const [lo, hi] = extent(data);
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  return [-m, m];
}

// ---- drawing ------------------------------------------------------------------------------------

/**
 * Draw an (h, w) array as coloured cells on a new canvas and return it.
 * opts: cmap, vmin, vmax, cell (pixels per value), colourBar (true: a bar with its limits on the
 * right), boxes ([{top, left, height, width, colour, dash}] outlines, or {.., fill, hatch} areas),
 * numbers (write each value),
 * label (aria-label of the canvas).
 */
function drawArray(data, h, w, opts = {}) {
  const cell = opts.cell || Math.max(4, Math.min(24, Math.floor(240 / Math.max(h, w))));
  const cmap = opts.cmap || "viridis";
  let [vmin, vmax] = [opts.vmin, opts.vmax];
  if (vmin === undefined || vmax === undefined) [vmin, vmax] = extent(data);
  const bar = opts.colourBar ? 58 : 0;
  const dpr = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  const cw = w * cell + bar + 2, ch = Math.max(h * cell, opts.colourBar ? 80 : 0) + 2;
  canvas.width = Math.round(cw * dpr);
  canvas.height = Math.round(ch * dpr);
  canvas.style.width = `${cw}px`;
  canvas.style.height = `${ch}px`;
  canvas.setAttribute("role", "img");
  if (opts.label) canvas.setAttribute("aria-label", opts.label);
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  ctx.translate(1, 1);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const [r, g, b] = colourOf(data[i * w + j], vmin, vmax, cmap);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(j * cell, i * cell, cell, cell);
      if (opts.numbers) {
        ctx.fillStyle = (r * 0.299 + g * 0.587 + b * 0.114) > 140 ? "#000" : "#fff";
        ctx.font = `${Math.max(8, Math.floor(cell / 3.2))}px sans-serif`;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText(formatNumber(data[i * w + j]), j * cell + cell / 2, i * cell + cell / 2);
      }
    }
  }
  ctx.strokeStyle = "#888";
  ctx.lineWidth = 1;
  ctx.strokeRect(0, 0, w * cell, h * cell);
  for (const box of opts.boxes || []) {
    if (box.fill || box.hatch) {  // a shaded or hatched area (e.g. what no window reads)
      const [x, y, bw, bh] = [box.left * cell, box.top * cell, box.width * cell, box.height * cell];
      if (box.fill) { ctx.fillStyle = box.fill; ctx.fillRect(x, y, bw, bh); }
      if (box.hatch) {
        ctx.save();
        ctx.beginPath();
        ctx.rect(x, y, bw, bh);
        ctx.clip();
        ctx.strokeStyle = box.hatch === true ? "#fff" : box.hatch;
        ctx.lineWidth = 1.2;
        for (let d = -bh; d < bw; d += 6) {
          ctx.beginPath();
          ctx.moveTo(x + d, y + bh);
          ctx.lineTo(x + d + bh, y);
          ctx.stroke();
        }
        ctx.restore();
      }
      continue;
    }
    ctx.strokeStyle = box.colour || "#e66101";
    ctx.lineWidth = box.lineWidth || 2.5;
    ctx.setLineDash(box.dash ? [5, 3] : []);
    ctx.strokeRect(box.left * cell, box.top * cell, box.width * cell, box.height * cell);
  }
  ctx.setLineDash([]);
  if (opts.colourBar) drawColourBar(ctx, w * cell + 8, 0, 12, Math.max(h * cell, 80), vmin, vmax, cmap);
  return canvas;
}

/** A vertical colour bar at (x, y) of size (bw, bh) with its top, middle and bottom values. */
function drawColourBar(ctx, x, y, bw, bh, vmin, vmax, cmap) {
  for (let i = 0; i < bh; i++) {
    const [r, g, b] = colourOf(vmax - ((vmax - vmin) * i) / (bh - 1), vmin, vmax, cmap);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x, y + i, bw, 1);
  }
  ctx.strokeStyle = "#888";
  ctx.strokeRect(x, y, bw, bh);
  ctx.fillStyle = "#333";
  ctx.font = "10px sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillText(formatNumber(vmax), x + bw + 3, y + 5);
  ctx.fillText(formatNumber((vmin + vmax) / 2), x + bw + 3, y + bh / 2);
  ctx.fillText(formatNumber(vmin), x + bw + 3, y + bh - 5);
}

/** A short label for a number: up to 3 significant digits, no "-0". */
function formatNumber(v) {
  if (Object.is(v, -0) || Math.abs(v) < 5e-13) return "0";
  return Math.abs(v) >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

// ---- stop-based colour maps and drawing into one canvas (chapters 3-5) -------------------------

// Colour-blind-safe maps as stops from 0 to 1; colourAt interpolates linearly.
const STOP_MAPS = {
  viridis: ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
            "#6ece58", "#b5de2b", "#fde725"],
  cividis: ["#00224e", "#123570", "#3b496c", "#575d6d", "#707173", "#8a8779", "#a69d75",
            "#c4b56c", "#e4cf5b", "#fee838"],
  greys: ["#ffffff", "#000000"],
  // diverging, purple (negative) - white - orange (positive): PuOr reversed
  signed: ["#2d004b", "#542788", "#8073ac", "#b2abd2", "#d8daeb", "#f7f7f7", "#fee0b6",
           "#fdb863", "#e08214", "#b35806", "#7f3b08"],
};
const _RGB = {};
function _stops(name) {
  if (!_RGB[name]) {
    _RGB[name] = STOP_MAPS[name].map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  }
  return _RGB[name];
}
function colourAt(name, t) {
  const s = _stops(name);
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5)) * (s.length - 1);
  const i = Math.min(s.length - 2, Math.floor(x));
  const f = x - i;
  return s[i].map((v, k) => Math.round(v + f * (s[i + 1][k] - v)));
}

// Draw an (h, w) block of values at (x, y), each value a cell x cell square.
function drawImage(ctx, values, offset, h, w, x, y, cell, cmap, vmin, vmax) {
  const img = ctx.createImageData(w * cell, h * cell);
  const span = vmax - vmin || 1;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const rgb = colourAt(cmap, (values[offset + r * w + c] - vmin) / span);
      for (let dr = 0; dr < cell; dr++) {
        for (let dc = 0; dc < cell; dc++) {
          const p = 4 * ((r * cell + dr) * w * cell + c * cell + dc);
          img.data[p] = rgb[0]; img.data[p + 1] = rgb[1]; img.data[p + 2] = rgb[2];
          img.data[p + 3] = 255;
        }
      }
    }
  }
  ctx.putImageData(img, x, y);
  ctx.strokeStyle = "#bbb";
  ctx.strokeRect(x - 0.5, y - 0.5, w * cell + 1, h * cell + 1);
}

// A horizontal colour bar from vmin to vmax with its two end labels.
function drawColourbar(ctx, x, y, width, cmap, vmin, vmax, digits = 3) {
  for (let i = 0; i < width; i++) {
    const rgb = colourAt(cmap, i / (width - 1));
    ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
    ctx.fillRect(x + i, y, 1, 8);
  }
  ctx.fillStyle = "#222";
  ctx.font = "11px sans-serif";
  ctx.textAlign = "left";
  ctx.fillText(vmin.toPrecision(digits), x, y + 20);
  ctx.textAlign = "right";
  ctx.fillText(vmax.toPrecision(digits), x + width, y + 20);
  ctx.textAlign = "left";
}

// ---- controls and labels ------------------------------------------------------------------------

let cnnlibWidgetCount = 0;

/** A unique element id (labels point at controls with `for`). */
function uniqueId(name) {
  cnnlibWidgetCount += 1;
  return `cnnlib-${name}-${cnnlibWidgetCount}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Create an element: make("div", {class: "x"}, child, "text"). */
function make(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

/** <label for> + control, in one span. Returns {row, input}. */
function labelled(text, input) {
  if (!input.id) input.id = uniqueId("control");
  const row = make("span", { class: "cnnlib-control" }, make("label", { for: input.id }, text), input);
  return { row, input };
}

/** labelled(), appended to parent; returns the control (chapters 3-5 build rows this way). */
function labelledIn(parent, text, control) {
  const { row } = labelled(text, control);
  row.style.marginRight = "1em";
  parent.append(row);
  return control;
}

/** A labelled native slider showing its value. name is its data-control (for tests). */
function slider(name, text, min, max, value, step = 1) {
  const input = make("input", { type: "range", min, max, step, value, "data-control": name });
  const out = make("output", { class: "cnnlib-value", "aria-hidden": "true" }, String(value));
  input.addEventListener("input", () => { out.textContent = input.value; });
  const { row } = labelled(text, input);
  row.append(out);
  input.setValue = (v) => { input.value = v; out.textContent = String(v); };
  input.setRange = (lo, hi) => { input.min = lo; input.max = hi; };
  return { row, input };
}

/** A labelled native <select> over options (strings). */
function select(name, text, options, value) {
  const input = make("select", { "data-control": name },
    ...options.map((o) => make("option", { value: o, selected: o === value }, o)));
  input.value = value;
  return labelled(text, input);
}

/** A labelled checkbox. */
function checkbox(name, text, checked) {
  const input = make("input", { type: "checkbox", "data-control": name, checked });
  return labelled(text, input);
}

/** The root element of a widget: class cnnlib-widget, data-widget=name. */
function widgetRoot(root, name) {
  root.classList.add("cnnlib-widget");
  root.dataset.widget = name;
  // in JupyterLab, keys pressed in the widget go to its controls, not to notebook shortcuts
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  if (!document.getElementById("cnnlib-widget-style")) {
    const style = document.createElement("style");
    style.id = "cnnlib-widget-style";
    style.textContent = CNNLIB_CSS;
    document.head.append(style);
  }
  return root;
}

/** Publish what was drawn, for tests and curious readers: data-state JSON. */
function publish(root, state) {
  root.dataset.state = JSON.stringify(state);
  root.dispatchEvent(new CustomEvent("cnnlib:drawn", { detail: state, bubbles: true }));
}

/** A caption read out when it changes, then an image canvas, both appended to root. */
function captionAndCanvas(root) {
  const caption = make("p", { "aria-live": "polite" });
  caption.style.margin = "0.4em 0";
  const canvas = make("canvas", { role: "img" });
  canvas.style.maxWidth = "100%";
  root.append(caption, canvas);
  return [caption, canvas];
}

/** A titled panel holding a canvas: <figure><figcaption>. */
function panel(title, canvas) {
  return make("figure", { class: "cnnlib-panel" }, make("figcaption", {}, title), canvas);
}

/** Set a model trait from a control and send it to Python (when there is a kernel). */
function send(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

const CNNLIB_CSS = `
.cnnlib-widget { font: 14px/1.4 system-ui, sans-serif; color: #222; margin: 0.5em 0; }
.cnnlib-widget .cnnlib-controls { display: flex; flex-wrap: wrap; gap: 0.4em 1.4em; align-items: center; margin-bottom: 0.5em; }
.cnnlib-widget .cnnlib-control { display: inline-flex; gap: 0.4em; align-items: center; }
.cnnlib-widget .cnnlib-value { min-width: 1.6em; font-variant-numeric: tabular-nums; }
.cnnlib-widget input[type=number] { width: 4.6em; }
.cnnlib-widget .cnnlib-panels { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.cnnlib-widget .cnnlib-panel { margin: 0; }
.cnnlib-widget .cnnlib-panel figcaption { font-size: 13px; margin-bottom: 0.2em; color: #333; text-align: left; }
.cnnlib-widget .cnnlib-info { margin-top: 0.4em; }
.cnnlib-widget .cnnlib-kernel { display: grid; grid-template-columns: repeat(3, 4.8em); gap: 2px 4px; }
.cnnlib-widget .cnnlib-big { font-size: 1.3em; font-weight: bold; color: #b35806; }
.cnnlib-widget .cnnlib-op { align-self: center; font-size: 1.4em; padding: 0 0.2em; }
`;
