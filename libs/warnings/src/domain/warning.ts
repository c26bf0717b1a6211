import { ForbiddenError, ValidationError } from '#core';

export const WARNING_STATUSES = ['new', 'acknowledged', 'resolved'] as const;
export type WarningStatus = (typeof WARNING_STATUSES)[number];
export type WarningSeverity = 'low' | 'moderate' | 'high';

/** A condition a check found on the host now: recorded as a warning, one per (type, entity). */
export interface Condition {
  readonly type: string;
  readonly severity: WarningSeverity;
  /** What is wrong and what to do about it. */
  readonly message: string;
  /** The API path of what the condition is about; '' for the host as a whole. */
  readonly entityUrl: string;
}

/** LXD's api.Warning. */
export interface WarningView {
  uuid: string;
  location: string;
  project: string;
  type: string;
  count: number;
  first_seen_at: string;
  last_seen_at: string;
  last_message: string;
  severity: WarningSeverity;
  status: WarningStatus;
  entity_url: string;
}

/**
 * The status a client may give a warning (LXD's PUT/PATCH /1.0/warnings/{uuid}): `acknowledged`
 * or `new`. Anything but a status is a 400 naming `status`; `resolved` is the daemon's to set
 * (a 403, as in LXD).
 */
export function requestedStatus(value: unknown): 'new' | 'acknowledged' {
  if (typeof value !== 'string' || !(WARNING_STATUSES as readonly string[]).includes(value)) {
    throw new ValidationError('status', `${JSON.stringify(value ?? null)} is not a warning status (new, acknowledged or resolved)`);
  }
  if (value === 'resolved') throw new ForbiddenError('Status may only be set to "acknowledged" or "new"');
  return value as 'new' | 'acknowledged';
}

/**
 * LXD's `filter` parameter of GET /1.0/warnings, in the one form Berth reads: `status eq <status>`.
 * Undefined for no filter; any other filter is a 400 naming `filter`.
 */
export function statusFilter(filter: string | undefined): WarningStatus | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const match = /^\s*status\s+eq\s+(\S+)\s*$/.exec(filter);
  const status = match?.[1];
  if (status === undefined || !(WARNING_STATUSES as readonly string[]).includes(status)) {
    throw new ValidationError('filter', `"${filter}" is not supported: the warnings filter is "status eq <new|acknowledged|resolved>"`);
  }
  return status as WarningStatus;
}
