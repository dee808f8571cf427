import { READY_CHECKS } from './metric-catalog.js';

/**
 * GET /readyz and the `switchyard_ready*` gauges (docs/protocol.md sections
 * 6 and 8): the checks, one probe that runs them, and the body it answers.
 */

export type ReadyCheck = (typeof READY_CHECKS)[number];

/** One check's outcome; `reason` says in a few words what is not ready (never a URL or a secret). */
export interface CheckOutcome {
  readonly ok: boolean;
  readonly reason?: string;
}

export const READY: CheckOutcome = { ok: true };

export function notReady(reason: string): CheckOutcome {
  return { ok: false, reason };
}

/** A part the switch has not started yet. */
export const NOT_READY_YET = notReady('starting');

export interface Readiness {
  /** Every check ok: a transaction would be processed. */
  readonly ready: boolean;
  readonly checks: Readonly<Record<ReadyCheck, CheckOutcome>>;
}

/** How to run each check; a check that waits on something (a PING) bounds its own wait. */
export type ReadinessChecks = {
  readonly [C in ReadyCheck]: () => CheckOutcome | Promise<CheckOutcome>;
};

/**
 * Runs the checks. Probes that arrive while one runs share it, so a scrape
 * (which asks for both gauges at once) or a burst of probes costs one PING.
 */
export class ReadinessProbe {
  private running: Promise<Readiness> | undefined;

  constructor(private readonly checks: ReadinessChecks) {}

  check(): Promise<Readiness> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<Readiness> {
    const outcomes = await Promise.all(READY_CHECKS.map((name) => this.checks[name]()));
    const checks = Object.fromEntries(READY_CHECKS.map((name, i) => [name, outcomes[i]!])) as Record<
      ReadyCheck,
      CheckOutcome
    >;
    return { ready: outcomes.every((o) => o.ok), checks };
  }
}

/** The /readyz body (docs/protocol.md section 6). */
export interface ReadinessBody {
  readonly status: 'ready' | 'not ready';
  readonly checks: Readonly<Record<ReadyCheck, boolean>>;
  readonly notReady: readonly ReadyCheck[];
  readonly reasons: Readonly<Partial<Record<ReadyCheck, string>>>;
}

export function readinessBody(readiness: Readiness): ReadinessBody {
  const checks = {} as Record<ReadyCheck, boolean>;
  const reasons: Partial<Record<ReadyCheck, string>> = {};
  const failing: ReadyCheck[] = [];
  for (const name of READY_CHECKS) {
    const outcome = readiness.checks[name];
    checks[name] = outcome.ok;
    if (outcome.ok) continue;
    failing.push(name);
    if (outcome.reason !== undefined) reasons[name] = outcome.reason;
  }
  return { status: readiness.ready ? 'ready' : 'not ready', checks, notReady: failing, reasons };
}
