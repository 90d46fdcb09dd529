import { describe, expect, it } from 'vitest';
import type { InvoiceCommandDeps } from '../../lib/command/handle-invoice-command';
import { acknowledgeUrlButton, createDownloadLinkListener } from '../../lib/command/listeners/download-link';
import { createInvoiceCommandListener } from '../../lib/command/listeners/invoice-command';
import type { SlackReply } from '../../lib/command/replies';
import {
  CHANNEL,
  fakeAtlas,
  fakeIndex,
  INVOICE_1,
  listenerDeps,
  NOW,
  ORG_A,
  recordingLogger,
  TEAM,
  USER,
} from './fixtures';

function deps(
  overrides: Partial<InvoiceCommandDeps> = {},
): InvoiceCommandDeps & { log: ReturnType<typeof recordingLogger> } {
  return listenerDeps(recordingLogger(), overrides);
}

const command = { command: '/invoice', team_id: TEAM, channel_id: CHANNEL, user_id: USER };

describe('the slash-command listener', () => {
  it('acks once with the answer', async () => {
    const acks: SlackReply[] = [];
    await createInvoiceCommandListener(deps())({
      command: { ...command, text: INVOICE_1 },
      ack: async (reply) => {
        acks.push(reply);
      },
    });
    expect(acks).toHaveLength(1);
    expect(acks[0]?.text).toContain(`Atlas invoice ${INVOICE_1}`);
  });

  it('answers the safe message and logs once when the use case throws', async () => {
    const d = deps({
      presigner: {
        async presignCsv(): Promise<never> {
          throw new Error('CredentialsProviderError: secret-access-key-value');
        },
      },
    });
    const acks: SlackReply[] = [];
    await createInvoiceCommandListener(d)({
      command: { ...command, text: INVOICE_1 },
      ack: async (reply) => {
        acks.push(reply);
      },
    });
    expect(acks).toEqual([
      {
        response_type: 'ephemeral',
        text: 'Sorry, something went wrong while answering. Please try again in a minute.',
      },
    ]);
    expect(d.log.lines).toHaveLength(1);
    expect(d.log.lines[0]).toContain('answering the slash command failed');
  });

  it('counts the reply budget from the request scope', async () => {
    const acks: SlackReply[] = [];
    const d = deps({
      index: fakeIndex([]),
      atlas: fakeAtlas({
        [ORG_A]: (_id, signal) => new Promise((_r, reject) => signal?.addEventListener('abort', reject)),
      }),
      atlasDeadlineMs: 60_000,
    });
    await createInvoiceCommandListener(d)({
      command: { ...command, text: INVOICE_1 },
      ack: async (reply) => {
        acks.push(reply);
      },
      context: { requestScope: { receivedAt: NOW - 2_495, failed: false } },
    });
    expect(acks[0]?.text).toContain('Atlas did not answer in time');
  });
});

describe('the download-link listener', () => {
  const body = { team: { id: TEAM }, user: { id: USER }, channel: { id: CHANNEL } };

  it('acks first, then responds with the link', async () => {
    const events: string[] = [];
    const responses: SlackReply[] = [];
    await createDownloadLinkListener(deps())({
      body,
      action: { value: `${ORG_A}:${INVOICE_1}` },
      ack: async () => {
        events.push('ack');
      },
      respond: async (reply) => {
        events.push('respond');
        responses.push(reply);
      },
    });
    expect(events).toEqual(['ack', 'respond']);
    expect(responses[0]?.replace_original).toBe(false);
    expect(responses[0]?.text).toContain(`Download link for Atlas invoice ${INVOICE_1}`);
  });

  it('reads the workspace from the user when the team is null (org-wide installs)', async () => {
    const responses: SlackReply[] = [];
    await createDownloadLinkListener(deps())({
      body: { team: null, user: { id: USER, team_id: TEAM }, channel: { id: CHANNEL } },
      action: { value: `${ORG_A}:${INVOICE_1}` },
      ack: async () => {},
      respond: async (reply) => {
        responses.push(reply);
      },
    });
    expect(responses[0]?.text).toContain('Download link');
  });

  it('lets a failed response_url post through to app.error, after the ack', async () => {
    let acked = false;
    const listener = createDownloadLinkListener(deps());
    await expect(
      listener({
        body,
        action: { value: `${ORG_A}:${INVOICE_1}` },
        ack: async () => {
          acked = true;
        },
        respond: async () => {
          throw new Error('Failed to respond to the response_url: 500');
        },
      }),
    ).rejects.toThrow('response_url');
    expect(acked).toBe(true);
  });

  it('acks URL buttons so Slack does not flag the click', async () => {
    let acked = 0;
    await acknowledgeUrlButton({
      ack: async () => {
        acked += 1;
      },
    });
    expect(acked).toBe(1);
  });
});
