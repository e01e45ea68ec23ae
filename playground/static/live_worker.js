// The live view's Worker: everything per frame that need not touch the page's main thread.
// - encodes each camera frame (an ImageBitmap the page hands over) as JPEG on an OffscreenCanvas;
// - owns the live socket (playground/live_socket.py): sends frames as binary messages, an 8-byte header
//   (uint32 LE sequence number, uint8 flags: 1 = the page shows the camera mirrored) and the JPEG;
// - parses the server's JSON and decodes segmentation masks (PNG) to ImageBitmaps, so the page only draws.
// Messages from the page: {type: "open", url}, {type: "frame", bitmap, seq, mirror, quality, sides},
// {type: "resend", seq, sides} (the last frame again, for sides that freed up before a new camera frame),
// {type: "close"}, {type: "device", sides} (the sides the page runs). ``sides``: the header's side bits (2 = A, 4 = B; 0 = both).
// Messages to the page: {type: "socket", state, message?}, {type: "sent", seq, bytes, bits}, {type: "msg", data}.
"use strict";

let socket = null;
let canvas = null;
let ctx = null;
let last = null;  // the last frame sent: {seq, message}
let pinger = null;
let inPage = [];  // the sides the page runs itself: the pings say so (the server skips them)
const PING_MS = 2000;  // well inside the server's PLAYGROUND_LIVE_SILENT_S (10 s)

function post(message, transfer) {
  self.postMessage(message, transfer || []);
}

function open(url) {
  close();
  socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    if (inPage.length) socket.send(JSON.stringify({type: "ping", t: Date.now(), device: inPage}));
    post({type: "socket", state: "open"});
  };
  pinger = setInterval(() => {  // the server closes a socket that has said nothing for a while
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({type: "ping", t: Date.now(), device: inPage}));
    }
  }, PING_MS);
  socket.onclose = (event) => {
    post({type: "socket", state: "closed", code: event.code, message: event.reason || ""});
    socket = null;
  };
  socket.onerror = () => post({type: "socket", state: "error"});
  socket.onmessage = async (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (err) {
      return;  // the server only sends JSON; anything else is ignored
    }
    const transfer = [];
    for (const op of data.draw || []) {
      if (op.op === "mask" && op.png) {  // decoded here, drawn there
        const bytes = Uint8Array.from(atob(op.png), (c) => c.charCodeAt(0));
        op.bitmap = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
        delete op.png;
        transfer.push(op.bitmap);
      }
    }
    post({type: "msg", data}, transfer);
  };
}

function close() {
  clearInterval(pinger);
  pinger = null;
  if (socket) {
    socket.onclose = null;
    socket.close(1000);
    socket = null;
    post({type: "socket", state: "closed", code: 1000, message: ""});
  }
}

async function sendFrame({bitmap, seq, mirror, quality, sides}) {
  try {
    if (!socket || socket.readyState !== WebSocket.OPEN) return post({type: "sent", seq, bytes: 0});
    if (!canvas || canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      ctx = canvas.getContext("2d", {alpha: false});
    }
    ctx.drawImage(bitmap, 0, 0);
    const blob = await canvas.convertToBlob({type: "image/jpeg", quality});
    const jpeg = new Uint8Array(await blob.arrayBuffer());
    const message = new Uint8Array(8 + jpeg.length);
    new DataView(message.buffer).setUint32(0, seq, true);
    message[4] = (mirror ? 1 : 0) | (sides || 0);
    message.set(jpeg, 8);
    socket.send(message.buffer);
    last = {seq, message};
    post({type: "sent", seq, bytes: message.length, bits: sides || 6});
  } catch (err) {
    post({type: "sent", seq, bytes: 0, error: String(err)});
  } finally {
    bitmap.close();
  }
}

function resend({seq, sides}) {
  if (!last || last.seq !== seq || !socket || socket.readyState !== WebSocket.OPEN) {
    return post({type: "sent", seq, bytes: 0, resend: true});
  }
  last.message[4] = (last.message[4] & 1) | sides;
  socket.send(last.message.buffer);
  post({type: "sent", seq, bytes: last.message.length, resend: true, bits: sides});
}

self.onmessage = (event) => {
  const m = event.data;
  if (m.type === "open") open(m.url);
  else if (m.type === "frame") sendFrame(m);
  else if (m.type === "resend") resend(m);
  else if (m.type === "close") close();
  else if (m.type === "device") {
    inPage = m.sides || [];
    if (socket && socket.readyState === WebSocket.OPEN) {  // at once, not at the next ping
      socket.send(JSON.stringify({type: "ping", t: Date.now(), device: inPage}));
    }
  }
};
