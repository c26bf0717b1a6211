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
