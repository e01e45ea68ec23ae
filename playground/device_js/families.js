// Pre- and post-processing in the page, one entry per model family, the same steps as the server's Python
// (models/blaze.py, tasks/face.py) with the constants the zoo's spec gives (never typed here a second time).
// Each family: preprocess(rgba, width, height, spec) -> {input: Float32Array, meta};
//              postprocess(outputs [{data, shape}], meta, spec, mirrorWidth) -> {items: [...]};
// or one run(models, rgba, width, height, spec, mirrorWidth, runModel, controls, state) for several models (a
// cascade; state: the side's memory between a camera stream's frames, null for a single picture).
// Items: {box, score, keypoints, points?, handedness?} in frame pixels (of the picture the page shows).

// MediaPipe's ImageToTensorCalculator as the server runs it (cv2.warpAffine, bilinear, zeros outside): the
// frame, aspect kept and padded evenly, into a size x size input scaled to [low, high].
export function imageToTensor(rgba, width, height, size, low, high) {
  const s = size / Math.max(width, height);
  const tx = (size - width * s) / 2, ty = (size - height * s) / 2;
  // input pixel (x, y) samples frame pixel ((x - tx) / s, (y - ty) / s)
  const input = sample(rgba, width, height, size, size, [1 / s, 0, -tx / s, 0, 1 / s, -ty / s], low, high, false);
  return {input, meta: {scale: s, pad: [tx, ty], width, height}};
}

// cv2.warpAffine(INTER_LINEAR) given the inverse map: output pixel (x, y) samples the frame at
// (m0 x + m1 y + m2, m3 x + m4 y + m5); outside the frame zeros, or the nearest edge pixel (replicate).
// ``win`` [x0, y0, x1, y1]: a window of the frame taken as the whole picture (the server crops the window
// first), so outside it is outside too.
export function sample(rgba, width, height, outW, outH, m, low, high, replicate, win = null) {
  const out = new Float32Array(outW * outH * 3);
  const k = (high - low) / 255;
  const [wx0, wy0, wx1, wy1] = win || [0, 0, width, height];
  const px = replicate
    ? (x, y, c) => rgba[(Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))) * 4 + c]
    : (x, y, c) => (x < wx0 || y < wy0 || x >= wx1 || y >= wy1) ? 0 : rgba[(y * width + x) * 4 + c];
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const sx = m[0] * x + m[1] * y + m[2], sy = m[3] * x + m[4] * y + m[5];
      const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
      const o = (y * outW + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = (1 - fy) * ((1 - fx) * px(x0, y0, c) + fx * px(x0 + 1, y0, c)) +
                  fy * ((1 - fx) * px(x0, y0 + 1, c) + fx * px(x0 + 1, y0 + 1, c));
        out[o + c] = Math.round(v) * k + low;  // the server's input is uint8 first
      }
    }
  }
  return out;
}

// Greedy NMS as supervision's box_non_max_suppression (the server's tasks.geometry.nms): best first, a hit
// overlapping a kept one by more than ``threshold`` goes; the kept ones come back in their first order.
export function greedyNms(hits, threshold) {
  const sorted = [...hits].sort((p, q) => q.score - p.score);
  const kept = [];
  for (const h of sorted) if (kept.every((k) => iou(k.box, h.box) <= threshold)) kept.push(h);
  return kept.sort((p, q) => p.order - q.order);
}

// Anchor centres in MediaPipe's SSD order (models/blaze.py ssd_anchors).
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

// MediaPipe's weighted NMS (models/blaze.py weighted_nms): hits under mergeMin suppress but are not averaged.
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

