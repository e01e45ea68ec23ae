// The live view's on-device runtime (playground/device_js): a classic Worker (bundled by esbuild as an IIFE; LiteRT.js cannot run
// in a module worker) that runs a side's model in the visitor's page with LiteRT.js (WebAssembly, one thread)
// on the same .tflite file the server runs, with the same constants (served by the app from the zoo's own
// spec: playground/device.py), so the page's answer and the server's can be compared frame by frame.
//
// An .onnx file (a Hub model the server has cached: YuNet) runs on onnxruntime-web's WebAssembly build, one
// thread, in this same Worker; its outputs reach the family by name.
//
// Messages in:  {type: "init", wasmDir, ortDir}
//               {type: "load", side, spec, modelUrls}          spec: the JSON of /live/device/spec
//               {type: "frame", sides, seq, bitmap, mirror}    an ImageBitmap of the camera frame (transferred)
//               {type: "pixels", side, seq, rgba, width, height}  raw RGBA (tests: the server's own image)
//               {type: "controls", side, controls}             the side's sliders
// Messages out: {type: "ready", backend} | {type: "loaded", side, model} | {type: "error", side, message}
//               backend: what runs the models here, in words ("WebAssembly, 1 thread")
//               {type: "result", side, seq, model, latency_ms, items: [{box, score, keypoints, points?}]}
import {loadLiteRt, loadAndCompile, Tensor} from "@litertjs/core";
import * as ort from "onnxruntime-web/wasm";
import {FAMILIES} from "./families.js";

// LiteRT writes its own INFO and WARNING lines (XNNPACK, accelerator registry) through console.error, and
// warns through console.warn when the device has no GPU (the page runs on WebAssembly then): they are not
// errors of this page, so they stay out of the visitor's console.
const consoleError = console.error.bind(console);
console.error = (...args) => {
  if (/^(INFO|WARNING): /.test(String(args[0]))) return;
  consoleError(...args);
};
const consoleWarn = console.warn.bind(console);
console.warn = (...args) => {
  if (/^Failed to create default WebGPU device/.test(String(args[0]))) return;
  consoleWarn(...args);
};

let runtime = null;
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
  return outputs.map((t) => {
    const data = t.toTypedArray().slice();
    const shape = Array.from(t.type.layout.dimensions);
    t.delete();
    return {data, shape};
  });
}

async function run(side, seq, rgba, width, height, mirror) {
  const s = sides[side];
  if (!s) return post({type: "error", side, seq, message: "no model loaded on this device"});
  const t0 = performance.now();
  let result;
  if (s.family.run) {
    result = await s.family.run(s.models, rgba, width, height, s.spec, mirror ? width : 0, runModel, s.controls);
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
    return {session, shape: [1, 3, h, w]};
  }
  const model = await loadAndCompile(url, {accelerator: "wasm"});
  return {model, shape: Array.from(model.getInputDetails()[0].shape)};
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === "init") {
      // threads only where the page is cross-origin isolated (the app serves COOP/COEP when told to):
      // SharedArrayBuffer exists only there, and LiteRT's threaded build has no fallback
      const threads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
      if (m.ortDir) {
        ort.env.wasm.wasmPaths = m.ortDir;
        ort.env.wasm.numThreads = threads;
      }
      self.Module = {locateFile: (f) => m.wasmDir + f};
      if (threads > 1) self.Module.mainScriptUrlOrBlob = m.wasmDir + "litert_wasm_threaded_internal.js";
      runtime = loadLiteRt(m.wasmDir, threads > 1 ? {threads: true} : undefined);
      await runtime;
      post({type: "ready", backend: `WebAssembly, ${threads} thread${threads > 1 ? "s" : ""}`});
    } else if (m.type === "load") {
      await runtime;
      const family = FAMILIES[m.spec.family];
      if (!family) throw new Error(`no device version of ${m.spec.id}`);
      const models = [];
      for (const url of m.modelUrls) models.push(await loadModel(url, m.spec));
      if (sides[m.side]) for (const e of sides[m.side].models) e.model ? e.model.delete() : e.session.release();
      sides[m.side] = {spec: m.spec, models, family};
      post({type: "loaded", side: m.side, model: m.spec.id});
    } else if (m.type === "frame") {  // one camera frame for one or both sides
      const {width, height} = m.bitmap;
      const rgba = rgbaOf(m.bitmap);
      for (const side of m.sides) await run(side, m.seq, rgba, width, height, m.mirror);
    } else if (m.type === "controls") {  // the side's sliders (a mask's threshold and opacity)
      if (sides[m.side]) sides[m.side].controls = m.controls;
    } else if (m.type === "pixels") {
      await run(m.side, m.seq, m.rgba, m.width, m.height, false);
    }
  } catch (err) {
    for (const side of m.sides || [m.side]) {
      post({type: "error", side, seq: m.seq, message: String(err && err.message || err)});
    }
  }
};
