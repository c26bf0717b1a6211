/**
 * Caps that stop an archive before it exhausts memory or disk. Each is enforced while streaming,
 * before the bytes it guards are buffered or written.
 */
export interface ExtractionLimits {
  /** Decompressed tar bytes over all files of one image (headers, padding and data). */
  readonly maxTotalBytes: number;
  /** Tar entries over all files of one image. */
  readonly maxEntries: number;
  /** Components of one entry name. */
  readonly maxPathDepth: number;
  /** Bytes of one entry name or link target (PATH_MAX - 1). */
  readonly maxPathBytes: number;
  /** Bytes of one PAX extended header or GNU long-name header. */
  readonly maxPaxHeaderBytes: number;
  /** Bytes of metadata.yaml, which is parsed in memory. */
  readonly maxMetadataBytes: number;
}

/*
 * A full Debian or Ubuntu rootfs has 30k-300k entries and a few GiB; the defaults leave room for
 * big images while keeping the per-entry bookkeeping (a few hundred bytes each) well under 200 MB.
 */
export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = Object.freeze({
  maxTotalBytes: 32 * 1024 ** 3,
  maxEntries: 500_000,
  maxPathDepth: 128,
  maxPathBytes: 4095,
  maxPaxHeaderBytes: 64 * 1024,
  maxMetadataBytes: 1024 * 1024,
});

export function resolveExtractionLimits(overrides: Partial<ExtractionLimits> = {}): ExtractionLimits {
  const limits = { ...DEFAULT_EXTRACTION_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`Extraction limit ${name} must be a positive integer`);
  }
  return limits;
}
