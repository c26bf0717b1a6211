/** LXD's response envelopes (doc/rest-api.md). */
export interface SyncResponse<T> {
  type: 'sync';
  status: 'Success';
  status_code: 200;
  operation: '';
  error_code: 0;
  error: '';
  metadata: T;
}

export interface AsyncResponse<T> {
  type: 'async';
  status: 'Operation created';
  status_code: 100;
  operation: string;
  error_code: 0;
  error: '';
  metadata: T;
}

export interface ErrorResponse {
  type: 'error';
  status: '';
  status_code: 0;
  operation: '';
  error_code: number;
  error: string;
  metadata: unknown;
}

export const sync = <T>(metadata: T): SyncResponse<T> => ({
  type: 'sync',
  status: 'Success',
  status_code: 200,
  operation: '',
  error_code: 0,
  error: '',
  metadata,
});

export const asyncResponse = <T>(operation: string, metadata: T): AsyncResponse<T> => ({
  type: 'async',
  status: 'Operation created',
  status_code: 100,
  operation,
  error_code: 0,
  error: '',
  metadata,
});

export const errorResponse = (code: number, message: string, metadata: unknown = null): ErrorResponse => ({
  type: 'error',
  status: '',
  status_code: 0,
  operation: '',
  error_code: code,
  error: message,
  metadata,
});
