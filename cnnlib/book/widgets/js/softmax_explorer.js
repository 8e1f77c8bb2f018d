// Softmax / temperature explorer (chapter 4): the page computes log_softmax(z / T) the way
// cnnlib.log_softmax does (subtract the largest, then log-sum-exp), the probabilities and
// the cross-entropy -log p[true class].
const SM_BLUE = "#0072b2", SM_ORANGE = "#e69f00";

function smLogSoftmax(z, t) {
  const s = z.map((v) => v / t);
  const m = Math.max(...s);
  let sum = 0;
  for (const v of s) sum += Math.exp(v - m);
  const lse = Math.log(sum);
  return s.map((v) => v - m - lse);
}

function smBars(ctx, values, x0, y0, w, h, lo, hi, highlight, title, fmt) {
  ctx.fillStyle = "#222"; ctx.font = "12px sans-serif"; ctx.textAlign = "left";
  ctx.fillText(title, x0, y0 - 8);
  const bw = w / values.length;
  const yOf = (v) => y0 + h * (hi - Math.min(hi, Math.max(lo, v))) / (hi - lo);
  const zero = yOf(Math.max(lo, 0));
  ctx.strokeStyle = "#555"; ctx.beginPath(); ctx.moveTo(x0, zero); ctx.lineTo(x0 + w, zero);
  ctx.stroke();
  values.forEach((v, k) => {
    ctx.fillStyle = k === highlight ? SM_ORANGE : SM_BLUE;
    const y = yOf(v);
    ctx.fillRect(x0 + k * bw + 0.15 * bw, Math.min(y, zero), 0.7 * bw, Math.abs(zero - y));
    ctx.fillStyle = "#222"; ctx.textAlign = "center"; ctx.font = "11px sans-serif";
    // class labels below the room a value label under a bar reaching the bottom needs
    ctx.fillText(String(k), x0 + (k + 0.5) * bw, y0 + h + 25);
    ctx.fillText(fmt(v), x0 + (k + 0.5) * bw, (v >= 0 ? Math.min(y, zero) - 3 : y + 11));
  });
  ctx.textAlign = "left";
}

function smRender({ model, el }) {
  const root = widgetRoot(el, "softmax_explorer");
  const limit = model.get("limit");
  const grid = document.createElement("div");
  grid.style.display = "grid";
  grid.style.gridTemplateColumns = "repeat(auto-fill, minmax(15em, 1fr))";
  root.append(grid);
  const sliders = [];
  for (let k = 0; k < 10; k++) {
    const s = labelledIn(grid, `logit z${k}`, document.createElement("input"), `sm-z${k}`);
    Object.assign(s, { type: "range", min: -limit, max: limit, step: 0.1 });
    const out = document.createElement("output");
    out.htmlFor = s.id;
    s.parentNode.append(out);
    s.addEventListener("input", () => {
      const z = model.get("logits").slice();
      z[k] = Number(s.value);
      model.set("logits", z); model.save_changes(); draw();
    });
    sliders.push([s, out]);
  }
  const bar = document.createElement("div");
  bar.className = "cnnlib-controls";
  bar.style.marginTop = "0.4em";
  root.append(bar);
  const temp = labelledIn(bar, "temperature T", document.createElement("input"), "sm-t");
  Object.assign(temp, { type: "range", min: -1, max: 1, step: 0.05 });  // log10 T
  const tOut = document.createElement("output");
  tOut.htmlFor = temp.id;
  temp.parentNode.append(tOut);
  const truth = labelledIn(bar, "true class", document.createElement("select"), "sm-y");
  for (let k = 0; k < 10; k++) truth.append(new Option(String(k), String(k)));
  const [caption, canvas] = captionAndCanvas(root);
  canvas.width = 760; canvas.height = 230;

  temp.addEventListener("input", () => {
    const t = Math.round(Math.pow(10, Number(temp.value)) * 1e6) / 1e6;
    model.set("temperature", t); model.save_changes(); draw();
  });
  truth.addEventListener("change", () => {
    model.set("true_class", Number(truth.value)); model.save_changes(); draw();
  });

  function draw() {
    const z = model.get("logits"), t = model.get("temperature"), y = model.get("true_class");
    z.forEach((v, k) => { sliders[k][0].value = v; sliders[k][1].textContent = ` ${v.toFixed(1)}`; });
    temp.value = Math.log10(t); tOut.textContent = ` ${t.toFixed(2)}`; truth.value = String(y);
    const logp = smLogSoftmax(z, t);
    const probs = logp.map(Math.exp);
    const loss = -logp[y];
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    smBars(ctx, z.map((v) => v / t), 30, 30, 320, 160, -Math.max(limit, ...z.map((v) => Math.abs(v / t))),
           Math.max(limit, ...z.map((v) => Math.abs(v / t))), y, `logits divided by T = ${t.toFixed(2)}`,
           (v) => v.toFixed(1));
    smBars(ctx, probs, 410, 30, 330, 160, 0, 1, y,
           `softmax(z / T); orange: true class ${y}`, (v) => v.toFixed(2));
    caption.textContent = `p[${y}] = ${probs[y].toFixed(4)}, log p[${y}] = ${logp[y].toFixed(4)}, ` +
      `loss = −log p[${y}] = ${loss.toFixed(4)}`;
    canvas.setAttribute("aria-label", caption.textContent);
    root.dataset.state = JSON.stringify({ logits: z, temperature: t, true_class: y, probs,
                                          log_probs: logp, loss });
  }
  const events = ["change:logits", "change:temperature", "change:true_class"];
  events.forEach((e) => model.on(e, draw));
  draw();
  return () => events.forEach((e) => model.off(e, draw));
}

export default { render: smRender };
