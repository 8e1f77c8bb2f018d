// The kernel explorer (chapter 1): the page convolves the chosen digit with the 3x3 kernel in
// the boxes, at the chosen stride and padding, and draws input, kernel and feature map.

function render({ model, el }) {
  const root = widgetRoot(el, "kernel_explorer");
  const images = unpack(model.get("images"));
  const [n, h, w] = images.shape;
  const presets = model.get("presets");
  const labels = model.get("labels");

  const digit = slider("index", "digit", 0, n - 1, model.get("index"));
  const preset = select("preset", "kernel", [...Object.keys(presets), "custom"], model.get("preset"));
  const stride = slider("stride", "stride", 1, 3, model.get("stride"));
  const padding = slider("padding", "padding", 0, 2, model.get("padding"));
  const cells = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      cells.push(make("input", {
        type: "number", step: "0.5", "data-control": `k${i}${j}`,
        "aria-label": `kernel row ${i + 1}, column ${j + 1}`,
      }));
    }
  }
  const grid = make("div", { class: "cnnlib-kernel", role: "group", "aria-label": "3 by 3 kernel" }, ...cells);
  const controls = make("div", { class: "cnnlib-controls" },
    digit.row, preset.row, stride.row, padding.row,
    make("span", { class: "cnnlib-control" }, make("span", {}, "3×3 kernel (edit any cell)"), grid));
  const panels = make("div", { class: "cnnlib-panels" });
  const info = make("div", { class: "cnnlib-info" });
  root.append(controls, panels, info);

  const kernelFlat = () => model.get("kernel").flat();

  function syncControls() {
    digit.input.setValue(model.get("index"));
    preset.input.value = model.get("preset");
    stride.input.setValue(model.get("stride"));
    padding.input.setValue(model.get("padding"));
    kernelFlat().forEach((v, i) => {
      if (Number(cells[i].value) !== v || cells[i].value === "") cells[i].value = String(v);
    });
  }

  function draw() {
    const index = model.get("index"), s = model.get("stride"), p = model.get("padding");
    const kernel = kernelFlat();
    const image = images.data.subarray(index * h * w, (index + 1) * h * w);
    const padded = pad2d(image, h, w, p);
    const out = conv2d(image, h, w, kernel, 3, s, p);
    const boxes = [{ top: 0, left: 0, height: 3, width: 3 }];
    if (padded.w >= s + 3) boxes.push({ top: 0, left: s, height: 3, width: 3, dash: true });
    const inkMax = Math.max(1, extent(image)[1]);
    const label = labels.length ? ` (a ${labels[index]})` : "";
    const [lo, hi] = symmetricLimits(out.data);
    const kLimits = symmetricLimits(Float64Array.from(kernel));
    panels.replaceChildren(
      panel(`test digit ${index}${label}, ${h}×${w}` + (p ? `, padded to ${padded.h}×${padded.w}` : ""),
        drawArray(padded.data, padded.h, padded.w, {
          cmap: "ink", vmin: 0, vmax: inkMax, cell: 6, boxes,
          label: `digit ${index} with the first window outlined` })),
      panel(`kernel (${model.get("preset")})`,
        drawArray(Float64Array.from(kernel), 3, 3, {
          cmap: "diverging", vmin: kLimits[0], vmax: kLimits[1], cell: 36, numbers: true,
          label: `kernel ${kernel.map(formatNumber).join(", ")}` })),
      panel(`feature map ${out.h}×${out.w}`,
        drawArray(out.data, out.h, out.w, {
          cmap: "diverging", vmin: lo, vmax: hi, colourBar: true,
          cell: Math.max(4, Math.min(24, Math.floor(168 / Math.max(out.h, out.w, 1)))),
          boxes: [{ top: 0, left: 0, height: 1, width: 1 }],
          label: `feature map, ${out.h} by ${out.w}, values from ${formatNumber(extent(out.data)[0])} to ${formatNumber(extent(out.data)[1])}` })),
    );
    info.innerHTML = `<b>output shape</b> (${out.h}, ${out.w}): ⌊(${h} + 2·${p} − 3) / ${s}⌋ + 1 = ${out.h} rows, `
      + `⌊(${w} + 2·${p} − 3) / ${s}⌋ + 1 = ${out.w} columns`;
    publish(root, {
      index, preset: model.get("preset"), kernel: model.get("kernel"), stride: s, padding: p,
      output_shape: [out.h, out.w], feature_map: toRows(out.data, out.h, out.w),
    });
  }

  digit.input.addEventListener("input", () => send(model, "index", Number(digit.input.value)));
  stride.input.addEventListener("input", () => send(model, "stride", Number(stride.input.value)));
  padding.input.addEventListener("input", () => send(model, "padding", Number(padding.input.value)));
  preset.input.addEventListener("change", () => {
    const name = preset.input.value;
    if (name !== "custom") model.set("kernel", presets[name]);
    send(model, "preset", name);
  });
  cells.forEach((cell) => cell.addEventListener("input", () => {
    const values = cells.map((c) => Number(c.value));
    if (cells.some((c) => c.value.trim() === "") || !values.every(Number.isFinite)) return;
    const rows = [values.slice(0, 3), values.slice(3, 6), values.slice(6, 9)];
    const name = Object.keys(presets).find((k) => presets[k].flat().every((v, i) => v === values[i]));
    model.set("kernel", rows);
    send(model, "preset", name || "custom");
  }));

  const redraw = () => { syncControls(); draw(); };
  for (const name of ["index", "preset", "kernel", "stride", "padding"]) model.on(`change:${name}`, redraw);
  redraw();
}

export default { render };