// BlazeFace's SSD decode (models/blaze.py decode_ssd + detect): hits in frame pixels, best first.
function detect(outputs, meta, d, minScore, nms, mergeMin) {
  const k = d.keypoints;
  const reg = outputs.find((o) => o.shape[o.shape.length - 1] >= 4 + 2 * k);
  const logit = outputs.find((o) => o.shape[o.shape.length - 1] === 1);
  const anchors = ssdAnchors(d.size, d.strides, d.per_layer || 2);
  const per = reg.shape[reg.shape.length - 1];
  const hits = [];
  for (let i = 0; i < anchors.length; i++) {
    const score = sigmoid(logit.data[i]);
    if (score < minScore) continue;
    const r = reg.data.subarray(i * per, i * per + per);
    const ax = anchors[i][0] * d.size, ay = anchors[i][1] * d.size;
    const cx = r[0] + ax, cy = r[1] + ay, hw = r[2] / 2, hh = r[3] / 2;
    const keypoints = [];
    for (let j = 0; j < k; j++) keypoints.push([r[4 + 2 * j] + ax, r[5 + 2 * j] + ay]);
    hits.push({score, box: [cx - hw, cy - hh, cx + hw, cy + hh], keypoints});
  }
  const merged = d.weighted ? weightedNms(hits, nms, mergeMin) : weightedNms(hits, nms, Infinity);
  const toFrame = ([x, y]) => [(x - meta.pad[0]) / meta.scale, (y - meta.pad[1]) / meta.scale];
  return merged.map((h) => ({score: h.score, box: [...toFrame([h.box[0], h.box[1]]), ...toFrame([h.box[2], h.box[3]])],
                             keypoints: h.keypoints.map(toFrame)}));
}

// MediaPipe's regions (models/blaze.py): a rotated square, centre (cx, cy), side, angle.
function rotation(p0, p1, target) {
  const r = target - Math.atan2(-(p1[1] - p0[1]), p1[0] - p0[0]);
  return r - 2 * Math.PI * Math.floor((r + Math.PI) / (2 * Math.PI));
}
const ROI_RULES = {
  face(d) {
    const [x0, y0, x1, y1] = d.box;
    return {cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, side: Math.max(x1 - x0, y1 - y0) * 1.5,
            angle: rotation(d.keypoints[0], d.keypoints[1], 0)};
  },
  palm(d) {
    const [x0, y0, x1, y1] = d.box, w = x1 - x0, h = y1 - y0;
    const r = rotation(d.keypoints[0], d.keypoints[2], Math.PI / 2);
    return {cx: (x0 + x1) / 2 + h * 0.5 * Math.sin(r), cy: (y0 + y1) / 2 - h * 0.5 * Math.cos(r),
            side: Math.max(w, h) * 2.6, angle: r};
  },
  person(d) {
    const [p0, p1] = d.keypoints;
    return {cx: p0[0], cy: p0[1], side: 2 * Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) * 1.25,
            angle: rotation(p0, p1, Math.PI / 2)};
  },
};

// crop pixel (u, v) -> frame pixel (Roi.crop_to_frame)
function cropToFrame(roi, out) {
  const k = roi.side / out, c = Math.cos(roi.angle) * k, s = Math.sin(roi.angle) * k, h = out / 2;
  return [c, -s, roi.cx - c * h + s * h, s, c, roi.cy - s * h - c * h];
}
const toFrame = (m, [u, v]) => [m[0] * u + m[1] * v + m[2], m[3] * u + m[4] * v + m[5]];

function bounds(points) {  // [x0, y0, x1, y1] of the points' (x, y)
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  return [x0, y0, x1, y1];
}

function boxOf(points, width, height) {
  const [x0, y0, x1, y1] = bounds(points);
  return [Math.max(0, x0), Math.max(0, y0), Math.min(width, x1), Math.min(height, y1)];
}

