// The window explainer (chapter 1): the page takes the patch of the digit under the window at
// output position (row, column), multiplies it by the kernel, adds up the products, and draws
// every step next to the whole feature map it computes.

function render({ model, el }) {
  const root = widgetRoot(el, "window_explainer");
  const image = unpack(model.get("image"));
  const [h, w] = image.shape;
  const kernel = Float64Array.from(model.get("kernel").flat());
  const k = model.get("kernel").length;
  const s = model.get("stride"), p = model.get("padding");
  const padded = pad2d(image.data, h, w, p);
  const fmap = conv2d(image.data, h, w, kernel, k, s, p);

  const row = slider("row", "output row", 0, fmap.h - 1, model.get("row"));
  const col = slider("col", "output column", 0, fmap.w - 1, model.get("col"));
  const panels = make("div", { class: "cnnlib-panels" });
  const steps = make("div", { class: "cnnlib-panels" });
  root.append(make("div", { class: "cnnlib-controls" }, row.row, col.row), panels, steps);

  const [lo, hi] = symmetricLimits(fmap.data);
  const kLimits = symmetricLimits(kernel);
  const inkMax = Math.max(1, extent(image.data)[1]);
  const cell = Math.max(24, Math.min(44, Math.floor(180 / k)));

  function draw() {
    const r = model.get("row"), c = model.get("col");
    row.input.setValue(r);
    col.input.setValue(c);
    const top = r * s, left = c * s;
    const patch = new Float64Array(k * k), product = new Float64Array(k * k);
    let value = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        patch[i * k + j] = padded.data[(top + i) * padded.w + left + j];
        product[i * k + j] = patch[i * k + j] * kernel[i * k + j] + 0;
        value += product[i * k + j];
      }
    }
    const pLimits = symmetricLimits(product);
    panels.replaceChildren(
      panel(`rows ${top}–${top + k - 1}, columns ${left}–${left + k - 1}${p ? " (padded)" : ""}`,
        drawArray(padded.data, padded.h, padded.w, {
          cmap: "ink", vmin: 0, vmax: inkMax, cell: 6,
          boxes: [{ top, left, height: k, width: k }],
          label: `the digit with the window at rows ${top} to ${top + k - 1}, columns ${left} to ${left + k - 1}` })),
      panel(`feature map ${fmap.h}×${fmap.w}, output[${r}, ${c}]`,
        drawArray(fmap.data, fmap.h, fmap.w, {
          cmap: "diverging", vmin: lo, vmax: hi, cell: 6, colourBar: true,
          boxes: [{ top: r, left: c, height: 1, width: 1 }],
          label: `feature map with output ${r}, ${c} outlined` })),
    );
    steps.replaceChildren(
      panel("patch under the window", drawArray(patch, k, k, {
        cmap: "ink", vmin: 0, vmax: inkMax, cell, numbers: true, label: "patch values" })),
      make("div", { class: "cnnlib-op", "aria-hidden": "true" }, "×"),
      panel("kernel", drawArray(kernel, k, k, {
        cmap: "diverging", vmin: kLimits[0], vmax: kLimits[1], cell, numbers: true, label: "kernel values" })),
      make("div", { class: "cnnlib-op", "aria-hidden": "true" }, "="),
      panel("products", drawArray(product, k, k, {
        cmap: "diverging", vmin: pLimits[0], vmax: pLimits[1], cell, numbers: true, label: "products" })),
      make("div", { class: "cnnlib-op" }, "add up: ",
        make("span", { class: "cnnlib-big", "data-value": String(value) }, value.toFixed(3))),
    );
    publish(root, {
      row: r, col: c, value, patch: toRows(patch, k, k), product: toRows(product, k, k),
      output_shape: [fmap.h, fmap.w], feature_value: fmap.data[r * fmap.w + c],
    });
  }

  row.input.addEventListener("input", () => send(model, "row", Number(row.input.value)));
  col.input.addEventListener("input", () => send(model, "col", Number(col.input.value)));
  model.on("change:row", draw);
  model.on("change:col", draw);
  draw();
}

export default { render };
