/**
 * SQLSTATE classes and codes that mean "PostgreSQL cannot answer right now": 08 connection exceptions,
 * 53 insufficient resources, 57P01-57P03 shutting down or starting, 57014 a statement cancelled by the
 * statement timeout, 40001/40P01 a serialization failure or deadlock worth retrying.
 */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]$|57014$|40001$|40P01$)/;

const CLIENT_SIDE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|the database system is (starting up|shutting down)/i;

/** true when an error of node-postgres means the database is unreachable or busy, not that a query is wrong */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Not `instanceof Error`: the socket errors node-postgres passes on may come from another realm
  // (a test runner's), and still mean the same.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || CLIENT_SIDE_MESSAGES.test(code)))
    return true;
  return typeof message === 'string' && CLIENT_SIDE_MESSAGES.test(message);
}

/** the message of anything thrown */
export function messageOf(error: unknown): string {
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    return (error as { message: string }).message;
  }
  return String(error);
}
