// The live view: the camera shown by the browser itself in three panes (camera, A, B), each model's latest
// results drawn over its pane on a canvas, and readouts measured here in the page.
//
// The picture never waits for a model: the <video> elements play the camera at its own rate, and each
// side's canvas is redrawn when that side's result arrives. Frames are grabbed as ImageBitmaps and handed
// to a Worker (live_worker.js) that JPEG-encodes them and owns the socket, so the main thread only grabs,
// draws and updates a few numbers. Latest frame wins: a frame is sent only while a side is free, and at
// most one frame per side is in flight. A side can instead run in this page (playground/device_js:
// LiteRT.js in a Worker of its own), on the same frames.
//
// The parts: live_panes.js (the page elements, grabbing frames), live_draw.js (drawing), live_readouts.js
// (readouts, same-frame agreement), and this file (the view's state: the camera, the server's socket, the
// page's own models). Loaded once per page, in that order, by the js_on_load of each tab's gr.HTML
// (playground/ui.py), which then calls createLiveView(element, options); served by
// playground/live_socket.py. Tests and the benchmark read window.__playgroundLive[task] (its `stats`).
"use strict";

const PL = window.PlaygroundLive;
const MAX_LOG = 20000;  // entries kept per statistic (a benchmark minute is ~1500)
const LOST_MS = 5000;   // a side with no answer for this long is taken as free again
const FEED_MS = 200;    // options.feedServer: at most five frames a second for the server's own use
const SIDE_BITS = {a: 2, b: 4};
const SIDES = ["a", "b"];
const push = (list, item) => { list.push(item); if (list.length > MAX_LOG) list.splice(0, list.length - MAX_LOG); };

function newStats() {
  return {
    camera: [],                  // times of new camera frames
    sent: [],                    // [time, bytes, resend, seq, side bits]: a frame handed to the socket
    frames: [],                  // [seq, camera frame time, grab time]: where each frame's delay goes
    a: {draws: [], latency: [], answers: []}, // draws: [time, capture-to-overlay ms, seq]; answers: [time, seq]
    b: {draws: [], latency: [], answers: []},
    dropped: 0, errors: [],
    latest: {a: null, b: null},  // each side's newest answer, as the server sent it (or this page made it)
    labelCssPx: 0,               // the last box label's height on screen, in CSS pixels
  };
}

