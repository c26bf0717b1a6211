import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { identifyFilesystem, SUPERBLOCK_PROBE_BYTES } from './filesystem.js';
import { describePartition, readPartitionTable, rootCandidates, type ReadAt } from './partition-table.js';
import { InvalidDiskImageError } from './source.errors.js';

const MiB = 1024 * 1024;
const LINUX_ROOT_X86_64 = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';
const LINUX_DATA = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const SWAP = '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F';
const EFI = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

const readerOf =
  (disk: Buffer): ReadAt =>
  async (offset, length) =>
    disk.subarray(offset, Math.min(disk.length, offset + length));

type MbrEntry = [type: number, firstSector: number, sectors: number, status?: number];

function writeMbrEntries(sector: Buffer, entries: MbrEntry[]): void {
  entries.forEach(([type, first, sectors, status = 0], i) => {
    const offset = 446 + i * 16;
    sector[offset] = status;
    sector[offset + 4] = type;
    sector.writeUInt32LE(first, offset + 8);
    sector.writeUInt32LE(sectors, offset + 12);
  });
  sector.writeUInt16LE(0xaa55, 510);
}

function mbrDisk(size: number, entries: MbrEntry[], ebrs: [sector: number, entries: MbrEntry[]][] = []): Buffer {
  const disk = Buffer.alloc(size);
  writeMbrEntries(disk.subarray(0, 512), entries);
  for (const [sector, ebrEntries] of ebrs) writeMbrEntries(disk.subarray(sector * 512, sector * 512 + 512), ebrEntries);
  return disk;
}

function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  const bytes = Buffer.from(hex, 'hex');
  bytes.subarray(0, 4).reverse();
  bytes.subarray(4, 6).reverse();
  bytes.subarray(6, 8).reverse();
  return bytes;
}

interface GptPartition {
  type: string;
  first: number;
  last: number;
  name?: string;
}

/** A GPT disk (512-byte sectors) with primary and backup headers and 128 entries of 128 bytes. */
function gptDisk(size: number, partitions: GptPartition[]): Buffer {
  const disk = Buffer.alloc(size);
  const sectors = size / 512;
  writeMbrEntries(disk.subarray(0, 512), [[0xee, 1, sectors - 1]]);
  const entries = Buffer.alloc(128 * 128);
  partitions.forEach((p, i) => {
    const entry = entries.subarray(i * 128, i * 128 + 128);
    guidBytes(p.type).copy(entry, 0);
    guidBytes('11111111-2222-3333-4444-555555555555').copy(entry, 16);
    entry.writeBigUInt64LE(BigInt(p.first), 32);
    entry.writeBigUInt64LE(BigInt(p.last), 40);
    entry.write(p.name ?? '', 56, 'utf16le');
  });
  const writeHeader = (lba: number, backupLba: number, entriesLba: number) => {
    const header = Buffer.alloc(92);
    header.write('EFI PART', 0, 'latin1');
    header.writeUInt32LE(0x00010000, 8);
    header.writeUInt32LE(92, 12);
    header.writeBigUInt64LE(BigInt(lba), 24);
    header.writeBigUInt64LE(BigInt(backupLba), 32);
    header.writeBigUInt64LE(34n, 40);
    header.writeBigUInt64LE(BigInt(sectors - 34), 48);
    header.writeBigUInt64LE(BigInt(entriesLba), 72);
    header.writeUInt32LE(128, 80);
    header.writeUInt32LE(128, 84);
    header.writeUInt32LE(crc32(entries), 88);
    header.writeUInt32LE(crc32(header), 16);
    header.copy(disk, lba * 512);
    entries.copy(disk, entriesLba * 512);
  };
  writeHeader(1, sectors - 1, 2);
  writeHeader(sectors - 1, 1, sectors - 33);
  return disk;
}

async function invalidReason(disk: Buffer): Promise<string> {
  try {
    await readPartitionTable(readerOf(disk), disk.length, 'disk.img');
  } catch (error) {
    assert.ok(error instanceof InvalidDiskImageError, String(error));
    assert.equal(error.code, 'MIGRATE.INVALID_DISK_IMAGE');
    assert.equal(error.source, 'disk.img');
    return error.reason;
  }
  return assert.fail('the table was accepted');
}

