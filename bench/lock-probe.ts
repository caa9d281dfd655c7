// Preloaded into a mediahost child (`node --import ./bench/lock-probe.ts`) by bench/many-uploads.ts:
// times every wait for, and every hold of, the single metadata connection (ConnectionMutex, which
// serialises all SQLite work, writes and reads), and the event loop's delay. On SIGUSR2 it writes
// what it gathered since the last signal to $BENCH_LOCK_PROBE_FILE and starts again. No source of
// mediahost changes: the prototype is wrapped before the server loads the module.
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ConnectionMutex } from '../src/adapters/metadata/connection-mutex.ts';

const file = process.env.BENCH_LOCK_PROBE_FILE;
if (file) {
  let waits: number[] = [];
  let holds: number[] = [];
  const since = new WeakMap<ConnectionMutex, number>();
  // BENCH_LOCK_PROBE_STACKS=1 (a diagnosis, it costs time): where the holds of 2 ms or more began.
  const stacks = process.env.BENCH_LOCK_PROBE_STACKS === '1';
  const holder = new WeakMap<ConnectionMutex, Error>();
  let longHolds = new Map<string, { count: number; ms: number }>();
  const { lock, unlock } = ConnectionMutex.prototype;
  ConnectionMutex.prototype.lock = function (this: ConnectionMutex) {
    const asked = performance.now();
    return lock.call(this).then(() => {
      const now = performance.now();
      waits.push(now - asked);
      since.set(this, now);
      if (stacks) holder.set(this, new Error('held'));
    });
  };
  ConnectionMutex.prototype.unlock = function (this: ConnectionMutex) {
    const from = since.get(this);
    if (from !== undefined) {
      const held = performance.now() - from;
      holds.push(held);
      const stack = holder.get(this)?.stack;
      if (stack && held >= 2) {
        const where = stack
          .split('\n')
          .filter((l) => l.includes('/src/') && !l.includes('/adapters/metadata/sqlite/'))
          .slice(0, 4)
          .map((l) =>
            l
              .trim()
              .replace(/^at /, '')
              .replace(/\(?file:\/\/.*\/src\//, '(src/'),
          )
          .join(' < ');
        const seen = longHolds.get(where) ?? { count: 0, ms: 0 };
        seen.count++;
        seen.ms += held;
        longHolds.set(where, seen);
      }
    }
    unlock.call(this);
  };
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let started = performance.now();
  process.on('SIGUSR2', () => {
    const report = {
      seconds: (performance.now() - started) / 1000,
      waits,
      holds,
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
      longHolds: [...longHolds].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8),
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(report));
    renameSync(`${file}.tmp`, file);
    waits = [];
    holds = [];
    longHolds = new Map();
    loop.reset();
    started = performance.now();
  });
}