class LiveView {
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.task = options.task;
    Object.assign(this, PL.buildView(root, options));
    this.stream = null;          // the camera
    this.worker = null;          // the socket's Worker
    this.socketOpen = false;
    this.encoding = false;       // a frame handed to the Worker and not yet sent
    this.seq = 0;
    this.lastSent = 0;
    this.pending = null;         // when the newest camera frame came, while it has not been sent
    this.lastFrame = null;       // {seq, t, sides: the sides it went to}
    this.lastFed = 0;
    this.maxFps = 60;
    this.agreement = new PL.SteadyAgreement();
    this.rafPending = false;
    this.closedNote = "";
    this.watch = null;           // the timer that checks the view is still shown
    this.captured = new Map();   // seq -> performance.now() when the camera frame was grabbed
    this.models = {a: null, b: null};    // the pickers' models, as the server says (message "models")
    this.names = {a: "", b: ""};         // and their names, for the readouts
    this.controls = {a: {}, b: {}};      // and their sliders (score threshold, max results)
    this.sameFrame = new PL.SameFrame();
    // one Worker per side in the page, so that a slow side does not hold the other back
    this.device = {workers: {a: null, b: null}, ready: {a: false, b: false}, loaded: {a: null, b: null},
                   busy: {a: false, b: false}, fetched: [],  // fetched: what the Workers fetched (first use)
                   backend: {a: "", b: ""}, note: {a: "", b: ""},  // what runs each side's model, and why not WebGPU
                   results: this.sameFrame.results};
    this.chosen = {a: false, b: false};  // a side the visitor placed stays where they put it
    this.accelerator = "auto";          // the Workers' choice: WebGPU on a hardware GPU, else WebAssembly
    this.slowFps = 5;                    // below this many overlays/s on the device, the server is offered
    this.slowAfterMs = 8000;             // measured over this long once the model runs here
    this.placed = {a: null, b: null};    // the model each side was last placed for
    this.stats = newStats();
    this.wire();
  }

  where(k) { return this.whereSel[k].value; }

  wire() {
    window.__playgroundLive = window.__playgroundLive || {};
    window.__playgroundLive[this.task] = {stats: this.stats, view: this.api(), device: this.device,
                                          tune: (o) => {  // tests: when the server is offered, the accelerator
                                            for (const key of ["slowFps", "slowAfterMs", "accelerator"]) {
                                              if (key in o) this[key] = o[key];
                                            }
                                          },
                                          setWhere: (k, v) => {
                                            this.whereSel[k].value = v;
                                            this.whereSel[k].dispatchEvent(new Event("change"));
                                          }};
    window.addEventListener("pagehide", () => { if (this.stream) this.stop("stopped"); });
    document.addEventListener("visibilitychange", () => this.followPage());
    this.mirrorBox.addEventListener("change", () => this.applyMirror());
    for (const k of SIDES) this.whereSel[k].addEventListener("change", () => this.onWhere(k));
    setInterval(() => this.refreshReadouts(), 500);
  }

  api() {
    return {start: (ticket) => this.start(ticket), stop: () => this.stop("stopped"),
            pause: (sentence) => this.pause(sentence), running: () => Boolean(this.stream)};
  }

  // ----- the camera -----
  async start(ticket) {
    this.stop("");
    for (const [other, entry] of Object.entries(window.__playgroundLive)) {  // one camera stream at a time
      if (other !== this.task && entry.view.running()) entry.view.pause("Stopped: the camera is in use on another tab.");
    }
    const missing = PL.missingFeatures();
    if (missing.length) {  // the Image and Video tabs work in any browser
      this.status.textContent = `This browser lacks ${missing.join(", ")}: use a recent Chrome, Edge, Firefox or ` +
        "Safari (on https or localhost) for the live view, or the Image and Video file tabs.";
      return;
    }
    const [w, h] = this.sizeSel.value.split("x").map(Number);
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({video: {width: {ideal: w}, height: {ideal: h}}, audio: false});
    } catch (err) {
      this.status.textContent = `The camera could not be opened (${err.name}): allow it in the browser and press Start again.`;
      return;
    }
    for (const p of Object.values(this.panes)) {
      p.video.srcObject = this.stream;
      p.video.play().catch(() => {});
    }
    this.applyMirror();
    this.openSocket(ticket);
    this.startDevice();
    this.status.textContent = "connecting…";
    const preview = this.panes.camera.video;
    const onFrame = (now) => {
      if (!this.stream) return;
      push(this.stats.camera, now);
      this.pending = now;  // a new camera frame, not sent yet
      this.maybeSend();
      preview.requestVideoFrameCallback(onFrame);
    };
    preview.requestVideoFrameCallback(onFrame);
    this.watch = setInterval(() => this.followPage(), 500);
  }

  openSocket(ticket) {
    this.worker = new Worker(this.options.workerUrl);
    this.worker.onmessage = (event) => this.onWorker(event.data);
    const root = (window.gradio_config && window.gradio_config.root) || window.location.href;
    const url = new URL("live/ws", root.endsWith("/") ? root : root + "/");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", ticket);
    this.worker.postMessage({type: "open", url: url.href});
  }

  // A stream runs only while its view can be seen: leaving the tab, hiding the page or closing it stops it
  // (the server frees its slot and ticket at once), with a line that says so and a one-click resume.
  shown() {
    return !document.hidden && this.root.isConnected && this.root.getClientRects().length > 0;
  }

  followPage() {
    if (this.stream && !this.shown()) {
      this.pause(document.hidden ? "Stopped while the page was hidden." : "Stopped when you left this tab.");
    }
  }

  pause(sentence) {
    this.stop("");
    this.status.textContent = `${sentence} `;
    const resume = PL.el("button", "live-resume", "Resume");
    resume.type = "button";
    resume.addEventListener("click", () => {
      const startButton = document.getElementById(`${this.task}-live-start`);
      if (startButton) startButton.click();
    });
    this.status.append(resume);
  }

  stop(note) {
    if (this.watch) { clearInterval(this.watch); this.watch = null; }
    if (this.worker) { this.worker.postMessage({type: "close"}); this.worker.terminate(); this.worker = null; }
    const d = this.device;
    for (const k of SIDES) if (d.workers[k]) { d.workers[k].terminate(); d.workers[k] = null; }
    d.ready = {a: false, b: false};
    d.loaded = {a: null, b: null};
    d.busy = {a: false, b: false};
    if (this.stream) { for (const t of this.stream.getTracks()) t.stop(); this.stream = null; }
    this.socketOpen = false;
    this.encoding = false;
    for (const p of Object.values(this.panes)) {
      p.video.srcObject = null;
      p.inflight = null;
      if (p.ctx) p.ctx.clearRect(0, 0, p.canvas.width, p.canvas.height);
    }
    if (note !== undefined) this.status.textContent = note || "stopped";
  }

  applyMirror() {
    for (const p of Object.values(this.panes)) p.video.classList.toggle("live-mirrored", this.mirrorBox.checked);
  }

  // ----- sending frames -----
  // Latest frame wins: the newest camera frame is grabbed when a side is free and the previous frame has
  // been handed to the socket; called on each new camera frame and whenever a side or the encoder frees up.
  // A side that frees up before the camera has a new frame gets the frame on screen, sent again for it
  // alone (the Worker keeps it encoded), instead of waiting up to a camera interval.
  maybeSend() {
    const now = performance.now();
    if (!this.socketOpen || this.encoding || now - this.lastSent < 0.8 * 1000 / this.maxFps) return;
    const onDevice = SIDES.filter((k) => this.where(k) === "device" && this.device.loaded[k] === this.models[k] &&
                                         !this.device.busy[k]);
    const free = SIDES.filter((k) => this.where(k) === "server" &&
                                     (!this.panes[k].inflight || now - this.panes[k].inflight.t > LOST_MS));
    if (this.pending !== null && onDevice.length && this.panes.camera.video.videoWidth) {
      this.sendToDevice(onDevice, now, !free.length);
      if (!free.length) return;
    }
    if (!free.length) return;
    if (this.pending === null) this.resend(free, now);
    else this.sendToServer(free, now);
  }

  // The camera frame to the sides this page runs; when no side runs on the server, the frame is the page's
  // alone (and a panel that reads the camera on the server, the gesture lab's burst, gets one now and then).
  sendToDevice(onDevice, now, alone) {
    const video = this.panes.camera.video;
    const s = this.seq + 1;
    for (const k of onDevice) {  // each side's Worker gets the frame of its own (a bitmap is handed over)
      this.device.busy[k] = true;
      PL.grab(video, this.sizeSel.value)
        .then((bitmap) => this.device.workers[k].postMessage({type: "frame", sides: [k], seq: s, bitmap,
                                                              mirror: this.mirrorBox.checked}, [bitmap]))
        .catch(() => { this.device.busy[k] = false; });
    }
    if (!alone) return;  // the server's sides take the same frame, with the same seq (sendToServer)
    this.seq = s;
    this.captured.set(s, this.pending);
    this.pending = null;
    this.lastSent = now;
    if (this.options.feedServer && now - this.lastFed >= FEED_MS) {  // the server keeps it and runs no model on it
      this.lastFed = now;
      this.encoding = true;
      PL.grab(video, this.sizeSel.value)
        .then((bitmap) => this.worker.postMessage({type: "frame", bitmap, seq: s, mirror: this.mirrorBox.checked,
                                                   quality: Number(this.qualitySel.value), sides: 0}, [bitmap]))
        .catch(() => { this.encoding = false; });
    }
  }

  // No new camera frame: the one on screen, to the free sides that have not had it.
  resend(free, now) {
    const last = this.lastFrame;
    const fresh = last ? free.filter((k) => !last.sides.has(k)) : [];
    if (!fresh.length) return;
    this.encoding = true;
    this.lastSent = now;
    for (const k of fresh) { this.panes[k].inflight = {seq: last.seq, t: now}; last.sides.add(k); }
    this.worker.postMessage({type: "resend", seq: last.seq, sides: fresh.reduce((b, k) => b | SIDE_BITS[k], 0)});
  }

  sendToServer(free, now) {
    const video = this.panes.camera.video;
    if (!video.videoWidth) return;
    const t = this.pending;
    this.pending = null;
    this.seq += 1;
    const s = this.seq;
    this.encoding = true;
    this.lastSent = now;
    for (const k of free) this.panes[k].inflight = {seq: s, t: now};
    this.lastFrame = {seq: s, t, sides: new Set(free)};
    this.captured.set(s, t);
    push(this.stats.frames, [s, t, now]);
    if (this.captured.size > 256) this.captured.delete(this.captured.keys().next().value);
    const sides = free.length === 2 ? 0 : SIDE_BITS[free[0]];
    PL.grab(video, this.sizeSel.value)
      .then((bitmap) => this.worker.postMessage({type: "frame", bitmap, seq: s, mirror: this.mirrorBox.checked,
                                                 quality: Number(this.qualitySel.value), sides}, [bitmap]))
      .catch(() => { this.encoding = false; free.forEach((k) => this.release(s, k)); });
  }

  release(s, k) {
    const p = this.panes[k];
    if (p.inflight && p.inflight.seq <= s) p.inflight = null;
  }

  // ----- messages from the socket's Worker and the server -----
  onWorker(m) {
    if (m.type === "sent") {
      this.encoding = false;
      if (m.bytes) push(this.stats.sent, [performance.now(), m.bytes, Boolean(m.resend), m.seq, m.bits]);
      this.maybeSend();
    } else if (m.type === "socket") {
      this.socketOpen = m.state === "open";
      if (m.state === "open") this.status.textContent = `live · ${this.privacy()}`;
      else if (this.stream) {
        this.status.textContent = this.closedNote || "the connection closed; press Start again";
        this.stop(undefined);
      }
    } else if (m.type === "msg") {
      const handler = SERVER[m.data.type];
      if (handler) handler(this, m.data);
    }
  }

  onModels(m) {
    this.models.a = m.a;
    this.models.b = m.b;
    if (m.names) this.names = m.names;
    if (m.controls) this.controls = m.controls;
    for (const k of SIDES) {
      const w = this.device.workers[k];
      if (w) w.postMessage({type: "controls", side: k, controls: this.controls[k] || {}});
    }
    this.autoPlace().then(() => this.startDevice());
  }

  // The sides that started this frame: the ones asked, or a side that freed up on the server and took the
  // newest frame there ("picked"); the asked sides that did not take it are free.
  onTaken(m) {
    const now = performance.now();
    for (const k of m.sides) {
      const p = this.panes[k];
      if (!p.inflight || p.inflight.seq < m.seq) p.inflight = {seq: m.seq, t: now};
      if (this.lastFrame && this.lastFrame.seq === m.seq) this.lastFrame.sides.add(k);
      if (m.picked) push(this.stats.sent, [now, 0, true, m.seq, SIDE_BITS[k]]);
    }
    for (const k of m.asked || SIDES) if (!m.sides.includes(k)) this.release(m.seq, k);
    this.maybeSend();
  }

  onResult(m) {
    if (this.where(m.side) === "device") { this.release(m.seq, m.side); return; }  // this page runs that side now
    const p = this.panes[m.side];
    this.stats.latest[m.side] = m;
    push(this.stats[m.side].answers, [performance.now(), m.seq]);
    this.release(m.seq, m.side);
    p.latest = m;
    p.status = "";
    if (m.error) {  // a side that failed has nothing to agree with: its sentence says why
      this.agreement.add({score: null, summary: `${m.side.toUpperCase()} could not answer: ${m.error}`});
    } else if (m.agreement) {
      this.agreement.add(m.agreement);
    }
    if (m.result) this.noteForAgreement(m.side, m.seq, m.result.faces || m.result.hands || m.result.people);
    this.redraw(p);
    this.maybeSend();
  }

  // The agreement of a side run here and a side run on the server, on the same frame (the server's own
  // sentence when both run there).
  noteForAgreement(k, s, found) {
    if (!SIDES.some((x) => this.where(x) === "device") || !found) return;
    const agreement = this.sameFrame.note(k, s, found);
    if (agreement !== undefined) this.agreement.add(agreement);
  }

  // ----- sides that run in this page (playground/device_js: LiteRT.js in a Worker) -----
  // By default a side runs on this device when its model has a device version, else on the server, and its
  // readout says why; a side the visitor placed stays where they put it.
  async autoPlace() {
    if (!this.options.device) {
      const why = this.options.deviceWhy;
      for (const k of SIDES) this.panes[k].where = why ? `on the server: ${why}` : "";
      return;
    }
    for (const k of SIDES) {
      if (this.chosen[k] || !this.models[k] || this.placed[k] === this.models[k]) continue;
      this.placed[k] = this.models[k];
      try {
        const r = await fetch(`${this.options.device.specUrl}?id=${encodeURIComponent(this.models[k])}`);
        const body = await r.json();
        this.whereSel[k].value = r.ok ? "device" : "server";
        this.panes[k].where = r.ok ? "" : `on the server: ${body.message}`;
      } catch (err) {
        this.whereSel[k].value = "server";
        this.panes[k].where = "on the server";
      }
    }
    this.tellServerWhere();
  }

  tellServerWhere() {
    if (this.worker) this.worker.postMessage({type: "device", sides: SIDES.filter((k) => this.where(k) === "device")});
  }

  startDevice() {
    if (!this.options.device || !SIDES.some((k) => this.where(k) === "device")) return;
    for (const k of SIDES) {
      if (this.where(k) !== "device" || this.device.workers[k]) continue;
      const w = new Worker(this.options.device.workerUrl);
      w.onmessage = (event) => this.onDevice(event.data, k);
      w.postMessage({type: "init", wasmDir: this.options.device.wasmDir, ortDir: this.options.device.ortDir,
                     accelerator: this.accelerator});
      this.device.workers[k] = w;
    }
    this.loadDeviceModels();
  }

  async loadDeviceModels() {
    this.tellServerWhere();
    for (const k of SIDES) {
      const p = this.panes[k], id = this.models[k];
      if (!this.device.workers[k] || !this.device.ready[k]) continue;
      if (this.where(k) !== "device" || !id || this.device.loaded[k] === id || p.loadingOnDevice === id) continue;
      p.loadingOnDevice = id;
      p.status = "loading the model on this device…";
      try {
        const r = await fetch(`${this.options.device.specUrl}?id=${encodeURIComponent(id)}`);
        const spec = await r.json();
        if (!r.ok) throw new Error(spec.message || "no device version");
        p.deviceSpec = spec;
        this.device.workers[k].postMessage({type: "load", side: k, spec, modelUrls: spec.model_urls.map(
          (u) => new URL(u, this.options.device.base).href)});
      } catch (err) {
        p.loadingOnDevice = null;
        p.status = `runs on the server instead: ${err.message}`;
        this.whereSel[k].value = "server";
      }
    }
  }

  onWhere(k) {
    this.chosen[k] = true;
    const p = this.panes[k];
    p.where = "";
    p.latest = null;
    p.status = "";
    this.sameFrame.clear(k);
    if (this.where(k) === "device") this.startDevice();
    else this.tellServerWhere();
    this.maybeSend();
  }

  onDevice(m, k) {  // a message from side k's Worker
    const d = this.device;
    if (m.type === "progress") { this.onFetchProgress(k, m); return; }
    if (m.type === "ready") { d.ready[k] = true; d.backend[k] = m.backend || ""; this.loadDeviceModels(); return; }
    if (m.type === "loaded") {
      d.loaded[m.side] = m.model;
      d.backend[m.side] = m.backend || d.backend[m.side];
      d.note[m.side] = m.note || "";
      d.workers[k].postMessage({type: "controls", side: m.side, controls: this.controls[m.side] || {}});
      this.panes[m.side].loadingOnDevice = null;
      this.panes[m.side].status = "";
      this.maybeSend();
      return;
    }
    if (m.type === "error") {
      if (m.side) { d.busy[m.side] = false; this.panes[m.side].status = `⚠️ on this device: ${m.message}`; }
      this.maybeSend();
      return;
    }
    if (m.type === "result") this.onDeviceResult(m);
  }

  // First use: the files side k's Worker fetches (the runtime, the model), with their sizes, and a bar.
  onFetchProgress(k, m) {
    const p = this.panes[k];
    p.fetching = p.fetching || new Map();
    if (!p.fetching.has(m.url)) this.device.fetched.push({side: k, label: m.label, total: m.total});
    p.fetching.set(m.url, m);
    const now = PL.fetchProgress(p.fetching);
    p.progress.hidden = !now;
    if (now) {
      p.progress.value = now.fraction;
      p.status = now.text;
    } else {
      p.fetching = null;
      if (p.status.startsWith("first use")) p.status = p.loadingOnDevice ? "loading the model on this device…" : "";
    }
    this.refreshReadouts();
  }

  // An answer this page computed: the side's settings applied and drawn as the server would draw it.
  onDeviceResult(m) {
    const k = m.side, p = this.panes[k];
    this.device.busy[k] = false;
    if (this.where(k) !== "device") return;
    const spec = p.deviceSpec || {};
    const items = PL.applyControls(m.items, this.controls[k] || {});
    const image = PL.sentSize(this.panes.camera.video, this.sizeSel.value);
    const key = spec.result_key || "faces";
    p.latest = {seq: m.seq, side: k, model: m.model, latency_ms: m.latency_ms, onDevice: true, image,
                result: key === "coverage" ? {coverage: m.coverage} : {[key]: items},
                draw: PL.deviceDrawing(spec, items, image, m)};
    this.stats.latest[k] = p.latest;
    push(this.stats[k].answers, [performance.now(), m.seq]);
    push(this.stats[k].latency, m.latency_ms);
    p.status = "";
    if (key === "coverage") this.agreement.add({score: null, summary: "masks are compared when both sides run on the server"});
    else this.noteForAgreement(k, m.seq, items);
    this.redraw(p);
    this.maybeSend();
  }

  // ----- drawing and readouts -----
  redraw(p) {
    p.dirty = true;
    if (!this.rafPending) { this.rafPending = true; requestAnimationFrame(() => this.drawDirty()); }
  }

  drawDirty() {
    this.rafPending = false;
    const now = performance.now();
    for (const key of SIDES) {
      const p = this.panes[key];
      if (!p.dirty) continue;
      p.dirty = false;
      PL.drawOverlay(p.canvas, p.ctx, p.latest, this.stats);
      const t0 = this.captured.get(p.latest.seq);
      if (t0 !== undefined) push(this.stats[key].draws, [now, now - t0, p.latest.seq]);
      if (p.latest.latency_ms !== undefined && !p.latest.onDevice) push(this.stats[key].latency, p.latest.latency_ms);
    }
  }

  // A side placed on this device by default that draws fewer than slowFps overlays a second over its first
  // seconds there is offered the server, once per model, with the figure; a side the visitor placed is left be.
  offerServer(now) {
    for (const k of SIDES) {
      const p = this.panes[k], answers = this.stats[k].answers;
      const onDevice = this.where(k) === "device" && this.device.loaded[k] === this.models[k];
      if (!onDevice) { p.deviceSince = null; p.offer.hidden = true; continue; }
      p.deviceSince = p.deviceSince || now;
      if (this.chosen[k] || p.offered === this.models[k] || now - p.deviceSince < this.slowAfterMs) continue;
      const rate = PL.rate(answers.map(([t]) => t), now, this.slowAfterMs);
      if (rate >= this.slowFps) continue;
      p.offered = this.models[k];
      const side = k.toUpperCase();
      p.offer.textContent = `${side} draws ${rate.toFixed(1)} overlays/s on this device: run ${side} on the server`;
      p.offer.title = "The server may run this model faster than this device; frames then go to the server";
      p.offer.onclick = () => {
        p.offer.hidden = true;
        this.whereSel[k].value = "server";
        this.onWhere(k);
      };
      p.offer.hidden = false;
    }
  }

  // Where the camera's frames go, in a sentence (the status line's tooltip, and the line itself once live).
  privacy() {
    const onDevice = SIDES.filter((k) => this.where(k) === "device");
    if (onDevice.length < 2) return "Frames go to the playground's server for the sides that run there.";
    return this.options.feedServer
      ? "Both sides run on this device; a few frames a second go to the server only for the Teach panel's captures."
      : "Both sides run on this device: no frame leaves it.";
  }

  refreshReadouts() {
    if (!this.stream) return;
    const now = performance.now();
    this.panes.camera.readout.textContent = `camera ${PL.rate(this.stats.camera, now).toFixed(1)} fps`;
    for (const key of SIDES) {
      this.panes[key].readout.textContent = PL.sideReadout(key, this.panes[key], this.stats[key],
                                                           this.names[key] || this.models[key], this.where(key), now,
                                                           this.device.backend[key], this.device.note[key]);
    }
    this.offerServer(now);
    this.status.title = this.privacy();
    if (this.socketOpen && this.status.textContent.startsWith("live")) this.status.textContent = `live · ${this.privacy()}`;
    this.agreementLine.textContent = this.agreement.text();
    this.agreementLine.title = this.agreement.title();
  }
}

// The server's messages, by type.
const SERVER = {
  models: (v, m) => v.onModels(m),
  ready: (v, m) => { v.maxFps = m.max_fps || v.maxFps; },
  taken: (v, m) => v.onTaken(m),
  dropped: (v, m) => {
    v.stats.dropped += 1;
    for (const k of m.asked || SIDES) v.release(m.seq, k);
    v.status.textContent = m.message;
    v.maybeSend();
  },
  result: (v, m) => v.onResult(m),
  status: (v, m) => { v.panes[m.side].status = m.message; },
  error: (v, m) => { push(v.stats.errors, m.message); v.status.textContent = m.message; },
  closed: (v, m) => { v.closedNote = m.message; },
};

function createLiveView(root, options) {
  const why = options.device ? PL.deviceUnsupported() : "";
  if (why) options = {...options, device: null, deviceWhy: why};  // every side on the server, saying why
  return new LiveView(root, options).api();
}
