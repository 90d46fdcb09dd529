import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AtlasSandbox, DEMO_ORG_ID, startAtlasSandbox } from '../../infra/local/atlas-sandbox';
import {
  chooseDemoBudgetCents,
  demoStorySandboxOptions,
  planDemoStory,
  STORY_START_DAY,
} from '../../infra/local/demo-story';
import { type LocalRun, type PollOutcome, startLocalRun } from '../../infra/local/local-run';
import { startS3StandIn } from '../../infra/local/s3';
import {
  addMonths,
  daysInMonth,
  formatDay,
  formatDayRange,
  formatMonthName,
  formatShortDay,
  parseMonth,
} from '../../lib/spend/calendar';
import { forecastMonthEnd } from '../../lib/spend/forecast';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import { detectSpikes } from '../../lib/spend/spikes';
import type { UsageSeries } from '../../lib/spend/usage-series';

// The demo story of `npm start` as a user meets it: the real poll, digest and slash-command handlers against the
// stand-ins, driven through the local run one story day per poll, with what the terminal prints collected.

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface StoryRun {
  readonly run: LocalRun;
  readonly printed: string[];
  readonly dataDir: string;
  /** What was printed from `from` on. */
  since(from: number): string;
}

async function startStory(now?: () => number, port?: number): Promise<StoryRun> {
  const dataDir = await mkdtemp(join(tmpdir(), 'demo-story-'));
  const printed: string[] = [];
  const run = await startLocalRun({
    env: {},
    dataDir,
    fresh: true,
    intervalSeconds: 20,
    print: (text) => printed.push(text),
    ...(now === undefined ? {} : { now }),
    ...(port === undefined ? {} : { port }),
  });
  return { run, printed, dataDir, since: (from) => printed.slice(from).join('\n') };
}

async function stopStory(story: StoryRun | undefined): Promise<void> {
  if (story === undefined) return;
  await story.run.close();
  await rm(story.dataDir, { recursive: true, force: true });
}

/** `npm start`'s loop: the story moves a day before every poll but the first. */
async function pollDay(story: StoryRun, n: number): Promise<{ outcome: PollOutcome; printed: string }> {
  if (n > 1) await story.run.advanceDemo();
  const from = story.printed.length;
  const outcome = await story.run.poll();
  expect(outcome.ok, story.since(from)).toBe(true);
  return { outcome, printed: story.since(from) };
}

/** Where the readable copy of the story month's chart goes. */
function chartCopy(story: StoryRun): string {
  const month = story.run.demo?.story.month as string;
  const spend = join(story.dataDir, 's3', 'local-invoice-archive', 'atlas-invoices', 'spend');
  return join(spend, DEMO_ORG_ID, `${month}.png`);
}

const headersOf = (printed: string) =>
  [...printed.matchAll(/^│ (.*): Ünïcode & <Co> "Demo"$/gm)].map((m) => m[1]);

const firstOf = (month: string) => parseMonth(month) as number;
/** Story day `n` (1 = the first) of a month's story, `YYYY-MM-DD`. */
const storyDay = (month: string, n: number) => formatDay(firstOf(month) + STORY_START_DAY + n - 2);
/** `Dec 1–8`: the first `days` days of a month. */
const firstDays = (month: string, days: number) => formatDayRange(firstOf(month), firstOf(month) + days - 1);

