// Rendering of API objects for the terminal: tables (ASCII, like lxc's), CSV, JSON and YAML.
// Every renderer returns the text without a trailing newline; the caller prints it.
import Table from 'cli-table3';
import { stringify as toYaml } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/** A listing: table and CSV show the columns, JSON and YAML the full objects. */
export function renderList<T>(rows: readonly T[], columns: readonly Column<T>[], format: OutputFormat): string {
  switch (format) {
    case 'json':
      return renderJson(rows);
    case 'yaml':
      return renderYaml(rows);
    case 'table':
    case 'csv': {
      const cells = rows.map((row) => columns.map((column) => column.value(row)));
      return format === 'csv'
        ? renderCsv(cells)
        : renderTable(columns.map((column) => column.header), cells);
    }
  }
}

/** A single object: JSON and YAML as is, table and CSV as KEY/VALUE rows of its flattened fields. */
export function renderDocument(document: object, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return renderJson(document);
    case 'yaml':
      return renderYaml(document);
    case 'csv':
      return renderCsv(flatten(document));
    case 'table':
      return renderTable(['KEY', 'VALUE'], flatten(document));
  }
}

export function renderJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function renderYaml(value: unknown): string {
  return toYaml(value).trimEnd();
}

const ASCII_BORDERS = {
  top: '-',
  'top-mid': '+',
  'top-left': '+',
  'top-right': '+',
  bottom: '-',
  'bottom-mid': '+',
  'bottom-left': '+',
  'bottom-right': '+',
  left: '|',
  'left-mid': '+',
  mid: '-',
  'mid-mid': '+',
  right: '|',
  'right-mid': '+',
  middle: '|',
};

/** An ASCII table with centred headers and a rule between rows, as lxc prints them. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const table = new Table({ chars: ASCII_BORDERS, style: { head: [], border: [] } });
  table.push(headers.map((header) => ({ content: header, hAlign: 'center' as const })));
  table.push(...rows.map((row) => [...row]));
  return table.toString();
}

/** RFC 4180 CSV, no header line (as `lxc ... --format csv`). */
export function renderCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map(csvField).join(',')).join('\n');
}

function csvField(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * Flatten an object into [path, value] rows: nested keys joined with dots, lists of scalars
 * as one value per line, an empty object or list as an empty value.
 */
export function flatten(value: unknown, path = ''): [string, string][] {
  if (Array.isArray(value)) {
    if (value.every(isScalar)) return [[path, value.map(scalarText).join('\n')]];
    return value.flatMap((item, i) => flatten(item, join(path, String(i))));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return [[path, '']];
    return entries.flatMap(([key, item]) => flatten(item, join(path, key)));
  }
  return [[path, scalarText(value)]];
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

function scalarText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** A size as LXD prints it: bytes below 1 KiB, then IEC units with two decimals. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  let value = bytes;
  for (const unit of ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']) {
    value /= 1024;
    if (value < 1024) return `${value.toFixed(2)}${unit}`;
  }
  return `${(value / 1024).toFixed(2)}EiB`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** The server's zero times (the epoch, year 1) and missing times mean "never". */
function when(iso: string | null | undefined): Date | undefined {
  if (!iso) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) || date.getTime() <= 0 ? undefined : date;
}

/** `Nov 14, 2023 at 10:13pm (UTC)`, lxc's UPLOAD DATE. */
export function formatListDate(iso: string): string {
  const date = when(iso);
  if (!date) return '';
  const hours = date.getUTCHours();
  const half = hours < 12 ? 'am' : 'pm';
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()} at ${hours % 12 || 12}:${pad2(date.getUTCMinutes())}${half} (UTC)`;
}

/** `2023/11/14 22:13 UTC`, lxc's timestamps in `image info`. */
export function formatInfoDate(iso: string): string {
  const date = when(iso);
  if (!date) return 'never';
  return `${date.getUTCFullYear()}/${pad2(date.getUTCMonth() + 1)}/${pad2(date.getUTCDate())} ${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())} UTC`;
}
