// The live view's page elements: the bar (mirror, frame size and quality, where each side runs, the status
// line) and three panes (camera, A, B), each a <video> the browser plays at the camera's own rate, with a
// canvas over A and B for their results and a readout under each.
"use strict";

(function (PL) {
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  };
  PL.el = el;

  function whereSelect(key, options) {
    const sel = el("select", `live-where live-where-${key}`);
    sel.append(new Option(`${key.toUpperCase()} on the server`, "server"));
    if (options.device) sel.append(new Option(`${key.toUpperCase()} on this device`, "device"));
    sel.title = options.device ? "Run this side's model in your browser, or on the server"
      : (options.deviceWhy || "Only the server runs models here");
    return sel;
  }

  function pane(key) {
    const node = el("div", `live-pane live-pane-${key}`);
    const box = el("div", "live-box");
    const video = el("video");
    video.muted = true;
    video.playsInline = true;
    video.autoplay = true;
    box.append(video);
    const canvas = key === "camera" ? null : el("canvas", "live-overlay");
    if (canvas) box.append(canvas);
    const progress = key === "camera" ? null : el("progress", "live-progress");  // first use: files fetched
    if (progress) { progress.max = 1; progress.value = 0; progress.hidden = true; box.append(progress); }
    const readout = el("div", `live-readout live-readout-${key}`, key === "camera" ? "camera" : key.toUpperCase());
    node.append(box, readout);
    // a side that runs slowly on this device is offered the server (live.js offerServer)
    const offer = key === "camera" ? null : el("button", "live-offer");
    if (offer) { offer.type = "button"; offer.hidden = true; node.append(offer); }
    return {node, key, video, canvas, ctx: canvas ? canvas.getContext("2d") : null, readout, box, progress, offer,
            latest: null, status: "", dirty: false, inflight: null};
  }

  // Builds the view inside ``root``; returns its parts.
  PL.buildView = function (root, options) {
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
    const whereSel = {a: whereSelect("a", options), b: whereSelect("b", options)};
    bar.append(mirrorLabel, " frames sent at ", sizeSel, qualitySel, whereSel.a, whereSel.b, status);
    const panes = {};
    const row = el("div", "live-panes");
    for (const key of ["camera", "a", "b"]) {
      panes[key] = pane(key);
      row.append(panes[key].node);
    }
    const agreementLine = el("div", "live-agreement", "Agreement of A and B: —");
    view.append(bar, row, agreementLine);
    root.append(view);
    return {mirrorBox, sizeSel, qualitySel, status, whereSel, panes, agreementLine};
  };

  // Can this browser run the models itself? LiteRT.js and onnxruntime-web need WebAssembly with SIMD (the
  // bytes are wasm-feature-detect's SIMD probe). Returns why not, or "".
  PL.deviceUnsupported = function () {
    if (typeof WebAssembly !== "object") return "this browser cannot run models itself (WebAssembly is off)";
    const simd = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0,
                                 253, 15, 253, 98, 11]);
    try {
      if (!WebAssembly.validate(simd)) return "this browser cannot run models itself (no WebAssembly SIMD)";
    } catch (err) {
      return "this browser cannot run models itself (no WebAssembly SIMD)";
    }
    return "";
  };

  // What the live view needs from the browser, or the names of what it lacks.
  PL.missingFeatures = () => [
    ["requestVideoFrameCallback", "requestVideoFrameCallback" in HTMLVideoElement.prototype],
    ["OffscreenCanvas", typeof OffscreenCanvas !== "undefined"],
    ["camera access", Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)],
  ].filter(([, ok]) => !ok).map(([name]) => name);

  // The camera frame on screen as an ImageBitmap, at most the chosen size ("640x480").
  PL.grab = function (video, size) {
    const [w, h] = size.split("x").map(Number);
    const scale = Math.min(1, w / video.videoWidth, h / video.videoHeight);
    return createImageBitmap(video, {resizeWidth: Math.round(video.videoWidth * scale),
                                     resizeHeight: Math.round(video.videoHeight * scale), resizeQuality: "low"});
  };

  // The size frames are sent at, for a camera of video's size.
  PL.sentSize = function (video, size) {
    const [sw, sh] = size.split("x").map(Number);
    const scale = Math.min(1, sw / video.videoWidth, sh / video.videoHeight);
    return {width: Math.round(video.videoWidth * scale), height: Math.round(video.videoHeight * scale)};
  };
})(window.PlaygroundLive = window.PlaygroundLive || {});
