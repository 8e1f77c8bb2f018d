// Filter evolution (chapter 5): every (layer, epoch, view) state was packed by cnnlib from
// the training snapshots; the page selects one and draws it.
function feRender({ model, el }) {
  const root = widgetRoot(el, "filter_evolution");
  const bar = document.createElement("div");
  bar.className = "cnnlib-controls";
  root.append(bar);
  const epoch = labelledIn(bar, "epoch", document.createElement("input"), "fe-epoch");
  Object.assign(epoch, { type: "range", min: 0, max: model.get("epochs"), step: 1 });
  const epochOut = document.createElement("output");
  epochOut.htmlFor = epoch.id;
  epoch.parentNode.append(epochOut);
  const layer = labelledIn(bar, "layer", document.createElement("select"), "fe-layer");
  for (const name of model.get("layers")) layer.append(new Option(name, name));
  const views = document.createElement("fieldset");
  views.style.display = "inline"; views.style.border = "none"; views.style.padding = "0";
  const legend = document.createElement("legend");
  legend.textContent = "show";
  Object.assign(legend.style, { float: "left", marginRight: "0.5em", fontSize: "inherit",
                                fontWeight: "normal", width: "auto", padding: "0" });
  views.append(legend);
  const radios = model.get("views").map((v) => {
    const r = labelledIn(views, v, document.createElement("input"), "fe-show");
    r.type = "radio"; r.name = `${r.id}-group`; r.value = v;
    r.parentNode.append(r.previousSibling);  // the label after its radio button
    return r;
  });
  const group = radios[0].name;
  radios.forEach((r) => { r.name = group; });
  bar.append(views);
  const [caption, canvas] = captionAndCanvas(root);

  const packs = {};
  for (const [name, s] of Object.entries(model.get("states"))) {
    packs[name] = { weights: unpack(s.weights), change: unpack(s.change) };
  }
  // one colour limit per (layer, view) over all epochs, so growth shows as stronger colour
  const limits = {};
  for (const [name, p] of Object.entries(packs)) {
    limits[name] = {};
    for (const v of ["weights", "change"]) {
      let m = 0;
      for (const x of p[v].data) m = Math.max(m, Math.abs(x));
      limits[name][v] = m || 1;
    }
  }

  function draw() {
    const e = model.get("epoch"), name = model.get("layer"), show = model.get("show");
    epoch.value = e; epochOut.textContent = ` ${e}`; layer.value = name;
    radios.forEach((r) => { r.checked = r.value === show; });
    const key = show === "weights" ? "weights" : "change";
    const arr = packs[name][key];
    const [, O, I, K, K2] = arr.shape;
    const size = O * I * K * K2, offset = e * size;
    const cell = I > 1 ? 6 : 10, gap = I > 1 ? 4 : 8, left = 60, top = 20;
    canvas.width = Math.max(left + I * (K2 * cell + gap) + 20, left + 150);  // room for the bar
    canvas.height = top + O * (K * cell + gap) + 34;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#222"; ctx.font = "11px sans-serif";
    ctx.fillText(I > 1 ? "in-channel →" : "", left, 12);
    const limit = limits[name][key];
    for (let o = 0; o < O; o++) {
      ctx.fillStyle = "#222";
      ctx.fillText(`filter ${o}`, 4, top + o * (K * cell + gap) + K * cell / 2 + 4);
      for (let i = 0; i < I; i++) {
        drawImage(ctx, arr.data, offset + (o * I + i) * K * K2, K, K2,
                  left + i * (K2 * cell + gap), top + o * (K * cell + gap), cell, "signed",
                  -limit, limit);
      }
    }
    drawColourbar(ctx, left, top + O * (K * cell + gap) + 2, 120, "signed", -limit, limit);
    const rel = model.get("changes")[name][e];
    const when = e === 0 ? "before training" : `after epoch ${e}`;
    const what = key === "weights" ? "weights" : "change since the start";
    caption.textContent = `${name} ${what}, ${when} (relative change ${rel.toFixed(2)})`;
    canvas.setAttribute("aria-label", caption.textContent);
    root.dataset.state = JSON.stringify({
      epoch: e, layer: name, show, change: rel, limit, shape: [O, I, K, K2],
      shown: Array.from(arr.data.subarray(offset, offset + size)) });
  }

  epoch.addEventListener("input", () => {
    model.set("epoch", Number(epoch.value)); model.save_changes(); draw();
  });
  layer.addEventListener("change", () => {
    model.set("layer", layer.value); model.save_changes(); draw();
  });
  radios.forEach((r) => r.addEventListener("change", () => {
    if (r.checked) { model.set("show", r.value); model.save_changes(); draw(); }
  }));
  const events = ["change:epoch", "change:layer", "change:show"];
  events.forEach((ev) => model.on(ev, draw));
  draw();
  return () => events.forEach((ev) => model.off(ev, draw));
}

export default { render: feRender };
