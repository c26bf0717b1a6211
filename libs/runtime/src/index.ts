export {
  Runtime,
  lxcfsMount,
  type CgroupLimit,
  type ContainerState,
  type InitKind,
  type ExecExit,
  type ExecStream,
  type ExecStreamOptions,
} from './runtime.js';
export {
  NativeCallError,
  ContainerAlreadyRunningError,
  ContainerNotRunningError,
  InvalidContainerSpecError,
  CgroupLimitError,
} from './errors.js';
export { type DeviceMount, BIND_MOUNT_OPTIONS, BIND_PROPAGATIONS } from './devices.js';
export { GuestRoot, type GuestStat, type GuestDirent } from './guest-root.js';
export { RuntimeModule, GuestRoots } from './runtime.module.js';
export type { PeerCredentials } from './berth-native.js';
