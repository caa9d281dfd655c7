#!/usr/bin/env node
// Entry point of the `mediahost` command: hands over to the TypeScript CLI (Node 24 strips types).
//
// `serve` tunes V8's garbage collector for a server that streams request bodies. Every socket read
// is a new ArrayBuffer, counted as external memory; with V8's defaults (a young generation of up to
// 64 MiB, and external bytes charged against the old generation's limit) those short-lived buffers
// were collected by full mark-compacts instead of cheap scavenges. Measured with 4 bodies of 8 MiB
// streaming in (bench/README.md): 80-100 mark-compacts per 2 GiB before, one after, with less CPU per
// GiB and a lower memory peak. Set MEDIAHOST_NO_V8_FLAGS=1 to keep V8's defaults.
//
// The young generation is sized when V8 starts, so `serve` first replaces itself (execve: the same
// process id, so signals and supervisors see no difference) with a Node started with that flag,
// unless the operator already chose a size. The other flag can be set at run time. The restart also
// caps glibc's malloc arenas at 2 (MALLOC_ARENA_MAX, unless already set): with glibc's default of
// up to 8 per core, buffers freed on different threads stayed resident apart, ~10 MiB more at peak.
import process from 'node:process';
import { setFlagsFromString } from 'node:v8';

// The sources are TypeScript, which Node runs without flags from 22.18 (23.6 on the 23 line). An older
// Node would fail on the first import with ERR_UNKNOWN_FILE_EXTENSION; say what is needed instead.
const [major, minor] = process.versions.node.split('.').map(Number);
if (!(major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18))) {
  process.stderr.write(
    `mediahost: needs Node.js 22.18 or later (24 recommended) to run its TypeScript sources; ${process.execPath} is ${process.version}. ` +
      'npm start and npx mediahost use the Node.js 24 that npm installs with mediahost (node_modules/.bin/node).\n',
  );
  process.exit(1);
}

// A 1 MiB semi-space: with the hashing and writes of 2026-11-22 it peaked ~9 MiB lower than 2 MiB on
// a 5 GiB upload at the same CPU per GiB (bench/README.md).
const START_FLAGS = ['--max-semi-space-size=1'];
const RUNTIME_FLAGS = '--external-memory-accounted-in-global-limit';

function youngGenerationChosen() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return given.some((arg) => /^--(max-|min-)?semi-space-size/.test(arg));
}

if (process.argv[2] === 'serve' && !process.env.MEDIAHOST_NO_V8_FLAGS) {
  if (typeof process.execve === 'function' && !youngGenerationChosen()) {
    const args = [...START_FLAGS, ...process.execArgv, ...process.argv.slice(1)];
    const env = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };
    process.execve(process.execPath, [process.execPath, ...args], env);
  }
  // The flag exists from V8 13 (Node 24); older versions would print a warning for it.
  if (Number(process.versions.node.split('.')[0]) >= 24) setFlagsFromString(RUNTIME_FLAGS);
}
await import('../src/main.ts');
