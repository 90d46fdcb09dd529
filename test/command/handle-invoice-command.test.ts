import { describe, expect, it } from 'vitest';
import { handleInvoiceCommand, type InvoiceCommandDeps } from '../../lib/command/handle-invoice-command';
import { refusalReply } from '../../lib/command/replies';
import type { SlackAccess } from '../../lib/config';
import { AtlasApiError } from '../../lib/errors';
import type { Invoice } from '../../lib/invoices/invoice';
import { silentLogger } from '../../lib/log';
import {
  FakeAtlas,
  FakeIndexStore,
  FakePresigner,
  FakeStateStore,
  hangUntilAborted,
  recordingLogger,
} from '../support/fakes';
import {
  atlasInvoice,
  CHANNEL,
  commandDeps,
  INVOICE_1,
  INVOICE_2,
  indexEntry,
  NOW,
  ORG_A,
  ORG_B,
  orgState,
  replyText,
  stateEntry,
  TEAM,
  USER,
} from './fixtures';

function deps(overrides: Partial<InvoiceCommandDeps> = {}): InvoiceCommandDeps {
  return commandDeps(silentLogger, { orgIds: [ORG_A, ORG_B], atlasDeadlineMs: 1_000, ...overrides });
}

const who = { teamId: TEAM, channelId: CHANNEL, userId: USER, command: '/invoice' } as const;

describe('handleInvoiceCommand: authorisation', () => {
  const strict: SlackAccess = {
    teamIds: new Set([TEAM]),
    channelIds: new Set([CHANNEL]),
    userIds: new Set([USER]),
  };

  it.each([
    ['another workspace', { ...who, teamId: 'T0OTHER' }],
    ['another channel', { ...who, channelId: 'C0OTHER' }],
    ['another user', { ...who, userId: 'U0OTHER' }],
  ])('refuses %s with the same text and reads nothing', async (_case, requester) => {
    const index = new FakeIndexStore([indexEntry()]);
    const state = new FakeStateStore([]);
    const reply = await handleInvoiceCommand(deps({ access: strict, index, state }), {
      ...requester,
      text: INVOICE_1,
    });
    expect(reply).toEqual(refusalReply());
    expect(reply.response_type).toBe('ephemeral');
    expect(replyText(reply)).not.toContain(INVOICE_1);
    expect(replyText(reply)).not.toContain('T0OTHER');
    expect(index.reads).toEqual([]);
    expect(state.reads).toEqual([]);
  });

  it('refuses even help and public requests ephemerally', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, teamId: 'T0OTHER', text: 'help public' });
    expect(reply).toEqual(refusalReply());
  });
});

