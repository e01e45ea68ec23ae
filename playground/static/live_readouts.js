// The live view's readouts, measured in the page: rates, latencies and the agreement line, and the
// same-frame agreement of a side this page runs with the other side (faces matched by box overlap, as
// tasks/agreement.py box_agreement does on the server).
"use strict";

(function (PL) {
  PL.rate = (times, now, span = 3000) => {
    let n = 0;
    for (let i = times.length - 1; i >= 0 && now - times[i] <= span; i--) n++;
    return n > 1 ? (n - 1) / (span / 1000) : 0;
  };

  PL.median = (xs) => {
    if (!xs.length) return NaN;
    const s = [...xs].sort((x, y) => x - y);
    return s[Math.floor(s.length / 2)];
  };

  PL.size = (bytes) => bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;

  // What a side's Worker is fetching (first use), in words with sizes, and how far it is: {text, fraction},
  // or null once every file has arrived.
  PL.fetchProgress = function (files) {
    const all = [...files.values()];
    const total = all.reduce((n, f) => n + f.total, 0), loaded = all.reduce((n, f) => n + f.loaded, 0);
    if (!total || loaded >= total) return null;
    const what = all.map((f) => `${f.label} (${PL.size(f.total)})`).join(", ");
    return {text: `first use: fetching ${what} · ${Math.floor((100 * loaded) / total)}%`, fraction: loaded / total};
  };

  // One side's line under its pane: which model, where it runs, and how it is doing.
  PL.sideReadout = function (key, pane, stats, name, where, now, backend, note) {
    const m = pane.latest;
    const head = `${key.toUpperCase()} · ${name || (m && m.model) || ""}` +
      (where === "device" ? ` · on this device${backend ? ` (${backend})` : ""}` : pane.where ? ` · ${pane.where}`
        : " · on the server");
    if (pane.status) return `${head} · ${pane.status}`;
    if (!m) return `${head} · waiting for a result`;
    if (m.error) return `${head} · ⚠️ ${m.error}`;
    const recent = stats.draws.filter(([t]) => now - t <= 3000);
    return `${head} · ${m.latency_ms.toFixed(1)} ms model latency · ` +
      `${PL.rate(recent.map(([t]) => t), now).toFixed(1)} overlays/s · ` +
      `${PL.median(recent.map(([, d]) => d)).toFixed(0)} ms capture to overlay` + (m.note ? ` · ⚠️ ${m.note}` : "") +
      (where === "device" && note ? ` · ${note}` : "");
  };

  const percent = (score) => `${Math.round(score * 100)}%`;

  // The agreement line: steady on a still subject (the mean of the last frames' scores, each computed on
  // one frame both sides answered), the newest frame's own value and sentence on hover.
  PL.SteadyAgreement = class {
    constructor(frames = 8) { this.frames = frames; this.scores = []; this.latest = null; }
    add(agreement) {
      this.latest = agreement;
      const score = agreement && agreement.score;
      if (score === null || score === undefined) this.scores = [];  // nothing to compare now: start again
      else { this.scores.push(score); if (this.scores.length > this.frames) this.scores.shift(); }
    }
    text() {
      const a = this.latest;
      if (!a) return "Agreement of A and B: —";
      if (!this.scores.length) return `Agreement of A and B: — ${a.summary}`;
      const steady = this.scores.reduce((x, y) => x + y, 0) / this.scores.length;
      const over = this.scores.length > 1 ? ` (over the last ${this.scores.length} frames)` : "";
      return `Agreement of A and B: ${percent(steady)}${over} — ${a.summary}`;
    }
    title() {
      const a = this.latest;
      if (!a) return "";
      const own = a.score === null || a.score === undefined ? "—" : percent(a.score);
      return `This frame alone: ${own} — ${a.summary}`;
    }
  };

  const area = (r) => (r[2] - r[0]) * (r[3] - r[1]);
  const iou = (p, q) => {
    const x0 = Math.max(p[0], q[0]), y0 = Math.max(p[1], q[1]), x1 = Math.min(p[2], q[2]), y1 = Math.min(p[3], q[3]);
    const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
    return inter / (area(p) + area(q) - inter);
  };

  PL.boxAgreement = function (a, b, s) {
    if (!a.length && !b.length) return {score: null, summary: `nothing to compare: neither found any (frame ${s})`};
    if (!a.length || !b.length) {
      return {score: 0, summary: `${a.length ? "A" : "B"} found ${Math.max(a.length, b.length)}, the other none (frame ${s})`};
    }
    const pairs = [];
    const used = new Set();
    for (const fa of a) {
      let best = -1, bestIou = 0.1;
      b.forEach((fb, j) => {
        if (used.has(j)) return;
        const v = iou(fa.box, fb.box);
        if (v > bestIou) { best = j; bestIou = v; }
      });
      if (best >= 0) { used.add(best); pairs.push(bestIou); }
    }
    const mean = pairs.length ? pairs.reduce((x, y) => x + y, 0) / pairs.length : 0;
    const union = a.length + b.length - pairs.length;
    return {score: pairs.length / union * mean, frame: s,
            summary: `${pairs.length} of ${Math.max(a.length, b.length)} matched on the same frame (${s}), ` +
                     `mean box overlap ${Math.round(mean * 100)}%`};
  };

  // Each side's recent answers by frame: when both sides have answered the same frame, their agreement on
  // it; when they answer frames far apart, a sentence that says so. Returns the new agreement, or undefined.
  PL.SameFrame = class {
    constructor() { this.results = {a: new Map(), b: new Map()}; }
    clear(k) { this.results[k].clear(); }
    note(k, s, found) {
      const mine = this.results[k], theirs = this.results[k === "a" ? "b" : "a"];
      mine.set(s, found);
      if (mine.size > 64) mine.delete(mine.keys().next().value);
      const other = theirs.get(s);
      if (other === undefined) {
        const newest = Math.max(...theirs.keys(), -1);
        return newest >= 0 && Math.abs(newest - s) > 8
          ? {score: null, summary: "A and B are answering different frames (one side is slower)"} : undefined;
      }
      const [fa, fb] = k === "a" ? [found, other] : [other, found];
      return PL.boxAgreement(fa, fb, s);
    }
  };
})(window.PlaygroundLive = window.PlaygroundLive || {});
