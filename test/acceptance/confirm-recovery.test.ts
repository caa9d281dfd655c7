// kill -9 inside an SMH confirm (ADR 0002 §21): a node killed while it confirms leaves the task in
// `confirming`. Restarted on its data dir, the node hands such tasks back at once, so the client's
// retry confirms (whether or not the store had completed the upload); another node takes over as soon
// as the dead node's lease has run out. No call waits for a confirmer that is gone.
//
// The kill is aimed without a hook in the server: node A reaches its store through a proxy in this
// test, which stops A's CompleteMultipartUpload (before or after the store ran it) and reports it, so
// the SIGKILL lands while A is inside confirm. Node B (in this process, on a clock the test moves)
// shares A's PostgreSQL database and store.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '../../src/app/lifecycle.ts';
import { CONFIRM_LEASE_MS } from '../../src/core/uploads/confirm-lease.ts';
import { type PostgresServer, postgresSkipReason, startPostgres } from '../helpers/postgres.ts';
import { scaleOutConfig, scaleOutEnv } from '../helpers/scale-out.ts';
import {
  type ChildServer,
  spawnServer,
  startTestServer,
  type TestClock,
  type TestServer,
  tempDir,
  testClock,
} from '../helpers/server.ts';
import {
  bytesOf,
  createToken,
  expectJson,
  md5Hex,
  putParts,
  SmhClient,
  type TaskStatus,
} from '../helpers/smh-client.ts';

/** Where the proxy stops a CompleteMultipartUpload: before the store sees it, or after it ran there. */
type TrapMode = 'before-store' | 'after-store';

/** An HTTP proxy to the store that can stop the next CompleteMultipartUpload and report it. */
class StoreProxy {
  readonly #server: Server;
  #trap: { mode: TrapMode; hit: () => void } | undefined;

  constructor(target: string) {
    this.#server = createServer((req, res) => {
      const isComplete = req.method === 'POST' && /[?&]uploadId=/.test(req.url ?? '');
      const trap = isComplete ? this.#trap : undefined;
      if (trap) this.#trap = undefined;
      if (trap?.mode === 'before-store') {
        // Never forwarded, never answered: the node waits until it dies.
        req.resume();
        trap.hit();
        return;
      }
      const upstream = request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (answer) => {
          if (trap) {
            // The store completed the upload; the node never hears of it.
            answer.resume();
            answer.once('end', trap.hit);
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Resolves once the next CompleteMultipartUpload reached the trap (and, after-store, the store answered). */
  trap(mode: TrapMode): Promise<void> {
    return new Promise((resolve) => {
      this.#trap = { mode, hit: resolve };
    });
  }

  close(): void {
    this.#server.closeAllConnections();
    this.#server.close();
  }
}

describe('a node killed inside an SMH confirm', { timeout: 300_000, skip: postgresSkipReason() }, () => {
  let pg: PostgresServer;
  let db: string;
  let external: TestServer;
  let proxy: StoreProxy;
  let proxyUrl: string;
  let nodeB: RunningServer;
  let clockB: TestClock;
  let library: { libraryId: string; librarySecret: string };
  let token: string;
  /** Node A's data dir: the same at every restart, so the node knows its earlier runs. */
  const dataDirA = tempDir('mediahost-node-a-');
  let nodeA: ChildServer | undefined;
  /** Every run of A, so that a failed test leaves none running. */
  const runsOfA: ChildServer[] = [];

  const startA = async (): Promise<SmhClient> => {
    await nodeA?.kill('SIGKILL');
    nodeA = await spawnServer(['--port', '0'], {
      ...scaleOutEnv(db, external),
      MEDIAHOST_DATA_DIR: dataDirA,
      MEDIAHOST_S3_ENDPOINT: proxyUrl,
      MEDIAHOST_S3_GRANT_SIGNATURE: 'cos',
      MEDIAHOST_WORKER_CONCURRENCY: '0',
    });
    runsOfA.push(nodeA);
    return new SmhClient({ url: nodeA.url, libraryId: library.libraryId, token });
  };

  /** Begins a multipart task on A, sends its bytes, and kills A inside the confirm. */
  async function killInsideConfirm(
    a: SmhClient,
    name: string,
    mode: TrapMode,
  ): Promise<{ confirmKey: string; data: Buffer }> {
    const data = bytesOf(name, 300_000);
    const begin = await a.beginTask('multipart', name);
    await putParts(begin, [data]);
    const trapped = proxy.trap(mode);
    const confirm = a.confirm(begin.confirmKey).then(
      (res) => `answered ${res.status}`,
      () => 'no answer',
    );
    await trapped;
    await nodeA!.kill('SIGKILL');
    assert.equal(await confirm, 'no answer', 'the confirm died with its node');
    const task = await nodeB.container.store.uploadTasks.get(begin.confirmKey);
    assert.equal(task?.state, 'confirming', 'the killed confirm left its task confirming');
    return { confirmKey: begin.confirmKey, data };
  }

  before(async () => {
    pg = await startPostgres();
    db = await pg.createDatabase();
    external = await startTestServer();
    proxy = new StoreProxy(external.url);
    proxyUrl = await proxy.listen();
    clockB = testClock();
    nodeB = await startServer(scaleOutConfig(db, external, { s3GrantSignature: 'cos' }), { clock: clockB });
    const created = nodeB.createdLibrary!;
    library = { libraryId: created.library.id, librarySecret: created.librarySecret };
    token = await createToken(nodeB.url, library, { grant: 'admin' });
  });

  after(async () => {
    for (const run of runsOfA) await run.kill('SIGKILL');
    await nodeB?.close();
    proxy?.close();
    await external?.close();
    await pg?.stop();
    rmSync(dataDirA, { recursive: true, force: true });
  });

  for (const mode of ['before-store', 'after-store'] as const) {
    it(`restarted, it hands the task back at once and the retried confirm succeeds (killed ${mode})`, async () => {
      const a = await startA();
      const { confirmKey, data } = await killInsideConfirm(a, `killed-${mode}.bin`, mode);
      const restarted = await startA();
      // Not `confirming` any more: status answers at once, and the retry completes the file.
      const status = await expectJson<TaskStatus>(await restarted.status(confirmKey), 200);
      assert.equal(status.confirmed, false);
      const file = await restarted.confirmFile(confirmKey);
      assert.equal(file.size, String(data.length));
      assert.equal(md5Hex((await restarted.download(`killed-${mode}.bin`)).body), md5Hex(data));
      // A repeated confirm answers the same file (ADR 0002 §23).
      assert.deepEqual((await restarted.confirmFile(confirmKey)).path, file.path);
      await nodeA!.kill('SIGTERM');
    });
  }

  it('another node takes the task over as soon as the lease of the dead node has run out', async () => {
    const a = await startA();
    const { confirmKey, data } = await killInsideConfirm(a, 'taken-over.bin', 'after-store');
    const b = new SmhClient({ url: nodeB.url, libraryId: library.libraryId, token });
    // Node A is not restarted. Its lease, last renewed just before the kill, runs out on B's clock.
    clockB.advance(CONFIRM_LEASE_MS + 1000);
    const file = await b.confirmFile(confirmKey);
    assert.equal(file.size, String(data.length));
    assert.equal(md5Hex((await b.download('taken-over.bin')).body), md5Hex(data));
    const task = await nodeB.container.store.uploadTasks.get(confirmKey);
    assert.equal(task?.state, 'confirmed');
    assert.equal(task?.leaseOwner, null);
  });
});
