import { type Block, mrkdwn } from '../slack/invoice-blocks';
import { code, escapeAndTruncate, plainText, SLACK_LIMITS, truncateEscaped } from '../slack/mrkdwn';
import type { SlackMessage } from '../slack/notification-blocks';

export interface StateResetInput {
  readonly orgId: string;
  readonly orgName: string | undefined;
  /** Invoices recorded again by the re-baseline. */
  readonly invoiceCount: number;
  /** Where the unreadable state object was kept. */
  readonly movedTo: string;
}

const ORG_NAME_MAX = 120;

/**
 * The one message of a run that had to reset an organisation's unreadable state: instead of announcing its whole
 * history again, it says what happened, what may have been missed and what to do. Names are escaped and capped.
 */
export function buildStateResetMessage(input: StateResetInput): SlackMessage {
  const name = input.orgName?.trim();
  const org = name ? plainText(name, ORG_NAME_MAX) : input.orgId;
  const count = `${input.invoiceCount} invoice${input.invoiceCount === 1 ? '' : 's'}`;
  const text =
    `The saved invoice state of ${org} could not be read and was reset: ${count} recorded again without ` +
    'announcing them. A status change since the last poll may have gone unannounced: check `/invoice list` or ' +
    'the Atlas billing page.';
  const blocks: Block[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: plainText(`Invoice state reset: ${org}`, SLACK_LIMITS.headerText) },
    },
    {
      type: 'section',
      text: mrkdwn(
        truncateEscaped(
          [
            `*Organisation:* ${escapeAndTruncate(org, ORG_NAME_MAX)} (${code(input.orgId)})`,
            `The poller's saved state for this organisation could not be read, so it was reset: ${count} were ` +
              'archived and recorded again, and none was announced. From now on every status change is announced ' +
              'as usual.',
            ':warning: A status change between the last successful poll and now may not have been announced. ' +
              'Check the recent invoices with `/invoice list` or on the Atlas billing page.',
            'Spend alerts already due this month (budget, forecast, spikes) were recorded as sent and not repeated; ' +
              'new ones are sent as usual.',
          ].join('\n'),
          SLACK_LIMITS.sectionText,
        ),
      ),
    },
    {
      type: 'context',
      elements: [mrkdwn(`The unreadable state was kept as ${code(input.movedTo)} for inspection.`)],
    },
  ];
  return { text: escapeAndTruncate(text, SLACK_LIMITS.fallbackText), blocks };
}
