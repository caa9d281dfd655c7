// An HTTP pass-through in front of a test server that lets a number of multipart part PUTs through
// and holds the rest unanswered: an upload the test knows to be part-way, without racing its speed.
// Servers whose public URL is the proxy hand out part URLs through it (Host is forwarded as is).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

export interface PartGateProxy {
  url: string;
  /** Where requests go; set once the server behind listens. */
  target: string;
  /** Part PUTs let through from now on; Infinity opens the gate. */
  allow(count: number): void;
  /** Part numbers forwarded, and those the server answered 200, since the last reset(). */
  forwarded: number[];
  completed: number[];
  /** Part PUTs waiting at the gate. */
  held(): number;
  /** Opens the gate and forwards what waits at it. */
  release(): void;
  /** Forgets the counts and drops held requests. */
  reset(): void;
  close(): Promise<void>;
}

export async function startPartGateProxy(): Promise<PartGateProxy> {
  let allowed = Number.POSITIVE_INFINITY;
  let passed = 0;
  const holding = new Map<http.ServerResponse, () => void>();
  const proxy: PartGateProxy = {
    url: '',
    target: '',
    forwarded: [],
    completed: [],
    allow(count) {
      allowed = count;
      passed = 0;
    },
    held: () => holding.size,
    release() {
      allowed = Number.POSITIVE_INFINITY;
      const waiting = [...holding.values()];
      holding.clear();
      for (const forward of waiting) forward();
    },
    reset() {
      proxy.forwarded.length = 0;
      proxy.completed.length = 0;
      for (const res of holding.keys()) res.destroy();
      holding.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.reset();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, part: number | undefined) => {
    if (part !== undefined) proxy.forwarded.push(part);
    const upstream = http.request(
      `${proxy.target}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        pipeline(answer, res).then(
          () => {
            if (part !== undefined && answer.statusCode === 200) proxy.completed.push(part);
          },
          () => {},
        );
      },
    );
    upstream.once('error', () => res.destroy());
    pipeline(req, upstream).catch(() => upstream.destroy());
  };
  const server = http.createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://proxy').searchParams;
    const part =
      req.method === 'PUT' && query.has('partNumber') ? Number(query.get('partNumber')) : undefined;
    if (part !== undefined) {
      if (passed >= allowed) {
        holding.set(res, () => forward(req, res, part));
        res.once('close', () => holding.delete(res));
        return;
      }
      passed++;
    }
    forward(req, res, part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
