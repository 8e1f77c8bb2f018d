// Provisional shared helpers (widgets-a's common.js replaces this file).
function unpack(obj) {
  const bin = atob(obj.b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const data = obj.dtype === "float32" ? new Float32Array(bytes.buffer) : bytes;
  return { data, shape: obj.shape };
}