// MediaPipe's RefineLandmarksFromHeatmapCalculator (models/blaze.py refine_from_heatmap).
function refineFromHeatmap(points, heat, crop, kernel = 7, minConfidence = 0.5) {
  const [, hmH, hmW, ch] = heat.shape, off = (kernel - 1) >> 1;
  return points.map((p, i) => {
    if (i >= ch) return p;
    const col = Math.trunc(p[0] / crop * hmW), row = Math.trunc(p[1] / crop * hmH);
    if (col < 0 || col >= hmW || row < 0 || row >= hmH) return p;
    let total = 0, best = 0, wx = 0, wy = 0;
    for (let r = Math.max(0, row - off); r < Math.min(hmH, row + off + 1); r++) {
      for (let c = Math.max(0, col - off); c < Math.min(hmW, col + off + 1); c++) {
        const conf = sigmoid(heat.data[(r * hmW + c) * ch + i]);
        total += conf; best = Math.max(best, conf); wx += c * conf; wy += r * conf;
      }
    }
    return best >= minConfidence && total > 0 ? [wx / hmW / total * crop, wy / hmH / total * crop, ...p.slice(2)] : p;
  });
}

// One skeleton per body (tasks/pose.py distinct_people): boxes overlapping by 0.5, or noses within a
// quarter of a shoulder width; the better-seen stays; at most `most`.
function distinctPeople(found, most, width, height) {
  const kept = [];
  const same = (a, b) => {
    if (iou(boxOf(a.boxFrom, width, height), boxOf(b.boxFrom, width, height)) >= 0.5) return true;
    const [na, nb, la, ra] = [a.points[0], b.points[0], a.points[11], a.points[12]];
    if (Math.min(na[2], nb[2]) < 0.5) return false;
    return Math.hypot(na[0] - nb[0], na[1] - nb[1]) < 0.25 * Math.max(Math.hypot(la[0] - ra[0], la[1] - ra[1]), 1);
  };
  for (const p of found.slice().sort((x, y) => y.score - x.score)) if (!kept.some((k) => same(p, k))) kept.push(p);
  return kept.slice(0, most);
}

