import { describe, expect, it } from 'vitest';
import { validateBlocks } from '../../infra/local/slack/block-kit';
import { handleInvoiceCommand } from '../../lib/command/handle-invoice-command';
import type { CommandDeps } from '../../lib/command/use-case';
import { ArchiveError } from '../../lib/errors';
import type { SpendSettings } from '../../lib/spend/settings';
import type { SpendRecord } from '../../lib/spend/spend-record';
import { mrkdwnTexts } from '../slack/block-kit-checks';
import { seriesOf } from '../spend/support';
import { FakeChartLinks, FakeSpendStore, FakeStateStore, recordingLogger } from '../support/fakes';
import { CHANNEL, commandDeps, ORG_A, ORG_B, orgState, replyText, stateEntry, TEAM, USER } from './fixtures';

// November 2026: $100.00 on each of days 1-18 (day 19 posted, so 18 complete), October at $90.00 a day. On Nov 20
// the forecast is $1,800.00 + 12 days × $100.00 = $3,000.00; October's total is 31 × $90.00 = $2,790.00.
const NOW = Date.parse('2026-11-20T10:00:00Z');
const ORG_C = 'cccccccccccccccccccccccc';
const who = { teamId: TEAM, channelId: CHANNEL, userId: USER, command: '/invoice' } as const;

function november(orgId: string, dailyCents = 10_000): SpendRecord {
  return {
    orgId,
    final: false,
    series: seriesOf('2026-11-01', Array(18).fill(dailyCents), { days: 30 }),
  };
}

function october(orgId: string): SpendRecord {
  return {
    orgId,
    final: true,
    series: seriesOf('2026-10-01', Array(31).fill(9_000), { days: 31, lastUsageDay: 31 }),
  };
}

const pendingNovember = stateEntry({
  statusName: 'PENDING',
  startDate: '2026-11-01T00:00:00Z',
  endDate: '2026-12-01T00:00:00Z',
  archived: undefined,
});

function state(orgId: string, name: string, lastPollAt = '2026-11-20T09:50:00Z') {
  return { ...orgState(orgId, { ['1'.repeat(24)]: pendingNovember }, name), lastPollAt };
}

const budgets = (cents: number): SpendSettings => ({
  budgets: [{ orgId: ORG_A, cents }],
  alertPercents: [50, 80, 100],
  spikePercent: 50,
  spikeMinCents: 10_000,
});

function deps(overrides: Partial<CommandDeps> = {}) {
  return commandDeps(recordingLogger(), {
    orgIds: [ORG_A],
    now: () => NOW,
    pollIntervalMinutes: 15,
    state: new FakeStateStore([state(ORG_A, 'Acme & <Sons>')]),
    spend: new FakeSpendStore({
      [`${ORG_A}/2026-11`]: november(ORG_A),
      [`${ORG_A}/2026-10`]: october(ORG_A),
    }),
    charts: new FakeChartLinks([`${ORG_A}/2026-11`], () => NOW),
    spendSettings: budgets(250_000),
    ...overrides,
  });
}

const ask = (d: CommandDeps, text: string) => handleInvoiceCommand(d, { ...who, text });

function imageBlocks(reply: { blocks?: readonly unknown[] }) {
  return (reply.blocks ?? []).filter((b) => (b as { type: string }).type === 'image') as Array<{
    image_url: string;
    alt_text: string;
  }>;
}

