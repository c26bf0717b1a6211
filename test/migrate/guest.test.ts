import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { DomainError } from '#core';
import {
  ArchitectureMismatchError,
  NotLinuxError,
  UnsupportedInitError,
  fixUpGuest,
  inspectGuest,
  renderReport,
  type MigrationReport,
} from '../../libs/migrate/src/guest/index.js';
import { Runtime } from '#runtime';

import { copyRootfs } from '../support/rootfs.js';
import { OS_RELEASE, Sandbox, listTree } from './support.js';

const LIBVIRT = { name: 'berthbr0', subnet: '192.168.122.0/24', gateway: '192.168.122.1' };
const OTHER = { name: 'berthbr1', subnet: '10.1.2.0/24', gateway: '10.1.2.1' };
const NOW = new Date('2026-03-01T10:00:00Z');

const VM_FSTAB = `# /etc/fstab: static file system information.
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
/dev/vda1       /               ext4    errors=remount-ro 0       1
UUID=5A1B-2C3D  /boot/efi       vfat    umask=0077      0       1
/dev/vda5       none            swap    sw              0       0
tmpfs           /tmp            tmpfs   defaults        0       0
/srv/www        /var/www        none    bind            0       0
`;

const VM_INTERFACES = `source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug ens3
iface ens3 inet static
    address 192.168.122.50/24
    gateway 192.168.122.1
    dns-nameservers 192.168.122.1
`;

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** An ELF header of a 64-bit little-endian executable for `machine` (e_machine). */
function elfHeader(machine: number): Buffer {
  const header = Buffer.alloc(64);
  header.write('\x7fELF', 0, 'latin1');
  header[4] = 2;
  header[5] = 1;
  header[6] = 1;
  header.writeUInt16LE(2, 16);
  header.writeUInt16LE(machine, 18);
  return header;
}

/** The host's own architecture is the one a guest's init must have; the "foreign" one is another. */
const FOREIGN_MACHINE = os.machine() === 'aarch64' ? 62 : 183;

/**
 * A VM-like root filesystem: Debian 12 with systemd (the host's /bin/true stands for its binary,
 * for a real ELF header of the host's architecture), a VM's fstab, ifupdown on ens3 with a
 * static address and a second nic in interfaces.d, kernel and grub hooks, an enabled getty on
 * tty1, an admin's override of dev-hugepages.mount, a service loading a credential file, and the
 * things a migration must keep (hostname, machine-id, accounts, SSH host keys, crontab, data).
 */
