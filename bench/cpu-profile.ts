// Reading V8 CPU profiles (--cpu-prof) of a mediahost child: self time by category and by function
// over a window of the run, scaled to the CPU each thread used (from /proc).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The category a function's self time is counted under. */
function category(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native, unattributed';
  if (url.startsWith('wasm://') || /md5|crc64|hash/.test(url)) return 'hashing (wasm/js kernels)';
  if (/node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify)/.test(url)) return 'fastify';
  if (/node_modules\/@(aws|smithy)/.test(url)) return 'AWS SDK';
  if (/node_modules\/(pino|kysely)/.test(url)) return url.includes('kysely') ? 'kysely' : 'pino';
  if (url.includes('node_modules/')) return 'other dependencies';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node streams';
  if (url.startsWith('node:internal/fs') || url.startsWith('node:fs')) return 'node fs';
  if (/node:(_http|internal\/http|http|net|internal\/net|internal\/stream_base)/.test(url))
    return 'node http/net';
  if (url.startsWith('node:')) return `node ${url.replace('node:internal/', '')}`;
  if (url === '') return `native: ${fn || '(anonymous)'}`;
  const src = /\/(src|bench)\/(.*)$/.exec(url);
  return src ? `mediahost ${src[1]}/${src[2]}` : `other ${url}`;
}

/**
 * Self time (seconds) by category and by function, of the samples taken between `from` and `to`
 * (microseconds of the monotonic clock, which V8's profile timestamps and process.hrtime share).
 */
export function selfTimes(
  profile: Profile,
  from: number,
  to: number,
): { byCategory: Map<string, number>; byFunction: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at > to) return;
    const seconds = delta / 1e6;
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const cat = category(functionName, url);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + seconds);
    const where = url ? `${url.replace(/^.*\/(src|node_modules|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + seconds);
  });
  return { byCategory, byFunction };
}

/**
 * Each entry's share of the thread's busy samples, and that share of the thread's CPU per GiB from
 * /proc: a profile's sample intervals are wall time, so on a loaded machine they also count the time
 * the thread waited for a core; shares are what the profile can tell.
 */
export function table(map: Map<string, number>, cpuPerUnit: number, top: number, unit: string): string {
  const busy = [...map].filter(([k]) => k !== 'idle' && !k.startsWith('(idle)'));
  const total = busy.reduce((s, [, v]) => s + v, 0);
  return busy
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([k, v]) =>
        `    ${((100 * v) / total).toFixed(1).padStart(5)}%  ~${(((unit === 'GiB' ? 1 : 1000) * cpuPerUnit * v) / total).toFixed(3)} CPU-${unit === 'GiB' ? 's' : 'ms'}/${unit}  ${k}`,
    )
    .join('\n');
}

/**
 * What the profiles in `dir` say about the window [from, to] (microseconds, process.hrtime's clock),
 * each thread's shares scaled to its CPU seconds per `unit` (`cpu`, by /proc thread name).
 */
export function summarise(
  dir: string,
  from: number,
  to: number,
  cpu: Map<string, number>,
  top: number,
  unit = 'GiB',
): string {
  let out = '';
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
    const { byCategory, byFunction } = selfTimes(profile, from, to);
    if (byCategory.size === 0) continue; // the process before serve's restart
    // CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: thread 0 is the main thread.
    const thread = file.split('.')[4] === '0' ? 'MainThread' : 'WorkerThread';
    const used = cpu.get(thread) ?? 0;
    out +=
      `  ${thread} profile (${unit === 'GiB' ? `${used.toFixed(2)} CPU-s` : `${(used * 1000).toFixed(2)} CPU-ms`}/${unit}), share of its busy samples in the window:\n` +
      `  by category:\n${table(byCategory, used, 30, unit)}\n  top functions:\n${table(byFunction, used, top, unit)}\n`;
  }
  return out;
}
