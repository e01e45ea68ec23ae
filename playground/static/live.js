// The live view: the camera shown by the browser itself in three panes (camera, A, B), each model's latest
// results drawn over its pane on a canvas, and readouts measured here in the page.
//
// The picture never waits for a model: the <video> elements play the camera at its own rate, and each
// side's canvas is redrawn when that side's result arrives. Frames are grabbed as ImageBitmaps and handed
// to a Worker (live_worker.js) that JPEG-encodes them and owns the socket, so the main thread only grabs,
// draws and updates a few numbers. Latest frame wins: a frame is sent only while a side is free, and at
// most one frame per side is in flight.
//
// The drawing commands come from the server (tasks/draw.py, Overlay) with their colours and sizes, so the
// overlays look like the pictures the server draws for still images and videos.
//
// Loaded once per page by the js_on_load of each tab's gr.HTML (playground/ui.py), which then calls
// createLiveView(element, options) with that component's root; served by playground/live_socket.py. Tests and the benchmark read
// window.__playgroundLive[task] (its `stats`).
"use strict";

function createLiveView(root, options) {
  const task = options.task;
  const MAX_LOG = 20000;  // entries kept per statistic (a benchmark minute is ~1500)
  const LOST_MS = 5000;   // a side with no answer for this long is taken as free again
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  };

  // ----- the panes -----
  const view = el("div", "live-view");
  const bar = el("div", "live-bar");
  const mirrorBox = el("input");
  mirrorBox.type = "checkbox";
  mirrorBox.checked = true;
  const mirrorLabel = el("label", "live-mirror");
  mirrorLabel.append(mirrorBox, " mirror");
  const sizeSel = el("select", "live-size");
  for (const s of ["640x480", "320x240", "960x720", "1280x720"]) sizeSel.append(new Option(s, s));
  const qualitySel = el("select", "live-quality");
  for (const q of ["0.8", "0.6", "0.9"]) qualitySel.append(new Option(`JPEG ${q}`, q));
  const status = el("span", "live-status", "Press Start to use your camera.");
  // where each side runs: on the server (frames go there) or in this page (options.device: LiteRT.js)
  const whereSel = {};
  for (const key of ["a", "b"]) {
    whereSel[key] = el("select", `live-where live-where-${key}`);
    whereSel[key].append(new Option(`${key.toUpperCase()} on the server`, "server"));
    if (options.device) whereSel[key].append(new Option(`${key.toUpperCase()} on this device`, "device"));
    whereSel[key].title = options.device ? "Run this side's model in your browser, or on the server"
      : (options.deviceWhy || "Only the server runs models here");
  }
  bar.append(mirrorLabel, " frames sent at ", sizeSel, qualitySel, whereSel.a, whereSel.b, status);

  const panes = {};
  const row = el("div", "live-panes");
  for (const key of ["camera", "a", "b"]) {
    const pane = el("div", `live-pane live-pane-${key}`);
    const box = el("div", "live-box");
    const video = el("video");
    video.muted = true;
    video.playsInline = true;
    video.autoplay = true;
    box.append(video);
    let canvas = null;
    if (key !== "camera") {
      canvas = el("canvas", "live-overlay");
      box.append(canvas);
    }
    const readout = el("div", `live-readout live-readout-${key}`, key === "camera" ? "camera" : key.toUpperCase());
    pane.append(box, readout);
    row.append(pane);
    panes[key] = {key, video, canvas, ctx: canvas ? canvas.getContext("2d") : null, readout, box,
                  latest: null, status: "", dirty: false, inflight: null};
  }
  const agreementLine = el("div", "live-agreement", "Agreement of A and B: —");
  view.append(bar, row, agreementLine);
  root.append(view);

  // ----- state and statistics -----
  let stream = null;
  let worker = null;
  let socketOpen = false;
  let encoding = false;
  let seq = 0;
  let lastSent = 0;
  let pending = null;  // when the newest camera frame came, while it has not been sent
  let maxFps = 60;
  let agreement = null;
  let rafPending = false;
  let closedNote = "";
  let watch = null;  // the timer that checks the view is still shown
  const captured = new Map();  // seq -> performance.now() when the camera frame was grabbed
  const where = (k) => whereSel[k].value;
  const models = {a: null, b: null};  // the pickers' models, as the server says (message "models")
  let controls = {a: {}, b: {}};  // and their sliders (score threshold, max results)
  const device = {worker: null, ready: false, loaded: {a: null, b: null}, busy: {a: false, b: false},
                  results: {a: new Map(), b: new Map()}};  // per side: seq -> result, for same-frame agreement
  const stats = {
    camera: [],                  // times of new camera frames
    sent: [],                    // [time, bytes, resend, seq, side bits]: a frame handed to the socket
    frames: [],                  // [seq, camera frame time, grab time]: where each frame's delay goes
    a: {draws: [], latency: [], answers: []}, // draws: [time, capture-to-overlay ms, seq]; answers: [time, seq]
    b: {draws: [], latency: [], answers: []},
    dropped: 0, errors: [],
    latest: {a: null, b: null},  // each side's newest answer, as the server sent it
    labelCssPx: 0,               // the last box label's height on screen, in CSS pixels
  };
  window.__playgroundLive = window.__playgroundLive || {};
  window.__playgroundLive[task] = {stats, view: api(), device, setWhere: (k, v) => {
    whereSel[k].value = v;
    whereSel[k].dispatchEvent(new Event("change"));
  }};
  const push = (list, item) => { list.push(item); if (list.length > MAX_LOG) list.splice(0, list.length - MAX_LOG); };

  // ----- camera -----
  async function start(ticket) {
    stop("");
    for (const [other, entry] of Object.entries(window.__playgroundLive)) {  // one camera stream at a time
      if (other !== task && entry.view.running()) entry.view.pause("Stopped: the camera is in use on another tab.");
    }
    const missing = [["requestVideoFrameCallback", "requestVideoFrameCallback" in HTMLVideoElement.prototype],
                     ["OffscreenCanvas", typeof OffscreenCanvas !== "undefined"],
                     ["camera access", Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)]]
      .filter(([, ok]) => !ok).map(([name]) => name);
    if (missing.length) {  // the Image and Video tabs work in any browser
      status.textContent = `This browser lacks ${missing.join(", ")}: use a recent Chrome, Edge, Firefox or ` +
        "Safari (on https or localhost) for the live view, or the Image and Video file tabs.";
      return;
    }
    const [w, h] = sizeSel.value.split("x").map(Number);
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {width: {ideal: w}, height: {ideal: h}}, audio: false});
    } catch (err) {
      status.textContent = `The camera could not be opened (${err.name}): allow it in the browser and press Start again.`;
      return;
    }
    for (const p of Object.values(panes)) {
      p.video.srcObject = stream;
      p.video.play().catch(() => {});
    }
    applyMirror();
    worker = new Worker(options.workerUrl);
    worker.onmessage = onWorker;
    const root = (window.gradio_config && window.gradio_config.root) || window.location.href;
    const url = new URL("live/ws", root.endsWith("/") ? root : root + "/");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", ticket);
    worker.postMessage({type: "open", url: url.href});
    startDevice();
    status.textContent = "connecting…";
    const preview = panes.camera.video;
    const onFrame = (now) => {
      if (!stream) return;
      push(stats.camera, now);
      pending = now;  // a new camera frame, not sent yet
      maybeSend();
      preview.requestVideoFrameCallback(onFrame);
    };
    preview.requestVideoFrameCallback(onFrame);
    watch = setInterval(followPage, 500);
  }

  // ----- the stream follows the page -----
  // A stream runs only while its view can be seen: leaving the tab, hiding the page or closing it stops it
  // (the server frees its slot and ticket at once), with a line that says so and a one-click resume.
  function shown() {
    return !document.hidden && root.isConnected && root.getClientRects().length > 0;
  }

  function followPage() {
    if (stream && !shown()) pause(document.hidden ? "Stopped while the page was hidden." : "Stopped when you left this tab.");
  }

  function pause(sentence) {
    stop("");
    status.textContent = `${sentence} `;
    const resume = el("button", "live-resume", "Resume");
    resume.type = "button";
    resume.addEventListener("click", () => {
      const startButton = document.getElementById(`${task}-live-start`);
      if (startButton) startButton.click();
    });
    status.append(resume);
  }

  window.addEventListener("pagehide", () => { if (stream) stop("stopped"); });
  document.addEventListener("visibilitychange", followPage);

  function stop(note) {
    if (watch) { clearInterval(watch); watch = null; }
    if (worker) { worker.postMessage({type: "close"}); worker.terminate(); worker = null; }
    if (device.worker) { device.worker.terminate(); device.worker = null; }
    device.ready = false;
    device.loaded = {a: null, b: null};
    device.busy = {a: false, b: false};
    if (stream) { for (const t of stream.getTracks()) t.stop(); stream = null; }
    socketOpen = false;
    encoding = false;
    for (const p of Object.values(panes)) {
      p.video.srcObject = null;
      p.inflight = null;
      if (p.ctx) p.ctx.clearRect(0, 0, p.canvas.width, p.canvas.height);
    }
    if (note !== undefined) status.textContent = note || "stopped";
  }

  function applyMirror() {
    for (const p of Object.values(panes)) p.video.classList.toggle("live-mirrored", mirrorBox.checked);
  }
  mirrorBox.addEventListener("change", applyMirror);

  // Latest frame wins: the newest camera frame is grabbed when a side is free and the previous frame has
  // been handed to the socket; called on each new camera frame and whenever a side or the encoder frees up.
  // A side that frees up before the camera has a new frame gets the frame on screen, sent again for it
  // alone (the Worker keeps it encoded), instead of waiting up to a camera interval.
  const SIDE_BITS = {a: 2, b: 4};
  const FEED_MS = 200;  // options.feedServer: at most five frames a second for the server's own use
  let lastFed = 0;
  let lastFrame = null;  // {seq, t, sides: the sides it went to}
  function maybeSend() {
    const now = performance.now();
    if (!socketOpen || encoding || now - lastSent < 0.8 * 1000 / maxFps) return;
    const onDevice = ["a", "b"].filter((k) => where(k) === "device" && device.loaded[k] === models[k] &&
                                            !device.busy[k]);
    const free = ["a", "b"].filter((k) => where(k) === "server" &&
                                          (!panes[k].inflight || now - panes[k].inflight.t > LOST_MS));
    if (!free.length && !(onDevice.length && pending !== null)) return;
    if (pending !== null && onDevice.length) {  // the same camera frame, for the sides this page runs
      const video = panes.camera.video;
      if (!video.videoWidth) return;
      const [w, h] = sizeSel.value.split("x").map(Number);
      const scale = Math.min(1, w / video.videoWidth, h / video.videoHeight);
      const s = seq + 1;
      for (const k of onDevice) device.busy[k] = true;
      createImageBitmap(video, {resizeWidth: Math.round(video.videoWidth * scale),
                                resizeHeight: Math.round(video.videoHeight * scale), resizeQuality: "low"})
        .then((bitmap) => device.worker.postMessage({type: "frame", sides: onDevice, seq: s, bitmap,
                                                     mirror: mirrorBox.checked}, [bitmap]))
        .catch(() => { for (const k of onDevice) device.busy[k] = false; });
      if (!free.length) {  // nothing for the server to run: this frame is the page's alone
        seq = s;
        captured.set(s, pending);
        pending = null;
        lastSent = now;
        // a panel of this tab reads the camera on the server (the gesture lab's burst): it gets a frame now
        // and then, which the server keeps and runs no model on
        if (options.feedServer && now - lastFed >= FEED_MS) {
          lastFed = now;
          encoding = true;
          createImageBitmap(video, {resizeWidth: Math.round(video.videoWidth * scale),
                                    resizeHeight: Math.round(video.videoHeight * scale), resizeQuality: "low"})
            .then((bitmap) => worker.postMessage({type: "frame", bitmap, seq: s, mirror: mirrorBox.checked,
                                                  quality: Number(qualitySel.value), sides: 0}, [bitmap]))
            .catch(() => { encoding = false; });
        }
        return;
      }
    }
    if (!free.length) return;
    if (pending === null) {  // no new camera frame: the one on screen, to the sides that have not had it
      const fresh = lastFrame ? free.filter((k) => !lastFrame.sides.has(k)) : [];
      if (!fresh.length) return;
      encoding = true;
      lastSent = now;
      for (const k of fresh) { panes[k].inflight = {seq: lastFrame.seq, t: now}; lastFrame.sides.add(k); }
      worker.postMessage({type: "resend", seq: lastFrame.seq, sides: fresh.reduce((b, k) => b | SIDE_BITS[k], 0)});
      return;
    }
    const video = panes.camera.video;
    if (!video.videoWidth) return;
    const [w, h] = sizeSel.value.split("x").map(Number);
    const scale = Math.min(1, w / video.videoWidth, h / video.videoHeight);
    const t = pending;
    pending = null;
    seq += 1;
    const s = seq;
    encoding = true;
    lastSent = now;
    for (const k of free) panes[k].inflight = {seq: s, t: now};
    lastFrame = {seq: s, t, sides: new Set(free)};
    captured.set(s, t);
    push(stats.frames, [s, t, now]);
    if (captured.size > 256) captured.delete(captured.keys().next().value);
    const sides = free.length === 2 ? 0 : SIDE_BITS[free[0]];
    createImageBitmap(video, {resizeWidth: Math.round(video.videoWidth * scale),
                              resizeHeight: Math.round(video.videoHeight * scale), resizeQuality: "low"})
      .then((bitmap) => worker.postMessage({type: "frame", bitmap, seq: s, mirror: mirrorBox.checked,
                                            quality: Number(qualitySel.value), sides}, [bitmap]))
      .catch(() => { encoding = false; free.forEach(release(s)); });
  }

  const release = (s) => (k) => { if (panes[k].inflight && panes[k].inflight.seq <= s) panes[k].inflight = null; };

  // ----- messages from the worker and the server -----
  function onWorker(event) {
    const m = event.data;
    if (m.type === "sent") {
      encoding = false;
      if (m.bytes) push(stats.sent, [performance.now(), m.bytes, Boolean(m.resend), m.seq, m.bits]);
      maybeSend();
    } else if (m.type === "socket") {
      socketOpen = m.state === "open";
      if (m.state === "open") status.textContent = "live";
      else if (m.state !== "open" && stream) {
        status.textContent = closedNote || "the connection closed; press Start again";
        stop(undefined);
      }
    } else if (m.type === "msg") {
      onServer(m.data);
    }
  }

  function onServer(m) {
    if (m.type === "models") {
      models.a = m.a;
      models.b = m.b;
      if (m.controls) controls = m.controls;
      if (device.worker) for (const k of ["a", "b"]) device.worker.postMessage({type: "controls", side: k, controls: controls[k] || {}});
      autoPlace().then(startDevice);
    } else if (m.type === "ready") {
      maxFps = m.max_fps || maxFps;
    } else if (m.type === "taken") {
      // the sides that started this frame: the ones asked, or a side that freed up on the server and took
      // the newest frame there ("picked"); the asked sides that did not take it are free
      const now = performance.now();
      for (const k of m.sides) {
        if (!panes[k].inflight || panes[k].inflight.seq < m.seq) panes[k].inflight = {seq: m.seq, t: now};
        if (lastFrame && lastFrame.seq === m.seq) lastFrame.sides.add(k);
        if (m.picked) push(stats.sent, [now, 0, true, m.seq, SIDE_BITS[k]]);
      }
      for (const k of m.asked || ["a", "b"]) if (!m.sides.includes(k)) release(m.seq)(k);
      maybeSend();
    } else if (m.type === "dropped") {
      stats.dropped += 1;
      (m.asked || ["a", "b"]).forEach(release(m.seq));
      status.textContent = m.message;
      maybeSend();
    } else if (m.type === "result") {
      if (where(m.side) === "device") { release(m.seq)(m.side); return; }  // this page runs that side now
      const p = panes[m.side];
      stats.latest[m.side] = m;
      push(stats[m.side].answers, [performance.now(), m.seq]);
      release(m.seq)(m.side);
      p.latest = m;
      p.status = "";
      p.dirty = true;
      if (m.agreement) agreement = m.agreement;
      if (m.result) noteForAgreement(m.side, m.seq, m.result.faces || m.result.hands || m.result.people);
      if (!rafPending) { rafPending = true; requestAnimationFrame(drawDirty); }
      maybeSend();
    } else if (m.type === "status") {
      panes[m.side].status = m.message;
    } else if (m.type === "error") {
      push(stats.errors, m.message);
      status.textContent = m.message;
    } else if (m.type === "closed") {
      closedNote = m.message;
    }
  }

  // ----- sides that run in this page (playground/device_js: LiteRT.js in a Worker) -----
  // By default a side runs on this device when its model has a device version, else on the server, and its
  // readout says why; a side the visitor placed stays where they put it.
  const chosen = {a: false, b: false};
  const placed = {a: null, b: null};  // the model each side was last placed for
  async function autoPlace() {
    if (!options.device) {
      for (const k of ["a", "b"]) panes[k].where = options.deviceWhy ? `on the server: ${options.deviceWhy}` : "";
      return;
    }
    for (const k of ["a", "b"]) {
      if (chosen[k] || !models[k] || placed[k] === models[k]) continue;
      placed[k] = models[k];
      try {
        const r = await fetch(`${options.device.specUrl}?id=${encodeURIComponent(models[k])}`);
        const body = await r.json();
        whereSel[k].value = r.ok ? "device" : "server";
        panes[k].where = r.ok ? "" : `on the server: ${body.message}`;
      } catch (err) {
        whereSel[k].value = "server";
        panes[k].where = "on the server";
      }
    }
    if (worker) worker.postMessage({type: "device", sides: ["a", "b"].filter((k) => where(k) === "device")});
  }

  function startDevice() {
    if (!options.device || !["a", "b"].some((k) => where(k) === "device")) return;
    if (!device.worker) {
      device.worker = new Worker(options.device.workerUrl);
      device.worker.onmessage = onDevice;
      device.worker.postMessage({type: "init", wasmDir: options.device.wasmDir});
    }
    loadDeviceModels();
  }

  async function loadDeviceModels() {
    if (worker) worker.postMessage({type: "device", sides: ["a", "b"].filter((k) => where(k) === "device")});
    if (!device.worker || !device.ready) return;
    for (const k of ["a", "b"]) {
      if (where(k) !== "device" || !models[k] || device.loaded[k] === models[k] || panes[k].loadingOnDevice === models[k]) continue;
      const id = models[k];
      panes[k].loadingOnDevice = id;
      panes[k].status = "loading the model on this device…";
      try {
        const r = await fetch(`${options.device.specUrl}?id=${encodeURIComponent(id)}`);
        const spec = await r.json();
        if (!r.ok) throw new Error(spec.message || "no device version");
        panes[k].deviceSpec = spec;
        device.worker.postMessage({type: "load", side: k, spec, modelUrls: spec.model_urls.map(
          (u) => new URL(u, options.device.base).href)});
      } catch (err) {
        panes[k].loadingOnDevice = null;
        panes[k].status = `runs on the server instead: ${err.message}`;
        whereSel[k].value = "server";
      }
    }
  }

  for (const k of ["a", "b"]) {
    whereSel[k].addEventListener("change", () => {
      chosen[k] = true;
      panes[k].where = "";
      panes[k].latest = null;
      panes[k].status = "";
      device.results[k].clear();
      if (where(k) === "device") startDevice();
      else if (worker) worker.postMessage({type: "device", sides: ["a", "b"].filter((s) => where(s) === "device")});
      maybeSend();
    });
  }

  function onDevice(event) {
    const m = event.data;
    if (m.type === "ready") { device.ready = true; loadDeviceModels(); return; }
    if (m.type === "loaded") {
      device.loaded[m.side] = m.model;
      device.worker.postMessage({type: "controls", side: m.side, controls: controls[m.side] || {}});
      panes[m.side].loadingOnDevice = null;
      panes[m.side].status = "";
      maybeSend();
      return;
    }
    const sides = m.side ? [m.side] : [];
    if (m.type === "error") {
      for (const k of sides) { device.busy[k] = false; panes[k].status = `⚠️ on this device: ${m.message}`; }
      maybeSend();
      return;
    }
    if (m.type !== "result") return;
    const k = m.side, p = panes[k];
    device.busy[k] = false;
    if (where(k) !== "device") return;
    const c = controls[k] || {}, spec = p.deviceSpec || {};  // the side's sliders, as the server applies them
    let items = (m.items || []).sort((x, y) => y.score - x.score);
    if (items.length && items[0].gesture) {  // the threshold is the gesture's: under it the hand reads "None"
      items = items.map((f) => f.gesture.label === "None" || f.gesture.score >= (c.min_score ?? 0) ? f
        : {...f, gesture: {label: "None", score: 1 - f.gesture.score}});
    } else {
      items = items.filter((f) => f.score >= (c.min_score ?? 0));
    }
    items = items.slice(0, c.max_results ?? Infinity);
    const w = panes.camera.video.videoWidth, h = panes.camera.video.videoHeight;
    const [sw, sh] = sizeSel.value.split("x").map(Number);
    const scale = Math.min(1, sw / w, sh / h);
    const image = {width: Math.round(w * scale), height: Math.round(h * scale)};
    const font = Math.max(12, Math.round(image.width / 40)), thick = Math.max(2, Math.round(image.width / 320));
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
    const key = spec.result_key || "faces";
    if (m.bitmap) {  // a mask: drawn under the legend, as the server draws it
      draw.length = 0;
      draw.push({op: "mask", bitmap: m.bitmap});
      const shown = Object.entries(m.coverage || {}).filter(([lab, v]) => lab !== "background" && v > 0);
      draw.push({op: "legend", font_px: font, line: Math.round(font * 1.6),
                 items: shown.map(([lab, v]) => [`${lab} ${Math.round(v * 100)}%`, `rgb(${spec.color.join(",")})`])});
    }
    p.latest = {seq: m.seq, side: k, model: m.model, latency_ms: m.latency_ms, onDevice: true, image,
                result: key === "coverage" ? {coverage: m.coverage} : {[key]: items}, draw};
    stats.latest[k] = p.latest;
    push(stats[k].answers, [performance.now(), m.seq]);
    push(stats[k].latency, m.latency_ms);
    p.status = "";
    p.dirty = true;
    if (key === "coverage") {
      agreement = {score: null, summary: "masks are compared when both sides run on the server"};
    } else {
      noteForAgreement(k, m.seq, items);
    }
    if (!rafPending) { rafPending = true; requestAnimationFrame(drawDirty); }
    maybeSend();
  }

  // The agreement of a side run here and a side run on the server, on the same frame (the server's own
  // sentence when both run there): faces matched by box overlap, as tasks.base.box_agreement does.
  function noteForAgreement(k, s, faces) {
    if (!["a", "b"].some((x) => where(x) === "device") || !faces) return;
    const mine = device.results[k];
    mine.set(s, faces);
    if (mine.size > 64) mine.delete(mine.keys().next().value);
    const other = device.results[k === "a" ? "b" : "a"].get(s);
    if (other === undefined) {
      const newest = Math.max(...device.results[k === "a" ? "b" : "a"].keys(), -1);
      if (newest >= 0 && Math.abs(newest - s) > 8) {
        agreement = {score: null, summary: "A and B are answering different frames (one side is slower)"};
      }
      return;
    }
    const [fa, fb] = k === "a" ? [faces, other] : [other, faces];
    agreement = boxAgreement(fa, fb, s);
  }

  function boxAgreement(a, b, s) {
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
        const x0 = Math.max(fa.box[0], fb.box[0]), y0 = Math.max(fa.box[1], fb.box[1]);
        const x1 = Math.min(fa.box[2], fb.box[2]), y1 = Math.min(fa.box[3], fb.box[3]);
        const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
        const area = (r) => (r[2] - r[0]) * (r[3] - r[1]);
        const iou = inter / (area(fa.box) + area(fb.box) - inter);
        if (iou > bestIou) { best = j; bestIou = iou; }
      });
      if (best >= 0) { used.add(best); pairs.push(bestIou); }
    }
    const mean = pairs.length ? pairs.reduce((x, y) => x + y, 0) / pairs.length : 0;
    const union = a.length + b.length - pairs.length;
    return {score: pairs.length / union * mean, frame: s,
            summary: `${pairs.length} of ${Math.max(a.length, b.length)} matched on the same frame (${s}), ` +
                     `mean box overlap ${Math.round(mean * 100)}%`};
  }

  // ----- drawing -----
  function drawDirty() {
    rafPending = false;
    const now = performance.now();
    for (const key of ["a", "b"]) {
      const p = panes[key];
      if (!p.dirty) continue;
      p.dirty = false;
      draw(p, p.latest);
      const t0 = captured.get(p.latest.seq);
      if (t0 !== undefined) push(stats[key].draws, [now, now - t0, p.latest.seq]);
      if (p.latest.latency_ms !== undefined) push(stats[key].latency, p.latest.latency_ms);
    }
  }

  function draw(p, m) {
    const {canvas, ctx} = p;
    const w = (m.image && m.image.width) || canvas.width, h = (m.image && m.image.height) || canvas.height;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    ctx.clearRect(0, 0, w, h);
    // frame pixels per CSS pixel: labels are sized so that they read at least MIN_LABEL_CSS_PX on screen
    const k = canvas.clientWidth ? w / canvas.clientWidth : 1;
    for (const op of m.draw || []) (OPS[op.op] || (() => {}))(ctx, op, k);
  }

  const MIN_LABEL_CSS_PX = 12;  // tests read stats.labelCssPx: the last label's height on screen
  const labelPx = (px, k) => Math.max(px, MIN_LABEL_CSS_PX * k);

  const OPS = {
    boxes(ctx, op, k) {
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

  // ----- readouts, measured here, refreshed twice a second -----
  const rate = (times, now, span = 3000) => {
    let n = 0;
    for (let i = times.length - 1; i >= 0 && now - times[i] <= span; i--) n++;
    return n > 1 ? (n - 1) / (span / 1000) : 0;
  };
  const median = (xs) => {
    if (!xs.length) return NaN;
    const s = [...xs].sort((x, y) => x - y);
    return s[Math.floor(s.length / 2)];
  };
  setInterval(() => {
    if (!stream) return;
    const now = performance.now();
    panes.camera.readout.textContent = `camera ${rate(stats.camera, now).toFixed(1)} fps`;
    for (const key of ["a", "b"]) {
      const p = panes[key], m = p.latest, s = stats[key];
      const head = `${key.toUpperCase()} · ${(m && m.model) || models[key] || ""}` +
        (where(key) === "device" ? " · on this device" : p.where ? ` · ${p.where}` : "");
      if (p.status) { p.readout.textContent = `${head} · ${p.status}`; continue; }
      if (!m) { p.readout.textContent = `${head} · waiting for a result`; continue; }
      if (m.error) { p.readout.textContent = `${head} · ⚠️ ${m.error}`; continue; }
      const recent = s.draws.filter(([t]) => now - t <= 3000);
      p.readout.textContent = `${head} · ${m.latency_ms.toFixed(1)} ms model latency · ` +
        `${rate(recent.map(([t]) => t), now).toFixed(1)} overlays/s · ` +
        `${median(recent.map(([, d]) => d)).toFixed(0)} ms capture to overlay` + (m.note ? ` · ⚠️ ${m.note}` : "");
    }
    if (!agreement) agreementLine.textContent = "Agreement of A and B: —";
    else if (agreement.score === null || agreement.score === undefined) {
      agreementLine.textContent = `Agreement of A and B: — ${agreement.summary}`;
    } else {
      agreementLine.textContent = `Agreement of A and B: ${Math.round(agreement.score * 100)}% — ${agreement.summary}`;
    }
  }, 500);

  function api() {
    return {start, stop: () => stop("stopped"), pause, running: () => Boolean(stream)};
  }
  return api();
}
