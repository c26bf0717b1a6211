export {
  Runtime,
  type CgroupLimit,
  type ContainerSpec,
  type ContainerState,
  type ContainerStatus,
  type ExecOptions,
  type ExecResult,
  type ExecExit,
  type ExecStream,
  type ExecStreamOptions,
  type IdMap,
  type RuntimeOptions,
  type StopOptions,
} from './runtime.js';
export {
  RuntimeError,
  NativeCallError,
  ContainerAlreadyRunningError,
  ContainerNotRunningError,
  InvalidContainerSpecError,
  CgroupLimitError,
} from './errors.js';
export { GuestRoot, type GuestStat, type GuestDirent, type GuestOwnership } from './guest-root.js';
export type { IdmapMode, RuntimeLogger } from './runtime.js';
export { lxcfsMount } from './runtime.js';
export { RuntimeModule, GuestRoots } from './runtime.module.js';
