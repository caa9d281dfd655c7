// Worker thread of HashPool, in plain JavaScript on purpose: a .ts file would make the thread load
// Node's TypeScript stripper (about 18 MiB per thread). A stream that wants both MD5 and CRC-64 (every
// stored body does) gets a lane of the fused WebAssembly kernel (lib/md5-lanes.js), which hashes up to
// four streams at once; other streams, and a fifth one, use Node's natives for MD5, SHA-1, SHA-256
// and CRC-32 and the CRC-64 kernel the main thread compiled (lib/crc64-wasm.ts).
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { Md5Lanes } from '../../lib/md5-lanes.js';

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

const lanes = workerData.md5
  ? new Md5Lanes(workerData.md5.module, workerData.md5.tables, workerData.md5.layout, crc64Update)
  : undefined;
let pumpScheduled = false;

/**
 * Lanes are hashed after the messages that are already waiting have been queued, so streams whose
 * batches arrive together are advanced together.
 */
function schedulePump() {
  if (pumpScheduled) return;
  pumpScheduled = true;
  setImmediate(() => {
    pumpScheduled = false;
    lanes.pump();
  });
}

function start(names) {
  const wanted = new Set(names);
  const lane = wanted.has('md5') && wanted.has('crc64') ? lanes?.open() : undefined;
  return {
    lane,
    md5: wanted.has('md5') && !lane ? createHash('md5') : undefined,
    sha1: wanted.has('sha1') ? createHash('sha1') : undefined,
    sha256: wanted.has('sha256') ? createHash('sha256') : undefined,
    crc64: wanted.has('crc64') && !lane ? 0n : undefined,
    crc32: wanted.has('crc32') ? 0 : undefined,
  };
}

/** Hashes `data`; `release` hands its buffer back once nothing here needs it any more. */
function update(state, data, release) {
  state.sha1?.update(data);
  state.sha256?.update(data);
  if (state.crc32 !== undefined) state.crc32 = crc32(data, state.crc32);
  if (state.lane) {
    lanes.push(state.lane, data, release);
    schedulePump();
    return;
  }
  state.md5?.update(data);
  if (state.crc64 !== undefined) state.crc64 = crc64Update(state.crc64, data);
  release();
}

function finish(state) {
  const out = {};
  if (state.lane) Object.assign(out, lanes.finish(state.lane));
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

function dropState(id) {
  const state = states.get(id);
  if (state?.lane) lanes.drop(state.lane);
  states.delete(id);
}

parentPort.on('message', (message) => {
  try {
    switch (message.op) {
      case 'start':
        states.set(message.id, start(message.names));
        break;
      case 'update': {
        const { id, data } = message;
        // The batch buffer goes back to the main thread for reuse.
        const release = () =>
          parentPort.postMessage({ id, op: 'ack', bytes: data.length, data }, [data.buffer]);
        const state = states.get(id);
        if (state) update(state, data, release);
        else release();
        break;
      }
      case 'digest': {
        const state = states.get(message.id);
        if (state) parentPort.postMessage({ id: message.id, op: 'digest', digests: finish(state) });
        states.delete(message.id);
        break;
      }
      case 'drop':
        dropState(message.id);
        break;
    }
  } catch (err) {
    dropState(message.id);
    parentPort.postMessage({ id: message.id, op: 'error', message: err.message });
  }
});
