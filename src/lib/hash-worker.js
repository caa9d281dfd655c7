// Worker thread of HashPool, in plain JavaScript on purpose: a .ts file would make the thread load
// Node's TypeScript stripper (about 18 MiB per thread). It computes MD5, SHA-1, SHA-256 and CRC-32
// with Node's natives and CRC-64 with the WebAssembly kernel the main thread compiled (crc64-wasm.ts).
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { crc32 } from 'node:zlib';

const { module, tables, window: area } = workerData.crc64;
const instance = new WebAssembly.Instance(module);
new Uint8Array(instance.exports.mem.buffer).set(tables, 0);
const windowBytes = new Uint8Array(instance.exports.mem.buffer, area.offset, area.size);
const wasmCrc = instance.exports.crc;

function crc64Update(value, buf) {
  let c = value;
  for (let off = 0; off < buf.length; off += area.size) {
    const piece = buf.subarray(off, off + area.size);
    windowBytes.set(piece);
    c = BigInt.asUintN(64, wasmCrc(BigInt.asIntN(64, c), area.offset, piece.length));
  }
  return c;
}

function start(names) {
  const wanted = new Set(names);
  return {
    md5: wanted.has('md5') ? createHash('md5') : undefined,
    sha1: wanted.has('sha1') ? createHash('sha1') : undefined,
    sha256: wanted.has('sha256') ? createHash('sha256') : undefined,
    crc64: wanted.has('crc64') ? 0n : undefined,
    crc32: wanted.has('crc32') ? 0 : undefined,
  };
}

function update(state, data) {
  state.md5?.update(data);
  state.sha1?.update(data);
  state.sha256?.update(data);
  if (state.crc64 !== undefined) state.crc64 = crc64Update(state.crc64, data);
  if (state.crc32 !== undefined) state.crc32 = crc32(data, state.crc32);
}

function finish(state) {
  const out = {};
  if (state.md5) out.md5 = state.md5.digest();
  if (state.sha1) out.sha1 = state.sha1.digest();
  if (state.sha256) out.sha256 = state.sha256.digest();
  if (state.crc64 !== undefined) out.crc64 = state.crc64;
  if (state.crc32 !== undefined) {
    out.crc32 = Buffer.allocUnsafe(4);
    out.crc32.writeUInt32BE(state.crc32 >>> 0, 0);
  }
  return out;
}

const states = new Map();

parentPort.on('message', (message) => {
  try {
    switch (message.op) {
      case 'start':
        states.set(message.id, start(message.names));
        break;
      case 'update': {
        const state = states.get(message.id);
        if (state) update(state, message.data);
        // The batch buffer goes back to the main thread for reuse.
        parentPort.postMessage(
          { id: message.id, op: 'ack', bytes: message.data.length, data: message.data },
          [message.data.buffer],
        );
        break;
      }
      case 'digest': {
        const state = states.get(message.id);
        states.delete(message.id);
        if (state) parentPort.postMessage({ id: message.id, op: 'digest', digests: finish(state) });
        break;
      }
      case 'drop':
        states.delete(message.id);
        break;
    }
  } catch (err) {
    states.delete(message.id);
    parentPort.postMessage({ id: message.id, op: 'error', message: err.message });
  }
});
