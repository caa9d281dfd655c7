// Acceptance over HTTP: the SMH namespace (spec smh §2.3.9–2.3.14, §2.4, §3.3; ADR 0002 §12–17) —
// directories (create, list in marker and page modes, info, HEAD, delete, move), files (info,
// download, HEAD, delete, move, copy), conflict strategies, name rules and the JSON error shape.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestClock, type TestServer, testClock } from '../helpers/server.ts';

const SUITE = { timeout: 240_000 };

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field
type Json = Record<string, any>;

interface Reply {
  status: number;
  headers: Headers;
  body: Json | undefined;
  text: string;
}

let server: TestServer;
let lib: string;
let token: string;
const clock: TestClock = testClock();

const enc = (path: string): string => path.split('/').map(encodeURIComponent).join('/');
const dirUrl = (path: string): string => `/directory/${lib}/-/${enc(path)}`;
const fileUrl = (path: string): string => `/file/${lib}/-/${enc(path)}`;

async function call(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; token?: string } = {},
): Promise<Reply> {
  const auth = `access_token=${options.token ?? token}`;
  const res = await fetch(`${server.url}/api/v1${path}${path.includes('?') ? '&' : '?'}${auth}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').includes('json') && text !== '';
  return {
    status: res.status,
    headers: res.headers,
    body: isJson ? (JSON.parse(text) as Json) : undefined,
    text,
  };
}

/** A request with its path sent verbatim (fetch would resolve `.` and `..` segments away). */
function rawCall(method: string, path: string): Promise<{ status: number; body: Json }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method, path: `/api/v1${path}?access_token=${token}` },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectOk(reply: Reply, status: number, what = ''): Json {
  assert.equal(reply.status, status, `${what} ${reply.text}`);
  return reply.body ?? {};
}

/** SMH errors: JSON `{code, message, requestId}` (spec smh §1.5); HEAD answers carry none. */
function expectError(reply: Reply, status: number, code: string, what = ''): void {
  assert.equal(reply.status, status, `${what} ${reply.text}`);
  assert.equal(reply.body?.code, code, `${what} ${reply.text}`);
}

async function mkdir(path: string, query = ''): Promise<Json> {
  return expectOk(await call('PUT', `${dirUrl(path)}${query}`), 201, `mkdir ${path}`);
}

/** The simple upload flow: begin PUT, PUT the bytes to `url` with `headers`, confirm. */
async function upload(path: string, content: string, headers: Record<string, string> = {}): Promise<Json> {
  const begin = expectOk(await call('PUT', fileUrl(path), { headers }), 201, `begin ${path}`);
  const put = await fetch(begin.url, { method: 'PUT', headers: begin.headers, body: content });
  assert.equal(put.status, 200, await put.text());
  return expectOk(await call('POST', `/file/${lib}/-/${begin.confirmKey}?confirm`), 200, `confirm ${path}`);
}

/** The bytes a file's download redirect leads to. */
async function download(path: string): Promise<string> {
  const reply = await call('GET', fileUrl(path));
  assert.equal(reply.status, 302, reply.text);
  const res = await fetch(reply.headers.get('location')!);
  assert.equal(res.status, 200);
  return res.text();
}

async function exists(path: string): Promise<boolean> {
  const reply = await call('HEAD', dirUrl(path));
  const file = await call('HEAD', fileUrl(path));
  return reply.status === 200 || file.status === 200;
}

async function spaceSize(): Promise<number> {
  return Number(expectOk(await call('GET', `/space/${lib}/-/size`), 200).size);
}

async function list(path: string, query: string): Promise<Json> {
  return expectOk(await call('GET', `${dirUrl(path)}?${query}`), 200, `list ${path}?${query}`);
}

/** Follows nextMarker to the end; the names in the order served. */
async function walk(
  path: string,
  query: string,
  between?: (page: number) => Promise<void>,
): Promise<string[]> {
  const names: string[] = [];
  let marker = '';
  for (let page = 0; page < 200; page++) {
    const body = await list(path, `${query}${marker === '' ? '' : `&marker=${encodeURIComponent(marker)}`}`);
    names.push(...(body.contents as Json[]).map((e) => e.name as string));
    if (body.nextMarker === undefined) return names;
    assert.equal(typeof body.nextMarker, 'string');
    marker = body.nextMarker;
    await between?.(page);
  }
  throw new Error('the listing did not end');
}

type OrderBy = 'name' | 'size' | 'modificationTime' | 'creationTime';

/** Spec smh §2.4 / ADR 0002 §15: directories first unless union; ties by name in byte order. */
function expectedOrder(entries: Json[], orderBy: OrderBy, desc: boolean, union: boolean): string[] {
  const byName = (a: Json, b: Json): number => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
  const value = (e: Json): number =>
    orderBy === 'size'
      ? Number(e.size ?? 0)
      : Date.parse(orderBy === 'creationTime' ? e.creationTime : e.modificationTime);
  const sign = desc ? -1 : 1;
  return [...entries]
    .sort((a, b) => {
      if (!union && a.type !== b.type) return a.type === 'dir' ? -1 : 1;
      if (orderBy === 'name') return sign * byName(a, b);
      return sign * (value(a) - value(b)) || byName(a, b);
    })
    .map((e) => e.name as string);
}

describe('SMH namespace', SUITE, () => {
  before(async () => {
    server = await startTestServer({}, { clock });
    lib = server.libraryId;
    const reply = await fetch(
      `${server.url}/api/v1/token?library_id=${lib}&library_secret=${server.librarySecret}&grant=admin`,
    );
    token = ((await reply.json()) as Json).accessToken;
  });
  after(async () => {
    await server?.close();
  });

  describe('directories', () => {
    it('creates every missing parent in one call', async () => {
      const created = await mkdir('a/b/c', '?with_inode=1');
      assert.deepEqual(created.path, ['a', 'b', 'c']);
      assert.match(created.inode, /^\w+$/);
      assert.match(created.creationTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      for (const path of ['a', 'a/b', 'a/b/c'])
        assert.equal((await call('HEAD', dirUrl(path))).status, 200, path);
      // Existing parents are reused; only the last segment is new.
      assert.deepEqual((await mkdir('a/b/d')).path, ['a', 'b', 'd']);
      assert.deepEqual(
        (await list('a/b', 'limit=100')).contents.map((e: Json) => e.name),
        ['c', 'd'],
      );
    });

    it('keeps metaData and labels given at creation', async () => {
      const body = { metaData: { color: 'blue' }, labels: ['x', 'y'] };
      const created = expectOk(await call('PUT', dirUrl('with-meta'), { body }), 201);
      assert.deepEqual(created.metaData, { color: 'blue' });
      assert.deepEqual(created.labels, ['x', 'y']);
      const info = expectOk(await call('GET', `${dirUrl('with-meta')}?info`), 200);
      assert.deepEqual(info.labels, ['x', 'y']);
    });

    it('resolves an existing name: ask (default) 409, rename picks "bar (1)", then "bar (2)"', async () => {
      await mkdir('foo/bar');
      expectError(await call('PUT', dirUrl('foo/bar')), 409, 'SameNameDirectoryOrFileExists');
      expectError(
        await call('PUT', `${dirUrl('foo/bar')}?conflict_resolution_strategy=ask`),
        409,
        'SameNameDirectoryOrFileExists',
      );
      assert.deepEqual((await mkdir('foo/bar', '?conflict_resolution_strategy=rename')).path, [
        'foo',
        'bar (1)',
      ]);
      assert.deepEqual((await mkdir('foo/bar', '?conflict_resolution_strategy=rename')).path, [
        'foo',
        'bar (2)',
      ]);
      // Spec smh §3.3: directories know only ask and rename.
      const overwrite = await call('PUT', `${dirUrl('foo/bar')}?conflict_resolution_strategy=overwrite`);
      expectError(overwrite, 400, 'InvalidConflictResolutionStrategy');
      // A file of the same name conflicts as well.
      await upload('foo/file-or-dir', 'f');
      expectError(await call('PUT', dirUrl('foo/file-or-dir')), 409, 'SameNameDirectoryOrFileExists');
      assert.deepEqual((await mkdir('foo/file-or-dir', '?conflict_resolution_strategy=rename')).path, [
        'foo',
        'file-or-dir (1)',
      ]);
    });

    it('renames a dotted directory name again and again, never picking a taken name', async () => {
      await mkdir('dots/v1.2');
      const renamed = [];
      for (let i = 0; i < 3; i++)
        renamed.push((await mkdir('dots/v1.2', '?conflict_resolution_strategy=rename')).path.at(-1));
      assert.deepEqual(renamed, ['v1 (1).2', 'v1 (2).2', 'v1 (3).2']);
    });

    it('refuses a parent segment that is a file (409, even with rename) and the root (400)', async () => {
      await mkdir('p');
      await upload('p/plain.txt', 'x');
      for (const strategy of ['ask', 'rename']) {
        const reply = await call(
          'PUT',
          `${dirUrl('p/plain.txt/child/more')}?conflict_resolution_strategy=${strategy}`,
        );
        expectError(reply, 409, 'SameNameDirectoryOrFileExists', strategy);
      }
      assert.equal(await download('p/plain.txt'), 'x', 'the file is untouched');
      expectError(await call('PUT', `/directory/${lib}/-`), 400, 'RootDirectoryNotAllowed');
      expectError(await call('PUT', `/directory/${lib}/-/`), 400, 'RootDirectoryNotAllowed');
    });

    it('answers ?info for directories, files and the root, HEAD 200/404 without a body', async () => {
      await mkdir('info/sub');
      await upload('info/sub/doc.txt', 'doc', { 'x-smh-meta-color': 'red' });
      const dir = expectOk(await call('GET', `${dirUrl('info/sub')}?info&with_inode=1`), 200);
      assert.deepEqual(dir.path, ['info', 'sub']);
      assert.equal(dir.name, 'sub');
      assert.equal(dir.type, 'dir');
      assert.equal(dir.userId, '');
      assert.equal(typeof dir.inode, 'string');
      assert.equal(typeof dir.eTag, 'string');
      assert.equal(dir.size, undefined, 'directories have no size');
      const file = expectOk(await call('GET', `${dirUrl('info/sub/doc.txt')}?info`), 200);
      assert.deepEqual(file.path, ['info', 'sub', 'doc.txt']);
      assert.equal(file.type, 'file');
      assert.equal(file.size, '3');
      assert.equal(file.inode, undefined, 'inode only with with_inode=1');
      assert.deepEqual(file.metaData, { 'x-smh-meta-color': 'red' });
      assert.deepEqual(expectOk(await call('GET', `/directory/${lib}/-?info`), 200).path, []);
      expectError(await call('GET', `${dirUrl('info/nope')}?info`), 404, 'DirectoryNotFound');

      for (const [path, status] of [
        ['info', 200],
        ['info/sub', 200],
        ['info/nope', 404],
        ['nope/sub', 404],
        ['info/sub/doc.txt', 404],
      ] as const) {
        const reply = await call('HEAD', dirUrl(path));
        assert.equal(reply.status, status, path);
        assert.equal(reply.text, '', 'HEAD answers carry no body');
      }
      assert.equal((await call('HEAD', `/directory/${lib}/-`)).status, 200, 'the root exists');
    });

    it('deletes a directory with everything under it and frees its bytes', async () => {
      await mkdir('tree/x/y');
      await upload('tree/top.txt', 'top level');
      await upload('tree/x/y/deep.txt', 'deep down');
      const location = (await call('GET', fileUrl('tree/x/y/deep.txt'))).headers.get('location')!;
      await mkdir('keep');
      await upload('keep/k.txt', 'kept');
      const before = await spaceSize();

      expectOk(await call('DELETE', dirUrl('tree')), 204);
      for (const path of ['tree', 'tree/x', 'tree/x/y'])
        assert.equal((await call('HEAD', dirUrl(path))).status, 404, path);
      expectError(await call('GET', `${fileUrl('tree/x/y/deep.txt')}?info`), 404, 'FileNotFound');
      assert.equal(await spaceSize(), before - 'top level'.length - 'deep down'.length);
      assert.equal((await fetch(location)).status, 404, 'the stored bytes are gone');
      // Recreating the path starts empty.
      await mkdir('tree');
      assert.deepEqual((await list('tree', 'limit=10')).contents, []);
      assert.equal(await download('keep/k.txt'), 'kept', 'a sibling is untouched');

      expectError(await call('DELETE', dirUrl('no-such-dir')), 404, 'DirectoryNotFound');
      expectError(await call('DELETE', `/directory/${lib}/-`), 400, 'RootDirectoryNotAllowed');
      expectError(await call('DELETE', dirUrl('keep/k.txt')), 404, 'DirectoryNotFound');
      assert.equal(await download('keep/k.txt'), 'kept', 'a file is not deleted through the directory API');
    });

    it('moves and renames directories with their contents; missing target parents are created', async () => {
      await mkdir('mv/src/inner');
      await upload('mv/src/inner/f.txt', 'moving');
      // Spec smh §2.4: 204 with ask (the default).
      expectOk(await call('PUT', dirUrl('mv/renamed'), { body: { from: 'mv/src' } }), 204);
      assert.equal(await exists('mv/src'), false);
      assert.equal(await download('mv/renamed/inner/f.txt'), 'moving');
      expectOk(
        await call('PUT', dirUrl('elsewhere/new/parent/moved'), { body: { from: 'mv/renamed' } }),
        204,
      );
      assert.equal(await download('elsewhere/new/parent/moved/inner/f.txt'), 'moving');
      assert.equal(await exists('mv/renamed'), false);

      await mkdir('mv/taken');
      await mkdir('mv/other');
      expectError(
        await call('PUT', dirUrl('mv/taken'), { body: { from: 'mv/other' } }),
        409,
        'SameNameDirectoryOrFileExists',
      );
      const renamed = await call('PUT', `${dirUrl('mv/taken')}?conflict_resolution_strategy=rename`, {
        body: { from: 'mv/other' },
      });
      assert.deepEqual(expectOk(renamed, 200).path, ['mv', 'taken (1)']);
      const overwrite = await call('PUT', `${dirUrl('mv/taken')}?conflict_resolution_strategy=overwrite`, {
        body: { from: 'mv/taken (1)' },
      });
      expectError(overwrite, 400, 'InvalidConflictResolutionStrategy');
      expectError(
        await call('PUT', dirUrl('mv/x'), { body: { from: 'mv/ghost' } }),
        404,
        'SourceDirectoryNotFound',
      );
    });

    it('refuses to move a directory into itself, leaving nothing behind', async () => {
      await mkdir('loop/inner');
      for (const target of ['loop/inner/loop', 'loop/loop', 'loop/new/deeper']) {
        const reply = await call('PUT', dirUrl(target), { body: { from: 'loop' } });
        expectError(reply, 400, 'SourceDirectoryIsParentOfDestination', target);
      }
      assert.equal(await exists('loop/new'), false, 'parents created for a refused move are rolled back');
      assert.deepEqual(
        (await list('loop', 'limit=10')).contents.map((e: Json) => e.name),
        ['inner'],
      );
    });
  });

  describe('listings', () => {
    let entries: Json[];

    before(async () => {
      // Distinct times and sizes, mixed case (byte order puts upper case first), two equal sizes.
      await mkdir('ls');
      const files: [string, string][] = [
        ['b.txt', 'xx'],
        ['A.txt', 'xxxxxxx'],
        ['c.bin', 'xxxx'],
        ['e.txt', 'x'],
        ['D.md', 'xxxxxxxxxx'],
        ['a.txt', 'xxxx'],
        ['f', ''],
      ];
      for (const [i, dir] of ['zeta', 'Alpha', 'mid', 'beta'].entries()) {
        clock.advance(1000);
        await mkdir(`ls/${dir}`);
        if (i === 0) await upload(`ls/${dir}/grandchild.txt`, 'not counted');
      }
      for (const [name, content] of files) {
        clock.advance(1000);
        await upload(`ls/${name}`, content);
      }
      // Touch an early file again (overwrite) so modification order differs from creation order.
      clock.advance(1000);
      const begin = expectOk(
        await call('PUT', `${fileUrl('ls/b.txt')}?conflict_resolution_strategy=overwrite`),
        201,
      );
      assert.equal(
        (await fetch(begin.url, { method: 'PUT', headers: begin.headers, body: 'yyy' })).status,
        200,
      );
      expectOk(await call('POST', `/file/${lib}/-/${begin.confirmKey}?confirm`), 200);
      entries = (await list('ls', 'limit=1000')).contents;
      assert.equal(entries.length, 11);
    });

    it('serves every order, in marker mode, each entry exactly once across pages', async () => {
      for (const orderBy of ['name', 'size', 'modificationTime', 'creationTime'] as const) {
        for (const desc of [false, true]) {
          for (const union of [false, true]) {
            const q = `order_by=${orderBy}&order_by_type=${desc ? 'desc' : 'asc'}${union ? '&sort_type=union' : ''}`;
            const expected = expectedOrder(entries, orderBy, desc, union);
            assert.deepEqual(
              (await list('ls', `${q}&limit=1000`)).contents.map((e: Json) => e.name),
              expected,
              q,
            );
            for (const limit of [1, 3, 4]) {
              assert.deepEqual(
                await walk('ls', `${q}&limit=${limit}&by-marker`),
                expected,
                `${q}&limit=${limit}`,
              );
            }
          }
        }
      }
      // Defaults (ADR 0002 §15): directories first, then files, by name in byte order.
      assert.deepEqual(
        (await list('ls', '')).contents.map((e: Json) => e.name),
        ['Alpha', 'beta', 'mid', 'zeta', 'A.txt', 'D.md', 'a.txt', 'b.txt', 'c.bin', 'e.txt', 'f'],
      );
    });

    it('filters onlyDir and onlyFile, in both modes', async () => {
      const dirs = entries.filter((e) => e.type === 'dir').map((e) => e.name);
      const files = entries.filter((e) => e.type === 'file').map((e) => e.name);
      assert.deepEqual(await walk('ls', 'filter=onlyDir&limit=3'), dirs);
      assert.deepEqual(await walk('ls', 'filter=onlyFile&limit=3'), files);
      const pageDirs = await list('ls', 'by-page&filter=onlyDir&page=1&page_size=100');
      assert.deepEqual(
        pageDirs.contents.map((e: Json) => e.name),
        dirs,
      );
      assert.equal(pageDirs.totalNum, dirs.length, 'totalNum counts what the filter lets through');
      const pageFiles = await list('ls', 'by-page&filter=onlyFile&page=2&page_size=4');
      assert.deepEqual(
        pageFiles.contents.map((e: Json) => e.name),
        files.slice(4, 8),
      );
      assert.equal(pageFiles.totalNum, files.length);
      expectError(await call('GET', `${dirUrl('ls')}?filter=onlyLinks`), 400, 'ParamInvalid');
      expectError(await call('GET', `${dirUrl('ls')}?order_by=colour`), 400, 'ParamInvalid');
    });

    it('serves page mode with totalNum, fileCount and subDirCount (children only)', async () => {
      const expected = expectedOrder(entries, 'size', true, false);
      const seen: string[] = [];
      for (let page = 1; page <= 3; page++) {
        const body = await list('ls', `by-page&page=${page}&page_size=4&order_by=size&order_by_type=desc`);
        assert.equal(body.totalNum, 11);
        assert.equal(body.fileCount, 7);
        assert.equal(body.subDirCount, 4, 'grandchildren are not counted');
        assert.deepEqual(body.path, ['ls']);
        assert.equal(body.nextMarker, undefined);
        seen.push(...body.contents.map((e: Json) => e.name));
      }
      assert.deepEqual(seen, expected);
      assert.deepEqual((await list('ls', 'by-page&page=4&page_size=4')).contents, []);
      // Legacy clients send page/page_size without the flag.
      const legacy = await list('ls', 'page=2&page_size=5');
      assert.equal(legacy.totalNum, 11);
      assert.deepEqual(
        legacy.contents.map((e: Json) => e.name),
        expectedOrder(entries, 'name', false, false).slice(5, 10),
      );
      expectError(await call('GET', `${dirUrl('ls')}?by-page&page=101&page_size=100`), 400, 'ParamInvalid');
    });

    it('shows entry fields: files with size, eTag, crc64, type; inodes only with with_inode', async () => {
      const plain = (await list('ls', 'limit=1000')).contents as Json[];
      const withInode = (await list('ls', 'limit=1000&with_inode=1')).contents as Json[];
      for (const [i, e] of plain.entries()) {
        assert.equal(e.inode, undefined);
        assert.match(withInode[i]!.inode, /^\w+$/);
        assert.match(e.creationTime, /Z$/);
        assert.match(e.modificationTime, /Z$/);
        if (e.type === 'dir') {
          assert.equal(e.size, undefined);
          continue;
        }
        assert.match(e.size, /^\d+$/);
        assert.match(e.eTag, /^".+"$/);
        assert.match(e.crc64, /^\d+$/);
        assert.equal(typeof e.contentType, 'string');
        assert.equal(typeof e.fileType, 'string');
      }
      const aTxt = plain.find((e) => e.name === 'A.txt')!;
      assert.equal(aTxt.size, '7');
      assert.equal(aTxt.fileType, 'text');
      expectError(await call('GET', dirUrl('ls/nope')), 404, 'DirectoryNotFound');
      expectError(await call('GET', dirUrl('ls/A.txt')), 404, 'DirectoryNotFound');
    });

    it('keeps a marker walk stable while entries are inserted concurrently', async () => {
      await mkdir('stable');
      const originals: string[] = [];
      for (let i = 0; i < 12; i++) {
        const name = `f${String(i * 10).padStart(3, '0')}`;
        await upload(`stable/${name}`, name);
        originals.push(name);
      }
      const inserted: string[] = [];
      const seen = await walk('stable', 'limit=2', async (page) => {
        // Before the cursor, after it, and right next to it.
        for (const name of [
          `f${String(page * 20 + 5).padStart(3, '0')}`,
          `f${String(115 - page * 20).padStart(3, '0')}`,
        ]) {
          if (originals.includes(name) || inserted.includes(name)) continue;
          await upload(`stable/${name}`, name);
          inserted.push(name);
        }
        await mkdir(`stable/dir${page}`);
      });
      assert.equal(new Set(seen).size, seen.length, 'no entry is served twice');
      for (const name of originals) assert.equal(seen.filter((n) => n === name).length, 1, name);
      assert.deepEqual(
        seen.filter((n) => originals.includes(n)),
        originals,
        'the originals keep their order',
      );
      assert.ok(inserted.length > 0);
      expectError(await call('GET', `${dirUrl('stable')}?marker=not-a-marker`), 400, 'ParamInvalid');
    });
  });

  describe('files', () => {
    it('answers ?info with a working cosUrl; pre_check omits it', async () => {
      await mkdir('docs');
      const confirmed = await upload('docs/report.txt', 'the report body', { 'x-smh-meta-owner': 'ops' });
      const info = expectOk(await call('GET', `${fileUrl('docs/report.txt')}?info`), 200);
      assert.equal(info.name, 'report.txt');
      assert.deepEqual(info.path, ['docs', 'report.txt']);
      assert.equal(info.type, 'file');
      assert.equal(info.size, String('the report body'.length));
      assert.equal(info.eTag, confirmed.eTag);
      assert.equal(info.crc64, confirmed.crc64);
      assert.equal(info.contentType, 'text/plain');
      assert.deepEqual(info.metaData, { 'x-smh-meta-owner': 'ops' });
      const body = await fetch(info.cosUrl);
      assert.equal(body.status, 200);
      assert.equal(await body.text(), 'the report body');
      const attachment = expectOk(
        await call('GET', `${fileUrl('docs/report.txt')}?info&content_disposition=attachment`),
        200,
      );
      assert.match((await fetch(attachment.cosUrl)).headers.get('content-disposition') ?? '', /^attachment/);
      const checked = expectOk(await call('GET', `${fileUrl('docs/report.txt')}?info&pre_check=1`), 200);
      assert.equal(checked.cosUrl, undefined);
      expectError(await call('GET', `${fileUrl('docs/none.txt')}?info`), 404, 'FileNotFound');
      expectError(await call('GET', `${fileUrl('nodir/none.txt')}?info`), 404, 'FileNotFound');
      expectError(await call('GET', `${fileUrl('docs')}?info`), 404, 'FileNotFound');
    });

    it('redirects downloads (302) with x-smh-* headers; the target honours Range', async () => {
      await upload('range.bin', '0123456789abcdef');
      const reply = await call('GET', fileUrl('range.bin'));
      assert.equal(reply.status, 302);
      const h = reply.headers;
      assert.equal(h.get('x-smh-type'), 'file');
      assert.equal(h.get('x-smh-size'), '16');
      assert.match(h.get('x-smh-etag') ?? '', /^".+"$/);
      assert.match(h.get('x-smh-crc64') ?? '', /^\d+$/);
      assert.match(h.get('x-smh-creation-time') ?? '', /Z$/);
      assert.match(h.get('x-smh-modification-time') ?? '', /Z$/);
      assert.equal(h.get('x-smh-content-type'), 'application/octet-stream');
      const ranged = await fetch(h.get('location')!, { headers: { range: 'bytes=4-9' } });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.headers.get('content-range'), 'bytes 4-9/16');
      assert.equal(await ranged.text(), '456789');
      expectError(await call('GET', fileUrl('missing.bin')), 404, 'FileNotFound');
    });

    it('answers HEAD with the x-smh-* headers and custom metadata, 404 when absent', async () => {
      const confirmed = await upload('head.txt', 'heady', { 'x-smh-meta-creation-date': '2020-01-01' });
      const reply = await call('HEAD', fileUrl('head.txt'));
      assert.equal(reply.status, 200);
      assert.equal(reply.text, '');
      assert.equal(reply.headers.get('x-smh-size'), '5');
      assert.equal(reply.headers.get('x-smh-etag'), confirmed.eTag);
      assert.equal(reply.headers.get('x-smh-crc64'), confirmed.crc64);
      assert.equal(reply.headers.get('x-smh-content-type'), 'text/plain');
      assert.equal(reply.headers.get('x-smh-meta-creation-date'), '2020-01-01');
      const missing = await call('HEAD', fileUrl('nohead.txt'));
      assert.equal(missing.status, 404);
      assert.equal(missing.text, '');
      await mkdir('head-dir');
      assert.equal((await call('HEAD', fileUrl('head-dir'))).status, 404, 'a directory is not a file');
    });

    it('deletes a file (204), then it is 404 FileNotFound and its bytes are freed', async () => {
      await upload('gone.txt', 'short-lived');
      const location = (await call('GET', fileUrl('gone.txt'))).headers.get('location')!;
      const before = await spaceSize();
      const reply = await call('DELETE', fileUrl('gone.txt'));
      assert.equal(reply.status, 204);
      assert.equal(reply.text, '');
      expectError(await call('GET', `${fileUrl('gone.txt')}?info`), 404, 'FileNotFound');
      assert.equal((await call('HEAD', fileUrl('gone.txt'))).status, 404);
      expectError(await call('DELETE', fileUrl('gone.txt')), 404, 'FileNotFound');
      assert.equal(await spaceSize(), before - 'short-lived'.length);
      assert.equal((await fetch(location)).status, 404);
      await mkdir('not-a-file');
      expectError(await call('DELETE', fileUrl('not-a-file')), 404, 'FileNotFound');
      assert.equal(await exists('not-a-file'), true);
    });

    it('renames and moves files within and across directories', async () => {
      await mkdir('m1');
      await mkdir('m2');
      await upload('m1/one.txt', 'one');
      const renamed = await call('PUT', fileUrl('m1/uno.txt'), { body: { from: 'm1/one.txt' } });
      assert.deepEqual(expectOk(renamed, 200), { path: ['m1', 'uno.txt'] });
      expectError(await call('GET', `${fileUrl('m1/one.txt')}?info`), 404, 'FileNotFound');
      const moved = await call('PUT', fileUrl('m2/one.txt'), { body: { from: 'm1/uno.txt' } });
      assert.deepEqual(expectOk(moved, 200), { path: ['m2', 'one.txt'] });
      assert.equal(await download('m2/one.txt'), 'one');
      assert.deepEqual((await list('m1', 'limit=10')).contents, []);
      // Moving to the root, and back (leading slashes in `from` are accepted).
      assert.deepEqual(
        expectOk(await call('PUT', fileUrl('root.txt'), { body: { from: '/m2/one.txt' } }), 200).path,
        ['root.txt'],
      );
      assert.deepEqual(
        expectOk(await call('PUT', fileUrl('m1/back.txt'), { body: { from: 'root.txt' } }), 200).path,
        ['m1', 'back.txt'],
      );
      // Files do not create missing parents (spec smh §2.3.13).
      expectError(
        await call('PUT', fileUrl('m9/x.txt'), { body: { from: 'm1/back.txt' } }),
        404,
        'DirectoryNotFound',
      );
      expectError(
        await call('PUT', fileUrl('m1/y.txt'), { body: { from: 'm1/ghost.txt' } }),
        404,
        'SourceFileNotFound',
      );
      assert.equal(await download('m1/back.txt'), 'one');
    });

    it('resolves move conflicts: rename (default) "x (1).txt", ask 409, overwrite with move_file_force', async () => {
      await mkdir('mc');
      await upload('mc/a.txt', 'source a');
      await upload('mc/target.txt', 'old target');
      const renamed = await call('PUT', fileUrl('mc/target.txt'), { body: { from: 'mc/a.txt' } });
      assert.deepEqual(expectOk(renamed, 200).path, ['mc', 'target (1).txt']);
      await upload('mc/b.txt', 'source b');
      const ask = await call('PUT', `${fileUrl('mc/target.txt')}?conflict_resolution_strategy=ask`, {
        body: { from: 'mc/b.txt' },
      });
      expectError(ask, 409, 'SameNameDirectoryOrFileExists');

      const withoutForce = await fetch(
        `${server.url}/api/v1/token?library_id=${lib}&library_secret=${server.librarySecret}&grant=move_file`,
      );
      const moveOnly = ((await withoutForce.json()) as Json).accessToken as string;
      const overwriteQuery = `${fileUrl('mc/target.txt')}?conflict_resolution_strategy=overwrite`;
      const denied = await call('PUT', overwriteQuery, { body: { from: 'mc/b.txt' }, token: moveOnly });
      expectError(denied, 403, 'NoPermission');
      const oldLocation = (await call('GET', fileUrl('mc/target.txt'))).headers.get('location')!;
      const before = await spaceSize();
      assert.deepEqual(
        expectOk(await call('PUT', overwriteQuery, { body: { from: 'mc/b.txt' } }), 200).path,
        ['mc', 'target.txt'],
      );
      assert.equal(await download('mc/target.txt'), 'source b');
      expectError(await call('GET', `${fileUrl('mc/b.txt')}?info`), 404, 'FileNotFound');
      assert.equal(await spaceSize(), before - 'old target'.length, 'the replaced bytes are freed');
      assert.equal((await fetch(oldLocation)).status, 404);
      // Overwrite never replaces a directory.
      await mkdir('mc/dir.txt');
      const ontoDir = await call('PUT', `${fileUrl('mc/dir.txt')}?conflict_resolution_strategy=overwrite`, {
        body: { from: 'mc/target.txt' },
      });
      expectError(ontoDir, 409, 'SameNameDirectoryOrFileExists');
    });

    it('copies into an independent file: deleting the original keeps the copy readable', async () => {
      await mkdir('cp/sub');
      await upload('cp/orig.txt', 'original bytes', { 'x-smh-meta-tag': 'v1' });
      const before = await spaceSize();
      const copied = await call('PUT', fileUrl('cp/sub/copy.txt'), { body: { copyFrom: 'cp/orig.txt' } });
      assert.deepEqual(expectOk(copied, 200), { path: ['cp', 'sub', 'copy.txt'] });
      assert.equal(await spaceSize(), before + 'original bytes'.length);
      const info = expectOk(await call('GET', `${fileUrl('cp/sub/copy.txt')}?info`), 200);
      assert.deepEqual(info.metaData, { 'x-smh-meta-tag': 'v1' });
      // Default rename, then ask and overwrite.
      const again = await call('PUT', fileUrl('cp/sub/copy.txt'), { body: { copyFrom: 'cp/orig.txt' } });
      assert.deepEqual(expectOk(again, 200).path, ['cp', 'sub', 'copy (1).txt']);
      const ask = await call('PUT', `${fileUrl('cp/sub/copy.txt')}?conflict_resolution_strategy=ask`, {
        body: { copyFrom: 'cp/orig.txt' },
      });
      expectError(ask, 409, 'SameNameDirectoryOrFileExists');
      await upload('cp/other.txt', 'other bytes');
      const overwrite = await call(
        'PUT',
        `${fileUrl('cp/sub/copy (1).txt')}?conflict_resolution_strategy=overwrite`,
        {
          body: { copyFrom: 'cp/other.txt' },
        },
      );
      assert.deepEqual(expectOk(overwrite, 200).path, ['cp', 'sub', 'copy (1).txt']);
      assert.equal(await download('cp/sub/copy (1).txt'), 'other bytes');

      expectOk(await call('DELETE', fileUrl('cp/orig.txt')), 204);
      assert.equal(await download('cp/sub/copy.txt'), 'original bytes');
      const missing = await call('PUT', fileUrl('cp/x.txt'), { body: { copyFrom: 'cp/orig.txt' } });
      expectError(missing, 404, 'SourceFileNotFound');
      const noParent = await call('PUT', fileUrl('cp/nodir/x.txt'), { body: { copyFrom: 'cp/other.txt' } });
      expectError(noParent, 404, 'DirectoryNotFound');
    });
  });

  describe('names and errors', () => {
    it('refuses empty, illegal and over-long names with the SMH codes', async () => {
      await mkdir('names');
      const long = 'n'.repeat(256);
      const wide = 'é'.repeat(128); // 256 bytes of UTF-8 in 128 characters
      const cases: [Reply, number, string][] = [
        [await call('PUT', `/file/${lib}/-/`), 400, 'EmptyFileName'],
        [await call('PUT', fileUrl('names/a:b')), 400, 'IllegalFileName'],
        [await call('PUT', fileUrl('names/a*b')), 400, 'IllegalFileName'],
        [await call('PUT', fileUrl('names/a|b')), 400, 'IllegalFileName'],
        [await call('PUT', fileUrl('names/a\\b')), 400, 'IllegalFileName'],
        // An encoded slash separates (ADR 0002 §27): names/a/b, whose parent names/a does not exist.
        [await call('PUT', `/file/${lib}/-/names/a%2Fb`), 404, 'DirectoryNotFound'],
        [await call('PUT', `/file/${lib}/-/names/tab%09name`), 400, 'IllegalFileName'],
        [await call('PUT', fileUrl(`names/${long}`)), 400, 'FileNameLengthExceed'],
        [await call('PUT', fileUrl(`names/${wide}`)), 400, 'FileNameLengthExceed'],
        [await call('PUT', dirUrl('names/a:b')), 400, 'IllegalFileName'],
        [await call('PUT', dirUrl(`names/${long}`)), 400, 'DirectoryNameLengthExceed'],
        [await call('PUT', dirUrl(`names/${long}/child`)), 400, 'DirectoryNameLengthExceed'],
        [await call('PUT', dirUrl(`names/${wide}`)), 400, 'DirectoryNameLengthExceed'],
      ];
      for (const [i, [reply, status, code]] of cases.entries()) expectError(reply, status, code, `case ${i}`);
      for (const [path, code] of [
        [`/file/${lib}/-/names/..`, 'IllegalFileName'],
        [`/file/${lib}/-/names/.`, 'IllegalFileName'],
        [`/file/${lib}/-/names/%2E%2E`, 'IllegalFileName'],
        [`/directory/${lib}/-/names/..`, 'IllegalFileName'],
        [`/directory/${lib}/-/names/../escape`, 'IllegalFileName'],
      ] as const) {
        const reply = await rawCall('PUT', path);
        assert.equal(reply.status, 400, path);
        assert.equal(reply.body.code, code, path);
      }
      // Move and copy targets follow the same rules.
      await upload('names/ok.txt', 'ok');
      expectError(
        await call('PUT', fileUrl('names/a:b'), { body: { from: 'names/ok.txt' } }),
        400,
        'IllegalFileName',
      );
      expectError(
        await call('PUT', fileUrl(`names/${long}`), { body: { copyFrom: 'names/ok.txt' } }),
        400,
        'FileNameLengthExceed',
      );
      await mkdir('names/d');
      expectError(
        await call('PUT', dirUrl(`names/${long}`), { body: { from: 'names/d' } }),
        400,
        'DirectoryNameLengthExceed',
      );
      // Exactly 255 bytes is allowed, for files and directories.
      const limit = `${'é'.repeat(127)}n`;
      assert.deepEqual((await upload(`names/${limit}`, 'edge')).path, ['names', limit]);
      assert.deepEqual((await mkdir(`names/d/${'d'.repeat(255)}`)).path, ['names', 'd', 'd'.repeat(255)]);
      assert.deepEqual(
        (await list('names', 'limit=100')).contents.map((e: Json) => e.name).sort(),
        ['d', limit, 'ok.txt'].sort(),
        'refused names left nothing behind',
      );
    });

    it('answers errors as JSON {code, message, requestId} matching x-smh-request-id', async () => {
      const reply = await call('GET', `${fileUrl('nothing/here.txt')}?info`);
      assert.equal(reply.status, 404);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(Object.keys(reply.body!).sort(), ['code', 'message', 'requestId']);
      assert.equal(reply.body!.code, 'FileNotFound');
      assert.ok(reply.body!.message.length > 0);
      assert.equal(reply.body!.requestId, reply.headers.get('x-smh-request-id'));
      const route = await call('GET', `/nothing/${lib}`);
      expectError(route, 404, 'RouteNotFound');
      const badJson = await fetch(`${server.url}/api/v1${dirUrl('bad-json')}?access_token=${token}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{not json',
      });
      assert.equal(badJson.status, 400);
      assert.equal(((await badJson.json()) as Json).code, 'ParamInvalid');
      assert.equal(await exists('bad-json'), false);
    });
  });
});
