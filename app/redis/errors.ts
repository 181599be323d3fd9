import { ReplyError } from 'ioredis';

/**
 * True when an error means "the store cannot be reached right now" (connection down, command timed out,
 * cluster without a primary for the slot): the request gets a 503 and may be retried.
 * A ReplyError is Redis answering, and refusing: that is a bug of ours, not an outage, and stays a 500.
 * Cluster-down and failover replies are the exception: they are transient by nature.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof ReplyError) {
    return /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|NOREPLICAS)/.test(error.message);
  }
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ClusterAllFailedError' ||
    /Connection is closed|Command timed out|Stream isn't writeable|connect ECONNREFUSED|Failed to refresh slots cache|ETIMEDOUT|ECONNRESET|EPIPE|All sentinels are unreachable/i.test(
      error.message,
    )
  );
}