// The gesture rules (tasks/gesture.py classify), with its numbers from the spec.
function classify(points, g) {
  const r = g.rule, sig = (x) => 1 / (1 + Math.exp(-x));
  const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const norm = (v) => Math.hypot(v[0], v[1], v[2]);
  const bend = (chain) => {
    let total = 0;
    for (let i = 0; i + 2 < chain.length; i++) {
      const u = sub(points[chain[i + 1]], points[chain[i]]), v = sub(points[chain[i + 2]], points[chain[i + 1]]);
      const nu = norm(u) + 1e-9, nv = norm(v) + 1e-9;
      const cos = Math.min(1, Math.max(-1, (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (nu * nv)));
      total += Math.acos(cos) * 180 / Math.PI;
    }
    return total;
  };
  const e = {};
  for (const [name, chain] of Object.entries(g.chains)) e[name] = sig((r.finger_straight_deg - bend(chain)) / r.finger_soft_deg);
  const palm = norm(sub(points[9], points[0])) + 1e-9, reach = norm(sub(points[4], points[5])) / palm;
  e.thumb = Math.min(sig((reach - r.thumb_reach) / r.thumb_reach_soft),
                     sig((r.thumb_straight_deg - bend([1, 2, 3, 4])) / r.thumb_soft_deg));
  const f = Object.fromEntries(Object.entries(e).map(([k, v]) => [k, 1 - v]));
  const dir = (base, tip) => {
    const v = [points[tip][0] - points[base][0], points[tip][1] - points[base][1]];
    const dy = v[1] / (Math.hypot(v[0], v[1]) + 1e-9);
    return [sig((-dy - r.pointing) / r.pointing_soft), sig((dy - r.pointing) / r.pointing_soft)];
  };
  const four = f.index * f.middle * f.ring * f.pinky;
  const [thumbUp, thumbDown] = dir(2, 4), [indexUp] = dir(5, 8);
  const scores = {
    Closed_Fist: four * (1 - e.thumb * Math.max(thumbUp, thumbDown)),
    Open_Palm: e.index * e.middle * e.ring * e.pinky,
    Pointing_Up: e.index * f.middle * f.ring * f.pinky * indexUp,
    Thumb_Down: four * e.thumb * thumbDown,
    Thumb_Up: four * e.thumb * thumbUp,
    Victory: e.index * e.middle * f.ring * f.pinky,
    ILoveYou: e.thumb * e.index * f.middle * f.ring * e.pinky,
  };
  const [label, best] = Object.entries(scores).reduce((a, b) => (b[1] > a[1] ? b : a));
  return best < g.min_score ? {label: "None", score: 1 - best} : {label, score: best};
}

const meshKeypoints = (points, spec) =>
  spec.mesh_keypoints.map((idx) => [0, 1].map((d) => idx.reduce((t, j) => t + points[j][d], 0) / idx.length));

// ----- stream mode (models/blaze.py Track, OneEuro, FOLLOW): a side's Worker follows the landmarks from frame
// to frame as the server's live view does. The detector runs only when nothing is followed, or every
// spec.stream.redetect_every frames while fewer than the most are; each instance's landmarks go through its
// own One Euro filter, timed by frame count; the next region comes from this frame's landmarks.
class OneEuro {
  constructor(p, hz) { this.p = p; this.frequency = hz; this.x = null; this.raw = null; this.dx = null; this.t = null; }
  alpha(cutoff) { return 1 / (1 + (1 / (2 * Math.PI * cutoff)) * this.frequency); }
  apply(values, t, scale) {  // values: [[x, y], ...]
    if (this.t !== null && t <= this.t) return values;
    if (this.t !== null) this.frequency = 1 / (t - this.t);
    this.t = t;
    if (!this.x || this.x.length !== values.length) {
      this.x = values.map((v) => v.slice()); this.raw = values.map((v) => v.slice()); this.dx = values.map(() => [0, 0]);
      return values;
    }
    const k = 1 / Math.max(scale, 1e-6), ad = this.alpha(this.p.derivate_cutoff);
    this.x = values.map((v, i) => v.map((value, d) => {
      this.dx[i][d] = ad * (value - this.raw[i][d]) * k * this.frequency + (1 - ad) * this.dx[i][d];
      const a = this.alpha(this.p.min_cutoff + this.p.beta * Math.abs(this.dx[i][d]));
      return a * value + (1 - a) * this.x[i][d];
    }));
    this.raw = values.map((v) => v.slice());
    return this.x;
  }
}

class Track {
  constructor(stream) { this.stream = stream; this.rois = []; this.sinceDetect = 0; this.filters = []; this.frames = 0; }
  // whether this frame follows the last one's regions (else the detector runs)
  follows(most) {
    if (!this.rois.length || (this.rois.length < most && this.sinceDetect >= this.stream.redetect_every)) {
      this.sinceDetect = 0;
      return false;
    }
    this.sinceDetect += 1;
    return true;
  }
  tick() { this.frames += 1; return this.frames / this.stream.hz; }
  smooth(i, points, t, scale) {
    while (this.filters.length <= i) this.filters.push(new OneEuro(this.stream.one_euro, this.stream.hz));
    const xy = this.filters[i].apply(points.map((p) => [p[0], p[1]]), t, scale);
    return points.map((p, j) => [xy[j][0], xy[j][1], ...p.slice(2)]);
  }
  // each instance keeps the filter of the one it continues (the nearest last region within half its side)
  keep(rois) {
    const free = new Map(this.rois.map((r, i) => [i, r])), filters = [];
    for (const roi of rois) {
      let near = null, best = Infinity;
      for (const [i, r] of free) { const d = Math.hypot(r.cx - roi.cx, r.cy - roi.cy); if (d < best) { best = d; near = i; } }
      if (near !== null && near < this.filters.length && best < roi.side / 2) { filters.push(this.filters[near]); free.delete(near); }
      else filters.push(new OneEuro(this.stream.one_euro, this.stream.hz));
    }
    this.rois = rois;
    this.filters = filters;
  }
}

function objectScale(points) {  // the size smoothing scales by (models/blaze.py object_scale)
  const [x0, y0, x1, y1] = bounds(points);
  return ((x1 - x0) + (y1 - y0)) / 2;
}

// MediaPipe's region from landmarks (models/blaze.py landmarks_roi)
function landmarksRoi(points, angle, scale, shiftY = 0, rotatedBox = true) {
  const [x0, y0, x1, y1] = bounds(points);
  let cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, w = x1 - x0, h = y1 - y0;
  if (rotatedBox) {
    let c = Math.cos(-angle), s = Math.sin(-angle);  // the points turned upright about the box's centre
    const [px0, py0, px1, py1] = bounds(points.map(([x, y]) => [(x - cx) * c - (y - cy) * s, (x - cx) * s + (y - cy) * c]));
    const pu = (px0 + px1) / 2, pv = (py0 + py1) / 2;
    c = Math.cos(angle); s = Math.sin(angle);
    cx += pu * c - pv * s; cy += pu * s + pv * c;
    w = px1 - px0; h = py1 - py0;
  }
  return {cx: cx - h * shiftY * Math.sin(angle), cy: cy + h * shiftY * Math.cos(angle), side: Math.max(w, h) * scale,
          angle};
}

const alignmentRoi = (p0, p1, scale) =>
  ({cx: p0[0], cy: p0[1], side: 2 * Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) * scale, angle: rotation(p0, p1, Math.PI / 2)});

