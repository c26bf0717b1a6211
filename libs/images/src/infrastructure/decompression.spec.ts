import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzip, packTar, xz, zstd } from '../testing/crafted-archives.js';
import { detectCompression } from './decompression.js';

describe('detectCompression', () => {
  it('recognises gzip, xz, zstd and plain tar by their magic bytes', async () => {
    const tar = await packTar([{ name: 'metadata.yaml', content: 'x' }]);
    assert.equal(detectCompression(gzip(tar)), 'gzip');
    assert.equal(detectCompression(xz(tar)), 'xz');
    assert.equal(detectCompression(zstd(tar)), 'zstd');
    assert.equal(detectCompression(tar), 'none');
  });

  it('gives up on bzip2, squashfs and short or unknown bytes', () => {
    assert.equal(detectCompression(Buffer.from('BZh91AY&SY')), undefined);
    assert.equal(detectCompression(Buffer.from('hsqs\0\0\0\0')), undefined);
    assert.equal(detectCompression(Buffer.from([0x1f])), undefined);
    assert.equal(detectCompression(Buffer.alloc(512)), undefined);
  });
});