describe('readPartitionTable: MBR', () => {
  it('reads primary partitions with their Linux numbers, types and byte ranges', async () => {
    const disk = mbrDisk(8 * MiB, [
      [0x82, 2048, 2048],
      [0x83, 4096, 8192, 0x80],
    ]);
    const table = await readPartitionTable(readerOf(disk), disk.length, 'disk.img');
    assert.equal(table.table, 'mbr');
    assert.deepEqual(
      table.partitions.map((p) => [p.index, p.type, p.role, p.start, p.size]),
      [
        [1, '0x82', 'swap', 1 * MiB, 1 * MiB],
        [2, '0x83', 'linux-data', 2 * MiB, 4 * MiB],
      ],
    );
    assert.deepEqual(rootCandidates(table).map((p) => p.index), [2]);
  });

  it('walks the extended partition: logical partitions are numbered from 5, each EBR linking the next', async () => {
    // Extended partition at sector 2048 (6 MiB); EBRs at 2048 and 6144, each followed by its logical partition.
    const disk = mbrDisk(
      8 * MiB,
      [
        [0x83, 63, 1985],
        [0x05, 2048, 12288],
      ],
      [
        [
          2048,
          [
            [0x82, 2048, 2048],
            [0x05, 4096, 6144],
          ],
        ],
        [6144, [[0x83, 2048, 6144]]],
      ],
    );
    const table = await readPartitionTable(readerOf(disk), disk.length, 'disk.img');
    assert.deepEqual(
      table.partitions.map((p) => [p.index, p.role, p.start / 512, p.size / 512]),
      [
        [1, 'linux-data', 63, 1985],
        [2, 'extended', 2048, 12288],
        [5, 'swap', 4096, 2048],
        [6, 'linux-data', 8192, 6144],
      ],
    );
    assert.deepEqual(rootCandidates(table).map((p) => p.index), [6, 1], 'the larger Linux partition first');
  });

  it('refuses an EBR chain that loops, leaves the extended partition or lacks its signature', async () => {
    const looping = mbrDisk(4 * MiB, [[0x05, 2048, 4096]], [[2048, [[0x83, 63, 100], [0x05, 0, 4096]]]]);
    assert.match(await invalidReason(looping), /loops/);
    const outside = mbrDisk(4 * MiB, [[0x05, 2048, 4096]], [[2048, [[0x83, 63, 100], [0x05, 5000, 10]]]]);
    assert.match(await invalidReason(outside), /outside the extended partition/);
    const unsigned = mbrDisk(4 * MiB, [[0x05, 2048, 4096]]);
    assert.match(await invalidReason(unsigned), /has no signature/);
  });

  it('refuses partitions beyond the end of the disk, overlaps, and boot sectors that are not tables', async () => {
    assert.match(await invalidReason(mbrDisk(4 * MiB, [[0x83, 2048, 8192]])), /beyond the end of the disk/);
    assert.match(
      await invalidReason(
        mbrDisk(4 * MiB, [
          [0x83, 2048, 2048],
          [0x83, 3000, 1000],
        ]),
      ),
      /overlap/,
    );
    const fatBootSector = mbrDisk(4 * MiB, []);
    fatBootSector.fill(0x41, 446, 510);
    assert.match(await invalidReason(fatBootSector), /invalid status byte/);
    assert.match(await invalidReason(Buffer.alloc(4 * MiB)), /no MBR signature/);
    assert.match(await invalidReason(Buffer.alloc(100)), /no MBR signature/);
  });
});

