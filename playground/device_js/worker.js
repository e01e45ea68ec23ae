// The live view's on-device runtime (playground/device_js): a classic Worker (bundled by esbuild as an IIFE; LiteRT.js cannot run
// in a module worker) that runs a side's model in the visitor's page with LiteRT.js (WebGPU where the device
// has a GPU, else WebAssembly: threads where the page is cross-origin isolated) on the same .tflite file the server runs, with the same constants (served by the app from the zoo's own
// spec: playground/device.py), so the page's answer and the server's can be compared frame by frame.
//
// An .onnx file (a Hub model the server has cached: YuNet) runs on onnxruntime-web's WebAssembly build, one
// thread, in this same Worker; its outputs reach the family by name.
//
// Messages in:  {type: "init", wasmDir, ortDir, accelerator}   accelerator: "auto" (default), "webgpu", "wasm"
//               {type: "load", side, spec, modelUrls}          spec: the JSON of /live/device/spec
//               {type: "frame", sides, seq, bitmap, mirror}    an ImageBitmap of the camera frame (transferred)
//               {type: "pixels", side, seq, rgba, width, height, stream}  raw RGBA (tests: the server's own
//                                                              image; stream: as the next frame of a stream)
//               {type: "controls", side, controls}             the side's sliders
// Messages out: {type: "ready", backend} | {type: "loaded", side, model, backend, note}
//               {type: "error", side, message}
//               {type: "progress", url, label, loaded, total}    a file's bytes as they arrive (first use)
//               backend: what runs the models here, in words ("WebAssembly, 1 thread", "WebGPU"); note: why
//               a model that was to run on WebGPU runs on WebAssembly instead
//               {type: "result", side, seq, model, latency_ms, items: [{box, score, keypoints, points?}]}
import {loadLiteRt, loadAndCompile, Tensor} from "@litertjs/core";
import * as ort from "onnxruntime-web/wasm";
import {FAMILIES} from "./families.js";

// LiteRT writes its own INFO and WARNING lines (XNNPACK, accelerator registry) through console.error, and
// warns through console.warn when the device has no GPU (the page runs on WebAssembly then): they are not
// errors of this page, so they stay out of the visitor's console.
const consoleError = console.error.bind(console);
console.error = (...args) => {
  const line = String(args[0]);
  if (/^(INFO|WARNING): /.test(line)) return;
  // WebGPU's report of a model it cannot run whole: handled (that model runs on WebAssembly, its readout says so)
  if (/^ERROR: Following operations are not supported by GPU delegate|operations will run on the GPU/.test(line)) return;
  consoleError(...args);
};
const consoleWarn = console.warn.bind(console);
console.warn = (...args) => {
  if (/^Failed to create default WebGPU device|Model not fully compiled for/.test(String(args[0]))) return;
  consoleWarn(...args);
};

// First use: every file this Worker fetches (the runtime's WebAssembly, each model's file) reports its bytes as
// they arrive, so the page can say what it fetches, with sizes, and show a bar; a later visit reads them from
// the browser's cache (the app serves them cacheable, the models immutable by hash) and the bar flashes by.
const labels = new Map();  // URL prefix -> what it is, in words
const realFetch = self.fetch.bind(self);
self.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const url = typeof input === "string" ? input : input.url;
  const label = [...labels].find(([prefix]) => url.startsWith(prefix));
  const total = Number(response.headers.get("content-length")) || 0;
  if (!label || !response.body || !total) return response;
  let loaded = 0, last = 0;
  const report = (force) => {
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    post({type: "progress", url, label: label[1], loaded, total});
  };
  report(true);
  const counted = response.body.pipeThrough(new TransformStream({
    transform(chunk, controller) { loaded += chunk.byteLength; report(loaded === total); controller.enqueue(chunk); },
  }));
  return new Response(counted, {status: response.status, statusText: response.statusText, headers: response.headers});
};

let runtime = null;
let threads = 1;
let accelerator = "wasm";  // what runs the .tflite models here: "webgpu" where the device has a GPU, else "wasm"

// "auto": WebGPU where the browser offers a hardware adapter (a software one, such as SwiftShader, is slower
// than WebAssembly); "webgpu": any adapter (the tests' SwiftShader); "wasm": never.
async function chooseAccelerator(want) {
  if (want === "wasm" || !self.navigator.gpu) return "wasm";
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return "wasm";
    const software = adapter.info ? adapter.info.isFallbackAdapter : adapter.isFallbackAdapter;
    return want === "auto" && software ? "wasm" : "webgpu";
  } catch (err) {
    return "wasm";
  }
}

const wasmWords = () => `WebAssembly, ${threads} thread${threads > 1 ? "s" : ""}`;
const sides = {};  // side -> {spec, model, family}
let canvas = null;
let ctx = null;

const post = (m) => self.postMessage(m);

function rgbaOf(bitmap) {
  if (!canvas || canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    ctx = canvas.getContext("2d", {willReadFrequently: true});
  }
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height).data;
}

async function runModel(entry, input) {
  if (entry.session) {  // onnxruntime-web: outputs by name, as the server's onnxruntime gives them
    const out = await entry.session.run({[entry.session.inputNames[0]]: new ort.Tensor("float32", input, entry.shape)});
    const named = {};
    for (const [name, t] of Object.entries(out)) { named[name] = {data: t.data, shape: Array.from(t.dims)}; t.dispose(); }
    return named;
  }
  const outputs = await entry.model.run(new Tensor(input, entry.shape));
  const out = [];
  for (const t of outputs) {  // a WebGPU model's outputs are read back from the GPU
    const data = t.accelerator === "wasm" ? t.toTypedArray().slice() : (await t.data()).slice();
    out.push({data, shape: Array.from(t.type.layout.dimensions)});
    t.delete();
  }
  return out;
}

