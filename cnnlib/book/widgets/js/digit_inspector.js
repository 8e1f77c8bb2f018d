// Digit inspector (chapter 5): cnnlib computed every layer's feature maps and the
// probabilities of the trained network for each digit; the page selects a digit and draws.
const DI_BLUE = "#0072b2", DI_ORANGE = "#e69f00", DI_PURPLE = "#542788";

function diRender({ model, el }) {
  const root = widgetRoot(el, "digit_inspector");
  const bar = document.createElement("div");
  bar.className = "cnnlib-controls";
  root.append(bar);
  const names = model.get("names"), labels = model.get("labels");
  const preds = model.get("predictions");
  const pick = labelledIn(bar, "digit", document.createElement("select"), "di-index");
  names.forEach((n, i) => {
    const extra = labels.length ? ` (label ${labels[i]}, predicted ${preds[i]})` : "";
    pick.append(new Option(n + extra, String(i)));
  });
  const [caption, canvas] = captionAndCanvas(root);

  const probs = unpack(model.get("probs"));
  const images = unpack(model.get("images"));
  const range = unpack(model.get("image_range")).data;
  const maps = model.get("maps").map(unpack);
  const scales = unpack(model.get("map_scales"));
  const layerNames = model.get("layer_names");
  const K = probs.shape[1], L = layerNames.length;
  const [, H, W] = images.shape;

  function draw() {
    const i = model.get("index");
    pick.value = String(i);
    const p = Array.from(probs.data.subarray(i * K, (i + 1) * K));
    const pred = p.indexOf(Math.max(...p));
    const label = labels.length ? labels[i] : null;
    const gap = 6, left = 10;
    const cellOf = (w) => Math.max(2, Math.floor(72 / w));
    const widest = Math.max(...maps.map((m) => m.shape[1] * (m.shape[3] * cellOf(m.shape[3]) + gap)), 420);
    canvas.width = left + widest + 10;
    let height = 30 + H * 3 + 20;
    for (const m of maps) height += m.shape[2] * cellOf(m.shape[3]) + 30;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    // the input digit, light paper and dark ink (pixels as cnnlib prepared them)
    const lo = range[2 * i], hi = range[2 * i + 1];
    const pixels = new Float64Array(H * W);
    for (let k = 0; k < H * W; k++) pixels[k] = lo + images.data[i * H * W + k] * (hi - lo) / 255;
    ctx.fillStyle = "#222"; ctx.font = "12px sans-serif";
    ctx.fillText(names[i] + (label === null ? "" : `, label ${label}`), left, 14);
    drawImage(ctx, pixels, 0, H, W, left, 24, 3, "greys", lo, hi);
    // probabilities
    const x0 = left + W * 3 + 40, y0 = 24, bw = 30, bh = H * 3;
    p.forEach((v, k) => {
      ctx.fillStyle = k === label ? DI_ORANGE : (k === pred ? DI_PURPLE : DI_BLUE);
      ctx.fillRect(x0 + k * bw + 4, y0 + bh * (1 - v), bw - 8, bh * v);
      ctx.fillStyle = "#222"; ctx.textAlign = "center"; ctx.font = "11px sans-serif";
      ctx.fillText(String(k), x0 + (k + 0.5) * bw, y0 + bh + 12);
    });
    ctx.textAlign = "left";
    // feature maps, one row per layer, symmetric colour limits per layer
    let y = 30 + H * 3 + 20;
    const state = { index: i, name: names[i], label, prediction: pred, probs: p,
                    image: Array.from(pixels), layers: [] };
    maps.forEach((m, l) => {
      const [, C, h, w] = m.shape;
      const cell = cellOf(w);
      const s = scales.data[i * L + l];
      const values = new Float64Array(C * h * w);
      const off = i * C * h * w;
      let sum = 0;
      for (let k = 0; k < values.length; k++) {
        values[k] = (m.data[off + k] - 128) * s / 127;
        sum += values[k];
      }
      ctx.fillStyle = "#222"; ctx.font = "12px sans-serif";
      ctx.fillText(`after layer ${layerNames[l]}: ${C} maps of ${h}×${w}`, left, y - 6);
      for (let c = 0; c < C; c++) {
        drawImage(ctx, values, c * h * w, h, w, left + c * (w * cell + gap), y, cell, "signed",
                  -(s || 1), s || 1);
      }
      state.layers.push({ name: layerNames[l], shape: [C, h, w], scale: s, sum });
      y += h * cell + 30;
    });
    const verdict = label === null ? "" : (label === pred ? " (correct)" : " (wrong)");
    caption.textContent = `prediction ${pred}${verdict}, p = ${p[pred].toFixed(3)}; ` +
      "bars: orange the true class, purple a wrong prediction";
    canvas.setAttribute("aria-label", caption.textContent);
    root.dataset.state = JSON.stringify(state);
  }

  pick.addEventListener("change", () => {
    model.set("index", Number(pick.value)); model.save_changes(); draw();
  });
  model.on("change:index", draw);
  draw();
  return () => model.off("change:index", draw);
}

export default { render: diRender };
