import { describe, expect, it } from 'vitest';
import { type DownloadLinkDeps, handleDownloadLink } from '../../lib/command/handle-download-link';
import { refusalReply } from '../../lib/command/replies';
import { silentLogger } from '../../lib/log';
import { FakeIndexStore, FakePresigner, recordingLogger } from '../support/fakes';
import {
  CHANNEL,
  commandDeps,
  INVOICE_1,
  indexEntry,
  NOW,
  ORG_A,
  ORG_B,
  replyText,
  TEAM,
  USER,
} from './fixtures';

function deps(overrides: Partial<DownloadLinkDeps> = {}): DownloadLinkDeps {
  return commandDeps(silentLogger, { orgIds: [ORG_A, ORG_B], ...overrides });
}

const who = { teamId: TEAM, channelId: CHANNEL, userId: USER };

describe('handleDownloadLink', () => {
  it('answers with a fresh link, ephemerally and without replacing the channel message', async () => {
    const presigner = new FakePresigner(900, () => NOW);
    const reply = await handleDownloadLink(deps({ presigner }), { ...who, value: `${ORG_A}:${INVOICE_1}` });
    expect(presigner.calls).toEqual([
      [`atlas-invoices/${ORG_A}/2024-06/${INVOICE_1}.csv`, `atlas-invoice-2024-06-${INVOICE_1}.csv`],
    ]);
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.replace_original).toBe(false);
    const all = replyText(reply);
    expect(all).toContain(
      `Download link for invoice \`${INVOICE_1}\` (Acme &amp; &lt;Sons&gt;, June 1 – June 30, 2024`,
    );
    expect(all).toContain('link expires in 15 minutes');
    const actions = reply.blocks?.find((b) => b.type === 'actions') as { elements: Array<{ url: string }> };
    expect(actions.elements[0]?.url).toContain('X-Amz-Signature');
  });

  it.each([
    ['no value', undefined],
    ['a value without separator', `${ORG_A}${INVOICE_1}`],
    ['upper-case ids', `${ORG_A.toUpperCase()}:${INVOICE_1}`],
    ['an injected value', `${ORG_A}:${INVOICE_1}<!channel>`],
    ['an organisation that is not watched', `cccccccccccccccccccccccc:${INVOICE_1}`],
    ['an invoice of another organisation', `${ORG_B}:${INVOICE_1}`],
  ])('refuses %s without presigning', async (_case, value) => {
    const presigner = new FakePresigner(900, () => NOW);
    const reply = await handleDownloadLink(deps({ presigner }), { ...who, value });
    expect(reply.text).toBe('This button does not point to an invoice of a watched organisation any more.');
    expect(reply.replace_original).toBe(false);
    expect(presigner.calls).toEqual([]);
  });

  it('says when the invoice is not archived yet', async () => {
    const reply = await handleDownloadLink(deps({ index: new FakeIndexStore([]) }), {
      ...who,
      value: `${ORG_A}:${INVOICE_1}`,
    });
    expect(reply.text).toBe(
      `Invoice \`${INVOICE_1}\` is not archived yet; the next poll will archive it. Try again after that.`,
    );
  });

  it('refuses a requester who may not see billing data with the common refusal', async () => {
    const index = new FakeIndexStore([indexEntry()]);
    const reply = await handleDownloadLink(deps({ index }), {
      ...who,
      teamId: 'T0OTHER',
      value: `${ORG_A}:${INVOICE_1}`,
    });
    expect(reply).toEqual({ ...refusalReply(), replace_original: false });
    expect(index.reads).toEqual([]);
  });

  it('answers that the archive cannot be read when S3 fails', async () => {
    const log = recordingLogger();
    const index = new FakeIndexStore();
    index.failReads = () => new Error('InternalError');
    const reply = await handleDownloadLink(deps({ index, log }), { ...who, value: `${ORG_A}:${INVOICE_1}` });
    expect(reply.text).toBe('The invoice archive cannot be read right now. Please try again in a minute.');
    expect(log.lines).toHaveLength(1);
  });
});
