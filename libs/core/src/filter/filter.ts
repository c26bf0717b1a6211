import { ValidationError } from '../errors/domain-error.js';

type Operator = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';
const OPERATORS = new Set<Operator>(['eq', 'ne', 'gt', 'lt', 'ge', 'le']);

interface Clause {
  join: 'and' | 'or';
  not: boolean;
  field: string;
  op: Operator;
  value: string;
}

/** A parsed `filter=` expression of LXD's API (`status eq running and config.user.team ne ops`). */
export interface Filter {
  matches(object: unknown): boolean;
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) tokens.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return tokens;
}

/**
 * Parses LXD's filter language: clauses `[not] <field> <op> <value>` joined by `and`/`or`,
 * evaluated left to right. Throws a ValidationError naming `filter` when it cannot be read.
 */
export function parseFilter(text: string | undefined): Filter | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const tokens = tokenize(text);
  const clauses: Clause[] = [];
  let i = 0;
  let join: Clause['join'] = 'and';
  while (i < tokens.length) {
    let not = false;
    if (tokens[i].toLowerCase() === 'not') {
      not = true;
      i++;
    }
    const [field, op, value] = tokens.slice(i, i + 3);
    if (value === undefined) throw new ValidationError('filter', `incomplete clause at "${tokens.slice(i).join(' ')}"`);
    if (!OPERATORS.has(op as Operator)) throw new ValidationError('filter', `unknown operator "${op}" (use eq, ne, gt, lt, ge or le)`);
    clauses.push({ join, not, field, op: op as Operator, value });
    i += 3;
    if (i < tokens.length) {
      const logical = tokens[i].toLowerCase();
      if (logical !== 'and' && logical !== 'or') throw new ValidationError('filter', `expected "and" or "or", not "${tokens[i]}"`);
      join = logical;
      i++;
      if (i === tokens.length) throw new ValidationError('filter', `nothing after "${logical}"`);
    }
  }
  return { matches: (object) => clauses.reduce((acc, c) => (c.join === 'and' ? acc && test(c, object) : acc || test(c, object)), true) };
}

/** Walks a dotted path; map keys may themselves contain dots (`config.user.team`). */
export function valueOf(object: unknown, path: string): unknown {
  const parts = path.split('.');
  let current: unknown = object;
  let i = 0;
  while (i < parts.length) {
    if (typeof current !== 'object' || current === null) return undefined;
    const record = current as Record<string, unknown>;
    let found = false;
    for (let j = parts.length; j > i; j--) {
      const key = parts.slice(i, j).join('.');
      if (Object.prototype.hasOwnProperty.call(record, key)) {
        current = record[key];
        i = j;
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  return current;
}

function test(c: Clause, object: unknown): boolean {
  const actual = valueOf(object, c.field);
  let result: boolean;
  if (typeof actual === 'number') {
    const expected = Number(c.value);
    const cmp: Record<Operator, boolean> = { eq: actual === expected, ne: actual !== expected, gt: actual > expected, lt: actual < expected, ge: actual >= expected, le: actual <= expected };
    result = cmp[c.op];
  } else if (typeof actual === 'boolean') {
    result = c.op === 'eq' ? String(actual) === c.value.toLowerCase() : c.op === 'ne' ? String(actual) !== c.value.toLowerCase() : false;
  } else if (typeof actual === 'string') {
    const anchored = c.value.includes('^') || c.value.includes('$') ? c.value : `^${c.value}$`;
    let matched: boolean;
    try {
      matched = new RegExp(anchored, 'i').test(actual);
    } catch {
      matched = actual.toLowerCase() === c.value.toLowerCase();
    }
    result = c.op === 'eq' ? matched : c.op === 'ne' ? !matched : false;
  } else {
    result = c.op === 'ne';
  }
  return c.not ? !result : result;
}
