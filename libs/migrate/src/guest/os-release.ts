/** The fields of os-release(5) that identify a guest. */
export interface OsRelease {
  id: string;
  versionId?: string;
  prettyName?: string;
}

/**
 * Parses os-release(5): KEY=value lines, values optionally in single or double quotes with
 * backslash escapes in double quotes. ID defaults to "linux" as the man page says.
 */
export function parseOsRelease(text: string): OsRelease {
  const fields = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    fields.set(match[1]!, unquote(match[2]!));
  }
  const result: OsRelease = { id: fields.get('ID') || 'linux' };
  const versionId = fields.get('VERSION_ID');
  const prettyName = fields.get('PRETTY_NAME');
  if (versionId) result.versionId = versionId;
  if (prettyName) result.prettyName = prettyName;
  return result;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value;
}