const FOLLOW = {
  hand(f, rule) {
    const p = f.points, towards = [((p[5][0] + p[13][0]) / 2 + p[9][0]) / 2, ((p[5][1] + p[13][1]) / 2 + p[9][1]) / 2];
    return landmarksRoi(rule.points.map((i) => p[i]), rotation(p[0], towards, Math.PI / 2), rule.scale, rule.shift_y);
  },
  face_mesh(f, rule) {
    return landmarksRoi(f.points, rotation(f.points[33], f.points[263], 0), rule.scale, 0, false);
  },
  alignment(f, rule) { return alignmentRoi(f.align[0], f.align[1], rule.scale); },
};

// This frame's instances smoothed, and the next frame's regions set (models/facemesh.py, mediapipe_hands.py,
// blazepose.py: each kind as the server's post-processing does it).
function followAndSmooth(track, kept, spec) {
  const rule = spec.stream.follow;
  track.keep(kept.map((f) => FOLLOW[rule.rule](f, rule)));
  const t = track.tick();
  return kept.map((f, i) => {
    if (spec.landmarks === "pose") {  // the 33 points and the region's two, together
      const xy = track.smooth(i, [...f.points, ...f.align], t, objectScale(f.points));
      const points = xy.slice(0, 33), align = xy.slice(33);
      track.rois[i] = FOLLOW[rule.rule]({align}, rule);  // the next region from the steadied points
      const seen = points.filter((p) => p[2] >= 0.5);
      return {...f, points, keypoints: points, align, boxFrom: seen.length ? seen : points};
    }
    const points = track.smooth(i, f.points, t, objectScale(f.points));
    if (spec.landmarks === "hands") {
      track.rois[i] = FOLLOW[rule.rule]({points}, rule);  // the next region from the steadied landmarks
      return {...f, points, keypoints: points};
    }
    return {...f, points, keypoints: meshKeypoints(points, spec)};
  });
}