function buildVmTree(root: string): void {
  const file = (p: string, content: string | Buffer, mode = 0o644) => {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), content, { mode });
  };
  const link = (target: string, p: string) => {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    symlinkSync(target, path.join(root, p));
  };
  file('usr/lib/os-release', OS_RELEASE);
  link('../usr/lib/os-release', 'etc/os-release');
  mkdirSync(path.join(root, 'lib/systemd'), { recursive: true });
  copyFileSync('/bin/true', path.join(root, 'lib/systemd/systemd'));
  link('/lib/systemd/systemd', 'sbin/init');
  file('etc/hostname', 'web01\n');
  file('etc/machine-id', '0123456789abcdef0123456789abcdef\n', 0o444);
  file('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n');
  file('etc/group', 'root:x:0:\nalice:x:1000:\n');
  file('etc/shadow', 'root:*:19000:0:99999:7:::\n', 0o640);
  file('etc/ssh/ssh_host_ed25519_key', 'PRIVATE\n', 0o600);
  file('etc/ssh/ssh_host_ed25519_key.pub', 'ssh-ed25519 AAAA root@web01\n');
  file('etc/crontab', '17 * * * * root cd / && run-parts --report /etc/cron.hourly\n');
  file('home/alice/notes.txt', 'keep me\n');
  file('srv/www/index.html', '<h1>web01</h1>\n');
  file('sbin/dhclient', '#!/bin/sh\n', 0o755);
  file('etc/fstab', VM_FSTAB);
  file('etc/network/interfaces', VM_INTERFACES);
  file('etc/network/interfaces.d/ens4', 'allow-hotplug ens4\niface ens4 inet dhcp\n');
  for (const unit of [
    'systemd-modules-load.service',
    'sys-kernel-config.mount',
    'sys-kernel-debug.mount',
    'sys-kernel-tracing.mount',
    'dev-hugepages.mount',
    'systemd-remount-fs.service',
    'getty@.service',
    'console-getty.service',
    'ssh.service',
  ]) {
    file(`lib/systemd/system/${unit}`, `[Unit]\nDescription=${unit}\n`);
  }
  link('/dev/null', 'lib/systemd/system/hwclock.service');
  file('etc/init.d/hwclock.sh', '#!/bin/sh\n', 0o755);
  file('lib/systemd/system/app.service', '[Service]\nLoadCredential=token:/etc/app/token\nExecStart=/usr/bin/app\n');
  file('etc/systemd/system/dev-hugepages.mount', '[Mount]\nWhat=hugetlbfs\nWhere=/dev/hugepages\nOptions=pagesize=2M\n');
  link('/lib/systemd/system/getty@.service', 'etc/systemd/system/getty.target.wants/getty@tty1.service');
  link('/lib/systemd/system/ssh.service', 'etc/systemd/system/multi-user.target.wants/ssh.service');
  link('/lib/systemd/system/app.service', 'etc/systemd/system/multi-user.target.wants/app.service');
  file('etc/kernel/postinst.d/initramfs-tools', '#!/bin/sh\nupdate-initramfs -c -k "$1"\n', 0o755);
  file('etc/kernel/postinst.d/zz-update-grub', '#!/bin/sh\nexec update-grub\n', 0o755);
  file('etc/kernel/postinst.d/dkms.dpkg-old', '#!/bin/sh\n', 0o755);
  file('etc/kernel/postrm.d/zz-update-grub', '#!/bin/sh\nexec update-grub\n', 0o755);
  file('etc/initramfs/post-update.d/z50-flash-kernel', '#!/bin/sh\n', 0o755);
}

const summary = (report: MigrationReport) => report.changes.map((c) => `${c.area} ${c.action} ${c.path}${c.backup ? ` <${c.backup}>` : ''}`);

