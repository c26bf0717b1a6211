import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsafeArchiveError } from '../domain/image.errors.js';
import { paxBody } from '../testing/crafted-archives.js';
import { interpretPaxRecords, parsePaxRecords } from './pax-records.js';

const read = (body: Buffer) => interpretPaxRecords(parsePaxRecords(body, 'e'), 'e');

describe('PAX records', () => {
  it('keeps binary xattr values byte for byte, from SCHILY and LIBARCHIVE records', () => {
    const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0x00, 0x00, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const pax = read(paxBody([['SCHILY.xattr.security.capability', capability], ['LIBARCHIVE.xattr.user.a%20b', Buffer.from('aGk=')]]));
    assert.deepEqual(pax.xattrs.get('security.capability'), capability);
    assert.deepEqual(pax.xattrs.get('user.a b'), Buffer.from('hi'));
  });

  it('reads owners, sizes and sub-second times strictly', () => {
    const pax = read(paxBody([['uid', '4294967294'], ['gid', '7'], ['size', '12'], ['mtime', '-1.25'], ['uname', 'root'], ['atime', '3']]));
    assert.deepEqual([pax.uid, pax.gid, pax.size, pax.mtime], [4294967294, 7, 12, { seconds: -2, nanoseconds: 750_000_000 }]);
    for (const [key, value] of [['uid', '12abc'], ['size', '-1'], ['mtime', '1e9'], ['hdrcharset', 'BINARY']]) {
      assert.throws(() => read(paxBody([[key, value]])), UnsafeArchiveError, `${key}=${value}`);
    }
  });

  it('refuses sparse files, unknown keywords, duplicates and malformed records', () => {
    assert.throws(() => read(paxBody([['GNU.sparse.map', '0,0']])), /GNU sparse/);
    assert.throws(() => read(paxBody([['BERTH.surprise', 'x']])), /unsupported PAX keyword/);
    assert.throws(() => read(paxBody([['path', 'a'], ['path', 'b']])), /duplicate keyword path/);
    assert.throws(() => read(Buffer.from('99 path=a\n')), /does not match/);
    assert.throws(() => read(Buffer.from('x path=a\n')), /record length/);
    assert.throws(() => read(Buffer.from('9 =value\n')), /no keyword/);
  });

  it('keeps POSIX ACLs aside rather than applying unshifted ids', () => {
    const pax = read(paxBody([['SCHILY.acl.access', 'user::rwx,user:1000:r-x']]));
    assert.deepEqual(pax.ignored, ['SCHILY.acl.access']);
  });
});