// The landmark stage's reading of one crop, by kind (tasks/face.py mesh_post, tasks/hands.py
// blaze_hands_post, tasks/pose.py blaze_pose_post): null when its presence is under the threshold.
const LANDMARKS = {
  face_mesh(outs, m, spec) {
    const pts = outs.find((o) => o.data.length === 1404), flag = outs.find((o) => o.data.length === 1);
    const presence = sigmoid(flag.data[0]);
    if (presence < spec.min_presence) return null;
    const points = [];
    const zk = Math.hypot(m[0], m[3]);  // crop pixels -> frame pixels, as x and y (Roi.to_frame)
    for (let i = 0; i < 468; i++) points.push([...toFrame(m, [pts.data[3 * i], pts.data[3 * i + 1]]), pts.data[3 * i + 2] * zk]);
    return {score: presence, points, keypoints: meshKeypoints(points, spec)};
  },
  hands(outs, m, spec) {
    const pts = outs.find((o) => o.data.length === 63), ones = outs.filter((o) => o.data.length === 1);
    const presence = Math.min(1, Math.max(0, ones[0].data[0]));
    if (presence < spec.min_presence) return null;
    const points = [];
    const zk = Math.hypot(m[0], m[3]);
    for (let i = 0; i < 21; i++) points.push([...toFrame(m, [pts.data[3 * i], pts.data[3 * i + 1]]), pts.data[3 * i + 2] * zk]);
    const hand = {score: presence, points, keypoints: points, handedness: ones[1].data[0] > 0.5 ? "Left" : "Right"};
    if (spec.gesture) hand.gesture = classify(points, spec.gesture);
    return hand;
  },
  pose(outs, m, spec, crop) {
    const pts = outs.find((o) => o.data.length === 195), flag = outs.find((o) => o.data.length === 1);
    const heat = outs.find((o) => o.shape.length === 4 && o.shape[3] === 39);
    const presence = Math.min(1, Math.max(0, flag.data[0]));
    if (presence < spec.min_presence) return null;
    let crops = [];
    for (let i = 0; i < 39; i++) crops.push([pts.data[5 * i], pts.data[5 * i + 1]]);
    if (heat) crops = [...refineFromHeatmap(crops.slice(0, 33), heat, crop), ...crops.slice(33)];
    const points = crops.slice(0, 33).map((p, i) => [...toFrame(m, p), sigmoid(pts.data[5 * i + 3])]);
    const seen = points.filter((p) => p[2] >= 0.5);
    return {score: presence, points, keypoints: points, boxFrom: seen.length ? seen : points,
            align: [toFrame(m, crops[33]), toFrame(m, crops[34])]};  // the region's two points (hips, scale)
  },
};

// cv2.resize(INTER_LINEAR) of a float map (w x h) to (W x H): half-pixel centres, edges clamped.
function resizeLinear(src, w, h, W, H) {
  const out = new Float32Array(W * H), sx = w / W, sy = h / H;
  for (let y = 0; y < H; y++) {
    const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5)), y0 = Math.floor(fy), y1 = Math.min(h - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5)), x0 = Math.floor(fx), x1 = Math.min(w - 1, x0 + 1), tx = fx - x0;
      out[y * W + x] = (1 - ty) * ((1 - tx) * src[y0 * w + x0] + tx * src[y0 * w + x1]) +
                       ty * ((1 - tx) * src[y1 * w + x0] + tx * src[y1 * w + x1]);
    }
  }
  return out;
}

