import { crc32 } from 'node:zlib';
import { InvalidDiskImageError } from './source.errors.js';

/*
 * MBR and GPT partition tables, read from a hostile disk image: every offset, count and size is
 * bounded before it is used, an EBR chain is walked with a visited set and a length cap, and GPT
 * header and entry checksums are verified (falling back to the backup GPT at the end of the disk).
 * Reference: UEFI 2.10 section 5 (GPT disk layout), and the classic MBR/EBR layout.
 */

/** Reads up to `length` bytes at `offset`; fewer at the end of the disk. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export type PartitionRole = 'root' | 'linux-data' | 'swap' | 'efi' | 'bios-boot' | 'lvm' | 'raid' | 'extended' | 'other';

export interface DiskPartition {
  /** As Linux numbers it: GPT entry number + 1; MBR primaries 1-4, logical partitions from 5. */
  readonly index: number;
  /** GPT type GUID (upper case) or MBR type byte ("0x83"). */
  readonly type: string;
  readonly role: PartitionRole;
  /** Bytes from the start of the disk. */
  readonly start: number;
  readonly size: number;
  /** GPT partition name; empty for MBR. */
  readonly name: string;
}

export interface PartitionTable {
  readonly table: 'gpt' | 'mbr';
  readonly sectorSize: number;
  readonly partitions: readonly DiskPartition[];
}

const MBR_SIGNATURE_OFFSET = 510;
const MBR_ENTRIES_OFFSET = 446;
const MBR_ENTRY_BYTES = 16;
const MBR_PROTECTIVE = 0xee;
const MBR_EXTENDED = new Set([0x05, 0x0f, 0x85]);
const MAX_LOGICAL_PARTITIONS = 128;
const GPT_SIGNATURE = Buffer.from('EFI PART', 'latin1');
const GPT_MIN_HEADER_BYTES = 92;
const GPT_MAX_ENTRIES = 1024;
const GPT_MAX_ENTRY_BYTES = 4096;
const GPT_SECTOR_SIZES = [512, 4096];

const GPT_ROLES: Readonly<Record<string, PartitionRole>> = {
  '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709': 'root', // Linux root (x86-64)
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'linux-data',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'swap',
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'efi',
  '21686148-6449-6E6F-744E-656564454649': 'bios-boot',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'lvm',
  'A19D880F-05FC-4D3B-A006-743F0F84911E': 'raid',
};
const MBR_ROLES: Readonly<Record<number, PartitionRole>> = { 0x83: 'linux-data', 0x82: 'swap', 0xef: 'efi', 0x8e: 'lvm', 0xfd: 'raid' };
const ROLE_NAMES: Readonly<Record<PartitionRole, string>> = {
  root: 'Linux root (x86-64)',
  'linux-data': 'Linux filesystem',
  swap: 'Linux swap',
  efi: 'EFI system',
  'bios-boot': 'BIOS boot',
  lvm: 'Linux LVM',
  raid: 'Linux RAID',
  extended: 'extended',
  other: 'other',
};

/**
 * Reads the partition table of a raw disk of `diskSize` bytes: a GPT (behind its protective MBR,
 * 512- or 4096-byte sectors) or an MBR with primary, extended and logical partitions. Throws
 * InvalidDiskImageError naming `source` when there is no table or it is inconsistent.
 */
export async function readPartitionTable(read: ReadAt, diskSize: number, source: string): Promise<PartitionTable> {
  const invalid = (reason: string): never => {
    throw new InvalidDiskImageError(source, reason);
  };
  const mbr = await read(0, 512);
  if (mbr.length < 512 || mbr.readUInt16LE(MBR_SIGNATURE_OFFSET) !== 0xaa55) invalid('no partition table (no MBR signature)');
  const primaries = mbrEntries(mbr);
  if (primaries.some((entry) => entry.type === MBR_PROTECTIVE)) {
    for (const sectorSize of GPT_SECTOR_SIZES) {
      const header = await read(sectorSize, sectorSize);
      if (header.length >= GPT_MIN_HEADER_BYTES && header.subarray(0, 8).equals(GPT_SIGNATURE)) return readGpt(read, diskSize, sectorSize, invalid);
    }
    invalid('a protective MBR without a GPT header');
  }
  return readMbr(read, diskSize, mbr, primaries, invalid);
}

/** Partitions that may hold the root filesystem, best first: GPT root type, then Linux data (GPT or MBR 0x83), larger first. */
export function rootCandidates(table: PartitionTable): DiskPartition[] {
  const rank = (p: DiskPartition) => (p.role === 'root' ? 0 : 1);
  return table.partitions.filter((p) => p.role === 'root' || p.role === 'linux-data').sort((a, b) => rank(a) - rank(b) || b.size - a.size || a.index - b.index);
}