describe('the demo story', () => {
  let story: StoryRun | undefined;
  afterEach(async () => {
    await stopStory(story);
    story = undefined;
  });

  // The current month (whatever it is when the tests run), the month the backtest finds closest to its budget, and
  // a 28-day February.
  for (const month of [undefined, '2027-02', '2026-02']) {
    it(`alerts forecast, spike and budget on its first three polls (${month ?? 'this month'})`, async () => {
      const shift = month === undefined ? 0 : Date.parse(`${month}-03T10:00:00Z`) - Date.now();
      const now = month === undefined ? undefined : () => Date.now() + shift;
      story = await startStory(now);
      const banner = story.run.describe();
      const budget = /SPEND_BUDGETS=[0-9a-f]{24}=(\d+) /.exec(banner)?.[1];
      const storyMonth = story.run.demo?.story.month as string;
      const budgetText = `$${Number(budget).toLocaleString('en-US')}.00`;

      const first = await pollDay(story, 1);
      const second = await pollDay(story, 2);
      const third = await pollDay(story, 3);

      expect(storyMonth).toBe(month ?? new Date().toISOString().slice(0, 7));
      expect(banner).toContain(`begins ${storyMonth}-08, one day per poll`);
      expect(budget).toMatch(/^\d+00$/);
      expect(story.run.demo?.standInBudgets).toBe(`${DEMO_ORG_ID}=${budget}`);
      expect(headersOf(first.printed)).toEqual(['Now watching Atlas invoices', 'Forecast over budget']);
      expect(first.printed).toContain(`passes its ${budgetText} budget around`);
      expect(first.outcome.report?.totals.spendAlerts).toBe(1);

      expect(headersOf(second.printed)).toEqual([
        `Spend spike on ${formatShortDay(firstOf(storyMonth) + STORY_START_DAY - 1)}`,
      ]);
      expect(second.printed).toContain('check project Production, "EU"\'s cluster Cluster0');
      expect(second.outcome.report?.totals.spendAlerts).toBe(1);

      expect(headersOf(third.printed)).toContain('Budget 50% reached');
      expect(third.printed).toMatch(new RegExp(`= 50\\.\\d% of the \\${budgetText} monthly budget`));
      expect(third.outcome.report?.totals.spendAlerts).toBe(1);
      expect(story.run.demo?.today()).toBe(storyDay(storyMonth, 3));
    });
  }

  it('copies every chart it stores under the data dir and prints its path under the message', async () => {
    story = await startStory();
    const { printed } = await pollDay(story, 1);
    const { outcome } = await pollDay(story, 2);
    const month = story.run.demo?.story.month as string;
    const file = chartCopy(story);

    const bytes = await readFile(file);

    expect(printed).toMatch(/\[image: Daily spend of Ünïcode & <Co> "Demo", .*\][^┌]*└\n {2}chart (.*)$/);
    expect(/ {2}chart (.*)$/m.exec(printed)?.[1]).toBe(file);
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(story.run.chartDir).toBe(
      join(story.dataDir, 's3', 'local-invoice-archive', 'atlas-invoices', 'spend'),
    );
    // Both alerts showed the chart, each poll's own, and the copy is the one stored last, byte for byte.
    expect(story.since(0).match(/^ {2}chart .*/gm)).toEqual([`  chart ${file}`, `  chart ${file}`]);
    expect(outcome.chartFiles).toEqual([]);
    await story.run.close();
    const store = await startS3StandIn({ dir: join(story.dataDir, 's3', '.store') });
    try {
      const key = `atlas-invoices/spend/${DEMO_ORG_ID}/${month}.png`;
      expect(bytes.equals(await store.getObjectBytes('local-invoice-archive', key))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('lists a chart stored without a message to show it under the poll line', async () => {
    story = await startStory();
    for (let n = 1; n <= 4; n++) await pollDay(story, n);

    const { outcome, printed } = await pollDay(story, 5);

    expect(printed).not.toContain('┌ Slack');
    expect(outcome.chartFiles).toEqual([chartCopy(story)]);
    expect(outcome.report?.totals.spendRecords).toBe(1);
  });

  it('runs the digest handler once and prints its one message, chart included', async () => {
    story = await startStory();
    await pollDay(story, 1);
    await pollDay(story, 2);
    const from = story.printed.length;

    const outcome = await story.run.digest();

    const printed = story.since(from);
    const month = story.run.demo?.story.month as string;
    expect(outcome.ok).toBe(true);
    expect(outcome.report?.channels).toEqual([
      expect.objectContaining({ channel: 'C0LOCAL00', orgIds: [DEMO_ORG_ID], posted: true, charts: 1 }),
    ]);
    expect(printed.match(/┌ Slack C0LOCAL00 \(chat\.postMessage\)/g)).toHaveLength(1);
    expect(printed).toContain(`│ Atlas spend, ${formatMonthName(firstOf(month))}`);
    expect(printed).toContain(`month-to-date (${firstDays(month, STORY_START_DAY)})`);
    expect(printed).toMatch(/ {2}chart .*spend\/65f0c0ffee00de0000000001\/\d{4}-\d{2}\.png$/m);
  });

  it("answers /invoice spend on the story's calendar, the figures the alerts used, the story days ahead", async () => {
    // A story begun on the 3rd of a month to come: its days are ahead of the machine's clock, which Slack's
    // signatures are checked against.
    const month = addMonths(new Date().toISOString().slice(0, 7), 2);
    const shift = Date.parse(`${month}-03T10:00:00Z`) - Date.now();
    story = await startStory(() => Date.now() + shift, 0);
    for (let n = 1; n <= 3; n++) await pollDay(story, n);
    const request = story.run.signedCommand('spend');

    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });

    const reply = (await response.json()) as { text: string; blocks: unknown[] };
    const spent = /│ (\$[\d,]+\.\d\d) spent this month/.exec(story.since(0))?.[1];
    expect(response.status).toBe(200);
    expect(spent).toMatch(/^\$/);
    expect(reply.text).toContain(`Ünïcode &amp; &lt;Co&gt; "Demo": ${spent} month-to-date, forecast`);
    expect(JSON.stringify(reply.blocks)).toContain(
      `${spent} month-to-date (${firstDays(month, STORY_START_DAY + 1)})`,
    );
    await expect
      .poll(() => story?.since(0))
      .toMatch(/┌ \/invoice spend → reply \(ephemeral\)[^┌]*└\n {2}chart .*\.png/);
  });
});

describe("the demo story's plan, on the sandbox's numbers of every month from 2025 to 2028", () => {
  const months = Array.from({ length: 48 }, (_, i) => addMonths('2025-01', i));
  let sandboxes: AtlasSandbox[] = [];
  beforeAll(async () => {
    sandboxes = await Promise.all(
      months.map((month) =>
        startAtlasSandbox(
          demoStorySandboxOptions(planDemoStory(month), { clock: () => Date.parse(`${month}-08T10:00:00Z`) }),
        ),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(sandboxes.map((s) => s.close()));
  });

  it('has the forecast over the budget before month-to-date reaches half of it, and the spike detected', () => {
    for (const [i, month] of months.entries()) {
      const sandbox = sandboxes[i] as AtlasSandbox;
      const story = planDemoStory(month);
      const dayCents = (day: string) => sandbox.usageDayCents(DEMO_ORG_ID, day);
      const budget = chooseDemoBudgetCents(story, dayCents);
      const current = seriesOf(month, dayCents);
      const previous = seriesOf(addMonths(month, -1), dayCents);
      const upTo = (day: number) => current.dailyCents.slice(0, day).reduce((a, b) => a + b, 0);
      const onStoryDay = (n: number) => ({
        series: { ...current, lastUsageDay: STORY_START_DAY + n - 1 },
        options: { previous: { ...previous, lastUsageDay: previous.days }, asOf: storyDay(month, n) },
      });

      const first = onStoryDay(1);
      const forecast = forecastMonthEnd(first.series, first.options);
      const spikes = detectSpikes(onStoryDay(2).series, {
        ...onStoryDay(2).options,
        ...DEFAULT_SPEND_SETTINGS,
      });

      expect(forecast.kind === 'forecast' && forecast.forecastCents > budget * 1.1, month).toBe(true);
      expect(upTo(STORY_START_DAY) * 2 < budget, month).toBe(true);
      expect(upTo(STORY_START_DAY + 1) * 2 >= budget, month).toBe(true);
      expect(
        spikes.map((s) => s.day),
        month,
      ).toEqual([story.firstDay]);
    }
  });
});

function seriesOf(month: string, dayCents: (day: string) => number): UsageSeries {
  const [year, m] = month.split('-').map(Number) as [number, number];
  const days = daysInMonth(year, m);
  const empty = { lines: [], otherCount: 0 };
  return {
    start: `${month}-01`,
    days,
    lastUsageDay: days,
    dailyCents: Array.from({ length: days }, (_, d) => dayCents(formatDay(firstOf(month) + d))),
    projects: empty,
    skus: empty,
    clusters: empty,
    undated: { cents: 0, rows: 0 },
    outOfPeriod: { cents: 0, rows: 0 },
  };
}
