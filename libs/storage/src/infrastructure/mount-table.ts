import { readFile } from 'node:fs/promises';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Reads /proc/self/mountinfo (proc(5)); fields escape spaces and backslashes as octal. */
export async function readMounts(mountinfo = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountInfo(await readFile(mountinfo, 'utf8'));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    // Optional fields sit between the sixth field and a lone "-"; fstype and source follow it.
    const separator = fields.indexOf('-', 6);
    if (separator < 0) continue;
    entries.push({ mountPoint: unescape(fields[4]), fsType: fields[separator + 1], source: unescape(fields[separator + 2] ?? '') });
  }
  return entries;
}

function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The mount visible at `path` (the last one stacked there), if any. */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  return (await readMounts()).findLast((m) => m.mountPoint === path);
}