describe('/invoice spend for one organisation', () => {
  it('answers with the stored month-to-date, the forecast arithmetic, last month and the budget', async () => {
    const reply = await ask(deps(), `spend ${ORG_A}`);
    const text = replyText(reply);

    expect(reply.response_type).toBe('ephemeral');
    expect(text).toContain('$1,800.00 month-to-date (Nov 1–18) + 12 days × $100.00/day = *$3,000.00*');
    expect(text).toContain('Last month $2,790.00 (forecast 7.5% higher)');
    expect(text).toContain('Budget $2,500.00 (forecast 120.0%, over by $500.00)');
    expect(text).toContain('Top projects this month: Production $1,800.00');
    expect(text).toContain('*What to do:* the forecast is over the budget.');
    expect(validateBlocks(reply.blocks ?? [])).toEqual([]);
  });

  it('reads the state, this month and the four before, and looks the chart up once: no other read', async () => {
    const d = deps();
    await ask(d, 'spend');

    expect((d.state as FakeStateStore).reads).toEqual([ORG_A]);
    expect((d.spend as FakeSpendStore).reads).toEqual(
      ['2026-11', '2026-10', '2026-09', '2026-08', '2026-07'].map((m) => `${ORG_A}/${m}`),
    );
    expect((d.charts as FakeChartLinks).lookups).toEqual([`${ORG_A}/2026-11`]);
  });

  it('shows the stored chart by its link, with alt text carrying the figures', async () => {
    const [image] = imageBlocks(await ask(deps(), 'spend'));

    expect(image?.image_url).toBe(
      `https://bucket.s3.amazonaws.com/atlas-invoices/spend/${ORG_A}/2026-11.png?X-Amz-Signature=abc`,
    );
    expect(image?.alt_text).toBe(
      'Daily spend of Acme & <Sons>, November 2026; $1,800.00 month-to-date (Nov 1–18); forecast $3,000.00 (likely $2,880.00 to $3,000.00); last month $2,790.00; budget $2,500.00.',
    );
  });

  it('shows no image when the poller has stored no chart', async () => {
    const reply = await ask(deps({ charts: new FakeChartLinks([], () => NOW) }), 'spend');

    expect(imageBlocks(reply)).toEqual([]);
    expect(replyText(reply)).toContain('= *$3,000.00*');
  });

  it('still answers, without the picture, when the chart look-up fails', async () => {
    const log = recordingLogger();
    const reply = await ask(
      deps({
        log,
        charts: {
          linkChart: async () => {
            throw new ArchiveError('S3 HeadObject failed (SlowDown, HTTP 503)', 'HeadObject', 'k');
          },
        },
      }),
      'spend',
    );

    expect(imageBlocks(reply)).toEqual([]);
    expect(replyText(reply)).toContain('= *$3,000.00*');
    expect(log.lines.join('\n')).toContain('looking up a spend chart failed');
  });

  it('answers the month of the pending invoice when the poller has not seen a new one yet', async () => {
    const secondOfDecember = Date.parse('2026-12-02T08:00:00Z');
    const d = deps({
      now: () => secondOfDecember,
      charts: new FakeChartLinks([`${ORG_A}/2026-11`], () => NOW),
    });
    const reply = await ask(d, 'spend');

    // The current month and four before it at once; once the state names November, July as well.
    expect((d.spend as FakeSpendStore).reads).toEqual(
      ['2026-12', '2026-11', '2026-10', '2026-09', '2026-08', '2026-07'].map((m) => `${ORG_A}/${m}`),
    );
    expect((d.charts as FakeChartLinks).lookups).toEqual([`${ORG_A}/2026-12`, `${ORG_A}/2026-11`]);
    // A day after November's end every day of it counts as complete (the 12 without usage at $0).
    expect(replyText(reply)).toContain('Spend: Acme & <Sons>, November 2026');
    expect(replyText(reply)).toContain('*Final for November 2026:* $1,800.00 month-to-date (Nov 1–30)');
    expect(imageBlocks(reply)).toHaveLength(1);
  });

  it('says when there is not enough data yet, and when the next poll is', async () => {
    const reply = await ask(deps({ spend: new FakeSpendStore({}) }), 'spend');

    expect(reply).toEqual({
      response_type: 'ephemeral',
      text: `Not enough data yet for Acme &amp; &lt;Sons&gt;: the poller records spend from the pending invoice; next poll at <!date^${(Date.parse('2026-11-20T09:50:00Z') + 15 * 60_000) / 1000}^{date_short_pretty} at {time}|2026-11-20 10:05 UTC>. Ask \`/invoice spend\` again after it.`,
    });
  });

  it('says so when the stored record cannot be read, without the error text', async () => {
    const log = recordingLogger();
    const reply = await ask(
      deps({
        log,
        spend: new FakeSpendStore({
          [`${ORG_A}/2026-11`]: new ArchiveError(
            'spend record refused: total must hold 30 days',
            'GetObject',
            'k',
          ),
        }),
      }),
      'spend',
    );

    expect(reply.text).toBe(
      "The stored spend of Acme &amp; &lt;Sons&gt; could not be read right now. Try again in a minute; if it persists, ask whoever runs the Atlas invoice app to check the poller's logs.",
    );
    expect(reply.response_type).toBe('ephemeral');
    expect(log.lines.join('\n')).toContain('reading a spend record failed');
  });

  it('answers an organisation that is not watched without reading anything', async () => {
    const d = deps();
    const reply = await ask(d, `spend ${ORG_B}`);

    expect(reply.text).toBe(`Organisation \`${ORG_B}\` is not one of the watched organisations.`);
    expect((d.spend as FakeSpendStore).reads).toEqual([]);
  });

  it('posts in the channel when asked to', async () => {
    expect((await ask(deps(), 'spend public')).response_type).toBe('in_channel');
  });
});

describe('/invoice spend for every watched organisation', () => {
  const several = () =>
    deps({
      orgIds: [ORG_A, ORG_B, ORG_C],
      state: new FakeStateStore([state(ORG_A, 'Acme & <Sons>'), state(ORG_B, '<!channel> Beta `x`')]),
      spend: new FakeSpendStore({
        [`${ORG_A}/2026-11`]: november(ORG_A),
        [`${ORG_B}/2026-11`]: november(ORG_B, 5_000),
      }),
      charts: new FakeChartLinks([`${ORG_A}/2026-11`, `${ORG_B}/2026-11`], () => NOW),
    });

  it('shows one section each with a total across them, and names the one without data', async () => {
    const reply = await ask(several(), 'spend');
    const text = replyText(reply);

    expect(text).toContain('*All 2 organisations:* *$2,700.00* month-to-date → forecast *$4,500.00*.');
    expect(text).toContain('Acme &amp; &lt;Sons&gt;');
    expect(text).toContain('*&lt;!channel&gt; Beta `x`* (`bbbbbbbbbbbbbbbbbbbbbbb2`)');
    expect(mrkdwnTexts(reply).join('\n')).not.toContain('<!channel>');
    expect(text).toContain(`No spend data yet for \`${ORG_C}\``);
    expect(imageBlocks(reply)).toHaveLength(2);
    expect(validateBlocks(reply.blocks ?? [])).toEqual([]);
  });

  it('notes an organisation whose record cannot be read and shows the others', async () => {
    const d = several();
    const reply = await ask(
      {
        ...d,
        spend: new FakeSpendStore({
          [`${ORG_A}/2026-11`]: november(ORG_A),
          [`${ORG_B}/2026-11`]: new ArchiveError('S3 GetObject failed', 'GetObject', 'k'),
        }),
      },
      'spend',
    );
    const text = replyText(reply);

    expect(text).toContain('$1,800.00 month-to-date');
    expect(text).toContain('The stored spend of &lt;!channel&gt; Beta `x` could not be read right now.');
    expect(text).toContain(
      `Not enough data yet for \`${ORG_C}\`: the poller records spend from the pending invoice.`,
    );
  });
});
