// Acceptance over HTTP: the SMH permission matrix (spec smh §1.3 grants, ADR 0002 §4–9). One table row per
// endpoint; each row is checked with tokens lacking its grant, the minimal token, the library secret,
// tokens of other spaces and libraries, and missing, revoked and expired tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GRANTS, type Grant } from '../../src/core/tokens/access.ts';
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

/** A library and the space the rows act in, with an admin token for setting things up. */
interface Env {
  name: string;
  lib: string;
  secret: string;
  space: string;
  admin: string;
}

interface Req {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
}

/** What a row's setup made: the space it acts in, names it created, a confirm key, a quota id. */
interface State {
  space: string;
  name: string;
  key: string;
  quotaId: string;
}

interface Row {
  name: string;
  /** Any one of these grants suffices; 'read' means every valid token does. */
  grants: readonly Grant[] | 'read';
  tenancy: 'single' | 'multi';
  /** Tenant-space management: the minimal token carries no space_id (spec smh §1.3). */
  manages?: boolean;
  /** The token is the path's subject (renew/delete token), not an access_token parameter. */
  tokenInPath?: boolean;
  setup?: (env: Env, state: State) => Promise<void>;
  request: (env: Env, state: State, token: string) => Req;
  status: number;
}

let server: TestServer;
const clock: TestClock = testClock();
let single: Env;
let multi: Env;
/** A second space of the multi-tenant library, for tokens scoped elsewhere. */
let otherSpace: string;
let counter = 0;

const unique = (prefix: string): string => `${prefix}${++counter}`;
const enc = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

