// Debian's nginx for tests: a child process in the foreground with a generated main configuration that
// includes a site file, and a self-signed certificate made with openssl. Also decides whether a suite
// that needs them skips (with the reason) or fails (under CI, where .ci/run installs both).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...SBIN_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why startNginx() or selfSignedCertificate() cannot work here, or undefined when they can. */
export function nginxUnavailableReason(): string | undefined {
  const missing = ['nginx', 'openssl'].filter((tool) => findExecutable(tool) === undefined);
  if (missing.length === 0) return undefined;
  return `${missing.join(' and ')} not found on PATH or in ${SBIN_DIRS.join(', ')}; install the Debian packages (.ci/run does)`;
}

/** The `skip` option of a suite that needs nginx: the reason locally, never under CI (where it must run). */
export function nginxSkipReason(): string | undefined {
  if (process.env.CI) return undefined;
  return nginxUnavailableReason();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not get a free port'));
      });
    });
  });
}

export interface Certificate {
  certPath: string;
  keyPath: string;
  /** The certificate in PEM, to trust as its own authority. */
  pem: string;
}

/** A self-signed certificate (valid two days) for the given DNS names, written under `dir`. */
export async function selfSignedCertificate(dir: string, names: readonly string[]): Promise<Certificate> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const openssl = findExecutable('openssl');
  if (!openssl) throw new Error(nginxUnavailableReason());
  await promisify(execFile)(openssl, [
    ...['req', '-x509', '-nodes', '-days', '2', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
    ...['-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`],
    ...['-keyout', keyPath, '-out', certPath],
  ]);
  return { certPath, keyPath, pem: readFileSync(certPath, 'utf8') };
}

export interface NginxServer {
  /** What nginx printed (its error log goes to stderr). */
  output(): string;
  stop(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Runs nginx in the foreground with `site` included in its http block, as Debian's nginx.conf includes
 * conf.d (with the same gzip and sendfile settings), and resolves once `port` accepts connections.
 */
export async function startNginx(options: { dir: string; site: string; port: number }): Promise<NginxServer> {
  const nginx = findExecutable('nginx');
  if (!nginx) throw new Error(nginxUnavailableReason());
  const { dir, port } = options;
  // Run as root, nginx's workers switch to `nobody`, which must reach the temporary directories.
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'site.conf'), options.site);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr warn;',
      'events { worker_connections 256; }',
      'http {',
      '  sendfile on;',
      '  tcp_nopush on;',
      '  default_type application/octet-stream;',
      '  access_log off;',
      '  gzip on;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `  ${kind}_temp_path ${join(dir, kind)};`,
      ),
      `  include ${join(dir, 'site.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(
    nginx,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const keep = (data: Buffer) => lines.push(data.toString());
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const output = () => lines.join('');
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    // SIGTERM is nginx's fast shutdown; its workers go with the master.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exitOf(child), sleep(STOP_TIMEOUT_MS)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exitOf(child);
    process.off('exit', killOnExit);
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`nginx exited with ${child.exitCode ?? child.signalCode}:\n${output()}`);
    }
    if (await accepts(port)) return { output, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not listen on ${port} within ${READY_TIMEOUT_MS} ms:\n${output()}`);
    }
    await sleep(50);
  }
}

export function nginxTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mediahost-nginx-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
