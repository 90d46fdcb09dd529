import { S3Client } from '@aws-sdk/client-s3';
import type { PollHandler, PollHandlerDeps, PollTestOptions } from '../../functions/poll-invoices';
import { createLambdaContext } from '../../infra/local/lambda-context';
import type { PollReport } from '../../lib/poll/report';
import { FAST_RETRY, type StandIns } from '../poll/stand-ins';
import { scheduledEvent } from '../support/lambda';

/** The real poll handler as these tests build and invoke it: on the stand-ins, with an EventBridge event. */
const SCHEDULED_EVENT = scheduledEvent('deploy-test', 'poll', '2024-07-02T12:00:00Z');

/** Everything but the environment and the secret: the S3 stand-in and log lines into `logs`. */
export function standInDeps(standIns: StandIns, logs: string[]): Omit<PollHandlerDeps, 'env' | 'secrets'> {
  return {
    s3: ({ forcePathStyle }) => new S3Client({ ...standIns.s3.clientConfig(), forcePathStyle }),
    writeLog: (line) => logs.push(line),
  };
}

/** Quick retries and margins, so a failing organisation fails fast. */
export const QUICK: PollTestOptions = {
  atlasRetry: FAST_RETRY,
  slackRetry: FAST_RETRY,
  safetyMarginMs: 1_000,
  reserveMs: 1_000,
};

/** One scheduled invocation, as EventBridge and Lambda make it. */
export function invokePoll(handler: PollHandler): Promise<PollReport> {
  return handler(SCHEDULED_EVENT, createLambdaContext({ functionName: 'pollInvoices', timeoutMs: 120_000 }));
}
