// The im2col explorer (chapter 6): the page cuts every k x k window out of a small image (at
// the chosen stride), flattens each into a row as cnnlib.im2col does, and shows the chosen
// window beside its row.

const MAX_MATRIX_ROWS = 36;  // draw the whole matrix only while it stays readable

function render({ model, el }) {
  const root = widgetRoot(el, "im2col_explorer");
  const image = unpack(model.get("image"));
  const [h, w] = image.shape;

  const kernel = slider("kernel_size", "kernel size", 1, Math.min(h, w), model.get("kernel_size"));
  const stride = slider("stride", "stride", 1, 3, model.get("stride"));
  const windowSlider = slider("window", "window", 0, 0, model.get("window"));
  root.append(make("div", { class: "cnnlib-controls" }, kernel.row, stride.row, windowSlider.row));
  const panels = make("div", { class: "cnnlib-panels" });
  const info = make("div", { class: "cnnlib-info" });
  root.append(panels, info);

  const grid = (k, s) => [outputSize(h, k, s), outputSize(w, k, s)];

  /** The im2col matrix of the image: one row per window, in (row, column) order. */
  function im2col(k, s) {
    const [oh, ow] = grid(k, s);
    const cols = new Float64Array(oh * ow * k * k);
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++) {
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < k; j++) cols[((r * ow + c) * k + i) * k + j] = image.data[(r * s + i) * w + c * s + j];
        }
      }
    }
    return { data: cols, h: oh * ow, w: k * k };
  }

  function draw() {
    const k = model.get("kernel_size"), s = model.get("stride"), q = model.get("window");
    const [oh, ow] = grid(k, s);
    kernel.input.setValue(k);
    stride.input.setValue(s);
    windowSlider.input.setRange(0, oh * ow - 1);
    windowSlider.input.setValue(q);
    const r = Math.floor(q / ow), c = q % ow;
    const cols = im2col(k, s);
    const row = cols.data.slice(q * k * k, (q + 1) * k * k);
    const [lo, hi] = extent(image.data);
    const children = [
      panel(`input ${h}×${w}: window ${q} at output (${r}, ${c})`, drawArray(image.data, h, w, {
        cmap: "viridis", vmin: lo, vmax: hi, cell: 34, numbers: true,
        boxes: [{ top: r * s, left: c * s, height: k, width: k, colour: "#d62728", lineWidth: 3.5 }],
        label: `input with window ${q} outlined` })),
      panel(`row ${q} of the im2col matrix (1×${k * k})`, drawArray(row, 1, k * k, {
        cmap: "viridis", vmin: lo, vmax: hi, cell: 34, numbers: true,
        label: `im2col row ${q}: ${Array.from(row).map(formatNumber).join(", ")}` })),
    ];
    if (cols.h <= MAX_MATRIX_ROWS) {
      children.push(panel(`im2col matrix ${cols.h}×${cols.w}: one row per window`,
        drawArray(cols.data, cols.h, cols.w, {
          cmap: "viridis", vmin: lo, vmax: hi, cell: Math.min(24, Math.floor(300 / Math.max(cols.w, 1))),
          numbers: cols.w <= 16, boxes: [{ top: q, left: 0, height: 1, width: cols.w, colour: "#d62728", lineWidth: 3 }],
          label: `the whole im2col matrix with row ${q} outlined` })));
    }
    panels.replaceChildren(...children);
    info.innerHTML = `${oh}×${ow} = <b>${oh * ow}</b> windows of ${k}×${k}: the matrix is `
      + `${cols.h}×${cols.w}; window ${q} covers rows ${r * s}–${r * s + k - 1}, `
      + `columns ${c * s}–${c * s + k - 1}, read row by row`;
    publish(root, {
      kernel_size: k, stride: s, window: q, position: [r, c], matrix_shape: [cols.h, cols.w],
      im2col_row: Array.from(row),
    });
  }

  // changing the kernel size or the stride keeps the window inside the new matrix
  function sendShape(name, value) {
    const k = name === "kernel_size" ? value : model.get("kernel_size");
    const s = name === "stride" ? value : model.get("stride");
    const [oh, ow] = grid(k, s);
    if (model.get("window") >= oh * ow) model.set("window", oh * ow - 1);
    send(model, name, value);
  }
  kernel.input.addEventListener("input", () => sendShape("kernel_size", Number(kernel.input.value)));
  stride.input.addEventListener("input", () => sendShape("stride", Number(stride.input.value)));
  windowSlider.input.addEventListener("input", () => send(model, "window", Number(windowSlider.input.value)));
  for (const name of ["kernel_size", "stride", "window"]) model.on(`change:${name}`, draw);
  draw();
}

export default { render };
