// HLS outputs of media tasks, played through the API as a client gets them: an editing task with
// format HLS and the hls-720p transcode each write a directory holding the playlist and every segment
// as files of the library; the SMH download URL of the playlist serves it with segment URIs that
// download through the API, so ffprobe and ffmpeg given only that URL read the whole duration. A task
// whose output cannot be stored (here: over quota) leaves no directory behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { hlsSegments } from '../../src/core/media/edit-plan.ts';
import { makeClip, probeFile } from '../helpers/media.ts';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.ts';
import { createToken, expectJson, putSimple, SmhClient } from '../helpers/smh-client.ts';
import { Vod } from '../helpers/vod-client.ts';

const run = promisify(execFile);

describe('HLS outputs played through the API', { timeout: 240_000 }, () => {
  let server: TestServer;
  let smh: SmhClient;
  let vod: Vod;
  let dir: string;
  const assets: Record<string, string> = {};

  async function upload(name: string, path: string): Promise<string> {
    const begin = await smh.beginTask('simple', `clips/${name}`);
    await putSimple(begin, readFileSync(path));
    const file = (await smh.confirmFile(begin.confirmKey, { query: { with_inode: '1' } })) as unknown as {
      inode: string;
    };
    return file.inode;
  }

  async function pathOf(assetId: string): Promise<string[]> {
    const res = await fetch(
      `${server.url}/api/v1/inode/${server.libraryId}/-/${assetId}?access_token=${smh.token}`,
    );
    assert.equal(res.status, 200);
    return ((await res.json()) as { path: string[] }).path;
  }

  /** The SMH download URL of a file, exactly as a client builds it. */
  function downloadUrl(path: readonly string[]): string {
    const encoded = path.map(encodeURIComponent).join('/');
    return `${server.url}/api/v1/file/${server.libraryId}/-/${encoded}?access_token=${smh.token}`;
  }

  async function names(directory: string): Promise<string[]> {
    const res = await smh.list(directory);
    assert.equal(res.status, 200, directory);
    return ((await res.json()) as { contents: { name: string }[] }).contents.map((c) => c.name).sort();
  }

  /**
   * What a player does with the playlist URL: ffprobe reads its duration, and ffmpeg reads every
   * segment (a segment it cannot fetch is skipped, which shortens what it copies).
   */
  async function playThrough(url: string, seconds: number): Promise<void> {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-of', 'json', url]);
    const format = (JSON.parse(stdout) as { format: { duration: string; format_name: string } }).format;
    assert.equal(format.format_name, 'hls');
    assert.ok(Math.abs(Number(format.duration) - seconds) <= 0.2, `ffprobe duration ${format.duration}`);
    const copy = join(dir, `played-${Date.now()}.ts`);
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-y', '-i', url, '-map', '0', '-c', 'copy', copy]);
    assert.equal(stderr.trim(), '', 'ffmpeg reported no error');
    const probed = await probeFile(copy);
    assert.ok(Math.abs(probed.duration - seconds) <= 0.2, `ffmpeg read ${probed.duration} s of ${seconds}`);
  }

  /** Every segment the stored playlist lists is a file beside it that downloads through the API. */
  async function segmentsDownload(playlist: readonly string[]): Promise<number> {
    const folder = playlist.slice(0, -1);
    // The stored bytes, through the signed URL of ?info: ffmpeg's playlist with plain segment names.
    const info = await smh.request('GET', 'file', playlist.join('/'), { query: { info: '' } });
    const { cosUrl } = await expectJson<{ cosUrl: string }>(info, 200);
    const segments = hlsSegments(await (await fetch(cosUrl)).text());
    assert.ok(segments.length >= 1, 'the playlist lists segments');
    const listed = await names(folder.join('/'));
    assert.deepEqual(listed, [playlist.at(-1)!, ...segments].sort(), 'the directory holds exactly these');
    for (const segment of segments) {
      const { body: bytes } = await smh.download([...folder, segment].join('/'));
      assert.equal(bytes[0], 0x47, `${segment} is MPEG-TS`);
    }
    return segments.length;
  }

  before(async () => {
    dir = tempDir('mediahost-hls-');
    server = await startTestServer({ workerConcurrency: 1, workerPollMilliseconds: 20 });
    const token = await createToken(server.url, server, { grant: 'admin' });
    smh = new SmhClient({ url: server.url, libraryId: server.libraryId, token });
    vod = new Vod(server.url, server.libraryId, token);
    assert.equal((await smh.mkdir('clips')).status, 201);
    assets.a = await upload('a.mp4', await makeClip(dir, 'a.mp4', { seconds: 6 }));
    assets.b = await upload('b.mp4', await makeClip(dir, 'b.mp4', { seconds: 3, width: 480, height: 270 }));
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an HLS editing task: a directory of the playlist (the asset) and its segments, playable by URL', async () => {
    const created = await vod.create({
      inputs: [
        { asset_id: assets.a, timeline_start: '0', timeline_end: '6' },
        { asset_id: assets.b, timeline_start: '0', timeline_end: '3' },
      ],
      editing_settings: { format: 'HLS' },
    });
    const done = await vod.until(created.task_id, ['SUCCEED', 'FAILED']);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    const playlist = await pathOf(created.asset_id);
    const base = `a.${created.task_id}`;
    assert.deepEqual(playlist, ['clips', base, `${base}.m3u8`]);
    assert.ok((await segmentsDownload(playlist)) >= 3, 'a 9 s output in 4 s segments');
    const served = await fetch(downloadUrl(playlist), { redirect: 'manual' });
    assert.equal(served.status, 200, 'a playlist is served, not redirected to');
    assert.equal(served.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.match(served.headers.get('cache-control') ?? '', /no-store/, 'it holds the token');
    const uris = hlsSegments(await served.text());
    assert.ok(
      uris.every((uri) => uri.endsWith(`.ts?access_token=${smh.token}`)),
      uris.join(', '),
    );
    await playThrough(downloadUrl(playlist), 9);
  });

  it('the hls-720p transcode keeps its segments beside the playlist, playable by URL', async () => {
    const { task_ids } = await vod.process({ asset_id: assets.b, template_group_name: 'hls-720p' });
    const done = await vod.untilAssetTask('TRANSCODE', task_ids[0]!, ['SUCCEED', 'FAILED']);
    assert.equal(done.status, 'SUCCEED', done.error_msg);
    const playlist = ['clips', 'b_hls-720p', 'b_hls-720p.m3u8'];
    assert.ok((await names('clips')).includes('b_hls-720p'));
    assert.ok((await segmentsDownload(playlist)) >= 1);
    await playThrough(downloadUrl(playlist), 3);
    const probed = await probeFile(downloadUrl(playlist));
    assert.deepEqual([probed.video?.width, probed.video?.height], [480, 270], 'never upscaled');
  });

  it('an HLS task whose output does not fit the quota FAILS and leaves no directory', async () => {
    const used = Number(
      (await expectJson<{ size: string }>(await smh.request('GET', 'space', 'size'), 200)).size,
    );
    const quota = await fetch(`${server.url}/api/v1/quota/${server.libraryId}?access_token=${smh.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capacity: String(used + 2000), removeWhenExceed: false, removeAfterDays: 0 }),
    });
    assert.equal(quota.status, 201, await quota.text());
    const before = await names('clips');
    const created = await vod.create({
      inputs: [{ asset_id: assets.a, timeline_start: '0', timeline_end: '6' }],
      editing_settings: { format: 'HLS' },
    });
    const done = await vod.until(created.task_id, ['SUCCEED', 'FAILED']);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.error_code, 'QuotaLimitReached', done.error_msg);
    assert.deepEqual(await names('clips'), before, 'no half-made output directory');
    const res = await fetch(
      `${server.url}/api/v1/inode/${server.libraryId}/-/${created.asset_id}?access_token=${smh.token}`,
    );
    assert.equal(res.status, 404);
  });
});
