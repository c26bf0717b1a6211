import type { DirectoryTimes, PlannedEntry, PlannedEntryKind } from '../domain/archive-entry.js';

/*
 * Encoder of the record stream berth-unpack reads on stdin. The format is documented, and
 * decoded, in native/src/unpack/records.h; keep the two in step.
 */
export const RECORD_STREAM_MAGIC = Buffer.from('BUNPACK1', 'latin1');
const HEADER_BYTES = 64;
const FLAG_DIRECTORY_MAY_EXIST = 0x01;

const RECORD_TYPES: Readonly<Record<PlannedEntryKind | 'directory-times' | 'end', string>> = {
  file: 'f',
  directory: 'd',
  symlink: 'l',
  hardlink: 'h',
  'character-device': 'c',
  'block-device': 'b',
  fifo: 'p',
  'directory-times': 't',
  end: 'e',
};

/** The header, path, link and xattrs of one entry; a file's `size` data bytes follow it. */
export function encodeEntryRecord(entry: PlannedEntry): Buffer {
  return encode({
    type: RECORD_TYPES[entry.kind],
    flags: entry.mayExist ? FLAG_DIRECTORY_MAY_EXIST : 0,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    mtimeSeconds: entry.mtime.seconds,
    mtimeNanoseconds: entry.mtime.nanoseconds,
    devMajor: entry.devMajor,
    devMinor: entry.devMinor,
    path: Buffer.from(entry.path, 'utf8'),
    link: Buffer.from(entry.linkTarget ?? '', 'utf8'),
    xattrs: entry.xattrs,
    dataBytes: entry.size,
  });
}

export function encodeDirectoryTimesRecord(times: DirectoryTimes): Buffer {
  return encode({ ...EMPTY, type: RECORD_TYPES['directory-times'], path: Buffer.from(times.path, 'utf8'), mtimeSeconds: times.mtime.seconds, mtimeNanoseconds: times.mtime.nanoseconds });
}

export function encodeEndRecord(): Buffer {
  return encode({ ...EMPTY, type: RECORD_TYPES.end });
}

export interface RawRecord {
  type: string;
  flags: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeSeconds: number;
  mtimeNanoseconds: number;
  devMajor: number;
  devMinor: number;
  path: Buffer;
  link: Buffer;
  xattrs: readonly (readonly [string, Buffer])[];
  dataBytes: number;
}

const EMPTY: RawRecord = {
  type: 'e',
  flags: 0,
  mode: 0,
  uid: 0,
  gid: 0,
  mtimeSeconds: 0,
  mtimeNanoseconds: 0,
  devMajor: 0,
  devMinor: 0,
  path: Buffer.alloc(0),
  link: Buffer.alloc(0),
  xattrs: [],
  dataBytes: 0,
};

/** Exposed for the helper's own specs, which feed it records the policy would never admit. */
export function encode(record: RawRecord): Buffer {
  const xattrs = Buffer.concat(
    record.xattrs.map(([name, value]) => {
      const nameBytes = Buffer.from(name, 'utf8');
      const lengths = Buffer.alloc(8);
      lengths.writeUInt32LE(nameBytes.length, 0);
      lengths.writeUInt32LE(value.length, 4);
      return Buffer.concat([lengths, nameBytes, value]);
    }),
  );
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(record.type.charCodeAt(0), 0);
  header.writeUInt8(record.flags, 1);
  header.writeUInt16LE(record.xattrs.length, 2);
  header.writeUInt32LE(record.mode, 4);
  header.writeUInt32LE(record.uid, 8);
  header.writeUInt32LE(record.gid, 12);
  header.writeBigInt64LE(BigInt(record.mtimeSeconds), 16);
  header.writeUInt32LE(record.mtimeNanoseconds, 24);
  header.writeUInt32LE(record.devMajor, 28);
  header.writeUInt32LE(record.devMinor, 32);
  header.writeUInt32LE(record.path.length, 36);
  header.writeUInt32LE(record.link.length, 40);
  header.writeUInt32LE(xattrs.length, 44);
  header.writeBigUInt64LE(BigInt(record.dataBytes), 48);
  return Buffer.concat([header, record.path, record.link, xattrs]);
}

