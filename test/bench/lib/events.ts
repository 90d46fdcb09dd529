import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { commandBody, httpApiEvent, slackHeaders } from '../../command/slack-events';

/** A `/invoice <text>` request signed now, as API Gateway's HTTP API hands it to the function. */
export function signedCommandEvent(text: string, secret: string, teamId: string): APIGatewayProxyEventV2 {
  const body = commandBody({
    text,
    teamId,
    channelId: 'C0BENCH',
    userId: 'U0BENCH',
    responseUrl: 'https://hooks.slack.com/commands/T0BENCH/1/bench',
  });
  return httpApiEvent(body, slackHeaders(body, { secret, at: Date.now() }));
}

/** What EventBridge hands the poller on schedule. */
export const SCHEDULED_EVENT = {
  version: '0',
  id: 'bench',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date(0).toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {},
} as const;
