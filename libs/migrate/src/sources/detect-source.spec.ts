import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { classifySourceHead, detectVmSource } from './detect-source.js';
import { SourceNotFoundError, UnknownSourceFormatError } from './source.errors.js';

function block(size: number, writes: [offset: number, bytes: Buffer | string][]): Buffer {
  const buffer = Buffer.alloc(size);
  for (const [offset, bytes] of writes) (typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes).copy(buffer, offset);
  return buffer;
}
const mbrSignature = Buffer.from([0x55, 0xaa]);

describe('classifySourceHead', () => {
  it('recognises qcow2, GPT (512 and 4096-byte sectors), MBR and the tarball compressions', () => {
    assert.equal(classifySourceHead(block(4104, [[0, 'QFI\xfb\0\0\0\x03']])), 'qcow2');
    assert.equal(classifySourceHead(block(4104, [[510, mbrSignature], [512, 'EFI PART']])), 'raw');
    assert.equal(classifySourceHead(block(4104, [[510, mbrSignature], [4096, 'EFI PART']])), 'raw');
    assert.equal(classifySourceHead(block(4104, [[0, Buffer.from([0xeb, 0x63, 0x90])], [510, mbrSignature]])), 'raw');
    assert.equal(classifySourceHead(gzipSync(Buffer.alloc(10240))), 'tarball');
    assert.equal(classifySourceHead(block(1024, [[0, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])]])), 'tarball');
    assert.equal(classifySourceHead(block(1024, [[0, Buffer.from([0x28, 0xb5, 0x2f, 0xfd])]])), 'tarball');
    assert.equal(classifySourceHead(block(1024, [[0, './etc/'], [257, 'ustar\x0000']])), 'tarball');
  });

  it('prefers the ustar magic to two stray bytes at 510, and knows nothing else', () => {
    assert.equal(classifySourceHead(block(1024, [[257, 'ustar  \0'], [510, mbrSignature]])), 'tarball');
    assert.equal(classifySourceHead(block(4104, [[0, 'hello world']])), undefined);
    assert.equal(classifySourceHead(Buffer.from('BZh91AY&SY')), undefined);
    assert.equal(classifySourceHead(Buffer.alloc(0)), undefined);
    assert.equal(classifySourceHead(block(511, [[0, 'x']])), undefined);
  });
});

describe('detectVmSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-detect-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names directories, and the file kinds by their bytes', async () => {
    mkdirSync(join(dir, 'root'));
    assert.equal(await detectVmSource(join(dir, 'root')), 'directory');
    writeFileSync(join(dir, 'root.tar.gz'), gzipSync(Buffer.alloc(10240)));
    assert.equal(await detectVmSource(join(dir, 'root.tar.gz')), 'tarball');
    writeFileSync(join(dir, 'disk.img'), block(1 << 20, [[510, mbrSignature], [512, 'EFI PART']]));
    assert.equal(await detectVmSource(join(dir, 'disk.img')), 'raw');
  });

  it('throws typed errors naming the source for missing paths, unknown bytes and special files', async () => {
    const missing = join(dir, 'missing');
    await assert.rejects(detectVmSource(missing), (e) => e instanceof SourceNotFoundError && e.code === 'MIGRATE.SOURCE_NOT_FOUND' && e.source === missing);
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    await assert.rejects(detectVmSource(join(dir, 'dangling')), SourceNotFoundError);
    writeFileSync(join(dir, 'notes.txt'), 'not a disk');
    await assert.rejects(detectVmSource(join(dir, 'notes.txt')), (e) => e instanceof UnknownSourceFormatError && e.code === 'MIGRATE.UNKNOWN_FORMAT' && e.message.includes(join(dir, 'notes.txt')));
    await assert.rejects(detectVmSource('/dev/null'), (e) => e instanceof UnknownSourceFormatError && /neither a regular file nor a directory/.test(e.message));
  });
});