export const FAMILIES = {
  // selfie segmentation (tasks/segmentation.py selfie_pre/selfie_post): the frame stretched to the input,
  // the person's probability upsampled to the frame before the threshold, so the edge is smooth
  selfie: {
    models: ["model_url"],
    async run(models, rgba, width, height, spec, mirrorWidth, runModel, controls) {
      const [w, h] = spec.input;
      const input = sample(rgba, width, height, w, h, [width / w, 0, 0, 0, height / h, 0], 0, 1, false);
      const prob = resizeLinear((await runModel(models[0], input))[0].data, w, h, width, height);
      const threshold = (controls && controls.min_score) ?? spec.thresholds.score;
      const opacity = Math.round(255 * ((controls && controls.opacity) ?? 0.5));
      const mask = new Uint8ClampedArray(width * height * 4);
      let inside = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (prob[y * width + x] < threshold) continue;
          inside++;
          const o = (y * width + (mirrorWidth ? width - 1 - x : x)) * 4;
          mask[o] = spec.color[0]; mask[o + 1] = spec.color[1]; mask[o + 2] = spec.color[2]; mask[o + 3] = opacity;
        }
      }
      const bitmap = await createImageBitmap(new ImageData(mask, width, height));
      return {items: [], coverage: {background: 1 - inside / (width * height), person: inside / (width * height)},
              bitmap};
    },
  },
  // detector -> MediaPipe's region -> landmark model on the rotated crop (models/blaze.py plan), per frame
  cascade: {
    models: ["model_url", "landmark_url"],
    async run(models, rgba, width, height, spec, mirrorWidth, runModel, controls, state) {
      const lm = spec.landmark;
      // a camera stream (state: the side's own memory) follows its landmarks; a single picture does not
      const track = state && spec.stream ? (state.track = state.track || new Track(spec.stream)) : null;
      const rois = track && track.follows(spec.max_instances) ? track.rois
        : await this.detect(models, rgba, width, height, spec, runModel);
      const found = [];
      for (const roi of rois) {
        const m = cropToFrame(roi, lm.size);
        const crop = sample(rgba, width, height, lm.size, lm.size, m, lm.range[0], lm.range[1], lm.border === "replicate");
        const read = LANDMARKS[spec.landmarks](await runModel(models[1], crop), m, spec, lm.size);
        if (read) found.push(read);
      }
      let kept = spec.landmarks === "pose" ? distinctPeople(found, spec.max_instances, width, height) : found;
      if (track) kept = followAndSmooth(track, kept, spec);
      const mirror = ([x, y, ...rest]) => mirrorWidth ? [mirrorWidth - x, y, ...rest] : [x, y, ...rest];
      const items = kept.map((f) => {
        const points = f.points.map(mirror), box = boxOf((f.boxFrom || f.points).map(mirror), width, height);
        // handedness names the subject's own hand: a mirrored picture does not change it
        return {box, score: f.score, keypoints: f.keypoints.map(mirror), points, handedness: f.handedness,
                gesture: f.gesture};
      });
      return {items, followed: Boolean(track && track.sinceDetect > 0)};
    },
    // the detector on the frame (and its tiles): the regions of what it finds, best first
    async detect(models, rgba, width, height, spec, runModel) {
      const d = spec.detector;
      // the frame, and with spec.tiles its 2x2 overlapping windows (models/blaze.py tiles): a second look at
      // the people too small for the detector in the whole frame
      const windows = [[0, 0, width, height]];
      if (spec.tiles) {
        const tw = Math.round(width * 1.25 / 2), th = Math.round(height * 1.25 / 2);
        for (const y of [0, height - th]) for (const x of [0, width - tw]) windows.push([x, y, x + tw, y + th]);
      }
      let hits = [];
      for (const [x0, y0, x1, y1] of windows) {
        const ww = x1 - x0, wh = y1 - y0, s = d.size / Math.max(ww, wh);
        const tx = (d.size - ww * s) / 2, ty = (d.size - wh * s) / 2;
        const input = sample(rgba, width, height, d.size, d.size, [1 / s, 0, x0 - tx / s, 0, 1 / s, y0 - ty / s],
                             d.range[0], d.range[1], false, [x0, y0, x1, y1]);
        const meta = {scale: s, pad: [tx - x0 * s, ty - y0 * s]};  // input pixels -> frame pixels
        hits.push(...detect(await runModel(models[0], input), meta, d, spec.detector_min_score, spec.nms, 0.0));
      }
      if (windows.length > 1) {  // the same person in the frame and in a tile: the best stays
        hits = weightedNms(hits, spec.nms, Infinity).sort((p, q) => q.score - p.score);
      }
      hits = hits.slice(0, spec.max_instances + (windows.length > 1 ? spec.max_instances >> 1 : 0));
      return hits.map((hit) => ROI_RULES[spec.roi](hit));
    },
  },
  blazeface: {
    preprocess(rgba, width, height, spec) {
      const d = spec.detector;
      return imageToTensor(rgba, width, height, d.size, d.range[0], d.range[1]);
    },
    postprocess(outputs, meta, spec, mirrorWidth) {
      // decoded from spec.floor, merged as MediaPipe does above the reference threshold (see detect)
      const hits = detect(outputs, meta, spec.detector, spec.floor, spec.thresholds.nms, spec.thresholds.score);
      const faces = hits.map((h) => {
        let [x0, y0, x1, y1] = h.box;
        let kps = h.keypoints;
        if (mirrorWidth) {  // the page shows the camera mirrored: so are the results it draws
          [x0, x1] = [mirrorWidth - x1, mirrorWidth - x0];
          kps = kps.map(([x, y]) => [mirrorWidth - x, y]);
        }
        return {box: [Math.max(0, x0), Math.max(0, y0), Math.min(meta.width, x1), Math.min(meta.height, y1)],
                score: Math.min(1, h.score), keypoints: kps};
      }).filter((f) => f.box[2] > f.box[0] && f.box[3] > f.box[1]);
      return {items: faces};
    },
  },
  // YuNet (models/yunet.py, on onnxruntime-web): the frame letterboxed into the input's top-left corner, BGR
  // 0-255 NCHW; cls/obj/bbox/kps per stride decoded as OpenCV's FaceDetectorYN does, then NMS
  yunet: {
    preprocess(rgba, width, height, spec) {
      const [w, h] = spec.input;
      const s = Math.min(w / width, h / height);
      const nw = Math.max(1, Math.round(width * s)), nh = Math.max(1, Math.round(height * s));
      // the frame at the input's scale (a 640x480 camera frame: itself, pixel for pixel)
      const rgb = s === 1 ? null : sample(rgba, width, height, nw, nh, [width / nw, 0, 0, 0, height / nh, 0], 0, 255, false);
      const input = new Float32Array(3 * w * h);
      const plane = w * h;
      for (let y = 0; y < nh; y++) {
        for (let x = 0; x < nw; x++) {
          const o = y * w + x;
          for (let c = 0; c < 3; c++) {  // BGR planes
            input[(2 - c) * plane + o] = rgb ? rgb[(y * nw + x) * 3 + c] : rgba[(y * width + x) * 4 + c];
          }
        }
      }
      return {input, meta: {scale: s, width, height}};
    },
    postprocess(outputs, meta, spec, mirrorWidth) {
      const [w] = spec.input;
      let hits = [];
      for (const s of spec.strides) {
        const cols = Math.floor(w / s);
        const cls = outputs[`cls_${s}`].data, obj = outputs[`obj_${s}`].data;
        const bbox = outputs[`bbox_${s}`].data, kps = outputs[`kps_${s}`].data;
        for (let i = 0; i < cls.length; i++) {
          const score = Math.sqrt(Math.min(1, Math.max(0, cls[i])) * Math.min(1, Math.max(0, obj[i])));
          if (score < spec.floor) continue;
          const r = Math.floor(i / cols), c = i % cols;
          const cx = (c + bbox[4 * i]) * s, cy = (r + bbox[4 * i + 1]) * s;
          const bw = Math.exp(bbox[4 * i + 2]) * s, bh = Math.exp(bbox[4 * i + 3]) * s;
          const points = [];
          for (let j = 0; j < 5; j++) points.push([(kps[10 * i + 2 * j] + c) * s, (kps[10 * i + 2 * j + 1] + r) * s]);
          hits.push({score, box: [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], keypoints: points, order: hits.length});
        }
      }
      hits = greedyNms(hits, spec.thresholds.nms);
      const k = meta.scale;
      const faces = [];
      for (const hit of hits) {
        let [x0, y0, x1, y1] = hit.box.map((v) => v / k);
        x0 = Math.min(meta.width, Math.max(0, x0)); x1 = Math.min(meta.width, Math.max(0, x1));
        y0 = Math.min(meta.height, Math.max(0, y0)); y1 = Math.min(meta.height, Math.max(0, y1));
        if (!(x1 > x0 && y1 > y0)) continue;
        let pts = hit.keypoints.map(([x, y]) => [x / k, y / k]);
        if (mirrorWidth) {
          [x0, x1] = [mirrorWidth - x1, mirrorWidth - x0];
          pts = pts.map(([x, y]) => [mirrorWidth - x, y]);
        }
        faces.push({box: [x0, y0, x1, y1], score: Math.min(1, hit.score), keypoints: pts});
      }
      return {items: faces};
    },
  },
};
