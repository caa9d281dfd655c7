// The fused MD5 + CRC-64 lanes must give node:crypto's MD5 and our CRC-64 for every stream, whatever
// the lengths (around the 56- and 64-byte padding edges, across window refills), the batch sizes,
// how many streams share the kernel and when it is pumped.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc64, crc64Combine, crc64Wasm } from './crc64.ts';
// @ts-expect-error: plain JavaScript module without type declarations (loaded by the hash worker).
import { Md5Lanes } from './md5-lanes.js';
import { MD5_LAYOUT, md5CrcTables, md5WasmModule } from './md5-wasm.ts';

const SIZES = [
  0,
  1,
  55,
  56,
  63,
  64,
  65,
  127,
  128,
  1000,
  65_536,
  1_048_576,
  1_048_576 + 17,
  3 * 1_048_576 + 100,
];
const BATCHES = [1_048_576, 1000, 70_000, 64];

function newLanes(pressure?: number) {
  const module = md5WasmModule();
  assert.ok(module, 'the MD5 kernels compile');
  const crcTail = (crc: bigint, bytes: Uint8Array) => crc64Combine(crc, crc64(bytes), bytes.length);
  return new Md5Lanes(module, md5CrcTables(crc64Wasm().tables), MD5_LAYOUT, crcTail, pressure);
}

describe('Md5Lanes', () => {
  it('gives node:crypto MD5 and CRC-64 for 1 to 4 streams of awkward lengths and batchings', () => {
    const lanes = newLanes();
    for (let trial = 0; trial < 40; trial++) {
      const count = 1 + (trial % 4);
      const inputs = Array.from({ length: count }, (_, i) =>
        randomBytes(SIZES[(trial * 7 + i * 3) % SIZES.length]!),
      );
      const streams = inputs.map(() => lanes.open());
      const offsets = inputs.map(() => 0);
      let pushed = 0;
      let released = 0;
      while (offsets.some((o, i) => o < inputs[i]!.length)) {
        inputs.forEach((data, i) => {
          if (offsets[i]! >= data.length) return;
          const n = Math.min(data.length - offsets[i]!, BATCHES[(trial + i) % BATCHES.length]!);
          lanes.push(streams[i], data.subarray(offsets[i]!, offsets[i]! + n), () => released++);
          pushed++;
          offsets[i]! += n;
        });
        if (trial % 3 !== 0) lanes.pump();
      }
      inputs.forEach((data, i) => {
        const got = lanes.finish(streams[i]);
        const label = `trial ${trial}, stream ${i}, ${data.length} bytes`;
        assert.equal(got.md5.toString('hex'), createHash('md5').update(data).digest('hex'), label);
        assert.equal(got.crc64, crc64(data), label);
      });
      assert.equal(released, pushed, 'every pushed buffer is handed back once');
    }
  });

  it('hashes any subset of the lanes together and answers digests that own their bytes', () => {
    const lanes = newLanes();
    const streams = [lanes.open(), lanes.open(), lanes.open(), lanes.open()];
    lanes.drop(streams[0]);
    lanes.drop(streams[2]);
    const inputs = [randomBytes(200_000), randomBytes(130_001)];
    lanes.push(streams[1], inputs[0], () => {});
    lanes.push(streams[3], inputs[1], () => {});
    lanes.pump();
    for (const [i, stream] of [streams[1], streams[3]].entries()) {
      const { md5, crc64: crc } = lanes.finish(stream);
      assert.equal(md5.toString('hex'), createHash('md5').update(inputs[i]!).digest('hex'));
      assert.equal(crc, crc64(inputs[i]!));
      // The digest travels to the main thread by structured clone, which copies the whole
      // ArrayBuffer under a view: a slice of Buffer's shared pool would take 8 KiB with it.
      assert.equal(md5.buffer.byteLength, 16);
    }
  });

  it('has four lanes; a dropped or finished stream frees its lane', () => {
    const lanes = newLanes();
    const streams = [lanes.open(), lanes.open(), lanes.open(), lanes.open()];
    assert.ok(streams.every(Boolean));
    assert.equal(lanes.open(), undefined, 'a fifth stream gets no lane');
    lanes.drop(streams[1]);
    const again = lanes.open();
    assert.ok(again);
    lanes.push(again, Buffer.from('abc'), () => {});
    assert.equal(lanes.finish(again).md5.toString('hex'), createHash('md5').update('abc').digest('hex'));
    assert.ok(lanes.open(), 'the finished stream freed its lane');
  });

  it('waits for a lane with no bytes unless another lane has `pressure` bytes queued or it is forced', () => {
    const window = MD5_LAYOUT.windowSize - 64;
    const lanes = newLanes(1.5 * window);
    const busy = lanes.open();
    const idle = lanes.open();
    let released = 0;
    const data = randomBytes(3 * window);
    const piece = (i: number) => data.subarray(i * window, (i + 1) * window);
    lanes.push(busy, piece(0), () => released++);
    lanes.push(busy, piece(1), () => released++);
    lanes.pump();
    // Hashing the first window would have freed room for the second buffer.
    assert.equal(released, 1, 'the busy lane waited for the idle one');
    lanes.push(busy, piece(2), () => released++);
    lanes.pump();
    assert.equal(released, 2, 'with 1.5 windows queued the busy lane went on alone, then waited again');
    const tail = Buffer.from('tail');
    lanes.push(idle, tail, () => released++);
    assert.equal(lanes.finish(busy).md5.toString('hex'), createHash('md5').update(data).digest('hex'));
    assert.equal(released, 4, 'finish took in the rest of its stream and what fits the other window');
    assert.equal(lanes.finish(idle).md5.toString('hex'), createHash('md5').update(tail).digest('hex'));
  });

  it("a finishing stream does not wait for the other lanes' backlogs", () => {
    const window = MD5_LAYOUT.windowSize - 64;
    const lanes = newLanes(Number.MAX_SAFE_INTEGER);
    const finishing = lanes.open();
    const behind = lanes.open();
    let releasedBehind = 0;
    const backlog = randomBytes(3 * window);
    for (let i = 0; i < 3; i++) {
      lanes.push(behind, backlog.subarray(i * window, (i + 1) * window), () => releasedBehind++);
    }
    const small = randomBytes(1000);
    lanes.push(finishing, small, () => {});
    assert.equal(lanes.finish(finishing).md5.toString('hex'), createHash('md5').update(small).digest('hex'));
    assert.equal(releasedBehind, 1, 'only the first window of the backlog was taken in');
    assert.equal(lanes.finish(behind).md5.toString('hex'), createHash('md5').update(backlog).digest('hex'));
    assert.equal(releasedBehind, 3);
  });

  it('a lone open lane is never held back', () => {
    const lanes = newLanes(Number.MAX_SAFE_INTEGER);
    const only = lanes.open();
    let released = 0;
    const data = randomBytes(3 * MD5_LAYOUT.windowSize);
    lanes.push(only, data, () => released++);
    lanes.pump();
    assert.equal(released, 1, 'all of it went through the window without a finish');
    assert.equal(lanes.finish(only).md5.toString('hex'), createHash('md5').update(data).digest('hex'));
  });
});
