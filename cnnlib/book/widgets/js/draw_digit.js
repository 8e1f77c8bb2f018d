// "Draw your own digit": a drawing canvas, the preprocessing that made MNIST, and the seed
// network's forward pass, all computed in the page from weights cnnlib exported.
//
// Everything lives inside one closure so that no name clashes with common.js, which the
// Python side puts in front of this file. The pure functions (rasterise, preprocess, forward)
// are exported as `drawDigit` for the tests; cnnlib/book/widgets/draw.py does the same
// arithmetic in NumPy, step for step.

const drawDigitCore = (() => {
  const INPUT = 28; // the network's input side
  const BOX = 20; // MNIST scaled each digit's bounding box to fit 20 x 20
  const LAYERS = ["0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias",
                  "8.weight", "8.bias"];

  // ------------------------------------------------------------------ arrays from Python
  function unpack(obj) {
    const bytes = Uint8Array.from(atob(obj.b64), (c) => c.charCodeAt(0));
    const types = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array };
    const Type = types[obj.dtype];
    if (!Type) throw new Error(`unsupported dtype ${obj.dtype}`);
    return { data: new Type(bytes.buffer), shape: obj.shape };
  }

  // ------------------------------------------------------------------ drawing
  // Ink of one straight piece of pen track into `raster` (size x size, values 0..1): a pixel
  // whose centre lies at distance d from the segment gets clamp(radius + 0.5 - d, 0, 1), an
  // anti-aliased edge one pixel wide; overlapping ink keeps the maximum.
  function stamp(raster, size, x0, y0, x1, y1, radius) {
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const reach = radius + 1;
    const left = Math.max(0, Math.floor(Math.min(x0, x1) - reach));
    const right = Math.min(size - 1, Math.ceil(Math.max(x0, x1) + reach));
    const top = Math.max(0, Math.floor(Math.min(y0, y1) - reach));
    const bottom = Math.min(size - 1, Math.ceil(Math.max(y0, y1) + reach));
    for (let py = top; py <= bottom; py++) {
      const cy = py + 0.5;
      for (let px = left; px <= right; px++) {
        const cx = px + 0.5;
        let t = len2 > 0 ? ((cx - x0) * dx + (cy - y0) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = cx - (x0 + t * dx);
        const ey = cy - (y0 + t * dy);
        let ink = radius + 0.5 - Math.sqrt(ex * ex + ey * ey);
        ink = ink < 0 ? 0 : ink > 1 ? 1 : ink;
        const i = py * size + px;
        if (ink > raster[i]) raster[i] = ink;
      }
    }
  }

  // Strokes are lists of [x, y] points in raster units (0..size); one point draws a dot.
  function drawStroke(raster, size, stroke, radius, from = 0) {
    if (stroke.length === 1 && from === 0) {
      const [x, y] = stroke[0];
      stamp(raster, size, x, y, x, y, radius);
    }
    for (let k = Math.max(1, from); k < stroke.length; k++) {
      const [x0, y0] = stroke[k - 1];
      const [x1, y1] = stroke[k];
      stamp(raster, size, x0, y0, x1, y1, radius);
    }
  }

  // An image (side size or size / n) upsampled by repetition to size x size, as the base ink.
  function baseRaster(pixels, size) {
    const raster = new Float64Array(size * size);
    if (!pixels) return raster;
    const [h, w] = pixels.shape;
    const f = size / h;
    for (let y = 0; y < size; y++) {
      const row = Math.floor(y / f) * w;
      for (let x = 0; x < size; x++) raster[y * size + x] = pixels.data[row + Math.floor(x / f)];
    }
    return raster;
  }

  function rasterise(strokes, size, radius, pixels = null) {
    const raster = baseRaster(pixels, size);
    for (const stroke of strokes) drawStroke(raster, size, stroke, radius);
    return raster;
  }

  // ------------------------------------------------------------------ MNIST preprocessing
  // weights[i * n + k]: the share of input cell k in output cell i when n cells are averaged
  // down (or up) to m; output cell i covers input interval [i n/m, (i + 1) n/m).
  function areaWeights(n, m) {
    const scale = n / m;
    const w = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      const lo = i * scale;
      const hi = (i + 1) * scale;
      for (let k = Math.floor(lo); k < Math.min(n, Math.ceil(hi)); k++) {
        const overlap = Math.min(hi, k + 1) - Math.max(lo, k);
        if (overlap > 0) w[i * n + k] = overlap / scale;
      }
    }
    return w;
  }

  // The drawing (h x w, ink 0..1) as MNIST made its digits: the bounding box of the ink scaled
  // (area-averaged, so anti-aliased) to fit 20 x 20 keeping its aspect ratio, then placed in
  // 28 x 28 with its centre of mass at the centre (shifted by whole pixels, kept inside).
  function preprocess(raster, h, w) {
    let top = h;
    let bottom = -1;
    let left = w;
    let right = -1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (raster[y * w + x] > 0) {
          if (y < top) top = y;
          if (y > bottom) bottom = y;
          if (x < left) left = x;
          if (x > right) right = x;
        }
      }
    }
    const image = new Float64Array(INPUT * INPUT);
    if (bottom < 0) return { image, empty: true };
    const bh = bottom - top + 1;
    const bw = right - left + 1;
    const longest = Math.max(bh, bw);
    const oh = Math.max(1, Math.floor((bh * BOX) / longest + 0.5));
    const ow = Math.max(1, Math.floor((bw * BOX) / longest + 0.5));
    const wy = areaWeights(bh, oh);
    const wx = areaWeights(bw, ow);
    const rows = new Float64Array(oh * bw); // wy @ crop
    for (let i = 0; i < oh; i++) {
      for (let k = 0; k < bh; k++) {
        const a = wy[i * bh + k];
        if (a === 0) continue;
        const src = (top + k) * w + left;
        for (let x = 0; x < bw; x++) rows[i * bw + x] += a * raster[src + x];
      }
    }
    const small = new Float64Array(oh * ow); // (wy @ crop) @ wx.T
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let x = 0; x < bw; x++) s += rows[i * bw + x] * wx[j * bw + x];
        small[i * ow + j] = s;
      }
    }
    let total = 0;
    let my = 0;
    let mx = 0;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const v = small[i * ow + j];
        total += v;
        my += i * v;
        mx += j * v;
      }
    }
    // pixel i spans [i, i + 1): the centre of mass is at cy + 0.5, the field's centre at 14
    const cy = my / total;
    const cx = mx / total;
    const clamp = (v, hi) => Math.min(Math.max(v, 0), hi);
    const oy = clamp(Math.floor(INPUT / 2 - cy + 1e-7), INPUT - oh);
    const ox = clamp(Math.floor(INPUT / 2 - cx + 1e-7), INPUT - ow);
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) image[(oy + i) * INPUT + ox + j] = small[i * ow + j];
    }
    return { image, empty: false, box: { top, left, height: bh, width: bw }, offset: [oy, ox] };
  }

  function standardise(image, mean, std) {
    const x = new Float32Array(image.length);
    for (let i = 0; i < image.length; i++) x[i] = (image[i] - mean) / std;
    return x;
  }

  // ------------------------------------------------------------------ the network
  // Activations are kept in float64 (the weights and the input are float32, as in cnnlib), so
  // the page's arithmetic is the exact reference that cnnlib's float32 matrix products approach.

  // Valid cross-correlation, stride 1, as cnnlib.Conv2d: x (c, h, w), weight (o, c, k, k).
  function conv2d(x, c, h, w, weight, bias, o, k) {
    const oh = h - k + 1;
    const ow = w - k + 1;
    const out = new Float64Array(o * oh * ow);
    for (let f = 0; f < o; f++) {
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          let s = bias[f];
          for (let ch = 0; ch < c; ch++) {
            for (let i = 0; i < k; i++) {
              const xrow = (ch * h + y + i) * w + xx;
              const wrow = ((f * c + ch) * k + i) * k;
              for (let j = 0; j < k; j++) s += weight[wrow + j] * x[xrow + j];
            }
          }
          out[(f * oh + y) * ow + xx] = s;
        }
      }
    }
    return out;
  }

  function relu(x) {
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
    return out;
  }

  function maxpool2(x, c, h, w) {
    const oh = Math.floor(h / 2);
    const ow = Math.floor(w / 2);
    const out = new Float64Array(c * oh * ow);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          const a = (ch * h + 2 * y) * w + 2 * xx;
          out[(ch * oh + y) * ow + xx] = Math.max(x[a], x[a + 1], x[a + w], x[a + w + 1]);
        }
      }
    }
    return out;
  }

  // y = weight @ x + bias with weight (out, in), as cnnlib.Linear.
  function linear(x, weight, bias) {
    const n = bias.length;
    const m = x.length;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = bias[i];
      for (let j = 0; j < m; j++) s += weight[i * m + j] * x[j];
      out[i] = s;
    }
    return out;
  }

  function softmax(logits) {
    const top = Math.max(...logits);
    const e = Array.from(logits, (v) => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  // The weights of a seed network, {name: {data, shape}}, checked once.
  function loadWeights(packed) {
    const missing = LAYERS.filter((name) => !(packed && name in packed));
    if (missing.length) {
      throw new Error(`the weights lack ${missing.join(", ")}: expected a seed_network state_dict`);
    }
    const net = {};
    for (const name of LAYERS) net[name] = unpack(packed[name]);
    return net;
  }

  // Seed network: conv 5x5x8, ReLU, conv 5x5x8, ReLU, maxpool 2, flatten, 800 -> 128, ReLU,
  // 128 -> 10. Input: one standardised 28 x 28 image (Float32Array of 784).
  function forward(net, x) {
    const w1 = net["0.weight"];
    const w2 = net["2.weight"];
    const [c1, , k1] = w1.shape;
    const [c2, , k2] = w2.shape;
    const h1 = INPUT - k1 + 1;
    const h2 = h1 - k2 + 1;
    const conv1 = relu(conv2d(x, 1, INPUT, INPUT, w1.data, net["0.bias"].data, c1, k1));
    const conv2 = relu(conv2d(conv1, c1, h1, h1, w2.data, net["2.bias"].data, c2, k2));
    const pooled = maxpool2(conv2, c2, h2, h2);
    const hidden = relu(linear(pooled, net["6.weight"].data, net["6.bias"].data));
    const logits = linear(hidden, net["8.weight"].data, net["8.bias"].data);
    return {
      conv1: { data: conv1, shape: [c1, h1, h1] },
      conv2: { data: conv2, shape: [c2, h2, h2] },
      pooled: { data: pooled, shape: [c2, h2 / 2, h2 / 2] },
      hidden,
      logits: Array.from(logits),
      probabilities: softmax(logits),
    };
  }

  // ------------------------------------------------------------------ drawing on screen
  // viridis at nine evenly spaced points (colour-blind safe, light = strong)
  const VIRIDIS = [[68, 1, 84], [71, 45, 123], [59, 82, 139], [44, 114, 142], [33, 145, 140],
                   [40, 174, 128], [94, 201, 98], [173, 220, 48], [253, 231, 37]];

  function viridis(v) {
    const t = Math.min(Math.max(v, 0), 1) * (VIRIDIS.length - 1);
    const i = Math.min(Math.floor(t), VIRIDIS.length - 2);
    const f = t - i;
    return VIRIDIS[i].map((a, c) => Math.round(a + f * (VIRIDIS[i + 1][c] - a)));
  }

  // Paint values (h x w) into a canvas whose backing store is h x w pixels.
  function paint(canvas, values, h, w, colour) {
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      const [r, g, b] = colour(values[i]);
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  const ink = (v) => {
    const g = Math.round(255 * (1 - Math.min(Math.max(v, 0), 1)));
    return [g, g, g];
  };

  const STYLE = `
.cnnlib-draw { font-size: 0.9rem; color: inherit; }
.cnnlib-draw .dd-row { display: flex; flex-wrap: wrap; gap: 1.25rem; align-items: flex-start; }
.cnnlib-draw figure { margin: 0; }
.cnnlib-draw figcaption, .cnnlib-draw .dd-title { font-weight: 600; margin-bottom: 0.3rem; }
.cnnlib-draw .dd-pad { width: 280px; height: 280px; touch-action: none; cursor: crosshair;
  background: #fff; border: 2px solid #555; border-radius: 4px; display: block; }
.cnnlib-draw .dd-pad:focus-visible { outline: 3px solid #0072b2; outline-offset: 2px; }
.cnnlib-draw .dd-controls { display: flex; gap: 0.5rem; margin-top: 0.4rem; align-items: center;
  flex-wrap: wrap; }
.cnnlib-draw button, .cnnlib-draw select { font: inherit; padding: 0.15rem 0.6rem; }
.cnnlib-draw .dd-input { width: 140px; height: 140px; image-rendering: pixelated;
  border: 1px solid #888; display: block; }
.cnnlib-draw .dd-bars { display: grid; grid-template-columns: 1.2em 160px 3.8em; gap: 2px 6px;
  align-items: center; }
.cnnlib-draw .dd-track { height: 0.9em; background: #e8e8e8; }
.cnnlib-draw .dd-bar { height: 100%; background: #0072b2; }
.cnnlib-draw .dd-best .dd-bar { background: #e69f00; }
.cnnlib-draw .dd-best { font-weight: 700; }
.cnnlib-draw .dd-num { text-align: right; font-variant-numeric: tabular-nums; }
.cnnlib-draw .dd-maps { display: flex; flex-wrap: wrap; gap: 3px; margin-bottom: 0.6rem; }
.cnnlib-draw .dd-maps canvas { width: 60px; height: 60px; image-rendering: pixelated;
  border: 1px solid #ccc; }
.cnnlib-draw .dd-status { min-height: 1.4em; margin: 0.4rem 0; }
.cnnlib-draw .dd-error { color: #b00020; }
`;

  // Strokes of three examples, in a 280 x 280 canvas, for readers without a pointer.
  function examples(size) {
    const s = size / 280;
    const ring = [];
    for (let k = 0; k <= 48; k++) {
      const a = (2 * Math.PI * k) / 48;
      ring.push([(140 + 55 * Math.sin(a)) * s, (140 - 85 * Math.cos(a)) * s]);
    }
    return {
      0: [ring],
      1: [[[150 * s, 45 * s], [140 * s, 235 * s]]],
      7: [[[80 * s, 55 * s], [200 * s, 55 * s], [125 * s, 235 * s]]],
    };
  }

  function element(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  let uid = 0;

  function render({ model, el }) {
    const id = `cnnlib-draw-${++uid}`;
    const size = model.get("size");
    const state = {
      strokes: (model.get("strokes") || []).map((s) => s.map((p) => [p[0], p[1]])),
      pixels: model.get("pixels") ? unpack(model.get("pixels")) : null,
      raster: null,
      drawing: null,
      pending: false,
    };
    let net = null;
    let loadError = null;
    try {
      net = loadWeights(model.get("weights"));
    } catch (err) {
      loadError = err.message;
    }

    // data-lm-suppress-shortcuts: in JupyterLab, Delete on the drawing clears it, not a cell
    const root = element("div", { class: "cnnlib-widget cnnlib-draw", "data-widget": "draw_digit",
                                  "data-lm-suppress-shortcuts": "true" });
    root.append(element("style", { text: STYLE }));
    const pad = element("canvas", {
      class: "dd-pad", width: size, height: size, tabindex: "0", role: "img",
      "aria-label": "Drawing area, 280 by 280 pixels: draw one digit with a mouse, pen or " +
        "finger. Press Delete to clear it.",
      "aria-describedby": `${id}-status`,
    });
    const clear = element("button", { type: "button", text: "Clear" });
    const pick = element("select", { id: `${id}-example`, "data-control": "example" }, [
      element("option", { value: "", text: "(choose)" }),
      ...["0", "1", "7"].map((d) => element("option", { value: d, text: `a drawn ${d}` })),
    ]);
    const pickLabel = element("label", { for: `${id}-example`, text: "Example:" });
    const inputCanvas = element("canvas", {
      class: "dd-input", role: "img",
      "aria-label": "The drawing after preprocessing: the 28 by 28 image the network sees",
    });
    const bars = element("div", { class: "dd-bars", role: "list",
                                  "aria-label": "Probability of each digit" });
    const barParts = [];
    for (let d = 0; d < 10; d++) {
      const bar = element("div", { class: "dd-bar" });
      bar.style.width = "0%";
      const num = element("span", { class: "dd-num", text: "" });
      const label = element("span", { text: String(d) });
      const track = element("div", { class: "dd-track" }, [bar]);
      const row = element("div", { role: "listitem", style: "display: contents" },
                          [label, track, num]);
      bars.append(row);
      barParts.push({ row, bar, num, label, track });
    }
    const status = element("p", { class: "dd-status", id: `${id}-status`, "aria-live": "polite" });
    const mapRows = {};
    const mapSection = element("div", { class: "dd-layers" });
    const captions = {
      conv1: "Layer 1: convolution + ReLU (8 maps, 24 x 24)",
      conv2: "Layer 2: convolution + ReLU (8 maps, 20 x 20)",
      pooled: "After 2 x 2 max pooling (8 maps, 10 x 10), flattened to 800 numbers",
    };
    for (const [key, text] of Object.entries(captions)) {
      const maps = [];
      const holder = element("div", { class: "dd-maps" });
      for (let m = 0; m < 8; m++) {
        const c = element("canvas", { role: "img", "aria-label": `${text.split(":")[0]}, map ${m + 1}` });
        maps.push(c);
        holder.append(c);
      }
      mapRows[key] = maps;
      mapSection.append(element("div", { class: "dd-title", text }), holder);
    }
    root.append(
      element("div", { class: "dd-row" }, [
        element("figure", {}, [
          element("figcaption", { text: "Draw a digit" }), pad,
          element("div", { class: "dd-controls" }, [clear, pickLabel, pick]),
        ]),
        element("figure", {}, [element("figcaption", { text: "What the network sees" }),
                               inputCanvas]),
        element("figure", {}, [element("figcaption", { text: "Probabilities" }), bars]),
      ]),
      status,
      mapSection,
    );
    el.append(root);

    function rebuild() {
      state.raster = rasterise(state.strokes, size, model.get("pen_radius"), state.pixels);
      schedule();
    }

    function schedule() {
      if (state.pending) return;
      state.pending = true;
      requestAnimationFrame(() => {
        state.pending = false;
        update();
      });
    }

    // What was drawn, for tests and curious readers (data-state, as every cnnlib widget).
    function publish(extra) {
      root.dataset.state = JSON.stringify({
        example: pick.value, strokes: state.strokes, pixels: state.pixels !== null, ...extra,
      });
    }

    function showEmpty(message, isError = false) {
      publish({ status: isError ? "error" : "empty", prediction: null, probabilities: null,
                logits: null });
      root.dataset.prediction = "";
      root.dataset.probabilities = "[]";
      root.dataset.logits = "[]";
      root.dataset.status = isError ? "error" : "empty";
      status.textContent = message;
      status.classList.toggle("dd-error", isError);
      paint(inputCanvas, new Float64Array(INPUT * INPUT), INPUT, INPUT, ink);
      for (const part of barParts) {
        part.bar.style.width = "0%";
        part.num.textContent = "";
        part.row.classList.remove("dd-best");
      }
      for (const maps of Object.values(mapRows)) {
        for (const c of maps) c.getContext("2d").clearRect(0, 0, c.width, c.height);
      }
    }

    function showLayer(key, layer) {
      const [c, h, w] = layer.shape;
      let top = 0;
      for (const v of layer.data) if (v > top) top = v;
      const scale = top > 0 ? 1 / top : 0; // one scale per layer: maps compare by brightness
      for (let m = 0; m < c; m++) {
        const values = layer.data.subarray(m * h * w, (m + 1) * h * w);
        paint(mapRows[key][m], values, h, w, (v) => viridis(v * scale));
      }
    }

    function update() {
      paint(pad, state.raster, size, size, ink);
      if (loadError) {
        showEmpty(`This widget cannot run: ${loadError}.`, true);
        return;
      }
      const pre = preprocess(state.raster, size, size);
      if (pre.empty) {
        showEmpty("Draw a digit in the box: the network's answer appears as you draw.");
        return;
      }
      const out = forward(net, standardise(pre.image, model.get("mean"), model.get("std")));
      const probs = out.probabilities;
      const best = probs.indexOf(Math.max(...probs));
      paint(inputCanvas, pre.image, INPUT, INPUT, ink);
      barParts.forEach((part, d) => {
        part.bar.style.width = `${(100 * probs[d]).toFixed(1)}%`;
        part.num.textContent = `${(100 * probs[d]).toFixed(1)}%`;
        part.row.classList.toggle("dd-best", d === best);
        part.row.setAttribute("aria-label", `${d}: ${(100 * probs[d]).toFixed(1)} percent`);
      });
      showLayer("conv1", out.conv1);
      showLayer("conv2", out.conv2);
      showLayer("pooled", out.pooled);
      publish({ status: "ready", prediction: best, probabilities: probs, logits: out.logits });
      root.dataset.prediction = String(best);
      root.dataset.probabilities = JSON.stringify(probs);
      root.dataset.logits = JSON.stringify(out.logits);
      root.dataset.status = "ready";
      status.classList.remove("dd-error");
      status.textContent = `The network reads a ${best} (probability ` +
        `${(100 * probs[best]).toFixed(1)}%).`;
    }

    function sync() {
      model.set("strokes", state.strokes.map((s) => s.map((p) => [p[0], p[1]])));
      try {
        model.save_changes(); // to the kernel, when there is one
      } catch (_err) {
        // a static page has no kernel to save to; the drawing works all the same
      }
    }

    function point(event) {
      const rect = pad.getBoundingClientRect();
      return [((event.clientX - rect.left) * size) / rect.width,
              ((event.clientY - rect.top) * size) / rect.height];
    }

    function onDown(event) {
      if (event.button !== undefined && event.button > 0) return;
      event.preventDefault();
      pad.focus({ preventScroll: true });
      if (pad.setPointerCapture) {
        try {
          pad.setPointerCapture(event.pointerId);
        } catch (_err) {
          // a synthetic pointer cannot be captured; drawing still works
        }
      }
      pick.value = ""; // the drawing is the reader's own now
      state.drawing = [point(event)];
      state.strokes.push(state.drawing);
      drawStroke(state.raster, size, state.drawing, model.get("pen_radius"));
      schedule();
    }

    function onMove(event) {
      if (!state.drawing) return;
      event.preventDefault();
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      const from = state.drawing.length;
      for (const e of events.length ? events : [event]) state.drawing.push(point(e));
      drawStroke(state.raster, size, state.drawing, model.get("pen_radius"), from);
      schedule();
    }

    function onUp() {
      if (!state.drawing) return;
      state.drawing = null;
      sync();
    }

    function clearAll() {
      state.strokes = [];
      state.pixels = null;
      state.drawing = null;
      pick.value = "";
      model.set("pixels", null);
      sync();
      rebuild();
    }

    function onKey(event) {
      if (["Delete", "Backspace", "Escape"].includes(event.key)) {
        event.preventDefault();
        clearAll();
      }
    }

    function onPick() {
      if (!pick.value) return;
      state.strokes = examples(size)[pick.value].map((s) => s.map((p) => [p[0], p[1]]));
      state.pixels = null;
      model.set("pixels", null);
      sync();
      rebuild();
    }

    // Python (a kernel, or a test) changed the drawing: start again from what it holds.
    function onStrokes() {
      if (state.drawing) return;
      const strokes = model.get("strokes") || [];
      if (JSON.stringify(strokes) === JSON.stringify(state.strokes)) return;
      state.strokes = strokes.map((s) => s.map((p) => [p[0], p[1]]));
      rebuild();
    }

    function onPixels() {
      const packed = model.get("pixels");
      state.pixels = packed ? unpack(packed) : null;
      rebuild();
    }

    function onWeights() {
      try {
        net = loadWeights(model.get("weights"));
        loadError = null;
      } catch (err) {
        loadError = err.message;
      }
      schedule();
    }

    pad.addEventListener("pointerdown", onDown);
    pad.addEventListener("pointermove", onMove);
    pad.addEventListener("pointerup", onUp);
    pad.addEventListener("pointercancel", onUp);
    pad.addEventListener("lostpointercapture", onUp);
    pad.addEventListener("keydown", onKey);
    clear.addEventListener("click", clearAll);
    pick.addEventListener("change", onPick);
    const listeners = [["change:strokes", onStrokes], ["change:pixels", onPixels],
                       ["change:pen_radius", rebuild], ["change:weights", onWeights],
                       ["change:mean", schedule], ["change:std", schedule]];
    for (const [name, fn] of listeners) model.on(name, fn);
    rebuild();
    update(); // the first state at once, without waiting for a frame
    return () => {
      for (const [name, fn] of listeners) model.off(name, fn);
    };
  }

  return { INPUT, BOX, unpack, stamp, rasterise, areaWeights, preprocess, standardise,
           loadWeights, forward, render };
})();

export const drawDigit = drawDigitCore;
export default { render: drawDigitCore.render };