describe('readPartitionTable: GPT', () => {
  const partitions: GptPartition[] = [
    { type: EFI, first: 2048, last: 4095, name: 'EFI' },
    { type: SWAP, first: 4096, last: 6143 },
    { type: LINUX_DATA, first: 6144, last: 10239, name: 'home' },
    { type: LINUX_ROOT_X86_64, first: 10240, last: 12287, name: 'root' },
  ];

  it('reads the entries behind the protective MBR: GUIDs, names, roles, byte ranges', async () => {
    const disk = gptDisk(8 * MiB, partitions);
    const table = await readPartitionTable(readerOf(disk), disk.length, 'disk.img');
    assert.equal(table.table, 'gpt');
    assert.equal(table.sectorSize, 512);
    assert.deepEqual(
      table.partitions.map((p) => [p.index, p.type, p.role, p.start / 512, p.size / 512, p.name]),
      [
        [1, EFI, 'efi', 2048, 2048, 'EFI'],
        [2, SWAP, 'swap', 4096, 2048, ''],
        [3, LINUX_DATA, 'linux-data', 6144, 4096, 'home'],
        [4, LINUX_ROOT_X86_64, 'root', 10240, 2048, 'root'],
      ],
    );
    assert.deepEqual(rootCandidates(table).map((p) => p.index), [4, 3], 'the root type before a larger Linux data partition');
    assert.equal(describePartition(table.partitions[1]), `#2 Linux swap (${SWAP}), 1.0 MiB`);
  });

  it('falls back to the backup GPT when the primary header is damaged, and refuses when both are', async () => {
    const disk = gptDisk(8 * MiB, partitions);
    disk[512 + 40] ^= 0xff;
    const table = await readPartitionTable(readerOf(disk), disk.length, 'disk.img');
    assert.equal(table.partitions.length, 4);
    disk[disk.length - 512 + 40] ^= 0xff;
    assert.match(await invalidReason(disk), /primary GPT: header checksum mismatch; backup GPT: header checksum mismatch/);
  });

  it('refuses damaged entries, entries outside the usable area and overlapping entries', async () => {
    const damaged = gptDisk(8 * MiB, partitions);
    damaged[2 * 512 + 3 * 128 + 33] ^= 0x01;
    damaged[8 * MiB - 33 * 512 + 3 * 128 + 33] ^= 0x01;
    assert.match(await invalidReason(damaged), /primary GPT: partition entries checksum mismatch; backup GPT: partition entries checksum mismatch/);
    assert.match(await invalidReason(gptDisk(8 * MiB, [{ type: LINUX_DATA, first: 10, last: 100 }])), /outside the usable area/);
    assert.match(await invalidReason(gptDisk(8 * MiB, [{ type: LINUX_DATA, first: 5000, last: 4000 }])), /outside the usable area/);
    assert.match(
      await invalidReason(
        gptDisk(8 * MiB, [
          { type: LINUX_DATA, first: 2048, last: 4095 },
          { type: LINUX_DATA, first: 4000, last: 6000 },
        ]),
      ),
      /overlap/,
    );
  });

  it('refuses a protective MBR without a GPT behind it', async () => {
    const disk = mbrDisk(4 * MiB, [[0xee, 1, 8191]]);
    assert.match(await invalidReason(disk), /protective MBR without a GPT header/);
  });
});

describe('identifyFilesystem', () => {
  it('recognises ext2/3/4 by magic and features, with size and use from the superblock', () => {
    const head = Buffer.alloc(SUPERBLOCK_PROBE_BYTES);
    const sb = head.subarray(1024, 2048);
    sb.writeUInt16LE(0xef53, 56);
    sb.writeUInt32LE(1000, 4);
    sb.writeUInt32LE(250, 12);
    sb.writeUInt32LE(2, 24);
    assert.deepEqual(identifyFilesystem(head), { type: 'ext2', size: 4096 * 1000, used: 4096 * 750 });
    sb.writeUInt32LE(0x4, 92);
    assert.equal(identifyFilesystem(head)?.type, 'ext3');
    sb.writeUInt32LE(0x40, 96);
    assert.equal(identifyFilesystem(head)?.type, 'ext4');
    sb.writeUInt32LE(30, 24);
    assert.equal(identifyFilesystem(head), undefined, 'an absurd block size is not a filesystem');
  });

  it('recognises XFS and btrfs, and nothing else', () => {
    const head = Buffer.alloc(SUPERBLOCK_PROBE_BYTES);
    assert.equal(identifyFilesystem(head), undefined);
    head.write('_BHRfS_M', 65536 + 64, 'latin1');
    assert.equal(identifyFilesystem(head)?.type, 'btrfs');
    head.write('XFSB', 0, 'latin1');
    assert.equal(identifyFilesystem(head)?.type, 'xfs');
  });
});
