// The shapes of berthd's REST API as the CLI reads them. They follow LXD's 1.0 API
// (doc/rest-api.md), so only the fields the CLI uses are spelled out.

export type EnvelopeType = 'sync' | 'async' | 'error';

export interface Envelope<T = unknown> {
  type: EnvelopeType;
  status: string;
  status_code: number;
  operation: string;
  error_code: number;
  error: string;
  metadata: T;
}

export interface ServerEnvironment {
  server?: string;
  server_name?: string;
  server_version?: string;
  server_pid?: number;
  kernel?: string;
  kernel_version?: string;
  kernel_architecture?: string;
  architectures?: string[];
  os_name?: string;
  os_version?: string;
  storage?: string;
  storage_version?: string;
  driver?: string;
  driver_version?: string;
  firewall?: string;
  database?: { type?: string; embedded?: boolean; version?: string };
}

export interface ServerInfo {
  api_extensions: string[];
  api_status: string;
  api_version: string;
  auth: string;
  public: boolean;
  auth_methods?: string[];
  environment?: ServerEnvironment;
  config?: Record<string, string>;
}

export type ConfigMap = Record<string, string>;
export type DeviceMap = Record<string, Record<string, string>>;

export interface Profile {
  name: string;
  description: string;
  config: ConfigMap;
  devices: DeviceMap;
  used_by: string[];
}

/** The writable part of a profile: the body of `PUT /1.0/profiles/{name}`. */
export interface ProfilePut {
  description: string;
  config: ConfigMap;
  devices: DeviceMap;
}

export interface Operation {
  id: string;
  class: string;
  description: string;
  created_at: string;
  updated_at: string;
  status: string;
  status_code: number;
  resources: Record<string, string[]> | null;
  metadata: Record<string, unknown> | null;
  may_cancel: boolean;
  err: string;
  location: string;
}

/** `GET /1.0/operations?recursion=1`: operations grouped by status, empty groups omitted. */
export type OperationsByStatus = Partial<Record<string, Operation[]>>;

export interface ServerEvent {
  type: string;
  timestamp: string;
  metadata: Record<string, unknown>;
  location?: string;
  project?: string;
}

/** LXD's operation status codes of 200 and above are final (Success, Failure, Cancelled). */
export const isFinalStatus = (statusCode: number): boolean => statusCode >= 200;

export const OPERATION_SUCCESS = 200;

/** An alias as listed on an image. */
export interface ImageAliasRef {
  name: string;
  description: string;
}

/** LXD's api.Image. Times are RFC 3339; the epoch stands for "never". */
export interface Image {
  fingerprint: string;
  filename: string;
  size: number;
  architecture: string;
  type: string;
  public: boolean;
  auto_update: boolean;
  cached: boolean;
  properties: Record<string, string>;
  aliases: ImageAliasRef[];
  profiles: string[];
  created_at: string;
  expires_at: string;
  uploaded_at: string;
  last_used_at: string;
}

/** The writable part of an image: the body of `PUT /1.0/images/{fingerprint}`. */
export interface ImagePut {
  public: boolean;
  auto_update: boolean;
  properties: Record<string, string>;
  /** Left out, the expiry date stays as it is. */
  expires_at?: string;
  profiles: string[];
}

/** LXD's api.ImageAliasesEntry: `GET /1.0/images/aliases/{name}`. */
export interface ImageAlias {
  name: string;
  description: string;
  target: string;
  type: string;
}

/** The final metadata of an image import operation. */
export interface ImageImportResult {
  fingerprint: string;
  size?: number;
}

/** The final metadata of an image build operation (Berth's berth_image_build extension). */
export interface ImageBuildResult extends ImageImportResult {
  /** The image was there already: it was not imported again, only given the aliases it lacked. */
  already_imported: boolean;
}

/** LXD's api.Instance, with the expanded config and devices. */
export interface Instance {
  name: string;
  description: string;
  status: string;
  status_code: number;
  type: string;
  architecture: string;
  ephemeral: boolean;
  stateful: boolean;
  profiles: string[];
  config: ConfigMap;
  devices: DeviceMap;
  expanded_config: ConfigMap;
  expanded_devices: DeviceMap;
  created_at: string;
  last_used_at: string;
}

/** The writable part of an instance: the body of `PUT /1.0/instances/{name}`. */
export interface InstancePut {
  description: string;
  config: ConfigMap;
  devices: DeviceMap;
  profiles: string[];
  ephemeral: boolean;
}

export interface InstanceAddress {
  family: string;
  address: string;
  netmask: string;
  scope: string;
}

export interface InstanceNetwork {
  type?: string;
  /** up or down. */
  state?: string;
  /** The host end of the nic's veth pair (LXD's "Host interface"). */
  host_name?: string;
  hwaddr?: string;
  addresses?: InstanceAddress[];
}

/** LXD's api.InstanceState, as far as the CLI reads it. */
export interface InstanceState {
  status: string;
  status_code: number;
  network: Record<string, InstanceNetwork> | null;
  pid: number;
  processes: number;
}

/** LXD's api.InstanceFull: `GET /1.0/instances?recursion=2`. */
export interface InstanceFull extends Instance {
  state?: InstanceState | null;
  snapshots?: unknown[] | null;
}

/** The body of `POST /1.0/instances`. */
export interface InstancesPost {
  name: string;
  type: 'container';
  source: { type: 'none' } | { type: 'image'; fingerprint: string };
  profiles?: string[];
  config: ConfigMap;
  devices: DeviceMap;
  ephemeral: boolean;
}
