/** LXD's status codes for operations (doc/rest-api.md, "Status codes"). */
export const OperationStatus = {
  Running: 103,
  Cancelling: 104,
  Pending: 105,
  Success: 200,
  Failure: 400,
  Cancelled: 401,
} as const;
export type OperationStatusCode = (typeof OperationStatus)[keyof typeof OperationStatus];

const NAMES = new Map<number, string>(Object.entries(OperationStatus).map(([k, v]) => [v, k]));
export const statusName = (code: number): string => NAMES.get(code) ?? 'Unknown';
export const isFinal = (code: number): boolean => code >= 200;

export type OperationClass = 'task' | 'websocket' | 'token';

/** An operation as the API shows it (LXD's api.Operation). */
export interface OperationView {
  id: string;
  class: OperationClass;
  description: string;
  created_at: string;
  updated_at: string;
  status: string;
  status_code: number;
  resources: Record<string, string[]>;
  metadata: Record<string, unknown>;
  may_cancel: boolean;
  err: string;
  location: string;
}

export interface OperationData {
  id: string;
  class: OperationClass;
  description: string;
  statusCode: number;
  resources: Record<string, string[]>;
  metadata: Record<string, unknown>;
  mayCancel: boolean;
  err: string;
  createdAt: Date;
  updatedAt: Date;
}

export function toView(op: OperationData, location: string): OperationView {
  return {
    id: op.id,
    class: op.class,
    description: op.description,
    created_at: op.createdAt.toISOString(),
    updated_at: op.updatedAt.toISOString(),
    status: statusName(op.statusCode),
    status_code: op.statusCode,
    resources: op.resources,
    metadata: op.metadata,
    may_cancel: op.mayCancel && !isFinal(op.statusCode),
    err: op.err,
    location,
  };
}
