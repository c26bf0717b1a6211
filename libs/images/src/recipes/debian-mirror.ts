import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Where the mirror is looked for; every field has the host's default. */
export interface MirrorSources {
  /** BERTH_DEBIAN_MIRROR: wins when set and not empty. */
  readonly env?: string;
  /** apt's one-line list (default /etc/apt/sources.list). */
  readonly sourcesList?: string;
  /** apt's directory of `*.list` and deb822 `*.sources` files (default /etc/apt/sources.list.d). */
  readonly sourcesDir?: string;
}

/** Neither BERTH_DEBIAN_MIRROR nor apt names a Debian archive: debootstrap has nowhere to go. */
export class NoDebianMirrorError extends Error {
  constructor(sourcesList: string, sourcesDir: string) {
    super(`No Debian mirror: set BERTH_DEBIAN_MIRROR or configure a Debian mirror in ${sourcesList} or ${sourcesDir}`);
    this.name = 'NoDebianMirrorError';
  }
}

/**
 * The Debian mirror debootstrap uses: BERTH_DEBIAN_MIRROR when set, else the first Debian archive
 * (a URI whose path ends in /debian) that apt is configured with on this host, in apt's order:
 * sources.list, then sources.list.d's `*.list` and `*.sources` files by name. Only binary (`deb`)
 * entries count, and deb822 stanzas marked `Enabled: no` are skipped.
 */
export async function debianMirror(sources: MirrorSources = { env: process.env.BERTH_DEBIAN_MIRROR }): Promise<string> {
  if (sources.env) return sources.env;
  const sourcesList = sources.sourcesList ?? '/etc/apt/sources.list';
  const sourcesDir = sources.sourcesDir ?? '/etc/apt/sources.list.d';
  const listed = await readdir(sourcesDir).catch(() => [] as string[]);
  const files = [sourcesList, ...listed.filter((f) => f.endsWith('.list') || f.endsWith('.sources')).sort().map((f) => path.join(sourcesDir, f))];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const uris = file.endsWith('.sources') ? deb822Uris(text) : oneLineUris(text);
    const debian = uris.find((uri) => /^[a-z][a-z0-9+]*:\/\/.*\/debian\/?$/.test(uri));
    if (debian !== undefined) return debian;
  }
  throw new NoDebianMirrorError(sourcesList, sourcesDir);
}

/** `deb [options] uri suite [component...]` lines (sources.list(5), one-line style). */
function oneLineUris(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .map((line) => /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line)?.[1])
    .filter((uri): uri is string => uri !== undefined);
}

/** The URIs of the binary stanzas of a deb822 file (sources.list(5), deb822 style). */
function deb822Uris(text: string): string[] {
  const uris: string[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^\s/.test(line) && last !== undefined) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const match = /^([^:\s]+):\s*(.*)$/.exec(line);
      if (!match) continue;
      last = match[1]!.toLowerCase();
      fields.set(last, match[2]!.trim());
    }
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb') || (fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    uris.push(...(fields.get('uris') ?? '').split(/\s+/).filter((uri) => uri !== ''));
  }
  return uris;
}