/** "#2 Linux swap (0657FD6D-…), 4.0 MiB" for messages and reports. */
export function describePartition(partition: DiskPartition): string {
  const name = partition.name === '' ? '' : ` "${partition.name}"`;
  return `#${partition.index}${name} ${ROLE_NAMES[partition.role]} (${partition.type}), ${formatBytes(partition.size)}`;
}

interface MbrEntry {
  readonly status: number;
  readonly type: number;
  readonly firstSector: number;
  readonly sectors: number;
}

function mbrEntries(sector: Buffer): MbrEntry[] {
  return [0, 1, 2, 3].map((i) => {
    const offset = MBR_ENTRIES_OFFSET + i * MBR_ENTRY_BYTES;
    return { status: sector[offset], type: sector[offset + 4], firstSector: sector.readUInt32LE(offset + 8), sectors: sector.readUInt32LE(offset + 12) };
  });
}

async function readMbr(read: ReadAt, diskSize: number, mbr: Buffer, primaries: MbrEntry[], invalid: (reason: string) => never): Promise<PartitionTable> {
  const sector = 512;
  const partitions: DiskPartition[] = [];
  const add = (index: number, type: number, start: number, sectors: number) => {
    const end = start + sectors * sector;
    if (end > diskSize) invalid(`partition ${index} ends at byte ${end}, beyond the end of the disk (${diskSize})`);
    const role = MBR_EXTENDED.has(type) ? 'extended' : (MBR_ROLES[type] ?? 'other');
    partitions.push({ index, type: `0x${type.toString(16).padStart(2, '0')}`, role, start, size: sectors * sector, name: '' });
  };

  let extended: MbrEntry | undefined;
  primaries.forEach((entry, i) => {
    // A boot sector of a filesystem also ends in 0x55AA; its "entries" fail this test.
    if (entry.status !== 0x00 && entry.status !== 0x80) invalid(`MBR entry ${i + 1} has an invalid status byte 0x${entry.status.toString(16)}`);
    if (entry.type === 0 || entry.sectors === 0) return;
    if (entry.firstSector === 0) invalid(`MBR entry ${i + 1} starts at sector 0`);
    add(i + 1, entry.type, entry.firstSector * sector, entry.sectors);
    if (MBR_EXTENDED.has(entry.type)) {
      if (extended !== undefined) invalid('more than one extended partition');
      extended = entry;
    }
  });
  if (extended !== undefined) {
    for (const logical of await readLogicalPartitions(read, extended, invalid)) add(logical.index, logical.type, logical.start, logical.sectors);
  }
  return { table: 'mbr', sectorSize: sector, partitions: checkOverlaps(partitions, invalid) };
}

/* The EBR chain: each EBR's first entry is a logical partition (relative to that EBR), its second the next EBR (relative to the extended partition). */
async function readLogicalPartitions(read: ReadAt, extended: MbrEntry, invalid: (reason: string) => never) {
  const logicals: { index: number; type: number; start: number; sectors: number }[] = [];
  const base = extended.firstSector;
  const visited = new Set<number>();
  let ebr = base;
  for (let index = 5; ; index++) {
    if (visited.has(ebr)) invalid('the chain of logical partitions loops');
    if (logicals.length >= MAX_LOGICAL_PARTITIONS) invalid(`more than ${MAX_LOGICAL_PARTITIONS} logical partitions`);
    if (ebr < base || ebr >= base + extended.sectors) invalid(`an extended boot record at sector ${ebr} lies outside the extended partition`);
    visited.add(ebr);
    const sector = await read(ebr * 512, 512);
    if (sector.length < 512 || sector.readUInt16LE(MBR_SIGNATURE_OFFSET) !== 0xaa55) invalid(`the extended boot record at sector ${ebr} has no signature`);
    const [logical, next] = mbrEntries(sector);
    if (logical.type !== 0 && logical.sectors !== 0) {
      const first = ebr + logical.firstSector;
      if (logical.firstSector === 0 || first + logical.sectors > base + extended.sectors) invalid(`logical partition ${index} lies outside the extended partition`);
      logicals.push({ index, type: logical.type, start: first * 512, sectors: logical.sectors });
    }
    if (next.type === 0 || next.sectors === 0) return logicals;
    if (!MBR_EXTENDED.has(next.type)) invalid(`the extended boot record at sector ${ebr} links to a partition of type 0x${next.type.toString(16)}`);
    ebr = base + next.firstSector;
  }
}