describe('handleInvoiceCommand: an archived invoice', () => {
  it('answers from one index read and one presign, with amounts, arithmetic, top costs and the link', async () => {
    const index = new FakeIndexStore([indexEntry()]);
    const presigner = new FakePresigner(900, () => NOW);
    const state = new FakeStateStore([]);
    const atlas = new FakeAtlas({});
    const reply = await handleInvoiceCommand(deps({ index, presigner, state, atlas }), {
      ...who,
      text: INVOICE_1,
    });

    expect(index.reads).toEqual([INVOICE_1]);
    expect(state.reads).toEqual([]);
    expect(atlas.calls).toEqual([]);
    expect(presigner.calls).toEqual([
      [`atlas-invoices/${ORG_A}/2024-06/${INVOICE_1}.csv`, `atlas-invoice-2024-06-${INVOICE_1}.csv`],
    ]);
    expect(reply.response_type).toBe('ephemeral');
    const blocks = reply.blocks ?? [];
    expect(blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Atlas invoice · June 1 – June 30, 2024' },
    });
    expect(blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*$313.32 owed* · Acme &amp; &lt;Sons&gt; · *PAID*' },
    });
    expect(blocks[2]).toEqual({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'Owed $313.32 = billed $1,313.32 − paid $1,000.00 · billed = subtotal $1,234.56 + tax $98.76 − starting balance $20.00 · includes $10.00 of credits',
        },
      ],
    });
    const all = replyText(reply);
    expect(all).toContain('Prod &lt;!channel&gt; — $1,000.00');
    expect(all).toContain('*Top SKUs* (2 of 7)');
    expect(all).not.toContain('<!channel>');
    const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<Record<string, unknown>> };
    expect(actions.elements[0]).toMatchObject({
      type: 'button',
      url: expect.stringContaining('X-Amz-Signature'),
    });
    expect(all).toContain('link expires in 15 minutes, at <!date^');
    expect(all).toContain(`|${new Date(NOW + 900_000).toISOString().slice(0, 16).replace('T', ' ')} UTC>`);
    expect(all.split(`\`${INVOICE_1}\``)).toHaveLength(2);
    expect(all).toContain(`invoice \`${INVOICE_1}\` of organisation \`${ORG_A}\``);
    expect(reply.text).toContain(`Atlas invoice ${INVOICE_1}`);
    expect(reply.text).toContain('PAID, $313.32 owed');
  });

  it('says a forgiven invoice owes nothing, and how much was forgiven', async () => {
    const entry = indexEntry({ statusName: 'FORGIVEN' });
    const reply = await handleInvoiceCommand(deps({ index: new FakeIndexStore([entry]) }), {
      ...who,
      text: INVOICE_1,
    });

    const all = replyText(reply);
    expect(all).toContain('*$313.32 forgiven, nothing owed* · Acme &amp; &lt;Sons&gt; · *FORGIVEN*');
    expect(all).toContain('Forgiven $313.32 = billed $1,313.32 − paid $1,000.00');
    expect(all).not.toMatch(/Owed|\$[\d,.]+ owed/);
    expect(reply.text).toContain('FORGIVEN, $313.32 forgiven, nothing owed.');
  });

  it('posts in the channel when asked with public', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, text: `${INVOICE_1} public` });
    expect(reply.response_type).toBe('in_channel');
  });

  it('says a pending invoice is still accruing, as of when it was archived', async () => {
    const index = new FakeIndexStore([indexEntry({ statusName: 'PENDING' })]);
    const reply = await handleInvoiceCommand(deps({ index }), { ...who, text: INVOICE_1 });
    expect(replyText(reply)).toContain('*$1,313.32 so far this cycle*');
    expect(replyText(reply)).toContain('nothing is due until the cycle closes');
    expect(replyText(reply)).toContain(`archived as of <!date^${Date.parse('2024-07-02T08:00:00Z') / 1000}^`);
  });

  it('says when the organisation of a failed payment is suspended and locked, and where to pay', async () => {
    const index = new FakeIndexStore([indexEntry({ statusName: 'FAILED' })]);
    const reply = await handleInvoiceCommand(deps({ index, atlasBaseUrl: 'https://cloud.mongodb.com' }), {
      ...who,
      text: INVOICE_1,
    });
    const suspendAt = Date.parse('2024-08-01T08:00:00Z') / 1000;
    const lockAt = Date.parse('2024-08-31T08:00:00Z') / 1000;
    expect(replyText(reply)).toContain(
      `*$313.32 owed*, suspended on <!date^${suspendAt}^{date_short_pretty}|Aug 1, 2024> unless paid · Acme`,
    );
    expect(replyText(reply)).toContain(
      `After 30 days unpaid the organisation is *suspended*, after 60 days *locked* (<!date^${lockAt}^{date_short_pretty}|Aug 31, 2024>)`,
    );
    expect(replyText(reply)).toContain(`<https://cloud.mongodb.com/v2#/org/${ORG_A}/billing/overview|`);
  });

  it('says since when a failed payment is past its suspension date', async () => {
    const index = new FakeIndexStore([indexEntry({ statusName: 'FAILED', updated: '2024-06-01T00:00:00Z' })]);
    const reply = await handleInvoiceCommand(deps({ index }), { ...who, text: INVOICE_1 });
    expect(replyText(reply)).toContain(
      `*$313.32 owed*, suspended from <!date^${Date.parse('2024-07-01T00:00:00Z') / 1000}^{date_short_pretty}|Jul 1, 2024> while unpaid`,
    );
  });

  it('answers that the archive cannot be read when S3 fails, logging without details in the reply', async () => {
    const log = recordingLogger();
    const index = new FakeIndexStore();
    index.failReads = () => new Error('AccessDenied: arn:aws:iam::123456789012:role/secret-role');
    const reply = await handleInvoiceCommand(deps({ index, log }), { ...who, text: INVOICE_1 });
    expect(reply.text).toBe('The invoice archive cannot be read right now. Please try again in a minute.');
    expect(replyText(reply)).not.toContain('arn:aws');
    expect(
      log.lines.some((l) => l.includes('"level":"error"') && l.includes('reading the invoice index failed')),
    ).toBe(true);
  });

  it('treats an index entry of an organisation no longer watched as unknown', async () => {
    const index = new FakeIndexStore([indexEntry({ orgId: 'ffffffffffffffffffffffff' })]);
    const atlas = new FakeAtlas({});
    const reply = await handleInvoiceCommand(deps({ index, atlas }), { ...who, text: INVOICE_1 });
    expect(reply.text).toContain('is unknown for the 2 watched organisations');
    expect(atlas.calls.sort()).toEqual([`${ORG_A}/${INVOICE_1}`, `${ORG_B}/${INVOICE_1}`]);
  });
});

