import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors';
import type { Deadline } from '../../lib/retry';
import { type RunOutcome, runScheduled } from '../../lib/scheduled-run';
import { recordingLogger } from '../support/fakes';

const context = { awsRequestId: 'req-7', getRemainingTimeInMillis: () => 60_000 };
const event = { id: 'event-3' };

interface Report {
  readonly ok: boolean;
}

const describeReport = (report: Report): RunOutcome =>
  report.ok
    ? { message: 'run finished', fields: { parts: 2 } }
    : { message: 'run failed', fields: { parts: 1 }, error: new AppError('1 of 2 parts failed') };

describe('runScheduled', () => {
  it('runs the use case to a deadline the margin short of the remaining time, and logs its outcome', async () => {
    const log = recordingLogger();
    const deadlines: number[] = [];
    const run = async (_log: unknown, deadline: Deadline) => {
      deadlines.push(deadline.remaining());
      return { ok: true };
    };

    const report = await runScheduled({ log, event, context }, 10_000, describeReport, run);

    expect(report).toEqual({ ok: true });
    // 60 s remain, 10 s are kept back: the deadline is at most 50 s away.
    expect(deadlines).toHaveLength(1);
    expect(deadlines[0]).toBeLessThanOrEqual(50_000);
    expect(log.records).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'run finished',
        requestId: 'req-7',
        eventId: 'event-3',
        parts: 2,
      }),
    ]);
  });

  it('gives a run with less time left than the margin a deadline already reached', async () => {
    const remaining: number[] = [];
    const short = { awsRequestId: 'req-8', getRemainingTimeInMillis: () => 9_000 };

    await runScheduled(
      { log: recordingLogger(), event, context: short },
      10_000,
      describeReport,
      async (_log, d) => {
        remaining.push(d.remaining());
        return { ok: true };
      },
    );

    expect(remaining).toEqual([0]);
  });

  it('logs a report that is not ok once as an error and throws its error', async () => {
    const log = recordingLogger();

    const run = runScheduled({ log, event, context }, 10_000, describeReport, async () => ({ ok: false }));

    await expect(run).rejects.toThrow('1 of 2 parts failed');
    expect(log.records).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'run failed',
        requestId: 'req-7',
        parts: 1,
        error: expect.objectContaining({ name: 'AppError', message: '1 of 2 parts failed' }),
      }),
    ]);
  });
});
