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
  const { lock, unlock } = ConnectionMutex.prototype;
  ConnectionMutex.prototype.lock = function (this: ConnectionMutex) {
    const asked = performance.now();
    return lock.call(this).then(() => {
      const now = performance.now();
      waits.push(now - asked);
      since.set(this, now);
    });
  };
  ConnectionMutex.prototype.unlock = function (this: ConnectionMutex) {
    const from = since.get(this);
    if (from !== undefined) holds.push(performance.now() - from);
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
    };
    writeFileSync(`${file}.tmp`, JSON.stringify(report));
    renameSync(`${file}.tmp`, file);
    waits = [];
    holds = [];
    loop.reset();
    started = performance.now();
  });
}