function withParams(path: string, params: Record<string, string | undefined>): string {
  const extra = Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  if (extra === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${extra}`;
}

async function send(req: Req, params: Record<string, string | undefined> = {}): Promise<Reply> {
  const res = await fetch(`${server.url}/api/v1${withParams(req.path, params)}`, {
    method: req.method,
    redirect: 'manual',
    ...(req.body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(req.body) }
      : {}),
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

function expectStatus(reply: Reply, status: number, what: string): void {
  assert.equal(reply.status, status, `${what}: ${reply.text}`);
}

/** SMH errors are `{code, message, requestId}` (spec smh §1.5); HEAD answers carry no body. */
function expectError(req: Req, reply: Reply, status: number, code: string, what: string): void {
  expectStatus(reply, status, what);
  if (req.method === 'HEAD') return;
  assert.equal(reply.body?.code, code, `${what}: ${reply.text}`);
  assert.equal(typeof reply.body?.message, 'string', what);
  assert.ok(reply.body?.requestId, `${what}: errors carry a requestId`);
}

const tokenCache = new Map<string, string>();

async function mint(
  env: Env,
  options: { grants?: readonly string[]; spaces?: readonly string[]; period?: number; cache?: boolean } = {},
): Promise<string> {
  const key = `${env.lib}|${(options.grants ?? []).join(',')}|${(options.spaces ?? []).join(',')}|${options.period}`;
  const cached = options.cache === false ? undefined : tokenCache.get(key);
  if (cached) return cached;
  const reply = await send(
    { method: 'GET', path: '/token' },
    {
      library_id: env.lib,
      library_secret: env.secret,
      grant: options.grants?.join(','),
      space_id: options.spaces?.join(','),
      period: options.period === undefined ? undefined : String(options.period),
    },
  );
  expectStatus(reply, 200, 'token creation');
  const token = reply.body?.accessToken as string;
  if (options.cache !== false) tokenCache.set(key, token);
  return token;
}

async function admin(env: Env, req: Req, status: number): Promise<Reply> {
  const reply = await send(req, { access_token: env.admin });
  expectStatus(reply, status, `setup ${req.method} ${req.path}`);
  return reply;
}

const dirPath = (env: Env, space: string, path = ''): string => `/directory/${env.lib}/${space}/${enc(path)}`;
const filePath = (env: Env, space: string, path: string): string => `/file/${env.lib}/${space}/${enc(path)}`;

async function mkdir(env: Env, space: string, path: string): Promise<void> {
  await admin(env, { method: 'PUT', path: dirPath(env, space, path) }, 201);
}

async function begin(env: Env, space: string, path: string, flavour: 'simple' | 'multipart'): Promise<Json> {
  const req: Req =
    flavour === 'simple'
      ? { method: 'PUT', path: filePath(env, space, path) }
      : { method: 'POST', path: `${filePath(env, space, path)}?multipart` };
  return (await admin(env, req, 201)).body!;
}

/** The simple upload flow: begin PUT, PUT the bytes to `url` with `headers`, confirm. */
async function upload(env: Env, space: string, path: string, content = 'hello'): Promise<void> {
  const grant = await begin(env, space, path, 'simple');
  const put = await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: content });
  assert.equal(put.status, 200, await put.text());
  await admin(env, { method: 'POST', path: `/file/${env.lib}/${space}/${grant.confirmKey}?confirm` }, 200);
}

async function newSpace(env: Env): Promise<string> {
  return (await admin(env, { method: 'POST', path: `/space/${env.lib}` }, 201)).body!.spaceId as string;
}

/** Everything observable a denied request could have changed: the tree, the task, spaces, quota. */
async function snapshot(env: Env, state: State): Promise<string> {
  const lines: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const reply = await admin(
      env,
      { method: 'GET', path: `${dirPath(env, state.space, path)}?limit=1000` },
      200,
    );
    for (const entry of reply.body!.contents as Json[]) {
      const child = path === '' ? entry.name : `${path}/${entry.name}`;
      lines.push(`${child} ${entry.type} ${entry.size ?? ''} ${entry.eTag}`);
      if (entry.type === 'dir') await walk(child);
    }
  };
  await walk('');
  if (state.key !== '') {
    const task = await send(
      { method: 'GET', path: `/file/${env.lib}/${state.space}/${state.key}?upload` },
      { access_token: env.admin },
    );
    lines.push(`task ${task.status} ${task.body?.confirmed}`);
  }
  if (env === multi) {
    const spaces = await admin(env, { method: 'GET', path: `/space/${env.lib}/list` }, 200);
    lines.push(`spaces ${(spaces.body!.list as Json[]).map((s) => s.spaceId).join(',')}`);
    const quota = await send(
      { method: 'GET', path: `/quota/${env.lib}/${state.space}` },
      { access_token: env.admin },
    );
    lines.push(`quota ${quota.status} ${quota.text.replace(/"requestId":"[^"]*"/, '')}`);
    const ext = await admin(env, { method: 'GET', path: `/space/${env.lib}/${state.space}/extension` }, 200);
    lines.push(`extension ${ext.text}`);
  }
  return lines.join('\n');
}

const UPLOAD: readonly Grant[] = ['upload_file', 'upload_file_force', 'begin_upload', 'begin_upload_force'];
const UPLOAD_FORCE: readonly Grant[] = ['upload_file_force', 'begin_upload_force'];
const CONFIRM: readonly Grant[] = ['upload_file', 'upload_file_force', 'confirm_upload'];

const withFile = async (env: Env, s: State): Promise<void> => upload(env, s.space, s.name);
const withDir = async (env: Env, s: State): Promise<void> => mkdir(env, s.space, s.name);
/** A space of its own with a quota, whose id the row reads. */
const withQuota = async (env: Env, s: State): Promise<void> => {
  s.space = await newSpace(env);
  const body = { spaces: [s.space], capacity: '1000000', removeWhenExceed: false, removeAfterDays: 0 };
  s.quotaId = String(
    (await admin(env, { method: 'POST', path: `/quota/${env.lib}`, body }, 201)).body!.quotaId,
  );
};

const ROWS: readonly Row[] = [
  // Tokens (§2.1): the token in the path is the credential.
  {
    name: 'token renew',
    grants: 'read',
    tenancy: 'single',
    tokenInPath: true,
    request: (env, _s, token) => ({ method: 'POST', path: `/token/${env.lib}/${token}` }),
    status: 200,
  },
  {
    name: 'token delete',
    grants: 'read',
    tenancy: 'single',
    tokenInPath: true,
    request: (env, _s, token) => ({ method: 'DELETE', path: `/token/${env.lib}/${token}` }),
    status: 204,
  },
  // Tenant spaces (§2.2) and quotas (§2.6).
  {
    name: 'space create',
    grants: ['create_space'],
    tenancy: 'multi',
    manages: true,
    request: (env) => ({ method: 'POST', path: `/space/${env.lib}`, body: { spaceTag: 'team' } }),
    status: 201,
  },
  {
    name: 'space list',
    grants: 'read',
    tenancy: 'multi',
    manages: true,
    request: (env) => ({ method: 'GET', path: `/space/${env.lib}/list` }),
    status: 200,
  },
  {
    name: 'space count',
    grants: 'read',
    tenancy: 'multi',
    manages: true,
    request: (env) => ({ method: 'GET', path: `/space/${env.lib}/count` }),
    status: 200,
  },
  {
    name: 'space delete',
    grants: ['delete_space'],
    tenancy: 'multi',
    manages: true,
    setup: async (env, s) => {
      s.space = await newSpace(env);
    },
    request: (env, s) => ({ method: 'DELETE', path: `/space/${env.lib}/${s.space}` }),
    status: 204,
  },
  {
    name: 'space extension get',
    grants: 'read',
    tenancy: 'multi',
    request: (env, s) => ({ method: 'GET', path: `/space/${env.lib}/${s.space}/extension` }),
    status: 200,
  },
  {
    name: 'space extension set',
    grants: ['space_admin'],
    tenancy: 'multi',
    setup: async (env, s) => {
      s.space = await newSpace(env);
    },
    request: (env, s) => ({
      method: 'POST',
      path: `/space/${env.lib}/${s.space}/extension`,
      body: { isPublicRead: true, spaceTag: s.name },
    }),
    status: 204,
  },
  {
    name: 'space size',
    grants: 'read',
    tenancy: 'multi',
    request: (env, s) => ({ method: 'GET', path: `/space/${env.lib}/${s.space}/size` }),
    status: 200,
  },
  {
    name: 'quota create',
    grants: ['admin'],
    tenancy: 'multi',
    setup: async (env, s) => {
      s.space = await newSpace(env);
    },
    request: (env, s) => ({
      method: 'POST',
      path: `/quota/${env.lib}`,
      body: { spaces: [s.space], capacity: '1000000', removeWhenExceed: false, removeAfterDays: 0 },
    }),
    status: 201,
  },
  {
    name: 'quota get',
    grants: 'read',
    tenancy: 'multi',
    setup: async (env, s) => {
      s.space = await newSpace(env);
      const body = { spaces: [s.space], capacity: '1000000', removeWhenExceed: false, removeAfterDays: 0 };
      await admin(env, { method: 'POST', path: `/quota/${env.lib}`, body }, 201);
    },
    request: (env, s) => ({ method: 'GET', path: `/quota/${env.lib}/${s.space}` }),
    status: 200,
  },
  {
    name: 'quota update',
    grants: ['admin'],
    tenancy: 'multi',
    setup: async (env, s) => {
      s.space = await newSpace(env);
      const body = { spaces: [s.space], capacity: '1000000', removeWhenExceed: false, removeAfterDays: 0 };
      await admin(env, { method: 'POST', path: `/quota/${env.lib}`, body }, 201);
    },
    request: (env, s) => ({
      method: 'PUT',
      path: `/quota/${env.lib}/${s.space}`,
      body: { capacity: '2000000' },
    }),
    status: 204,
  },
  {
    name: 'quota get by id',
    grants: 'read',
    tenancy: 'multi',
    setup: withQuota,
    request: (env, s) => ({ method: 'GET', path: `/quota/${env.lib}/${s.quotaId}` }),
    status: 200,
  },
  {
    name: 'quota update by id',
    grants: ['admin'],
    tenancy: 'multi',
    setup: withQuota,
    request: (env, s) => ({
      method: 'PUT',
      path: `/quota/${env.lib}/${s.quotaId}`,
      body: { capacity: '3000000' },
    }),
    status: 204,
  },
  {
    name: 'space quota get',
    grants: 'read',
    tenancy: 'multi',
    setup: withQuota,
    request: (env, s) => ({ method: 'GET', path: `/space-quota/${env.lib}/${s.space}` }),
    status: 200,
  },
  {
    name: 'space file count',
    grants: ['space_admin'],
    tenancy: 'multi',
    request: (env, s) => ({ method: 'GET', path: `/space/${env.lib}/${s.space}/file-count` }),
    status: 200,
  },
  {
    name: 'space usage',
    grants: ['space_admin'],
    tenancy: 'multi',
    request: (env, s) => ({ method: 'GET', path: `/usage/${env.lib}/${s.space}` }),
    status: 200,
  },
  {
    name: 'library usage',
    grants: ['admin'],
    tenancy: 'multi',
    manages: true,
    request: (env) => ({ method: 'GET', path: `/usage/${env.lib}` }),
    status: 200,
  },
  // Directories (§2.4).
  {
    name: 'directory create',
    grants: ['create_directory'],
    tenancy: 'single',
    request: (env, s) => ({ method: 'PUT', path: dirPath(env, s.space, `${s.name}/sub`) }),
    status: 201,
  },
  {
    name: 'directory list',
    grants: 'read',
    tenancy: 'single',
    setup: async (env, s) => {
      await mkdir(env, s.space, s.name);
      await upload(env, s.space, `${s.name}/f.txt`);
    },
    request: (env, s) => ({ method: 'GET', path: dirPath(env, s.space, s.name) }),
    status: 200,
  },
  {
    name: 'directory list (root)',
    grants: 'read',
    tenancy: 'single',
    request: (env, s) => ({ method: 'GET', path: `/directory/${env.lib}/${s.space}` }),
    status: 200,
  },
  {
    name: 'directory info',
    grants: 'read',
    tenancy: 'single',
    setup: withDir,
    request: (env, s) => ({ method: 'GET', path: `${dirPath(env, s.space, s.name)}?info` }),
    status: 200,
  },
  {
    name: 'directory HEAD',
    grants: 'read',
    tenancy: 'single',
    setup: withDir,
    request: (env, s) => ({ method: 'HEAD', path: dirPath(env, s.space, s.name) }),
    status: 200,
  },
  {
    name: 'directory delete',
    grants: ['delete_directory'],
    tenancy: 'single',
    setup: async (env, s) => {
      await mkdir(env, s.space, `${s.name}/inner`);
      await upload(env, s.space, `${s.name}/inner/f.txt`);
    },
    request: (env, s) => ({ method: 'DELETE', path: dirPath(env, s.space, s.name) }),
    status: 204,
  },
  {
    name: 'directory move',
    grants: ['move_directory'],
    tenancy: 'single',
    setup: withDir,
    request: (env, s) => ({
      method: 'PUT',
      path: dirPath(env, s.space, `${s.name}-moved`),
      body: { from: s.name },
    }),
    status: 204,
  },
  // Upload tasks (§2.3.1–2.3.8).
  {
    name: 'file begin simple',
    grants: UPLOAD,
    tenancy: 'single',
    request: (env, s) => ({ method: 'PUT', path: filePath(env, s.space, `${s.name}.txt`) }),
    status: 201,
  },
  {
    name: 'file begin form',
    grants: UPLOAD,
    tenancy: 'single',
    request: (env, s) => ({ method: 'POST', path: filePath(env, s.space, `${s.name}.txt`) }),
    status: 201,
  },
  {
    name: 'file begin multipart',
    grants: UPLOAD,
    tenancy: 'single',
    request: (env, s) => ({ method: 'POST', path: `${filePath(env, s.space, `${s.name}.bin`)}?multipart` }),
    status: 201,
  },
  {
    name: 'file begin with overwrite',
    grants: UPLOAD_FORCE,
    tenancy: 'single',
    setup: withFile,
    request: (env, s) => ({
      method: 'PUT',
      path: `${filePath(env, s.space, s.name)}?conflict_resolution_strategy=overwrite`,
    }),
    status: 201,
  },
  {
    name: 'upload status',
    grants: UPLOAD,
    tenancy: 'single',
    setup: async (env, s) => {
      s.key = (await begin(env, s.space, `${s.name}.bin`, 'multipart')).confirmKey;
    },
    request: (env, s) => ({ method: 'GET', path: `/file/${env.lib}/${s.space}/${s.key}?upload` }),
    status: 200,
  },
  {
    name: 'upload renew',
    grants: UPLOAD,
    tenancy: 'single',
    setup: async (env, s) => {
      s.key = (await begin(env, s.space, `${s.name}.bin`, 'multipart')).confirmKey;
    },
    request: (env, s) => ({ method: 'POST', path: `/file/${env.lib}/${s.space}/${s.key}?renew` }),
    status: 200,
  },
  {
    name: 'upload cancel',
    grants: UPLOAD,
    tenancy: 'single',
    setup: async (env, s) => {
      s.key = (await begin(env, s.space, `${s.name}.bin`, 'multipart')).confirmKey;
    },
    request: (env, s) => ({ method: 'DELETE', path: `/file/${env.lib}/${s.space}/${s.key}?upload` }),
    status: 204,
  },
  {
    name: 'upload confirm',
    grants: CONFIRM,
    tenancy: 'single',
    setup: async (env, s) => {
      const grant = await begin(env, s.space, `${s.name}.txt`, 'simple');
      const put = await fetch(grant.url, { method: 'PUT', headers: grant.headers, body: 'bytes' });
      assert.equal(put.status, 200);
      s.key = grant.confirmKey;
    },
    request: (env, s) => ({ method: 'POST', path: `/file/${env.lib}/${s.space}/${s.key}?confirm` }),
    status: 200,
  },
  // Files (§2.3.9–2.3.14).
  {
    name: 'file info',
    grants: 'read',
    tenancy: 'single',
    setup: withFile,
    request: (env, s) => ({ method: 'GET', path: `${filePath(env, s.space, s.name)}?info` }),
    status: 200,
  },
  {
    name: 'file download',
    grants: 'read',
    tenancy: 'single',
    setup: withFile,
    request: (env, s) => ({ method: 'GET', path: filePath(env, s.space, s.name) }),
    status: 302,
  },
  {
    name: 'file HEAD',
    grants: 'read',
    tenancy: 'single',
    setup: withFile,
    request: (env, s) => ({ method: 'HEAD', path: filePath(env, s.space, s.name) }),
    status: 200,
  },
  {
    name: 'file delete',
    grants: ['delete_file'],
    tenancy: 'single',
    setup: withFile,
    request: (env, s) => ({ method: 'DELETE', path: filePath(env, s.space, s.name) }),
    status: 204,
  },
  {
    name: 'file move',
    grants: ['move_file', 'move_file_force'],
    tenancy: 'single',
    setup: withFile,
    request: (env, s) => ({
      method: 'PUT',
      path: filePath(env, s.space, `${s.name}-moved`),
      body: { from: s.name },
    }),
    status: 200,
  },
  {
    name: 'file move with overwrite',
    grants: ['move_file_force'],
    tenancy: 'single',
    setup: async (env, s) => {
      await upload(env, s.space, s.name);
      await upload(env, s.space, `${s.name}-target`, 'target');
    },
    request: (env, s) => ({
      method: 'PUT',
      path: `${filePath(env, s.space, `${s.name}-target`)}?conflict_resolution_strategy=overwrite`,
      body: { from: s.name },
    }),
    status: 200,
  },
  {
    name: 'file copy',
    grants: ['copy_file', 'copy_file_force'],
    tenancy: 'single',
    setup: withFile,
    request: (env, s) => ({
      method: 'PUT',
      path: filePath(env, s.space, `${s.name}-copy`),
      body: { copyFrom: s.name },
    }),
    status: 200,
  },
  {
    name: 'file copy with overwrite',
    grants: ['copy_file_force'],
    tenancy: 'single',
    setup: async (env, s) => {
      await upload(env, s.space, s.name);
      await upload(env, s.space, `${s.name}-target`, 'target');
    },
    request: (env, s) => ({
      method: 'PUT',
      path: `${filePath(env, s.space, `${s.name}-target`)}?conflict_resolution_strategy=overwrite`,
      body: { copyFrom: s.name },
    }),
    status: 200,
  },
];

/** Grants that hold every other (admin) or all but space management (space_admin). */
const SUPER: readonly Grant[] = ['admin', 'space_admin'];
/** Grants space_admin does not include: tenant-space management and quotas. */
const ADMIN_ONLY: readonly Grant[] = ['admin', 'create_space', 'delete_space'];

function envOf(row: Row): Env {
  return row.tenancy === 'single' ? single : multi;
}

async function prepare(row: Row, env: Env): Promise<State> {
  const state: State = {
    space: env.space,
    name: unique(row.name.replace(/\W+/g, '-')),
    key: '',
    quotaId: '',
  };
  await row.setup?.(env, state);
  return state;
}

/** The smallest token for a row: its grant(s), scoped to the row's space where spaces are scoped. */
async function minimal(row: Row, env: Env, state: State, grants: readonly Grant[]): Promise<string> {
  const scoped = env === multi && !row.manages;
  return mint(env, { grants, ...(scoped ? { spaces: [state.space] } : {}), cache: !row.tokenInPath });
}

/** Sends the row's request as `token` (in the path or as access_token). */
function asToken(row: Row, env: Env, state: State, token: string): Promise<Reply> {
  const req = row.request(env, state, token);
  return send(req, row.tokenInPath ? {} : { access_token: token });
}

function expectSuccess(row: Row, reply: Reply, what: string): void {
  expectStatus(reply, row.status, `${row.name} ${what}`);
}

describe('SMH permissions', SUITE, () => {
  before(async () => {
    server = await startTestServer({}, { clock });
    const base = { lib: server.libraryId, secret: server.librarySecret };
    single = { name: 'single', ...base, space: '-', admin: '' };
    single.admin = await mint(single, { grants: ['admin'] });
    const created = await server.server.container.libraries.create({ name: 'tenants', multiTenant: true });
    multi = { name: 'multi', lib: created.library.id, secret: created.librarySecret, space: '', admin: '' };
    multi.admin = await mint(multi, { grants: ['admin'] });
    multi.space = await newSpace(multi);
    otherSpace = await newSpace(multi);
  });
  after(async () => {
    await server?.close();
  });

  it('the table covers every grant that guards an endpoint', () => {
    const guarded = new Set(ROWS.flatMap((r) => (r.grants === 'read' ? [] : r.grants)));
    const unguarded = GRANTS.filter((g) => !guarded.has(g) && !SUPER.includes(g));
    // Grants of features mediahost does not implement (recycle bin, symlinks, directory copy, media
    // processing). When one gets an endpoint, it gets a row here.
    assert.deepEqual(unguarded, [
      'delete_directory_permanent',
      'copy_directory',
      'create_symlink',
      'create_symlink_force',
      'delete_file_permanent',
      'delete_recycled',
      'restore_recycled',
      'media_process',
    ]);
  });

  for (const row of ROWS) {
    const title =
      row.grants === 'read'
        ? 'every valid token succeeds, the read-only one included'
        : `${row.grants.join(' or ')} alone succeeds, tokens without it get 403 NoPermission`;
    it(`${row.name}: ${title}`, async () => {
      const env = envOf(row);
      if (row.grants === 'read') {
        // Read endpoints: the empty (read-only) grant works, and so does any other.
        for (const grants of [[], ['delete_file']] as Grant[][]) {
          const state = await prepare(row, env);
          const reply = await asToken(row, env, state, await minimal(row, env, state, grants));
          expectSuccess(row, reply, `with grant [${grants}]`);
        }
        return;
      }
      const allowed = row.grants;
      const state = await prepare(row, env);
      const before = await snapshot(env, state);
      const others = GRANTS.filter((g) => !allowed.includes(g) && !SUPER.includes(g));
      for (const grants of [[], others]) {
        const req = row.request(env, state, '');
        const reply = await asToken(row, env, state, await minimal(row, env, state, grants));
        expectError(req, reply, 403, 'NoPermission', `${row.name} with grant [${grants}]`);
      }
      assert.equal(await snapshot(env, state), before, 'a denied request changes nothing');
      for (const [i, grant] of allowed.entries()) {
        const fresh = i === 0 ? state : await prepare(row, env);
        const reply = await asToken(row, env, fresh, await minimal(row, env, fresh, [grant]));
        expectSuccess(row, reply, `with only ${grant}`);
      }
      for (const grant of SUPER) {
        if (grant === 'space_admin' && allowed.some((g) => ADMIN_ONLY.includes(g))) {
          // space_admin holds every grant but these: it is refused like any other token.
          const fresh = await prepare(row, env);
          const reply = await asToken(row, env, fresh, await minimal(row, env, fresh, [grant]));
          expectError(
            row.request(env, fresh, ''),
            reply,
            403,
            'NoPermission',
            `${row.name} with space_admin`,
          );
          continue;
        }
        const fresh = await prepare(row, env);
        const reply = await asToken(row, env, fresh, await minimal(row, env, fresh, [grant]));
        expectSuccess(row, reply, `with ${grant}`);
      }
    });

    if (!row.tokenInPath) {
      it(`${row.name}: library_secret instead of a token acts as the backend`, async () => {
        const env = envOf(row);
        const state = await prepare(row, env);
        expectSuccess(
          row,
          await send(row.request(env, state, ''), { library_secret: env.secret }),
          'with library_secret',
        );
        const req = row.request(env, state, '');
        const wrong = await send(req, { library_secret: `${env.secret}x` });
        expectError(req, wrong, 404, 'WrongLibraryIdOrSecret', `${row.name} with a wrong library_secret`);
      });
    }
  }

  it("a token scoped to spaces lists only those and its user's own; space_admin lists all only unscoped", async () => {
    const ids = async (token: string, path = 'list'): Promise<Json> => {
      const req: Req = { method: 'GET', path: `/space/${multi.lib}/${path}` };
      const reply = await send(req, { access_token: token, ...(path === 'list' ? { limit: '1000' } : {}) });
      expectStatus(reply, 200, `space ${path}`);
      return path === 'list' ? (reply.body!.list as Json[]).map((s) => s.spaceId).sort() : reply.body!;
    };
    const everySpace = await ids(multi.admin);
    assert.ok(everySpace.includes(multi.space) && everySpace.includes(otherSpace));
    // ADR 0002 §9: space_admin acts "within the token's spaces" (spec smh §1.3), listing included.
    const scoped = await mint(multi, { grants: ['space_admin'], spaces: [multi.space] });
    assert.deepEqual(await ids(scoped), [multi.space]);
    assert.deepEqual(await ids(scoped, 'count'), { total: 1 });
    const scopedAdmin = await mint(multi, { grants: ['admin'], spaces: [otherSpace] });
    assert.deepEqual(await ids(scopedAdmin), [otherSpace]);
    // A read-only token without user_id owns no space: spaces the backend created are not its own.
    assert.deepEqual(await ids(await mint(multi, { spaces: [multi.space] })), [multi.space]);
    assert.deepEqual(await ids(await mint(multi, {})), []);
    // A user's token lists its scope and the spaces that user created, nothing else.
    const dave = await send(
      { method: 'GET', path: '/token' },
      { library_id: multi.lib, library_secret: multi.secret, grant: 'create_space', user_id: 'dave' },
    );
    const daveToken = dave.body!.accessToken as string;
    const created = await send({ method: 'POST', path: `/space/${multi.lib}` }, { access_token: daveToken });
    expectStatus(created, 201, 'dave creates a space');
    const daveScoped = await send(
      { method: 'GET', path: '/token' },
      { library_id: multi.lib, library_secret: multi.secret, user_id: 'dave', space_id: otherSpace },
    );
    assert.deepEqual(
      await ids(daveScoped.body!.accessToken as string),
      [created.body!.spaceId as string, otherSpace].sort(),
    );
    // Unscoped, space_admin (like admin) lists every space.
    assert.deepEqual(await ids(await mint(multi, { grants: ['space_admin'] })), await ids(multi.admin));
  });

  it('space_admin cannot create or delete tenant spaces', async () => {
    const token = await mint(multi, { grants: ['space_admin'] });
    const create: Req = { method: 'POST', path: `/space/${multi.lib}` };
    expectError(create, await send(create, { access_token: token }), 403, 'NoPermission', 'create');
    const doomed = await newSpace(multi);
    const scoped = await mint(multi, { grants: ['space_admin'], spaces: [doomed] });
    const remove: Req = { method: 'DELETE', path: `/space/${multi.lib}/${doomed}` };
    expectError(remove, await send(remove, { access_token: scoped }), 403, 'NoPermission', 'delete');
  });

  // Space scoping (spec smh §1.2–1.3, ADR 0002 §8): rows that act inside a space, run in a tenant space.
  for (const row of ROWS.filter((r) => !r.manages && !r.tokenInPath)) {
    it(`${row.name}: a token of another space gets 403 AccessTokenNotMatchSpace`, async () => {
      const state = await prepare(row, multi);
      const req = row.request(multi, state, '');
      const grants: Grant[] = row.grants === 'read' ? [] : [...row.grants];
      const before = await snapshot(multi, state);
      const elsewhere = await mint(multi, { grants, spaces: [otherSpace] });
      const adminElsewhere = await mint(multi, { grants: ['admin'], spaces: [otherSpace] });
      // ADR 0002 §8: without space_id only admin reaches a space.
      const unscoped = await mint(multi, { grants: grants.length > 0 ? grants : ['space_admin'] });
      const cases: [string, string][] = [
        ['scoped to another space', elsewhere],
        ['admin scoped to another space', adminElsewhere],
      ];
      // An unscoped admin token reaches every space by design; only non-admin grants are refused.
      if (!grants.includes('admin')) cases.push(['unscoped non-admin', unscoped]);
      for (const [what, token] of cases) {
        expectError(
          req,
          await send(req, { access_token: token }),
          403,
          'AccessTokenNotMatchSpace',
          `${row.name} ${what}`,
        );
      }
      assert.equal(await snapshot(multi, state), before, 'a refused request changes nothing');
      const both = await mint(multi, { grants, spaces: [otherSpace, state.space] });
      expectSuccess(row, await send(req, { access_token: both }), 'with a token listing both spaces');
    });
  }

  it("a token of one space never reaches another space's files or upload tasks", async () => {
    const a = multi.space;
    const tokenB = await mint(multi, { grants: ['space_admin'], spaces: [otherSpace] });
    await upload(multi, a, 'secret-a.txt', 'tenant a');
    const task = await begin(multi, a, 'pending-a.bin', 'multipart');
    // Through space B's own path, A's names and confirm keys do not exist.
    const inB: [Req, number, string][] = [
      [{ method: 'GET', path: `${filePath(multi, otherSpace, 'secret-a.txt')}?info` }, 404, 'FileNotFound'],
      [
        { method: 'GET', path: `/file/${multi.lib}/${otherSpace}/${task.confirmKey}?upload` },
        404,
        'ConfirmKeyNotFound',
      ],
      [
        { method: 'POST', path: `/file/${multi.lib}/${otherSpace}/${task.confirmKey}?confirm` },
        404,
        'ConfirmKeyNotFound',
      ],
      [
        { method: 'POST', path: `/file/${multi.lib}/${otherSpace}/${task.confirmKey}?renew` },
        404,
        'ConfirmKeyNotFound',
      ],
      [
        { method: 'DELETE', path: `/file/${multi.lib}/${otherSpace}/${task.confirmKey}?upload` },
        404,
        'ConfirmKeyNotFound',
      ],
      [
        {
          method: 'PUT',
          path: filePath(multi, otherSpace, 'stolen.txt'),
          body: { copyFrom: 'secret-a.txt' },
        },
        404,
        'SourceFileNotFound',
      ],
    ];
    for (const [req, status, code] of inB) {
      expectError(req, await send(req, { access_token: tokenB }), status, code, `${req.method} ${req.path}`);
    }
    const listing = await send({ method: 'GET', path: dirPath(multi, otherSpace) }, { access_token: tokenB });
    expectStatus(listing, 200, 'list B');
    assert.ok(!(listing.body!.contents as Json[]).some((e) => e.name === 'secret-a.txt'));
    // The task survived the attempts: A's admin still sees it uploading.
    const status = await send(
      { method: 'GET', path: `/file/${multi.lib}/${a}/${task.confirmKey}?upload` },
      { access_token: multi.admin },
    );
    expectStatus(status, 200, 'status in A');
    assert.equal(status.body!.confirmed, false);
  });

  // Tokens that do not authenticate (spec smh §1.3): every row, every way.
  it('every endpoint: missing token 400 EmptyAccessToken, revoked 403 InvalidAccessToken, other library 403', async () => {
    for (const row of ROWS) {
      const env = envOf(row);
      const foreign = env === single ? multi : single;
      const state = await prepare(row, env);
      const before = await snapshot(env, state);
      if (!row.tokenInPath) {
        const req = row.request(env, state, '');
        expectError(req, await send(req), 400, 'EmptyAccessToken', `${row.name} without a token`);
      }
      const revoked = await mint(env, { grants: ['admin'], cache: false });
      expectStatus(await send({ method: 'DELETE', path: `/token/${env.lib}/${revoked}` }), 204, 'revoke');
      const req = row.request(env, state, revoked);
      expectError(
        req,
        await asToken(row, env, state, revoked),
        403,
        'InvalidAccessToken',
        `${row.name} revoked`,
      );
      const stranger = await mint(foreign, { grants: ['admin'], cache: false });
      const strangerReq = row.request(env, state, stranger);
      expectError(
        strangerReq,
        await asToken(row, env, state, stranger),
        403,
        'AccessTokenNotMatchLibrary',
        `${row.name} with a token of another library`,
      );
      assert.equal(await snapshot(env, state), before, `${row.name}: a refused request changes nothing`);
    }
  });

  it('every endpoint: an expired token gets 403 InvalidAccessToken', async () => {
    const expiring = new Map<Env, string>();
    for (const env of [single, multi])
      expiring.set(env, await mint(env, { grants: ['admin'], period: 300, cache: false }));
    const states = new Map<Row, State>();
    for (const row of ROWS) states.set(row, await prepare(row, envOf(row)));
    clock.advance(301_000);
    for (const row of ROWS) {
      const env = envOf(row);
      const state = states.get(row)!;
      const token = expiring.get(env)!;
      const req = row.request(env, state, token);
      expectError(
        req,
        await asToken(row, env, state, token),
        403,
        'InvalidAccessToken',
        `${row.name} expired`,
      );
      // The long-lived admin token still works: expiry is per token.
      const fresh = row.tokenInPath ? await mint(env, { cache: false }) : env.admin;
      expectSuccess(row, await asToken(row, env, state, fresh), 'with a live token');
    }
  });
});
