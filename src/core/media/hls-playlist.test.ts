// Which files are served as HLS playlists, and which URIs of a playlist get the caller's credentials.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHlsPlaylist, withQueryOnRelativeUris } from './hls-playlist.ts';

describe('HLS playlists served through the API', () => {
  it('recognises playlists by media type or by the .m3u8 name', () => {
    assert.ok(isHlsPlaylist({ name: 'x', contentType: 'application/vnd.apple.mpegurl' }));
    assert.ok(isHlsPlaylist({ name: 'x', contentType: 'Application/X-MpegURL; charset=utf-8' }));
    assert.ok(isHlsPlaylist({ name: 'Movie.M3U8', contentType: 'application/octet-stream' }));
    assert.ok(!isHlsPlaylist({ name: 'list.m3u', contentType: 'audio/x-scpls' }));
    assert.ok(!isHlsPlaylist({ name: 'a.ts', contentType: 'video/mp2t' }));
    assert.ok(!isHlsPlaylist({ name: 'a', contentType: null }));
  });

  it('appends the query to plain relative URIs: segment lines and URI attributes', () => {
    const playlist = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:4',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXT-X-KEY:METHOD=AES-128,URI="keys/k1.bin",IV=0x1',
      '# a comment naming URI="x.ts" is left alone',
      '#EXTINF:4.000000,',
      'output_000.ts',
      '#EXTINF:4.000000,',
      '  sub/output_001.ts  ',
      '#EXTINF:1.0,',
      '../up.ts',
      '#EXTINF:1.0,',
      'https://cdn.example/abs.ts',
      '#EXTINF:1.0,',
      '/rooted.ts',
      '#EXTINF:1.0,',
      '//host/net.ts',
      '#EXTINF:1.0,',
      'own.ts?x=1',
      '#EXTINF:1.0,',
      'frag.ts#t=1',
      '#EXT-X-ENDLIST',
      '',
    ].join('\n');
    assert.equal(
      withQueryOnRelativeUris(playlist, 'access_token=t%2B1'),
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:4',
        '#EXT-X-MAP:URI="init.mp4?access_token=t%2B1"',
        '#EXT-X-KEY:METHOD=AES-128,URI="keys/k1.bin?access_token=t%2B1",IV=0x1',
        '# a comment naming URI="x.ts" is left alone',
        '#EXTINF:4.000000,',
        'output_000.ts?access_token=t%2B1',
        '#EXTINF:4.000000,',
        'sub/output_001.ts?access_token=t%2B1',
        '#EXTINF:1.0,',
        '../up.ts?access_token=t%2B1',
        '#EXTINF:1.0,',
        'https://cdn.example/abs.ts',
        '#EXTINF:1.0,',
        '/rooted.ts',
        '#EXTINF:1.0,',
        '//host/net.ts',
        '#EXTINF:1.0,',
        'own.ts?x=1',
        '#EXTINF:1.0,',
        'frag.ts#t=1',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });

  it('keeps CRLF line ends', () => {
    assert.equal(
      withQueryOnRelativeUris('#EXTM3U\r\n#EXTINF:4,\r\na.ts\r\n', 'q=1'),
      '#EXTM3U\r\n#EXTINF:4,\r\na.ts?q=1\r\n',
    );
  });
});