describe('handleInvoiceCommand: an id not archived yet', () => {
  it('asks every watched organisation in parallel and answers from the JSON of the one that has it', async () => {
    const atlas = new FakeAtlas({ [ORG_B]: async () => atlasInvoice() });
    const state = new FakeStateStore([orgState(ORG_B, {}, 'Beta "Org"')]);
    const reply = await handleInvoiceCommand(deps({ atlas, state, pollIntervalMinutes: 60 }), {
      ...who,
      text: INVOICE_2,
    });
    expect(atlas.calls.sort()).toEqual([`${ORG_A}/${INVOICE_2}`, `${ORG_B}/${INVOICE_2}`]);
    const all = replyText(reply);
    expect(all).toContain('*$55.00 owed* · Beta "Org" · *CLOSED* (final, not charged yet)');
    expect(all).toContain('Owed $55.00, nothing paid yet · billed = subtotal $50.00 + tax $5.00');
    expect(all).toContain('Web &amp; API — $50.00');
    expect(all).toContain('ATLAS_AWS_INSTANCE_M10 — $40.00');
    expect(all).toContain('The CSV is not archived yet: the next poll will archive it');
    // The last poll was 20 minutes ago and the poller runs hourly: about 40 minutes from now.
    expect(all).toContain(`<!date^${Math.floor((NOW + 40 * 60_000) / 1000)}^`);
    expect(reply.blocks?.some((b) => b.type === 'actions')).toBe(false);
  });

  it('says the invoice is unknown when every organisation answers 404', async () => {
    const reply = await handleInvoiceCommand(deps({ atlas: new FakeAtlas({}) }), { ...who, text: INVOICE_2 });
    expect(reply.text).toBe(
      `Invoice \`${INVOICE_2}\` is unknown for the 2 watched organisations: neither the archive nor Atlas has it. Check the id; \`/invoice list\` shows recent ones.`,
    );
  });

  it('answers in time that Atlas was too slow, and aborts the calls still running', async () => {
    const signals: AbortSignal[] = [];
    const slow = async (_id: string, signal?: AbortSignal): Promise<Invoice> => {
      if (signal) signals.push(signal);
      return hangUntilAborted(signal);
    };
    const atlas = new FakeAtlas({ [ORG_A]: slow, [ORG_B]: slow });
    const reply = await handleInvoiceCommand(deps({ atlas, atlasDeadlineMs: 20 }), {
      ...who,
      text: INVOICE_2,
    });
    expect(reply.text).toContain('is not archived yet, and Atlas did not answer in time to look it up');
    expect(reply.text).toContain('the next poll will archive it');
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('caps the Atlas wait by what is left of the reply budget', async () => {
    const atlas = new FakeAtlas({ [ORG_A]: (_id, signal) => hangUntilAborted(signal) });
    const clock = { now: NOW };
    // The request arrived 2,490 ms ago: 10 ms of the 2,500 ms budget are left, whatever atlasDeadlineMs says.
    const reply = await handleInvoiceCommand(deps({ atlas, atlasDeadlineMs: 60_000, now: () => clock.now }), {
      ...who,
      text: INVOICE_2,
      receivedAt: NOW - 2_490,
    });
    expect(reply.text).toContain('Atlas did not answer in time');
  });

  it('says Atlas could not be asked when an organisation fails with something other than 404', async () => {
    const log = recordingLogger();
    const atlas = new FakeAtlas({
      [ORG_A]: async () => {
        throw new AtlasApiError('Atlas answered 503', {
          status: 503,
          method: 'GET',
          path: '/api/atlas/v2/orgs/x',
        });
      },
    });
    const reply = await handleInvoiceCommand(deps({ atlas, log }), { ...who, text: INVOICE_2 });
    expect(reply.text).toContain('Atlas could not be asked about it right now');
    expect(reply.text).not.toContain('503');
    expect(
      log.lines.some((l) => l.includes('looking an invoice up in Atlas failed') && l.includes('503')),
    ).toBe(true);
  });
});

describe('handleInvoiceCommand: answers from the state', () => {
  const older = stateEntry({ startDate: '2024-04-01T00:00:00Z', endDate: '2024-05-01T00:00:00Z' });
  const paid = stateEntry({ startDate: '2024-05-01T00:00:00Z', endDate: '2024-06-01T00:00:00Z' });
  const closed = stateEntry({
    statusName: 'CLOSED',
    startDate: '2024-06-01T00:00:00Z',
    endDate: '2024-07-01T00:00:00Z',
    amountBilledCents: 7_700,
    amountPaidCents: 0,
  });
  const pending = stateEntry({
    statusName: 'PENDING',
    startDate: '2024-07-01T00:00:00Z',
    endDate: '2024-08-01T00:00:00Z',
    amountBilledCents: 1_234,
    amountPaidCents: 0,
    archived: undefined,
  });
  const failed = stateEntry({
    statusName: 'FAILED',
    startDate: '2024-05-01T00:00:00Z',
    endDate: '2024-06-01T00:00:00Z',
    amountBilledCents: 999,
    amountPaidCents: 0,
  });
  const ids = {
    older: '000000000000000000000001',
    paid: '000000000000000000000002',
    closed: '000000000000000000000003',
    pending: '000000000000000000000004',
    failed: '000000000000000000000005',
  };
  const states = [
    orgState(
      ORG_A,
      { [ids.older]: older, [ids.paid]: paid, [ids.closed]: closed, [ids.pending]: pending },
      'Acme',
    ),
    orgState(ORG_B, { [ids.failed]: failed }, 'Beta <b>'),
  ];

  it('lists the newest invoices first, reading each organisation state once', async () => {
    const state = new FakeStateStore(states);
    const reply = await handleInvoiceCommand(deps({ state }), { ...who, text: 'list 4' });
    expect(state.reads.sort()).toEqual([ORG_A, ORG_B]);
    const all = replyText(reply);
    // Same billing period: ordered by organisation id, so ORG_A's paid invoice before ORG_B's failed one.
    const positions = [ids.pending, ids.closed, ids.paid, ids.failed].map((id) => all.indexOf(id));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(all).not.toContain(ids.older);
    expect(all).toContain('Latest 4 Atlas invoices');
    expect(all).toContain('Beta &lt;b&gt; · *FAILED* · $9.99 owed');
    expect(all).toContain('Acme · *PAID* · $100.00 paid');
    expect(all).toContain('_not archived yet_');
  });

  it('lists five by default', async () => {
    const reply = await handleInvoiceCommand(deps({ state: new FakeStateStore(states) }), {
      ...who,
      text: 'list',
    });
    const all = replyText(reply);
    expect(Object.values(ids).every((id) => all.includes(id))).toBe(true);
    expect(all).toContain('Latest 5 Atlas invoices');
  });

  it('shows the current cycle and what awaits payment for pending', async () => {
    const reply = await handleInvoiceCommand(deps({ state: new FakeStateStore(states) }), {
      ...who,
      text: 'pending',
    });
    const blocks = (reply.blocks ?? []).map((b) => JSON.stringify(b));
    const current = blocks.find((b) => b.includes('*Current cycle*')) ?? '';
    const awaiting = blocks.find((b) => b.includes('*Awaiting payment*')) ?? '';
    expect(current).toContain(ids.pending);
    expect(current).toContain('$12.34 so far this cycle');
    expect(awaiting).toContain(ids.closed);
    expect(awaiting).toContain(ids.failed);
    expect(awaiting).not.toContain(ids.paid);
    expect(replyText(reply)).not.toContain(ids.older);
  });

  it('answers latest for one organisation with the whole archived invoice and its link', async () => {
    const index = new FakeIndexStore([indexEntry({ invoiceId: ids.closed, statusName: 'CLOSED' })]);
    const presigner = new FakePresigner(900, () => NOW);
    const state = new FakeStateStore([
      orgState(ORG_A, { [ids.older]: older, [ids.closed]: { ...closed, startDate: '2024-08-01T00:00:00Z' } }),
    ]);
    const reply = await handleInvoiceCommand(deps({ index, state, presigner }), {
      ...who,
      text: `latest ${ORG_A}`,
    });
    expect(state.reads).toEqual([ORG_A]);
    expect(index.reads).toEqual([ids.closed]);
    expect(presigner.calls).toHaveLength(1);
    expect(replyText(reply)).toContain('link expires in 15 minutes');
  });

  it('answers latest for several organisations with one line each', async () => {
    const reply = await handleInvoiceCommand(deps({ state: new FakeStateStore(states) }), {
      ...who,
      text: 'latest',
    });
    const all = replyText(reply);
    expect(all).toContain('Latest Atlas invoice of each organisation');
    expect(all).toContain(ids.pending);
    expect(all).toContain(ids.failed);
    expect(all).not.toContain(ids.closed);
  });

  it('refuses latest for an organisation that is not watched', async () => {
    const state = new FakeStateStore(states);
    const reply = await handleInvoiceCommand(deps({ state }), {
      ...who,
      text: 'latest cccccccccccccccccccccccc',
    });
    expect(reply.text).toBe(
      'Organisation `cccccccccccccccccccccccc` is not one of the watched organisations.',
    );
    expect(state.reads).toEqual([]);
  });

  it('notes organisations not polled yet or unreadable, and gives up only when none can be read', async () => {
    const state = new FakeStateStore();
    state.failReads = (orgId) => (orgId === ORG_B ? new Error('SlowDown') : undefined);
    const reply = await handleInvoiceCommand(deps({ state }), { ...who, text: 'list' });
    expect(replyText(reply)).toContain(
      '1 organisation could not be read right now. 1 organisation not polled yet.',
    );
    expect(replyText(reply)).toContain('No invoice is recorded yet for the watched organisations.');

    const broken = new FakeStateStore();
    broken.failReads = () => new Error('SlowDown');
    const none = await handleInvoiceCommand(deps({ state: broken }), { ...who, text: 'pending' });
    expect(none.text).toBe('The invoice archive cannot be read right now. Please try again in a minute.');
  });
});

describe('handleInvoiceCommand: help and bad input', () => {
  it('answers help with every subcommand under the name the command was given', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, command: '/atlas-invoice', text: 'help' });
    const all = replyText(reply);
    for (const usage of ['&lt;invoice id&gt;', 'latest [org id]', 'pending', 'list [n]', 'help']) {
      expect(all).toContain(`\`/atlas-invoice ${usage}`);
    }
    expect(all).toContain('Add `public` to post the answer in the channel');
  });

  it('says what an id looks like for a malformed id', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, text: '65a1f0c2e4b0a1b2c3d4' });
    expect(reply).toEqual({
      response_type: 'ephemeral',
      text: "`65a1f0c2e4b0a1b2c3d4` is not an invoice id. An invoice id is 24 characters, digits 0-9 and letters a-f, e.g. `65a1f0c2e4b0a1b2c3d4e5f6`. The poller's messages and `/invoice list` show them.",
    });
  });

  it('suggests help for an unknown subcommand, escaping what it echoes', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, text: '<!here>' });
    expect(reply.text).toBe("I don't know `&lt;!here&gt;`. Try `/invoice help` to see what I can do.");
  });

  it('refuses extra words', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, text: `${INVOICE_1} and more` });
    expect(reply.text).toBe(
      '`/invoice &lt;invoice id&gt;` takes no more words (got `and more`). Try `/invoice help`.',
    );
  });

  it('refuses very long text with its length only', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, text: `${'<b>'.repeat(300)}` });
    expect(reply.text).toBe(
      'That is too long for `/invoice` (900 characters; it reads at most 200). Try `/invoice help`.',
    );
  });

  it('refuses non-ASCII text with a short escaped excerpt', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, text: `<@U1>${'é'.repeat(100)}` });
    expect(reply.text).toMatch(/^`&lt;@U1&gt;é+…` contains characters other than plain letters and digits\./);
    expect(reply.text.length).toBeLessThan(300);
  });

  it('refuses a list count out of range', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, text: 'list 50' });
    expect(reply.text).toBe('`50` is not a number from 1 to 20, e.g. `/invoice list 10`.');
  });

  it('answers bad input ephemerally even when public was asked', async () => {
    const reply = await handleInvoiceCommand(deps(), { ...who, text: 'nonsense public' });
    expect(reply.response_type).toBe('ephemeral');
  });
});
