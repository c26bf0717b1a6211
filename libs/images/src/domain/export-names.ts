const SUFFIXES: readonly { magic: Buffer; offset: number; suffix: string }[] = [
  { magic: Buffer.from([0x1f, 0x8b]), offset: 0, suffix: '.tar.gz' },
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), offset: 0, suffix: '.tar.xz' },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), offset: 0, suffix: '.tar.zst' },
  { magic: Buffer.from('BZh'), offset: 0, suffix: '.tar.bz2' },
  { magic: Buffer.from([0x5d, 0x00, 0x00]), offset: 0, suffix: '.tar.lzma' },
  { magic: Buffer.from('hsqs'), offset: 0, suffix: '.squashfs' },
  { magic: Buffer.from([0x51, 0x46, 0x49, 0xfb]), offset: 0, suffix: '.qcow2' },
  { magic: Buffer.from('ustar'), offset: 257, suffix: '.tar' },
];

/** The file name suffix LXD gives an image file of this content (its first 512 bytes): `.tar.xz`, `.squashfs`...; '' when unknown. */
export function imageFileSuffix(head: Buffer): string {
  const found = SUFFIXES.find(({ magic, offset }) => head.length >= offset + magic.length && head.subarray(offset, offset + magic.length).equals(magic));
  return found?.suffix ?? '';
}

/**
 * The names an export gives an image's files, as LXD does: `<fingerprint><suffix>` for a unified
 * image; for a split one `meta-<fingerprint><suffix>` and `<fingerprint><suffix>`, each suffix
 * from that file's own compression.
 */
export function exportFileNames(fingerprint: string, heads: readonly Buffer[]): string[] {
  if (heads.length === 1) return [`${fingerprint}${imageFileSuffix(heads[0])}`];
  return [`meta-${fingerprint}${imageFileSuffix(heads[0])}`, `${fingerprint}${imageFileSuffix(heads[1])}`];
}
