import type { LogFields, Logger } from './log';
import { createDeadline, type Deadline } from './retry';

/** What a scheduled invocation reads of Lambda's context (`Context` satisfies it). */
export interface InvocationContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export interface Invocation {
  /** The function's logger; the run's lines also carry `requestId` and the event's `eventId`. */
  readonly log: Logger;
  readonly event: { readonly id?: string } | undefined;
  readonly context: InvocationContext;
}

/** How a run ended, as its one log line: with `error` (logged, then thrown) when the report is not ok. */
export interface RunOutcome {
  readonly message: string;
  readonly fields: LogFields;
  readonly error?: Error | undefined;
}

/**
 * One invocation of a scheduled function (the poller, the digest). The use case works to a deadline `marginMs` short
 * of Lambda's remaining time, so it stops itself before Lambda would kill it. Failure policy: a run whose outcome has
 * an error (its report is not ok, every part having been attempted) is logged once as an error and the error thrown,
 * so the function's error metric and alarm fire; any other is logged as info and its report returned. What the use
 * case throws is thrown as it is.
 */
export async function runScheduled<Report>(
  invocation: Invocation,
  marginMs: number,
  describe: (report: Report) => RunOutcome,
  run: (log: Logger, deadline: Deadline) => Promise<Report>,
): Promise<Report> {
  const { context } = invocation;
  const log = invocation.log.child({ requestId: context.awsRequestId, eventId: invocation.event?.id });
  const report = await run(log, createDeadline(Math.max(0, context.getRemainingTimeInMillis() - marginMs)));
  const { message, fields, error } = describe(report);
  if (error !== undefined) {
    log.error(message, { error, ...fields });
    throw error;
  }
  log.info(message, fields);
  return report;
}