async function readGpt(read: ReadAt, diskSize: number, sectorSize: number, invalid: (reason: string) => never): Promise<PartitionTable> {
  const sectors = Math.floor(diskSize / sectorSize);
  const primary = await readGptAt(read, sectors, sectorSize, 1);
  const gpt = typeof primary === 'string' ? await readGptAt(read, sectors, sectorSize, sectors - 1) : primary;
  if (typeof gpt === 'string') return invalid(`primary GPT: ${primary as string}; backup GPT: ${gpt}`);
  return { table: 'gpt', sectorSize, partitions: checkOverlaps(gpt, invalid) };
}

/** The partitions of the GPT whose header is at `lba`, or why it cannot be used. */
async function readGptAt(read: ReadAt, sectors: number, sectorSize: number, lba: number): Promise<DiskPartition[] | string> {
  if (lba < 1 || lba >= sectors) return 'the header lies beyond the end of the disk';
  const sector = await read(lba * sectorSize, sectorSize);
  if (sector.length < GPT_MIN_HEADER_BYTES || !sector.subarray(0, 8).equals(GPT_SIGNATURE)) return 'no header signature';
  const headerSize = sector.readUInt32LE(12);
  if (headerSize < GPT_MIN_HEADER_BYTES || headerSize > sectorSize) return `bad header size ${headerSize}`;
  const header = Buffer.from(sector.subarray(0, headerSize));
  const headerCrc = header.readUInt32LE(16);
  header.writeUInt32LE(0, 16);
  if (crc32(header) !== headerCrc) return 'header checksum mismatch';

  const u64 = (offset: number) => {
    const value = header.readBigUInt64LE(offset);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(value);
  };
  const firstUsable = u64(40);
  const lastUsable = u64(48);
  const entriesLba = u64(72);
  const entryCount = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (!(firstUsable <= lastUsable && lastUsable < sectors)) return 'usable area lies outside the disk';
  if (entryCount > GPT_MAX_ENTRIES) return `too many partition entries (${entryCount})`;
  if (entrySize < 128 || entrySize > GPT_MAX_ENTRY_BYTES || entrySize % 8 !== 0) return `bad partition entry size ${entrySize}`;
  const entriesBytes = entryCount * entrySize;
  if (!(entriesLba >= 1 && entriesLba * sectorSize + entriesBytes <= sectors * sectorSize)) return 'partition entries lie outside the disk';
  const entries = await read(entriesLba * sectorSize, entriesBytes);
  if (entries.length < entriesBytes) return 'partition entries are truncated';
  if (crc32(entries) !== header.readUInt32LE(88)) return 'partition entries checksum mismatch';

  const partitions: DiskPartition[] = [];
  for (let i = 0; i < entryCount; i++) {
    const entry = entries.subarray(i * entrySize, i * entrySize + 128);
    const type = guid(entry.subarray(0, 16));
    if (type === '00000000-0000-0000-0000-000000000000') continue;
    const first = entry.readBigUInt64LE(32);
    const last = entry.readBigUInt64LE(40);
    if (first < BigInt(firstUsable) || last < first || last > BigInt(lastUsable)) return `partition ${i + 1} lies outside the usable area`;
    partitions.push({
      index: i + 1,
      type,
      role: GPT_ROLES[type] ?? 'other',
      start: Number(first) * sectorSize,
      size: (Number(last) - Number(first) + 1) * sectorSize,
      name: utf16Name(entry.subarray(56, 128)),
    });
  }
  return partitions;
}

function checkOverlaps(partitions: DiskPartition[], invalid: (reason: string) => never): DiskPartition[] {
  const data = partitions.filter((p) => p.role !== 'extended').sort((a, b) => a.start - b.start);
  for (let i = 1; i < data.length; i++) {
    if (data[i].start < data[i - 1].start + data[i - 1].size) invalid(`partitions ${data[i - 1].index} and ${data[i].index} overlap`);
  }
  return partitions.sort((a, b) => a.index - b.index);
}

/* Mixed-endian GUID: the first three fields little-endian, the rest as stored. */
function guid(bytes: Buffer): string {
  const hex = (b: Buffer) => b.toString('hex');
  const le = (b: Buffer) => hex(Buffer.from(b).reverse());
  return `${le(bytes.subarray(0, 4))}-${le(bytes.subarray(4, 6))}-${le(bytes.subarray(6, 8))}-${hex(bytes.subarray(8, 10))}-${hex(bytes.subarray(10, 16))}`.toUpperCase();
}

function utf16Name(bytes: Buffer): string {
  const text = bytes.toString('utf16le');
  const end = text.indexOf('\0');
  return (end < 0 ? text : text.slice(0, end)).replace(/[\u0000-\u001f\u007f]/g, '?');
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
