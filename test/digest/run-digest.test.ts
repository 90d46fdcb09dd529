import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SlackStandIn, startSlackStandIn } from '../../infra/local/slack';
import { validateBlocks } from '../../infra/local/slack/block-kit';
import type { SlackDelivery } from '../../lib/config';
import { type DigestDeps, groupByChannel, runSpendDigest } from '../../lib/digest/run-digest';
import { createDeadline } from '../../lib/retry';
import { createSlackNotifier, slackWebClientOptions } from '../../lib/slack/notifier';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import type { SpendRecord } from '../../lib/spend/spend-record';
import { seriesOf } from '../spend/support';
import { FakeChartReader, FakeSpendStore, FakeStateStore, recordingLogger } from '../support/fakes';

const NOW = Date.parse('2026-11-20T10:00:00Z');
const ORGS = Array.from({ length: 20 }, (_, i) => `${String(i + 1).padStart(2, '0')}${'f'.repeat(22)}`);
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

let slack: SlackStandIn;

beforeAll(async () => {
  slack = await startSlackStandIn();
});

afterAll(async () => {
  await slack?.close();
});

beforeEach(() => slack.reset());

const record = (orgId: string, daily: number): SpendRecord => ({
  orgId,
  final: false,
  series: seriesOf('2026-11-01', Array(18).fill(daily), { days: 30 }),
});

function deps(orgIds: readonly string[], delivery: SlackDelivery) {
  const log = recordingLogger();
  const web = new WebClient(slack.token, slackWebClientOptions({ apiUrl: slack.apiUrl, log }));
  const reader = new FakeChartReader(PNG);
  const built: DigestDeps = {
    orgIds,
    delivery,
    state: new FakeStateStore([]),
    spend: new FakeSpendStore(
      Object.fromEntries(orgIds.map((id, i) => [`${id}/2026-11`, record(id, 1_000 * (i + 1))])),
    ),
    settings: DEFAULT_SPEND_SETTINGS,
    notifier: createSlackNotifier({
      transport:
        delivery.kind === 'bot'
          ? { kind: 'bot', client: web, defaultChannel: delivery.defaultChannel, routes: delivery.routes }
          : { kind: 'webhook', url: delivery.url },
      log,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    }),
    charts: { reader, uploader: web },
    log,
    now: () => NOW,
    deadline: createDeadline(30_000),
  };
  return { deps: built, reads: reader.reads, log };
}

const bot = (
  routes: Record<string, string> = {},
  defaultChannel: string | undefined = 'C0ALL',
): SlackDelivery => ({
  kind: 'bot',
  token: 'xoxb-unused',
  defaultChannel,
  routes: new Map(Object.entries(routes)),
  apiUrl: undefined,
});

describe('groupByChannel', () => {
  it('groups by route, else the default channel, keeping the order of ATLAS_ORG_IDS', () => {
    const [a, b, c] = ORGS as [string, string, string];

    expect([...groupByChannel(bot({ [b]: 'C0B' }), [a, b, c])]).toEqual([
      ['C0ALL', [a, c]],
      ['C0B', [b]],
    ]);
    expect([...groupByChannel({ kind: 'webhook', url: 'https://hooks.slack.com/x' }, [a, b])]).toEqual([
      ['webhook', [a, b]],
    ]);
  });
});

describe('runSpendDigest', () => {
  it('uploads charts only for the organisations the message has room to show, within 50 blocks', async () => {
    const { deps: d, reads } = deps(ORGS, bot());

    const report = await runSpendDigest(d);

    const [message] = slack.messages;
    const images = (message?.blocks ?? []).filter((b) => (b as { type: string }).type === 'image');
    expect(report.ok).toBe(true);
    expect(validateBlocks(message?.blocks ?? [])).toEqual([]);
    // 50 blocks hold 14 organisations (section, image, divider each) besides the header, total and notes.
    expect(images).toHaveLength(14);
    expect(reads).toHaveLength(14);
    expect(slack.files.size).toBe(14);
    expect(report.channels[0]?.charts).toBe(14);
    expect(JSON.stringify(message?.blocks)).toContain(`more organisations not shown`);
    // The total still counts every organisation: 18 days × $10 × (1 + 2 + … + 20) = $37,800.00.
    expect(JSON.stringify(message?.blocks)).toContain('*All 20 organisations:* *$37,800.00* month-to-date');
  });

  it('reports a channel it cannot post to and still posts the others', async () => {
    const [a, b] = ORGS as [string, string];
    slack.setChannel('C0GONE', 'deleted');
    const { deps: d } = deps([a, b], bot({ [b]: 'C0GONE' }));

    const report = await runSpendDigest(d);

    expect(report.ok).toBe(false);
    expect(report.channels.map((c) => [c.channel, c.posted, c.error?.slackError])).toEqual([
      ['C0ALL', true, undefined],
      ['C0GONE', false, 'channel_not_found'],
    ]);
    expect(slack.messagesIn('C0ALL')).toHaveLength(1);
  });
});
