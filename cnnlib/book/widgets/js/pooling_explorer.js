// The pooling explorer (chapter 2): the page convolves the digit with the chosen kernel (stride
// 1, no padding), applies ReLU, and max- or average-pools the feature map with the chosen
// window size and stride.

function render({ model, el }) {
  const root = widgetRoot(el, "pooling_explorer");
  const images = unpack(model.get("images"));
  const [n, h, w] = images.shape;
  const presets = model.get("presets");
  const labels = model.get("labels");

  const digit = slider("index", "digit", 0, n - 1, model.get("index"));
  const kernel = select("kernel", "kernel", Object.keys(presets), model.get("kernel"));
  const size = slider("size", "pool size", 1, 4, model.get("size"));
  const stride = slider("stride", "stride", 1, 4, model.get("stride"));
  const tied = checkbox("tied", "stride = size", model.get("tied"));
  const mode = select("mode", "pooling", ["max", "average"], model.get("mode"));
  root.append(
    make("div", { class: "cnnlib-controls" }, digit.row, kernel.row, mode.row),
    make("div", { class: "cnnlib-controls" }, size.row, stride.row, tied.row),
  );
  const panels = make("div", { class: "cnnlib-panels" });
  const info = make("div", { class: "cnnlib-info" });
  root.append(panels, info);

  function draw() {
    const index = model.get("index"), k = model.get("size"), s = model.get("stride");
    const m = model.get("mode");
    digit.input.setValue(index);
    kernel.input.value = model.get("kernel");
    size.input.setValue(k);
    stride.input.setValue(s);
    stride.input.disabled = model.get("tied");
    tied.input.checked = model.get("tied");
    mode.input.value = m;

    const image = images.data.subarray(index * h * w, (index + 1) * h * w);
    const weights = presets[model.get("kernel")];
    const fmap = conv2d(image, h, w, weights.flat(), weights.length, 1, 0);
    for (let i = 0; i < fmap.data.length; i++) fmap.data[i] = Math.max(fmap.data[i], 0);
    const pooled = pool2d(fmap.data, fmap.h, fmap.w, k, s, m);

    const vmax = extent(fmap.data)[1] || 1;
    const coveredH = (pooled.h - 1) * s + k, coveredW = (pooled.w - 1) * s + k;
    const boxes = [];
    const shade = { fill: "rgba(90, 90, 90, 0.45)", hatch: "#ffffff" };
    if (coveredH < fmap.h) boxes.push({ top: coveredH, left: 0, height: fmap.h - coveredH, width: fmap.w, ...shade });
    if (coveredW < fmap.w) boxes.push({ top: 0, left: coveredW, height: fmap.h, width: fmap.w - coveredW, ...shade });
    boxes.push({ top: 0, left: 0, height: k, width: k });
    if (pooled.w > 1) boxes.push({ top: 0, left: s, height: k, width: k, dash: true });
    const label = labels.length ? ` (a ${labels[index]})` : "";
    const cellOut = Math.max(8, Math.min(24, Math.floor((fmap.w * 6) / pooled.w)));
    panels.replaceChildren(
      panel(`test digit ${index}${label}`, drawArray(image, h, w, {
        cmap: "ink", vmin: 0, vmax: Math.max(1, extent(image)[1]), cell: 5, label: `digit ${index}` })),
      panel(`ReLU(${model.get("kernel")} feature map) ${fmap.h}×${fmap.w}`, drawArray(fmap.data, fmap.h, fmap.w, {
        cmap: "viridis", vmin: 0, vmax, cell: 6, boxes,
        label: `feature map with the first pooling window outlined${coveredH < fmap.h || coveredW < fmap.w ? "; hatched: read by no window" : ""}` })),
      panel(`${m} pooled ${pooled.h}×${pooled.w}`, drawArray(pooled.data, pooled.h, pooled.w, {
        cmap: "viridis", vmin: 0, vmax, cell: cellOut, colourBar: true,
        label: `${m} pooled output, ${pooled.h} by ${pooled.w}` })),
    );
    const elements = pooled.h * pooled.w, ratio = (fmap.h * fmap.w) / elements;
    info.innerHTML = `<b>${m} pooling ${k}×${k}, stride ${s}</b>: output shape (${pooled.h}, ${pooled.w}), `
      + `⌊(${fmap.h} − ${k}) / ${s}⌋ + 1 = ${pooled.h}; <b>${elements}</b> values instead of `
      + `${fmap.h * fmap.w} (${ratio.toFixed(2)}× fewer)`
      + (coveredH < fmap.h || coveredW < fmap.w ? "; hatched: values no window reads" : "");
    publish(root, {
      index, kernel: model.get("kernel"), size: k, stride: s, mode: m, tied: model.get("tied"),
      output_shape: [pooled.h, pooled.w], elements, pooled: toRows(pooled.data, pooled.h, pooled.w),
    });
  }

  digit.input.addEventListener("input", () => send(model, "index", Number(digit.input.value)));
  kernel.input.addEventListener("change", () => send(model, "kernel", kernel.input.value));
  mode.input.addEventListener("change", () => send(model, "mode", mode.input.value));
  size.input.addEventListener("input", () => {
    const k = Number(size.input.value);
    if (model.get("tied")) model.set("stride", k);  // as MaxPool2d: stride defaults to size
    send(model, "size", k);
  });
  stride.input.addEventListener("input", () => send(model, "stride", Number(stride.input.value)));
  tied.input.addEventListener("change", () => {
    const checked = tied.input.checked;
    model.set("tied", checked);
    if (checked) model.set("stride", model.get("size"));
    model.save_changes();
  });
  for (const name of ["index", "kernel", "size", "stride", "tied", "mode"]) model.on(`change:${name}`, draw);
  draw();
}

export default { render };