async function run(side, seq, rgba, width, height, mirror, stream) {
  const s = sides[side];
  if (!s) return post({type: "error", side, seq, message: "no model loaded on this device"});
  const t0 = performance.now();
  let result;
  if (s.family.run) {
    // a camera frame continues the side's stream (s.memory: what the family keeps between frames, reset
    // when a model loads); a single picture stands alone
    result = await s.family.run(s.models, rgba, width, height, s.spec, mirror ? width : 0, runModel, s.controls,
                                stream ? s.memory : null);
  } else {
    const {input, meta} = s.family.preprocess(rgba, width, height, s.spec);
    result = s.family.postprocess(await runModel(s.models[0], input), meta, s.spec, mirror ? width : 0);
  }
  const transfer = result.bitmap ? [result.bitmap] : [];
  self.postMessage({type: "result", side, seq, model: s.spec.id, latency_ms: performance.now() - t0, ...result},
                   transfer);
}

async function loadModel(url, spec) {
  if (spec.runtime === "onnx") {
    const session = await ort.InferenceSession.create(url, {executionProviders: ["wasm"]});
    const [w, h] = spec.input;
    return {session, shape: [1, 3, h, w], backend: wasmWords(), note: ""};  // ORT's WebAssembly build only
  }
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  let model = null, backend = wasmWords(), why = "";
  if (accelerator === "webgpu") {
    try {
      model = await loadAndCompile(bytes, {accelerator: "webgpu"});
      backend = "WebGPU";
      if (!model.isFullyAccelerated) {  // split between WebGPU and WebAssembly: measured wrong (BlazePose's
        model.delete();                // detector, whose sparse weights WebGPU cannot densify), so it runs whole
        model = null;                  // on WebAssembly
        backend = wasmWords();
        why = "some of its operations have no WebGPU version";
      }
    } catch (err) {  // no device, a compile error: the same file on WebAssembly, saying so
      why = String(err && err.message || err);
    }
  }
  if (!model) model = await loadAndCompile(bytes, {accelerator: "wasm"});
  return {model, shape: Array.from(model.getInputDetails()[0].shape), backend,
          note: why ? `WebGPU could not run it (${why.slice(0, 120)})` : ""};
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === "init") {
      // threads only where the page is cross-origin isolated (the app serves COOP/COEP when told to):
      // SharedArrayBuffer exists only there, and LiteRT's threaded build has no fallback
      threads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
      accelerator = await chooseAccelerator(m.accelerator || "auto");
      labels.set(new URL(m.wasmDir, self.location.href).href, "the model engine for your browser");
      if (m.ortDir) {
        labels.set(new URL(m.ortDir, self.location.href).href, "the model engine for ONNX models");
        ort.env.wasm.wasmPaths = m.ortDir;
        ort.env.wasm.numThreads = threads;
      }
      self.Module = {locateFile: (f) => m.wasmDir + f};
      if (threads > 1) self.Module.mainScriptUrlOrBlob = m.wasmDir + "litert_wasm_threaded_internal.js";
      runtime = loadLiteRt(m.wasmDir, threads > 1 ? {threads: true} : undefined);
      await runtime;
      post({type: "ready", backend: accelerator === "webgpu" ? "WebGPU" : wasmWords()});
    } else if (m.type === "load") {
      await runtime;
      const family = FAMILIES[m.spec.family];
      if (!family) throw new Error(`no device version of ${m.spec.id}`);
      const models = [];
      m.modelUrls.forEach((url, i) => labels.set(url, m.modelUrls.length > 1
        ? `${m.spec.name} (file ${i + 1} of ${m.modelUrls.length})` : m.spec.name));
      for (const url of m.modelUrls) models.push(await loadModel(url, m.spec));
      if (sides[m.side]) for (const e of sides[m.side].models) e.model ? e.model.delete() : e.session.release();
      sides[m.side] = {spec: m.spec, models, family, memory: {}};
      const backend = models.every((e) => e.backend === "WebGPU") ? "WebGPU"
        : models.some((e) => e.backend === "WebGPU") ? `WebGPU and ${wasmWords()}` : wasmWords();
      post({type: "loaded", side: m.side, model: m.spec.id, backend,
            note: models.map((e) => e.note).filter(Boolean)[0] || ""});
    } else if (m.type === "frame") {  // one camera frame for one or both sides
      const {width, height} = m.bitmap;
      const rgba = rgbaOf(m.bitmap);
      for (const side of m.sides) await run(side, m.seq, rgba, width, height, m.mirror, true);
    } else if (m.type === "controls") {  // the side's sliders (a mask's threshold and opacity)
      if (sides[m.side]) sides[m.side].controls = m.controls;
    } else if (m.type === "pixels") {
      await run(m.side, m.seq, m.rgba, m.width, m.height, false, Boolean(m.stream));
    }
  } catch (err) {
    for (const side of m.sides || [m.side]) {
      post({type: "error", side, seq: m.seq, message: String(err && err.message || err)});
    }
  }
};
