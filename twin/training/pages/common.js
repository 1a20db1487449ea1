// Shared by the training pages: small line charts on a canvas (no libraries: nothing is fetched from outside).
"use strict";
function drawTrend(canvas, times, values, opts) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 34;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#333";
  ctx.fillText(opts.label, pad + 4, 12);
  const pts = [];
  for (let i = 0; i < times.length; i++) if (values[i] !== null && isFinite(values[i])) pts.push([times[i], values[i]]);
  if (pts.length < 1) return;
  let lo = Math.min(...pts.map(p => p[1])), hi = Math.max(...pts.map(p => p[1]));
  if (opts.band) { lo = Math.min(lo, opts.band[0]); hi = Math.max(hi, opts.band[1]); }
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const t0 = pts[0][0], t1 = Math.max(pts[pts.length - 1][0], t0 + 1);
  const x = t => pad + (w - pad - 4) * (t - t0) / (t1 - t0), y = v => h - 14 - (h - 30) * (v - lo) / (hi - lo);
  ctx.strokeStyle = "#ccc"; ctx.strokeRect(pad, 16, w - pad - 4, h - 30);
  ctx.fillText(hi.toFixed(opts.digits), 2, 22); ctx.fillText(lo.toFixed(opts.digits), 2, h - 14);
  if (opts.band) {
    ctx.fillStyle = "rgba(0,160,0,0.08)";
    ctx.fillRect(pad, y(opts.band[1]), w - pad - 4, y(opts.band[0]) - y(opts.band[1]));
  }
  ctx.strokeStyle = opts.colour || "#1f5fa8"; ctx.beginPath();
  pts.forEach((p, i) => i ? ctx.lineTo(x(p[0]), y(p[1])) : ctx.moveTo(x(p[0]), y(p[1])));
  ctx.stroke();
  (opts.marks || []).forEach(m => {
    if (m.time_s < t0 || m.time_s > t1) return;
    ctx.strokeStyle = "#c0392b"; ctx.beginPath(); ctx.moveTo(x(m.time_s), 16); ctx.lineTo(x(m.time_s), h - 14);
    ctx.stroke(); ctx.fillStyle = "#c0392b"; ctx.fillText(m.kind, x(m.time_s) + 2, 26);
  });
  ctx.fillStyle = "#333";
  ctx.fillText(((t1 - t0) / 3600).toFixed(1) + " h shown", w - 80, h - 2);
}
async function postJSON(url, body) {
  const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  return [r.ok, await r.json()];
}
