/**
 * The timings of a graceful stop, derived in one place so that the load balancer, Docker and the service
 * agree. On SIGTERM the service answers 503 on /health for SHUTDOWN_DRAIN_MS, then closes its listener and
 * gives in-flight requests up to SHUTDOWN_TIMEOUT_MS (app/server.ts).
 *
 * - The drain must outlast the target group noticing the 503s: in the worst case `interval x unhealthy
 *   threshold` seconds, plus a margin for the load balancer nodes to act on it. Otherwise a container that
 *   Docker or an operator restarts would close its listener while the ALB still sends it requests.
 * - The deregistration delay covers the whole graceful stop (drain + timeout): when the Auto Scaling Group
 *   removes an instance, the ALB keeps in-flight requests running that long before the instance goes.
 * - Docker's stop timeout is the same stop plus a margin for closing Redis and flushing logs, so Docker never
 *   SIGKILLs a shutdown that is still within the service's own deadlines.
 */
export interface HealthCheckTiming {
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export interface ShutdownTiming {
  readonly drainMs: number;
  readonly timeoutMs: number;
  readonly deregistrationDelaySeconds: number;
  readonly dockerStopTimeoutSeconds: number;
}

export const TARGET_HEALTH_CHECK: HealthCheckTiming = {
  intervalSeconds: 5,
  timeoutSeconds: 3,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};

/** the service's own default (app/config.ts); requests are sub-second, this bounds the slow ones */
const IN_FLIGHT_TIMEOUT_MS = 10_000;
const DETECTION_MARGIN_MS = 2_000;
const EXIT_MARGIN_SECONDS = 5;

export function shutdownTiming(check: HealthCheckTiming = TARGET_HEALTH_CHECK): ShutdownTiming {
  const drainMs = check.intervalSeconds * check.unhealthyThreshold * 1000 + DETECTION_MARGIN_MS;
  const timeoutMs = IN_FLIGHT_TIMEOUT_MS;
  const deregistrationDelaySeconds = Math.ceil((drainMs + timeoutMs) / 1000);
  return {
    drainMs,
    timeoutMs,
    deregistrationDelaySeconds,
    dockerStopTimeoutSeconds: deregistrationDelaySeconds + EXIT_MARGIN_SECONDS,
  };
}
