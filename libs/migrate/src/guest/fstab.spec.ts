import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { rewriteFstab } from './fstab.js';

/** What debian-installer writes on a VM with an EFI partition, swap and a data disk. */
const VM_FSTAB = `# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
# / was on /dev/vda2 during installation
UUID=0b7d2a5e-6f1c-4d8e-9a1b-2c3d4e5f6a7b /               ext4    errors=remount-ro 0       1
# /boot/efi was on /dev/vda1 during installation
UUID=5A1B-2C3D  /boot/efi       vfat    umask=0077      0       1
# swap was on /dev/vda3 during installation
UUID=9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0 none            swap    sw              0       0
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
LABEL=data      /srv/data       xfs     defaults,nofail 0       2
PARTUUID=1234abcd-02 /var/log   ext4    defaults        0       2
/dev/disk/by-id/virtio-backup /backup ext4 defaults 0 2
nas:/export/home /home          nfs     defaults,_netdev 0     0
tmpfs           /tmp            tmpfs   defaults,size=1G 0      0
/srv/data/www   /var/www        none    bind            0       0
proc            /proc           proc    defaults        0       0
`;

describe('rewriteFstab', () => {
  it('comments out disks, swap, /boot/efi, removable media and NFS; keeps tmpfs, bind and proc', () => {
    const { text, edits, warnings } = rewriteFstab(VM_FSTAB);
    assert.deepEqual(
      edits.map((e) => e.mountPoint),
      ['/', '/boot/efi', 'none', '/media/cdrom0', '/srv/data', '/var/log', '/backup', '/home'],
    );
    assert.match(edits[0]!.reason, /root block device UUID=0b7d2a5e.*Berth volume/);
    assert.match(edits[2]!.reason, /^swap/);
    assert.match(edits[7]!.reason, /nfs on \/home/);
    const active = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    assert.deepEqual(active.map((l) => l.split(/\s+/)[1]), ['/tmp', '/var/www', '/proc']);
    assert.ok(text.includes('# berth: swap: a container has no swap space'));
    assert.ok(text.includes('# UUID=5A1B-2C3D  /boot/efi       vfat    umask=0077      0       1'), 'the original line is kept, commented');
    assert.equal(warnings.length, 4, 'data mounts from other disks are warned about');
    assert.ok(warnings.some((w) => w.startsWith('/srv/data was mounted from LABEL=data')));
  });

  it('changes nothing on a second pass, nor on a container-ready fstab', () => {
    const once = rewriteFstab(VM_FSTAB).text;
    const twice = rewriteFstab(once);
    assert.equal(twice.text, once);
    assert.deepEqual(twice.edits, []);
    assert.deepEqual(rewriteFstab('# UNCONFIGURED FSTAB FOR BASE SYSTEM\n').edits, []);
  });

  it('keeps lines that are not fstab entries verbatim', () => {
    const hostile = 'root:x:0:0:root:/root:/bin/bash\n';
    assert.equal(rewriteFstab(hostile).text, hostile);
  });
});
