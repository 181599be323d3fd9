import { wholeNumber } from '../whole-number';

/**
 * Admission control: fleet-wide limits on purchase attempts, per buyer and per client address, and how
 * many proxies stand between the service and its clients (docs/operations.md, "Admission control").
 */
export const admissionEnvShape = {
  RATE_LIMIT_PER_USER: wholeNumber(0, 1_000_000).optional(),
  RATE_LIMIT_PER_IP: wholeNumber(0, 1_000_000).optional(),
  // The counters expire with Redis key TTLs in whole seconds: a window of 1.5 s could not be kept.
  RATE_LIMIT_WINDOW_MS: wholeNumber(1000, 86_400_000)
    .refine((ms) => ms % 1000 === 0, 'must be a whole number of seconds (a multiple of 1000)')
    .optional(),
  TRUST_PROXY: wholeNumber(0, 10).default(0),
};

/**
 * Production defaults. A person clicking "buy" retries a few times a minute; 10 attempts a minute leave
 * room for retries after a 503 while holding a script loop to one attempt every six seconds. Many buyers
 * can share an address (an office, a mobile carrier's NAT), so the per-address limit is ten times higher.
 */
const PRODUCTION_LIMITS = { perUser: 10, perIp: 100, windowMs: 60_000 } as const;

export interface AdmissionSettings {
  /** purchase attempts a buyer (the body's userId) may make per window, fleet wide; 0: no limit */
  readonly perUser: number;
  /** purchase attempts a client address may make per window, fleet wide; 0: no limit */
  readonly perIp: number;
  readonly windowMs: number;
  /** proxies in front of the service (the ALB: 1); 0: X-Forwarded-For is ignored */
  readonly trustProxy: number;
}

type AdmissionEnv = {
  readonly NODE_ENV: string;
  readonly RATE_LIMIT_PER_USER?: number | undefined;
  readonly RATE_LIMIT_PER_IP?: number | undefined;
  readonly RATE_LIMIT_WINDOW_MS?: number | undefined;
  readonly TRUST_PROXY: number;
};

/** Off unless set outside production; on with PRODUCTION_LIMITS in production. */
export function toAdmissionSettings(env: AdmissionEnv): AdmissionSettings {
  const production = env.NODE_ENV === 'production';
  return {
    perUser: env.RATE_LIMIT_PER_USER ?? (production ? PRODUCTION_LIMITS.perUser : 0),
    perIp: env.RATE_LIMIT_PER_IP ?? (production ? PRODUCTION_LIMITS.perIp : 0),
    windowMs: env.RATE_LIMIT_WINDOW_MS ?? PRODUCTION_LIMITS.windowMs,
    trustProxy: env.TRUST_PROXY,
  };
}