describe('migrate: guest inspection and fix-ups on a VM-like tree (real files, GuestRoot)', () => {
  const sandbox = new Sandbox();
  const root = sandbox.path('vm');

  before(() => {
    mkdirSync(root);
    buildVmTree(root);
  });

  after(() => sandbox.cleanup());

  it('inspects the guest: os-release, systemd as init (resolved in root), architecture, hostname, interfaces', async () => {
    const facts = await inspectGuest(root);
    assert.deepEqual(facts.os, { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
    assert.equal(facts.init, 'systemd');
    assert.equal(facts.initPath, '/lib/systemd/systemd');
    assert.equal(facts.architecture, os.machine());
    assert.equal(facts.hostname, 'web01');
    assert.equal(facts.networkConfig, 'ifupdown');
    assert.deepEqual(
      facts.interfaces.map((i) => [i.name, i.method, i.file, i.addresses]),
      [
        ['ens3', 'static', '/etc/network/interfaces', ['192.168.122.50/24']],
        ['ens4', 'dhcp', '/etc/network/interfaces.d/ens4', []],
      ],
    );
  });

  let dryReport: MigrationReport;

  it('a dry run reports every change and leaves the tree byte for byte as it was', async () => {
    const before = await listTree(root);
    dryReport = await fixUpGuest(root, { dryRun: true, network: LIBVIRT, now: NOW });
    assert.deepEqual(await listTree(root), before);
    const other = await fixUpGuest(root, { dryRun: true, network: OTHER, now: NOW });
    assert.equal(other.network.reservation, undefined, '192.168.122.50 does not fit 10.1.2.0/24');
    assert.ok(other.warnings.some((w) => w.includes('192.168.122.50/24 is not a host address of berthbr1 (10.1.2.0/24)')));
    assert.deepEqual(await listTree(root), before);
  });

  let report: MigrationReport;

  it('fixes the guest up with exactly the report of the dry run', async () => {
    report = await fixUpGuest(root, { dryRun: false, network: LIBVIRT, now: NOW });
    assert.deepEqual(report, dryReport);
    assert.deepEqual(summary(report), [
      'fstab commented /etc/fstab </etc/fstab.berth-orig>',
      'fstab commented /etc/fstab </etc/fstab.berth-orig>',
      'fstab commented /etc/fstab </etc/fstab.berth-orig>',
      'network rewritten /etc/network/interfaces </etc/network/interfaces.berth-orig>',
      'network rewritten /etc/network/interfaces </etc/network/interfaces.berth-orig>',
      'network commented /etc/network/interfaces.d/ens4 </etc/network/interfaces.d/.ens4.berth-orig>',
      'network commented /etc/network/interfaces.d/ens4 </etc/network/interfaces.d/.ens4.berth-orig>',
      'units masked /etc/systemd/system/systemd-modules-load.service',
      'units masked /etc/systemd/system/sys-kernel-config.mount',
      'units masked /etc/systemd/system/sys-kernel-debug.mount',
      'units masked /etc/systemd/system/sys-kernel-tracing.mount',
      'units masked /etc/systemd/system/dev-hugepages.mount </etc/systemd/system/dev-hugepages.mount.berth-orig>',
      'units masked /etc/systemd/system/hwclock.service',
      'units masked /etc/systemd/system/systemd-remount-fs.service',
      'units masked /etc/systemd/system/getty@tty1.service',
      'units masked /etc/systemd/system/getty@tty2.service',
      'units masked /etc/systemd/system/getty@tty3.service',
      'units masked /etc/systemd/system/getty@tty4.service',
      'units masked /etc/systemd/system/getty@tty5.service',
      'units masked /etc/systemd/system/getty@tty6.service',
      'hooks disabled /etc/kernel/postinst.d/initramfs-tools </etc/kernel/postinst.d/initramfs-tools.berth-orig>',
      'hooks disabled /etc/kernel/postinst.d/zz-update-grub </etc/kernel/postinst.d/zz-update-grub.berth-orig>',
      'hooks disabled /etc/kernel/postrm.d/zz-update-grub </etc/kernel/postrm.d/zz-update-grub.berth-orig>',
      'hooks disabled /etc/initramfs/post-update.d/z50-flash-kernel </etc/initramfs/post-update.d/z50-flash-kernel.berth-orig>',
    ]);
    assert.match(report.changes[0]!.detail, /^\/dev\/vda1 on \/: the root block device/);
    assert.match(report.changes[2]!.detail, /^\/dev\/vda5 on none: swap/);
    assert.equal(report.changes[3]!.detail, 'iface ens3 inet static (address 192.168.122.50/24, gateway 192.168.122.1) → iface eth0 inet dhcp');
    assert.deepEqual(report.network, {
      config: 'ifupdown',
      oldInterface: 'ens3',
      newInterface: 'eth0',
      mode: 'dhcp',
      staticAddress: '192.168.122.50/24',
      reservation: '192.168.122.50',
    });
    assert.ok(report.warnings.some((w) => w.startsWith('app.service has "LoadCredential=token:/etc/app/token"')));
    for (const kept of ['hostname: /etc/hostname (web01)', 'machine-id', 'users and groups: /etc/passwd, /etc/group, /etc/shadow', 'SSH host keys: /etc/ssh/ssh_host_ed25519_key', 'crontabs: /etc/crontab', 'data directories: /home, /srv', 'enabled services (3): app.service, getty@tty1.service, ssh.service']) {
      assert.ok(report.kept.some((k) => k.startsWith(kept)), `kept lists ${kept}: ${report.kept.join(' | ')}`);
    }
  });

  it('leaves the files a container needs, and the originals beside them', () => {
    const at = (p: string) => path.join(root, p);
    assert.equal(readFileSync(at('etc/fstab.berth-orig'), 'utf8'), VM_FSTAB);
    const active = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    assert.deepEqual(active(readFileSync(at('etc/fstab'), 'utf8')).map((l) => l.split(/\s+/)[1]), ['/tmp', '/var/www']);
    assert.ok(readFileSync(at('etc/fstab'), 'utf8').includes('(berth import-vm, 2026-03-01)'));
    assert.equal(readFileSync(at('etc/network/interfaces.berth-orig'), 'utf8'), VM_INTERFACES);
    assert.deepEqual(active(readFileSync(at('etc/network/interfaces'), 'utf8')), ['source /etc/network/interfaces.d/*', 'auto lo', 'iface lo inet loopback', 'auto eth0', 'iface eth0 inet dhcp']);
    assert.deepEqual(active(readFileSync(at('etc/network/interfaces.d/ens4'), 'utf8')), []);
    assert.deepEqual(readdirSync(at('etc/network/interfaces.d')), ['.ens4.berth-orig', 'ens4'], 'the backup is hidden from "source interfaces.d/*"');
    for (const unit of ['getty@tty1.service', 'systemd-remount-fs.service', 'hwclock.service', 'dev-hugepages.mount']) {
      assert.equal(readlinkSync(at(`etc/systemd/system/${unit}`)), '/dev/null', `${unit} masked`);
    }
    assert.match(readFileSync(at('etc/systemd/system/dev-hugepages.mount.berth-orig'), 'utf8'), /pagesize=2M/);
    assert.equal(lstatSync(at('etc/systemd/system/console-getty.service'), { throwIfNoEntry: false }), undefined, 'console-getty stays');
    assert.deepEqual(readdirSync(at('etc/kernel/postinst.d')).sort(), ['dkms.dpkg-old', 'initramfs-tools.berth-orig', 'zz-update-grub.berth-orig']);
    assert.equal(lstatSync(at('etc/kernel/postinst.d/zz-update-grub.berth-orig')).mode & 0o777, 0o755);
    assert.equal(readFileSync(at('home/alice/notes.txt'), 'utf8'), 'keep me\n');
    assert.equal(readFileSync(at('etc/hostname'), 'utf8'), 'web01\n');
  });

  it('changes nothing further on a second run', async () => {
    const before = await listTree(root);
    const again = await fixUpGuest(root, { dryRun: false, network: LIBVIRT, now: NOW });
    assert.deepEqual(again.changes, []);
    assert.equal(again.network.oldInterface, undefined);
    assert.deepEqual(await listTree(root), before);
  });

  it('renders the report for the CLI', () => {
    const text = renderReport(report);
    assert.match(text, /^Guest: Debian GNU\/Linux 12 \(bookworm\), [a-z0-9_]+, systemd \(\/lib\/systemd\/systemd\), hostname web01\n/);
    assert.match(text, /Changes \(24\):/);
    assert.match(text, /\n {2}fstab +commented +\/etc\/fstab: \/dev\/vda1 on \//);
    assert.match(text, /\(original kept as \/etc\/fstab\.berth-orig\)/);
    assert.match(text, /Network: ifupdown; ens3 → eth0 by DHCP\n {2}the VM had 192\.168\.122\.50\/24: 192\.168\.122\.50 is reserved for it/);
    assert.match(text, /Warnings:\n {2}! /);
  });
});

describe('migrate: a hostile guest is resolved inside its root', () => {
  const sandbox = new Sandbox();
  const root = sandbox.path('vm');
  const hostPasswd = sha256('/etc/passwd');

  after(() => sandbox.cleanup());

  it('follows etc/fstab -> /etc/passwd to the guest\'s own file, and never writes outside', async () => {
    mkdirSync(root);
    buildVmTree(root);
    // The guest's own /etc/passwd is what its fstab symlink leads to; it holds a disk entry.
    writeFileSync(path.join(root, 'etc/passwd'), '/dev/vda1 / ext4 defaults 0 1\n');
    unlinkSync(path.join(root, 'etc/fstab'));
    symlinkSync('/etc/passwd', path.join(root, 'etc/fstab'));
    // Escapes that resolve to nothing inside the root: an absolute path to the sentinel, ../ chains.
    symlinkSync(sandbox.sentinel, path.join(root, 'etc/initramfs/post-update.d/z90-escape'));
    rmSync(path.join(root, 'etc/network/interfaces.d'), { recursive: true });
    symlinkSync(`../../../../../../..${sandbox.sentinel}`, path.join(root, 'etc/network/interfaces.d'));

    const report = await fixUpGuest(root, { dryRun: false, network: null, now: NOW });

    assert.equal(sha256('/etc/passwd'), hostPasswd, "the host's /etc/passwd is untouched");
    assert.equal(readFileSync(path.join(root, 'etc/passwd'), 'utf8'), '/dev/vda1 / ext4 defaults 0 1\n', "the guest's passwd is untouched");
    assert.equal(lstatSync(path.join(root, 'etc/fstab')).isFile(), true, 'the fstab symlink was replaced by a file');
    assert.equal(readlinkSync(path.join(root, 'etc/fstab.berth-orig')), '/etc/passwd', 'the symlink itself is the backup');
    assert.match(readFileSync(path.join(root, 'etc/fstab'), 'utf8'), /^# berth: the root block device \/dev\/vda1/);
    assert.deepEqual(readdirSync(sandbox.sentinel), [], 'nothing was written outside the root');
    assert.ok(report.changes.some((c) => c.path === '/etc/initramfs/post-update.d/z90-escape' && c.action === 'disabled'), 'the escaping hook symlink is itself renamed');
    assert.equal(readlinkSync(path.join(root, 'etc/initramfs/post-update.d/z90-escape.berth-orig')), sandbox.sentinel);
    assert.deepEqual(report.network.oldInterface, 'ens3', 'interfaces.d leading outside holds nothing');
  });
});

describe('migrate: guests Berth cannot run are refused with typed errors', () => {
  const sandbox = new Sandbox();
  after(() => sandbox.cleanup());

  function tree(name: string, build: (root: string) => void): string {
    const root = sandbox.path(name);
    mkdirSync(root);
    buildVmTree(root);
    build(root);
    return root;
  }

  async function refused(root: string, type: new (...args: never[]) => DomainError, code: string, message: RegExp): Promise<void> {
    const before = await listTree(root);
    for (const attempt of [() => inspectGuest(root), () => fixUpGuest(root, { dryRun: false, network: LIBVIRT })]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof type, String(error));
        assert.equal((error as DomainError).code, code);
        assert.match((error as Error).message, message);
        return true;
      });
    }
    assert.deepEqual(await listTree(root), before, 'a refused guest is not touched');
  }

  it('refuses a tree without os-release (MIGRATE.NOT_LINUX)', async () => {
    const root = tree('not-linux', (r) => {
      unlinkSync(path.join(r, 'etc/os-release'));
      unlinkSync(path.join(r, 'usr/lib/os-release'));
    });
    await refused(root, NotLinuxError, 'MIGRATE.NOT_LINUX', /neither \/etc\/os-release nor \/usr\/lib\/os-release/);
  });

  it('refuses an init that is not systemd, and a /sbin/init that leads nowhere inside the root (MIGRATE.UNSUPPORTED_INIT)', async () => {
    const sysv = tree('sysvinit', (r) => {
      unlinkSync(path.join(r, 'sbin/init'));
      mkdirSync(path.join(r, 'lib/sysvinit'));
      copyFileSync('/bin/true', path.join(r, 'lib/sysvinit/init'));
      symlinkSync('../lib/sysvinit/init', path.join(r, 'sbin/init'));
    });
    await refused(sysv, UnsupportedInitError, 'MIGRATE.UNSUPPORTED_INIT', /\/lib\/sysvinit\/init.*must lead to systemd/);
    // The host may well have /lib/systemd/systemd: resolved in the guest, the link dangles.
    const dangling = tree('dangling', (r) => unlinkSync(path.join(r, 'lib/systemd/systemd')));
    await refused(dangling, UnsupportedInitError, 'MIGRATE.UNSUPPORTED_INIT', /dangling symlink/);
    const script = tree('script', (r) => writeFileSync(path.join(r, 'lib/systemd/systemd'), '#!/bin/sh\n'));
    await refused(script, UnsupportedInitError, 'MIGRATE.UNSUPPORTED_INIT', /not an ELF executable/);
  });

  it('refuses a guest of another architecture (MIGRATE.ARCHITECTURE_MISMATCH)', async () => {
    const root = tree('foreign', (r) => writeFileSync(path.join(r, 'lib/systemd/systemd'), elfHeader(FOREIGN_MACHINE)));
    const foreign = FOREIGN_MACHINE === 183 ? 'aarch64' : 'x86_64';
    await refused(root, ArchitectureMismatchError, 'MIGRATE.ARCHITECTURE_MISMATCH', new RegExp(`guest is ${foreign} but this host is ${os.machine()}`));
  });
});


describe('migrate: a fixed-up VM root boots to "running" under Berth\'s runtime', () => {
  const sandbox = new Sandbox();
  const root = sandbox.path('rootfs');
  const runtime = new Runtime({ berthDir: sandbox.path('berth') });
  const idmap = { hostId: 3_300_000, count: 65_536 };
  const uuid = randomUUID().replaceAll('-', '');

  before(async () => {
    await copyRootfs(root);
    // What a Debian VM on libvirt has and a container cannot use.
    writeFileSync(
      path.join(root, 'etc/fstab'),
      '/dev/vda1 / ext4 errors=remount-ro 0 1\n/dev/vda15 /boot/efi vfat umask=0077 0 1\n/dev/vda2 none swap sw 0 0\n',
    );
    mkdirSync(path.join(root, 'etc/network'), { recursive: true });
    writeFileSync(path.join(root, 'etc/network/interfaces'), VM_INTERFACES.replace('source /etc/network/interfaces.d/*\n', ''));
    writeFileSync(path.join(root, 'etc/hostname'), 'web01\n');
    mkdirSync(path.join(root, 'etc/kernel/postinst.d'), { recursive: true });
    writeFileSync(path.join(root, 'etc/kernel/postinst.d/zz-update-grub'), '#!/bin/sh\nexec update-grub\n', { mode: 0o755 });
    const wants = path.join(root, 'etc/systemd/system/getty.target.wants');
    mkdirSync(wants, { recursive: true });
    if (!readdirSync(wants).includes('getty@tty1.service')) symlinkSync('/lib/systemd/system/getty@.service', path.join(wants, 'getty@tty1.service'));
  });

  after(async () => {
    if ((await runtime.state('vm')).state !== 'Stopped') await runtime.stop('vm', { force: true });
    sandbox.cleanup();
  });

  async function boot(): Promise<{ state: string; failed: string }> {
    await runtime.start({ name: 'vm', rootfs: root, idmap, uuid });
    try {
      const state = await runtime.exec('vm', ['systemctl', 'is-system-running', '--wait']);
      const failed = await runtime.exec('vm', ['systemctl', '--failed', '--no-legend', '--plain']);
      return { state: state.stdout.trim(), failed: failed.stdout.trim() };
    } finally {
      await runtime.stop('vm', { timeout: 30 });
    }
  }

  it('is degraded as the VM left it (the VM-isms really break a container)', async () => {
    const { state, failed } = await boot();
    assert.equal(state, 'degraded');
    assert.match(failed, /systemd-remount-fs\.service/);
  });

  it('reaches running, with no failed unit, once fixed up', async () => {
    const report = await fixUpGuest(root, { dryRun: false, network: LIBVIRT, now: NOW });
    assert.ok(report.changes.some((c) => c.path === '/etc/systemd/system/systemd-remount-fs.service' && c.action === 'masked'));
    assert.equal(report.network.oldInterface, 'ens3');
    const { state, failed } = await boot();
    assert.equal(failed, '', `failed units:\n${failed}`);
    assert.equal(state, 'running');
  });
});
