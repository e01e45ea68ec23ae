// The live view's drawing: the server's drawing commands (tasks/draw.py, Overlay) replayed on a pane's
// canvas, and the same commands made in the page for a side this page runs (playground/device_js), so both
// look like the pictures the server draws for still images and videos.
"use strict";

(function (PL) {
  const MIN_LABEL_CSS_PX = 12;  // labels read at least this tall on screen (tests read stats.labelCssPx)
  const labelPx = (px, k) => Math.max(px, MIN_LABEL_CSS_PX * k);

  // One function per drawing command; k: frame pixels per CSS pixel of the canvas.
  const OPS = {
    boxes(ctx, op, k, stats) {
      ctx.lineWidth = op.thickness;
      const fontPx = labelPx(op.font_px, k);
      ctx.font = `${fontPx}px sans-serif`;
      ctx.textBaseline = "top";
      op.xyxy.forEach(([x1, y1, x2, y2], i) => {
        ctx.strokeStyle = op.colors[i];
        ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
        const label = op.labels[i];
        if (!label) return;
        const th = fontPx, pad = op.padding * fontPx / op.font_px, tw = ctx.measureText(label).width;
        stats.labelCssPx = fontPx / k;
        const top = Math.max(0, y1 - th - 2 * pad);  // above the box's top-left corner, like supervision
        ctx.fillStyle = op.colors[i];
        ctx.fillRect(x1, top, tw + 2 * pad, th + 2 * pad);
        ctx.fillStyle = op.text_color;
        ctx.fillText(label, x1 + pad, top + pad);
      });
    },
    points(ctx, op) {
      ctx.lineWidth = op.thickness;
      ctx.strokeStyle = op.edge_color;
      ctx.fillStyle = op.color;
      op.xy.forEach((pts, n) => {
        const vis = op.visible[n];
        const shown = (i) => vis[i] && (pts[i][0] || pts[i][1]);
        ctx.beginPath();
        for (const [a, b] of op.edges) {
          if (!shown(a) || !shown(b)) continue;
          ctx.moveTo(pts[a][0], pts[a][1]);
          ctx.lineTo(pts[b][0], pts[b][1]);
        }
        ctx.stroke();
        ctx.beginPath();
        pts.forEach(([x, y], i) => {
          if (!shown(i)) return;
          ctx.moveTo(x + op.radius, y);
          ctx.arc(x, y, op.radius, 0, 2 * Math.PI);
        });
        ctx.fill();
      });
    },
    mesh(ctx, op) {
      ctx.lineWidth = op.thickness;
      ctx.strokeStyle = op.color;
      ctx.beginPath();
      for (const [a, b] of op.edges) {
        ctx.moveTo(op.xy[a][0], op.xy[a][1]);
        ctx.lineTo(op.xy[b][0], op.xy[b][1]);
      }
      ctx.stroke();
    },
    mask(ctx, op) {
      if (!op.bitmap) return;
      ctx.imageSmoothingEnabled = true;  // a mask smaller than the pane is scaled smoothly, not in blocks
      ctx.drawImage(op.bitmap, 0, 0, ctx.canvas.width, ctx.canvas.height);
    },
    legend(ctx, op, k) {
      const fontPx = labelPx(op.font_px, k), line = op.line * fontPx / op.font_px;
      ctx.font = `${fontPx}px sans-serif`;
      ctx.textBaseline = "middle";
      const width = Math.max(...op.items.map(([t]) => ctx.measureText(t).width)) + line * 1.5;
      ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
      ctx.fillRect(0, 0, width, line * op.items.length + 8);
      op.items.forEach(([text, color], i) => {
        const y = 6 + i * line;
        ctx.fillStyle = color;
        ctx.fillRect(6, y, line * 0.7, line - 6);
        ctx.fillStyle = "#ffffff";
        ctx.fillText(text, line * 1.2, y + (line - 6) / 2);
      });
    },
  };

  // A side's newest answer drawn over its pane: the canvas takes the frame's size, the commands its pixels.
  PL.drawOverlay = function (canvas, ctx, m, stats) {
    const w = (m.image && m.image.width) || canvas.width, h = (m.image && m.image.height) || canvas.height;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    ctx.clearRect(0, 0, w, h);
    const k = canvas.clientWidth ? w / canvas.clientWidth : 1;
    for (const op of m.draw || []) (OPS[op.op] || (() => {}))(ctx, op, k, stats);
  };

  // The drawing commands for an answer this page computed (families.js): the server's look, from the
  // family's spec (noun, edges, mesh, mask colour) and the frame's size.
  PL.deviceDrawing = function (spec, items, image, m) {
    const font = Math.max(12, Math.round(image.width / 40)), thick = Math.max(2, Math.round(image.width / 320));
    if (m.bitmap) {  // a mask, under the legend, as the server draws it
      const shown = Object.entries(m.coverage || {}).filter(([lab, v]) => lab !== "background" && v > 0);
      return [{op: "mask", bitmap: m.bitmap},
              {op: "legend", font_px: font, line: Math.round(font * 1.6),
               items: shown.map(([lab, v]) => [`${lab} ${Math.round(v * 100)}%`, `rgb(${spec.color.join(",")})`])}];
    }
    const noun = spec.noun || "face";
    const draw = [];
    if (spec.mesh_edges) {
      for (const f of items) if (f.points) draw.push({op: "mesh", xy: f.points, edges: spec.mesh_edges, thickness: 1, color: "#b0b0b0"});
    }
    draw.push({op: "points", xy: items.map((f) => f.keypoints), thickness: thick, radius: Math.max(2, font / 4),
               edge_color: "#00d084", color: "#ffffff", edges: spec.edges || [],
               visible: items.map((f) => f.keypoints.map((q) => q.length < 3 || !spec.visible_from || q[2] >= spec.visible_from))});
    draw.push({op: "boxes", xyxy: items.map((f) => f.box), colors: items.map(() => "#f5a623"), thickness: thick,
               labels: items.map((f) => f.gesture ? `${f.gesture.label} ${f.gesture.score.toFixed(2)}`
                 : `${f.handedness ? f.handedness.toLowerCase() + " " : ""}${noun} ${f.score.toFixed(2)}`),
               font_px: font, padding: Math.round(font / 4), text_color: "#000000"});
    return draw;
  };

  // A side's settings applied to an answer this page computed, as the server applies them: the score
  // threshold (a gesture's: under it the hand reads "None") and the most results.
  PL.applyControls = function (items, c) {
    items = [...(items || [])].sort((x, y) => y.score - x.score);
    if (items.length && items[0].gesture) {
      items = items.map((f) => f.gesture.label === "None" || f.gesture.score >= (c.min_score ?? 0) ? f
        : {...f, gesture: {label: "None", score: 1 - f.gesture.score}});
    } else {
      items = items.filter((f) => f.score >= (c.min_score ?? 0));
    }
    return items.slice(0, c.max_results ?? Infinity);
  };
})(window.PlaygroundLive = window.PlaygroundLive || {});
