import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMountInfo } from './mount-table.js';

describe('parseMountInfo', () => {
  it('reads the mount point, fstype and source around optional fields, unescaping octal', () => {
    const text = [
      '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '141 27 0:49 / /tmp/a\\040b/storage/default rw,relatime - btrfs /dev/loop0 rw,space_cache=v2,subvolid=5,subvol=/',
      '150 27 0:49 /containers/c1 /run/idm rw,relatime,idmapped master:3 shared:9 - btrfs /dev/loop0 rw',
    ].join('\n');
    assert.deepEqual(parseMountInfo(text), [
      { mountPoint: '/', fsType: 'ext4', source: '/dev/vda' },
      { mountPoint: '/tmp/a b/storage/default', fsType: 'btrfs', source: '/dev/loop0' },
      { mountPoint: '/run/idm', fsType: 'btrfs', source: '/dev/loop0' },
    ]);
  });
});
