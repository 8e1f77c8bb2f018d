// Provisional shared helpers (widgets-a's common.js replaces this file).
function unpack(obj) {
  const bin = atob(obj.b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const data = obj.dtype === "float32" ? new Float32Array(bytes.buffer) : bytes;
  return { data, shape: obj.shape };
}

// Colour-blind-safe maps as stops from 0 to 1; colourAt interpolates linearly.
const CMAPS = {
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
    _RGB[name] = CMAPS[name].map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
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

let _uid = 0;
function uniqueId(prefix) { _uid += 1; return `${prefix}-${Date.now().toString(36)}-${_uid}`; }

// <label for> + control inside a span; returns the control.
function labelled(parent, text, control, prefix) {
  const span = document.createElement("span");
  span.className = "cnnlib-control";
  span.style.marginRight = "1em";
  control.id = uniqueId(prefix);
  const label = document.createElement("label");
  label.htmlFor = control.id;
  label.textContent = text + " ";
  span.append(label, control);
  parent.append(span);
  return control;
}

function widgetRoot(el, name) {
  const root = document.createElement("div");
  root.className = "cnnlib-widget";
  root.dataset.widget = name;
  root.style.fontFamily = "sans-serif";
  root.style.fontSize = "14px";
  el.append(root);
  return root;
}
