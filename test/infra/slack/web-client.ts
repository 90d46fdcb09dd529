import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import type { SlackStandIn } from '../../../infra/local/slack';

/** WebClient logs Slack's `[ERROR]` response messages; the tests assert on them instead. */
export const quietSlackLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/** The real WebClient pointed at the stand-in, without its own retries. */
export function standInWebClient(slack: SlackStandIn, token: string | undefined): WebClient {
  return new WebClient(token, {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: quietSlackLogger,
  });
}
