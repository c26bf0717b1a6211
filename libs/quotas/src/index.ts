export { QuotasModule } from './quotas.module.js';
export { parseQuota, type Quota } from './domain/quota.js';
export { parseBitRate, parseNicLimits, type NicLimits } from './domain/bit-rate.js';
export type { HostCapacity } from './domain/host.js';
export { HOST_CAPACITY } from './tokens.js';
export { checkAdmission, committedTotals, type CommittedTotals } from './domain/admission.js';
export { QuotaLedger } from './infrastructure/quota.repository.js';
export { CgroupLimits } from './infrastructure/cgroup-limits.js';
export { CgroupWriteError, type AppliedSetting } from './infrastructure/cgroup-writer.js';
