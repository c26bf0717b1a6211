import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';

export interface TinyImage {
  /** The unified image (gzip). */
  unified: Buffer;
  unifiedFingerprint: string;
  /** The split image: metadata tarball and rootfs tarball. */
  metadata: Buffer;
  rootfs: Buffer;
  splitFingerprint: string;
}

type Entry = { name: string; type?: 'directory' | 'file' | 'symlink'; mode?: number; body?: string; linkname?: string; uid?: number; gid?: number };

async function tar(entries: Entry[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => p.on('end', () => r()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, linkname: e.linkname, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: new Date(1_700_000_000_000) }, e.body ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

const METADATA = `architecture: x86_64
creation_date: 1700000000
properties:
  os: debian
  release: "12"
  description: Tiny test image
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
`;

const ROOTFS: Entry[] = [
  { name: 'rootfs/', type: 'directory', mode: 0o755 },
  { name: 'rootfs/etc/', type: 'directory', mode: 0o755 },
  { name: 'rootfs/etc/hostname', body: 'tiny\n' },
  { name: 'rootfs/etc/os-release', body: 'ID=debian\nVERSION_ID="12"\n' },
  { name: 'rootfs/usr/', type: 'directory', mode: 0o755 },
  { name: 'rootfs/usr/bin/', type: 'directory', mode: 0o755 },
  { name: 'rootfs/usr/bin/tool', body: '#!/bin/sh\necho tool\n', mode: 0o4755 },
  { name: 'rootfs/home/', type: 'directory', mode: 0o755 },
  { name: 'rootfs/home/user/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
  { name: 'rootfs/bin', type: 'symlink', linkname: 'usr/bin' },
];

/** A small but well-formed LXD image (unified and split), built in memory. `salt` makes a distinct one. */
export async function tinyImage(salt = ''): Promise<TinyImage> {
  const metadataEntries: Entry[] = [
    { name: 'metadata.yaml', body: METADATA + (salt ? `# ${salt}\n` : '') },
    { name: 'templates/', type: 'directory', mode: 0o755 },
    { name: 'templates/hostname.tpl', body: '{{ container.name }}\n' },
  ];
  const unified = gzipSync(await tar([...metadataEntries, ...ROOTFS]));
  const metadata = gzipSync(await tar(metadataEntries));
  const rootfs = gzipSync(await tar(ROOTFS.map((e) => ({ ...e, name: e.name.replace(/^rootfs\//, '') })).filter((e) => e.name !== '')));
  const sha = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');
  return { unified, unifiedFingerprint: sha(unified), metadata, rootfs, splitFingerprint: sha(metadata, rootfs) };
}

export async function writeTinyImage(path: string, salt = ''): Promise<string> {
  const img = await tinyImage(salt);
  await writeFile(path, img.unified);
  return img.unifiedFingerprint;
}
