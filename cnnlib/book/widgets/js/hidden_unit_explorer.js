// Hidden-unit explorer (chapter 3): every unit's weights were prepared by cnnlib as uint8
// images with one scale each; the page selects a unit and a view and draws them.
const HU_ROWS = ["fresh", "trained", "change"];
const HU_ROW_LABEL = { fresh: "fresh", trained: "trained", change: "change" };

function huRender({ model, el }) {
  const root = widgetRoot(el, "hidden_unit_explorer");
  const bar = document.createElement("div");
  bar.className = "cnnlib-controls";
  root.append(bar);
  const units = model.get("units");
  const unit = labelledIn(bar, "hidden unit", document.createElement("input"), "hu-unit");
  Object.assign(unit, { type: "range", min: 0, max: units - 1, step: 1 });
  const unitOut = document.createElement("output");
  unitOut.htmlFor = unit.id;
  unit.parentNode.append(unitOut);
  const view = labelledIn(bar, "show", document.createElement("select"), "hu-view");
  for (const [value, text] of model.get("views")) view.append(new Option(text, value));
  const [caption, canvas] = captionAndCanvas(root);

  const q = unpack(model.get("weights"));
  const scales = unpack(model.get("scales")).data;
  const [, , C, H, W] = q.shape;
  const size = C * H * W;
  const cell = 5, gap = 8, left = 64, top = 22, barW = 120;

  function draw() {
    const u = model.get("unit"), v = model.get("view");
    unit.value = u; unitOut.textContent = ` ${u}`; view.value = v;
    const rows = v === "all" ? HU_ROWS : [v];
    const mapW = W * cell;
    canvas.width = left + C * (mapW + gap) + 10;
    canvas.height = top + rows.length * (H * cell + 34) + 4;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.font = "11px sans-serif"; ctx.fillStyle = "#222";
    for (let c = 0; c < C; c++) ctx.fillText(`channel ${c}`, left + c * (mapW + gap), 14);
    const weightLimit = Math.max(scales[u], scales[(q.shape[1]) + u]) || 1;
    const state = { unit: u, view: v, rows: [] };
    rows.forEach((name, r) => {
      const k = HU_ROWS.indexOf(name);
      const s = scales[k * q.shape[1] + u];
      const offset = (k * q.shape[1] + u) * size;
      const values = new Float64Array(size);
      for (let i = 0; i < size; i++) values[i] = (q.data[offset + i] - 128) * s / 127;
      const limit = name === "change" ? (s || 1) : weightLimit;
      const y = top + r * (H * cell + 34);
      ctx.fillStyle = "#222"; ctx.font = "12px sans-serif";
      ctx.fillText(HU_ROW_LABEL[name], 4, y + H * cell / 2 + 4);
      for (let c = 0; c < C; c++) {
        drawImage(ctx, values, c * H * W, H, W, left + c * (mapW + gap), y, cell, "signed",
                  -limit, limit);
      }
      drawColourbar(ctx, left, y + H * cell + 6, barW, "signed", -limit, limit);
      state.rows.push({ name, scale: s, limit, values: Array.from(values) });
    });
    caption.textContent = `hidden unit ${u}: its ${size} incoming weights as ${C} maps of ` +
      `${H}×${W} (orange: positive, purple: negative)`;
    canvas.setAttribute("aria-label", caption.textContent);
    root.dataset.state = JSON.stringify(state);
  }

  unit.addEventListener("input", () => {
    model.set("unit", Number(unit.value)); model.save_changes(); draw();
  });
  view.addEventListener("change", () => {
    model.set("view", view.value); model.save_changes(); draw();
  });
  model.on("change:unit", draw);
  model.on("change:view", draw);
  draw();
  return () => { model.off("change:unit", draw); model.off("change:view", draw); };
}

export default { render: huRender };
