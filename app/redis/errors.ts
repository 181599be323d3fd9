import { ReplyError } from 'ioredis';

/**
 * Errors ioredis raises itself when it could not get an answer. AbortError: a pipelined command still
 * waiting when its connection closed (with auto-pipelining, e.g. the WAIT right after a purchase that
 * did land). MaxRetriesPerRequestError extends it.
 */
const CLIENT_SIDE_NAMES = new Set(['AbortError', 'MaxRetriesPerRequestError', 'ClusterAllFailedError']);

const CLIENT_SIDE_MESSAGES =
  /Connection is closed|Command timed out|Stream isn't writeable|Socket timeout|Node is disconnected|Cluster is disconnect|Cluster isn't ready|No master node is available|None of startup nodes is available|Too many Cluster redirections|Failed to refresh slots cache|All sentinels are unreachable|ECONNREFUSED|ETIMEDOUT|ECONNRESET|EPIPE/i;

/**
 * Replies that mean "not now" rather than "never": a cluster or failover in progress. UNBLOCKED is what
 * a WAIT gets when its node changes role under it.
 */
const TRANSIENT_REPLIES = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|NOREPLICAS|UNBLOCKED)/;

/**
 * True when an error means "the store cannot be reached right now": the request gets a 503 and may be
 * retried (with its Idempotency-Key, a purchase whose answer was lost is then found again).
 * Any other ReplyError is Redis answering, and refusing: a bug of ours, not an outage, and stays a 500.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof ReplyError) return TRANSIENT_REPLIES.test(error.message);
  return CLIENT_SIDE_NAMES.has(error.name) || CLIENT_SIDE_MESSAGES.test(error.message);
}

/** true when Redis answered, with an error reply */
export function isReplyError(error: unknown): error is Error {
  return error instanceof ReplyError && error instanceof Error;
}

/** true when Redis answered with an error reply that starts with `code` (NOGROUP, BUSYGROUP, ...) */
export function isReply(error: unknown, code: string): boolean {
  return isReplyError(error) && error.message.startsWith(code);
}

/**
 * Redis at its maxmemory with the noeviction policy (stock must never be evicted) refuses every write with
 * OOM. A script is refused at its first write, so nothing of it is written: the store is full, not broken.
 */
export function isOutOfMemory(error: unknown): boolean {
  return isReply(error, 'OOM');
}
