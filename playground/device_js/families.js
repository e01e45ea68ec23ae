// Pre- and post-processing in the page, one entry per model family, the same steps as the server's Python
// (tasks/blaze.py, tasks/face.py) with the constants the zoo's spec gives (never typed here a second time).
// Each family: preprocess(rgba, width, height, spec) -> {input: Float32Array, meta};
//              postprocess(outputs [{data, shape}], meta, spec, mirrorWidth) -> {faces: [...]}.

// MediaPipe's ImageToTensorCalculator as the server runs it (cv2.warpAffine, bilinear, zeros outside): the
// frame, aspect kept and padded evenly, into a size x size input scaled to [low, high].
export function imageToTensor(rgba, width, height, size, low, high) {
  const s = size / Math.max(width, height);
  const tx = (size - width * s) / 2, ty = (size - height * s) / 2;
  const out = new Float32Array(size * size * 3);
  const k = (high - low) / 255;
  const px = (x, y, c) => (x < 0 || y < 0 || x >= width || y >= height) ? 0 : rgba[(y * width + x) * 4 + c];
  for (let y = 0; y < size; y++) {
    const sy = (y - ty) / s, y0 = Math.floor(sy), fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = (x - tx) / s, x0 = Math.floor(sx), fx = sx - x0;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = (1 - fy) * ((1 - fx) * px(x0, y0, c) + fx * px(x0 + 1, y0, c)) +
                  fy * ((1 - fx) * px(x0, y0 + 1, c) + fx * px(x0 + 1, y0 + 1, c));
        out[o + c] = Math.round(v) * k + low;  // the server's input is uint8 first
      }
    }
  }
  return {input: out, meta: {scale: s, pad: [tx, ty], width, height}};
}

// Anchor centres in MediaPipe's SSD order (tasks/blaze.py ssd_anchors).
const anchorCache = new Map();
export function ssdAnchors(size, strides, perLayer) {
  const key = `${size}/${strides.join(",")}/${perLayer}`;
  if (anchorCache.has(key)) return anchorCache.get(key);
  const out = [];
  let i = 0;
  while (i < strides.length) {
    const stride = strides[i];
    let n = 0;
    while (i < strides.length && strides[i] === stride) { n += perLayer; i++; }
    const cells = Math.ceil(size / stride);
    for (let y = 0; y < cells; y++) for (let x = 0; x < cells; x++) {
      for (let j = 0; j < n; j++) out.push([(x + 0.5) / cells, (y + 0.5) / cells]);
    }
  }
  anchorCache.set(key, out);
  return out;
}

function iou(a, b) {
  const x0 = Math.max(a[0], b[0]), y0 = Math.max(a[1], b[1]), x1 = Math.min(a[2], b[2]), y1 = Math.min(a[3], b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const area = (r) => Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1]);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

// MediaPipe's weighted NMS (tasks/blaze.py weighted_nms): hits under mergeMin suppress but are not averaged.
export function weightedNms(hits, threshold, mergeMin) {
  let order = hits.slice().sort((p, q) => q.score - p.score);
  const out = [];
  while (order.length) {
    const top = order[0];
    const group = [], rest = [];
    for (const h of order) (iou(top.box, h.box) > threshold ? group : rest).push(h);
    const members = group.filter((h) => h.score >= mergeMin || h === top);
    if (!members.includes(top)) members.push(top);
    const total = members.reduce((t, h) => t + h.score, 0);
    const box = [0, 0, 0, 0].map((_, i) => members.reduce((t, h) => t + h.box[i] * h.score, 0) / total);
    const keypoints = top.keypoints.map((_, k) => [0, 1].map(
      (d) => members.reduce((t, h) => t + h.keypoints[k][d] * h.score, 0) / total));
    out.push({score: top.score, box, keypoints});
    order = rest;
  }
  return out;
}

const sigmoid = (v) => 1 / (1 + Math.exp(-Math.max(-80, Math.min(80, v))));

export const FAMILIES = {
  blazeface: {
    preprocess(rgba, width, height, spec) {
      const d = spec.detector;
      return imageToTensor(rgba, width, height, d.size, d.range[0], d.range[1]);
    },
    postprocess(outputs, meta, spec, mirrorWidth) {
      const d = spec.detector, k = d.keypoints;
      const reg = outputs.find((o) => o.shape[o.shape.length - 1] >= 4 + 2 * k);
      const logit = outputs.find((o) => o.shape[o.shape.length - 1] === 1);
      const anchors = ssdAnchors(d.size, d.strides, d.per_layer);
      const per = reg.shape[reg.shape.length - 1];
      const hits = [];
      for (let i = 0; i < anchors.length; i++) {
        const score = sigmoid(logit.data[i]);
        if (score < spec.floor) continue;
        const r = reg.data.subarray(i * per, i * per + per);
        const ax = anchors[i][0] * d.size, ay = anchors[i][1] * d.size;
        const cx = r[0] + ax, cy = r[1] + ay, hw = r[2] / 2, hh = r[3] / 2;
        const keypoints = [];
        for (let j = 0; j < k; j++) keypoints.push([r[4 + 2 * j] + ax, r[5 + 2 * j] + ay]);
        hits.push({score, box: [cx - hw, cy - hh, cx + hw, cy + hh], keypoints});
      }
      const toFrame = ([x, y]) => [(x - meta.pad[0]) / meta.scale, (y - meta.pad[1]) / meta.scale];
      const faces = weightedNms(hits, spec.thresholds.nms, spec.thresholds.score).map((h) => {
        let [x0, y0] = toFrame([h.box[0], h.box[1]]), [x1, y1] = toFrame([h.box[2], h.box[3]]);
        let kps = h.keypoints.map(toFrame);
        if (mirrorWidth) {  // the page shows the camera mirrored: so are the results it draws
          [x0, x1] = [mirrorWidth - x1, mirrorWidth - x0];
          kps = kps.map(([x, y]) => [mirrorWidth - x, y]);
        }
        return {box: [Math.max(0, x0), Math.max(0, y0), Math.min(meta.width, x1), Math.min(meta.height, y1)],
                score: Math.min(1, h.score), keypoints: kps};
      }).filter((f) => f.box[2] > f.box[0] && f.box[3] > f.box[1]);
      return {faces};
    },
  },
};
