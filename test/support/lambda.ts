import type { ScheduledEvent } from 'aws-lambda';

/** The event EventBridge hands a scheduled function: rule `rule` fired at `time`. */
export function scheduledEvent(id: string, rule: string, time: string): ScheduledEvent {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time,
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:000000000000:rule/${rule}`],
    detail: {},
  };
}
