/**
 * Advisory lock statements. Job locks are session-level and keyed by text; grouping locks are
 * transaction-level and keyed by a bucket of the (agency_id, fingerprint) key, taken in ascending order so
 * that concurrent batches can never deadlock, and bounded in number (one per bucket) so that a batch of
 * thousands of keys does not exhaust the lock table.
 */
export const JOB_LOCK_NAMESPACE = "observability:job:";
export const GROUP_LOCK_NAMESPACE = 0x0b5e;
export const GROUP_LOCK_BUCKETS = 512;

export const advisoryLockSql = {
  tryLock: "SELECT pg_try_advisory_lock(hashtext($1)) AS locked",
  unlock: "SELECT pg_advisory_unlock(hashtext($1)) AS unlocked",
  /** $1: int[] of buckets, already sorted ascending; unnest yields them in array order. */
  lockGroupBuckets: `SELECT pg_advisory_xact_lock(${GROUP_LOCK_NAMESPACE}, b) FROM unnest($1::int[]) AS b`,
} as const;

/** Bucket of a grouping key: a stable hash of the fingerprint (which already encodes the agency). */
export function groupLockBucket(fingerprint: string): number {
  return Number.parseInt(fingerprint.slice(0, 8), 16) % GROUP_LOCK_BUCKETS;
}

export function sortedBuckets(fingerprints: Iterable<string>): number[] {
  return [...new Set([...fingerprints].map(groupLockBucket))].sort((a, b) => a - b);
}
