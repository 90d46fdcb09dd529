import { describe, expect, it } from 'vitest';
import { validateBlocks } from '../../infra/local/slack/block-kit';
import { formatUsd } from '../../lib/invoices/money';
import { renderMessage } from '../../lib/slack/render-text';
import {
  type BudgetAlert,
  decideSpendAlerts,
  type ForecastAlert,
  type SpendWatchInput,
  type SpikeAlert,
} from '../../lib/spend/alerts';
import { forecastMonthEnd, type SpendForecast } from '../../lib/spend/forecast';
import {
  buildSpendAlertMessage,
  buildSpendDigest,
  buildSpendReply,
  forecastArithmetic,
  type SpendMessage,
  spendAltText,
} from '../../lib/spend/messages';
import { DEFAULT_SPEND_SETTINGS } from '../../lib/spend/settings';
import { describeSpend } from '../../lib/spend/spend-overview';
import { mrkdwnTexts, plainTexts } from '../slack/block-kit-checks';
import { seriesOf, seriesOfLines, weeklyPattern } from './support';

const ORG = '5f0000000000000000005eed';
const HOSTILE = '<!channel> & "Ω" 日本語 <@U123>';
const PROJECT = 'a'.repeat(24);

function usd(forecast: unknown, field: 'lowCents' | 'highCents'): string {
  return formatUsd((forecast as SpendForecast)[field]);
}

function expectSafe(message: SpendMessage): void {
  expect(validateBlocks(message.blocks)).toEqual([]);
  for (const text of mrkdwnTexts(message)) {
    expect(text).not.toMatch(/<[!@#]/);
    expect(text.replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[<>&]/);
  }
}

/** December 2024 at a weekly pattern, 19 days complete, last month as history, a hostile project and cluster. */
function input(overrides: Partial<SpendWatchInput> = {}): SpendWatchInput {
  const production = weeklyPattern('2024-12-01', 19, 30_000, 15_000);
  const analytics = weeklyPattern('2024-12-01', 19, 10_000, 5_000);
  analytics[18] = 90_000;
  return {
    orgId: ORG,
    orgName: HOSTILE,
    series: seriesOfLines('2024-12-01', 31, [
      {
        project: 'Production',
        projectId: PROJECT,
        cluster: 'Cluster0',
        sku: 'ATLAS_AWS_INSTANCE_M30',
        daily: production,
      },
      {
        project: '<@U999> Analytics',
        projectId: 'b'.repeat(24),
        cluster: 'an`alytics-1',
        sku: 'EGRESS',
        daily: analytics,
      },
    ]),
    previous: seriesOf('2024-11-01', weeklyPattern('2024-11-01', 30, 40_000, 20_000)),
    settings: {
      ...DEFAULT_SPEND_SETTINGS,
      budgets: [
        { orgId: ORG, cents: 900_000 },
        { orgId: ORG, projectId: PROJECT, cents: 400_000 },
      ],
    },
    ...overrides,
  };
}

describe('forecastArithmetic', () => {
  it('prints month-to-date plus each term, adding up to the forecast', () => {
    const forecast = forecastMonthEnd(
      seriesOf('2024-12-01', weeklyPattern('2024-12-01', 19, 40_000, 20_000), { days: 31 }),
      {
        previous: seriesOf('2024-11-01', weeklyPattern('2024-11-01', 30, 40_000, 20_000)),
      },
    ) as SpendForecast;

    expect(forecastArithmetic(forecast)).toBe(
      '$6,600.00 month-to-date (Dec 1–19) + 8 weekdays × $400.00/day + 4 weekend days × $200.00/day = *$10,600.00*',
    );
  });
});

describe('spend alert messages', () => {
  const alerts = decideSpendAlerts(input(), []);
  const byKind = <K extends string>(kind: K) => alerts.filter((a) => a.kind === kind);

  it('are decided for the test month as expected', () => {
    expect(alerts.map((a) => a.key)).toEqual([
      `budget:${ORG}:80:2024-12`,
      `budget:${ORG}/${PROJECT}:100:2024-12`,
      `forecast:${ORG}:2024-12`,
      `spike:${ORG}:2024-12-19`,
    ]);
  });

  it('are valid Block Kit with every outside string escaped', () => {
    for (const alert of alerts) expectSafe(buildSpendAlertMessage(alert));
  });

  it('say what was spent against the budget, with the forecast arithmetic, and what to do', () => {
    const alert = byKind('budget')[0] as BudgetAlert;

    const message = buildSpendAlertMessage(alert);
    const rendered = renderMessage(message, { color: false, width: 60 });

    expect(alert.keys).toEqual([`budget:${ORG}:80:2024-12`, `budget:${ORG}:50:2024-12`]);
    expect(rendered).toContain(`Budget 80% reached: ${HOSTILE}`);
    expect(rendered).toContain(
      '$7,400.00 spent this month (Dec 1–19) = 82.2% of the $9,000.00 monthly budget',
    );
    expect(rendered).toContain(
      'Month-end forecast: $7,400.00 month-to-date (Dec 1–19) + 8 weekdays × $400.00/day + 4 weekend days × $200.00/day = $11,400.00',
    );
    expect(rendered).toContain('weekend days at 50% of weekdays (last 4 weeks)');
    expect(rendered).toContain('That is 126.6% of the budget, over by $2,400.00.');
    expect(rendered).toContain(
      'What to do: at this rate the budget runs out before the month ends. Check the top projects above now.',
    );
    expect(message.text).toContain(
      'Budget 80% reached for &lt;!channel&gt; &amp; "Ω" 日本語 &lt;@U123&gt;: $7,400.00 of $9,000.00',
    );
  });

  it('name the day a forecast crosses the budget', () => {
    const alert = byKind('forecast')[0] as ForecastAlert;

    const rendered = renderMessage(buildSpendAlertMessage(alert), { color: false, width: 60 });

    expect(alert.crossingDay).toBe('2024-12-25');
    expect(rendered).toContain(
      'passes its $9,000.00 budget around Dec 25 and ends December 2024 at about $11,400.00, $2,400.00 over',
    );
    expect(rendered).toContain('What to do: check the top projects above before Dec 25');
  });

  it('point a spike at the cluster that moved, with its day and typical amounts', () => {
    const alert = byKind('spike')[0] as SpikeAlert;

    const message = buildSpendAlertMessage(alert);
    const rendered = renderMessage(message, { color: false, width: 60 });

    expect(rendered).toContain(
      "What to do: check project <@U999> Analytics's cluster anˋalytics-1: it cost $900.00 on Dec 19, typically $100.00/day.",
    );
    expect(rendered).toContain('Dec 19 (Thursday) cost $1,200.00');
    expect(rendered).toContain(
      '+$800.00 (+200%) above a typical weekday of $400.00 (median of the 10 weekdays before it)',
    );
    expect(message.text).toContain("Check project &lt;@U999&gt; Analytics's cluster an`alytics-1.");
  });

  it('carry a chart by Slack file id or URL, with its alt text', () => {
    const [alert] = alerts;
    const altText = 'chart';

    const byFile = buildSpendAlertMessage(alert as BudgetAlert, {
      image: { slackFileId: 'F0123ABCDE', altText },
    });
    const byUrl = buildSpendAlertMessage(alert as BudgetAlert, {
      image: { imageUrl: 'https://example.com/c.png', altText },
    });

    expect(byFile.blocks).toContainEqual({
      type: 'image',
      slack_file: { id: 'F0123ABCDE' },
      alt_text: 'chart',
    });
    expect(byUrl.blocks).toContainEqual({
      type: 'image',
      image_url: 'https://example.com/c.png',
      alt_text: 'chart',
    });
    expect(validateBlocks(byFile.blocks)).toEqual([]);
  });
});

describe('the digest and the /invoice spend reply', () => {
  it('show one organisation in full, escaped and within limits', () => {
    const overview = describeSpend(input());

    const message = buildSpendReply([overview]);
    const rendered = renderMessage(message, { color: false, width: 60 });

    expectSafe(message);
    expect(rendered).toContain('Month-end forecast: $7,400.00 month-to-date (Dec 1–19)');
    expect(rendered).toContain(
      'Last month $10,200.00 (forecast 11.8% higher) · Budget $9,000.00 (forecast 126.6%, over by $2,400.00)',
    );
    expect(rendered).toMatch(/Production: \$4,950\.00 of \$4,000\.00 spent \(123\.7%\)/);
    expect(rendered).toContain('Top projects this month: Production $4,950.00');
  });

  it('list every organisation and a total, the over-budget ones first', () => {
    const calm = describeSpend(
      input({ orgId: '5f0000000000000000000001', orgName: 'Calm', settings: DEFAULT_SPEND_SETTINGS }),
    );
    const hot = describeSpend(input());

    const message = buildSpendDigest([calm, hot]);
    const rendered = renderMessage(message, { color: false, width: 60 });

    expectSafe(message);
    expect(rendered).toContain('Atlas spend, December 2024');
    expect(rendered).toContain('All 2 organisations: $14,800.00 month-to-date → forecast $22,800.00.');
    expect(rendered.indexOf(HOSTILE)).toBeLessThan(rendered.indexOf('Calm'));
    expect(rendered).toContain('heading over budget');
  });

  it('stay within 50 blocks for many organisations and say which are left out', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      describeSpend(
        input({ orgId: i.toString(16).padStart(24, '0'), orgName: `Org ${i} ${'x'.repeat(300)}` }),
      ),
    );

    const message = buildSpendDigest(many, {
      images: { [many[0]?.orgId as string]: { slackFileId: 'F0000000001', altText: 'a' } },
    });

    expectSafe(message);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(renderMessage(message, { color: false })).toMatch(/26 more organisations not shown/);
    for (const text of plainTexts(message)) expect(text.length).toBeLessThanOrEqual(150);
  });

  it('say when there is no data yet, and why there is no forecast', () => {
    const thin = describeSpend(
      input({ series: seriesOf('2024-12-01', [1_000], { days: 31 }), previous: undefined }),
    );

    const none = buildSpendReply([], { missingOrgIds: [ORG] });
    const early = renderMessage(buildSpendReply([thin]), { color: false });

    expect(renderMessage(none, { color: false })).toContain(`No spend data yet for ${ORG}`);
    expect(early).toContain('No forecast yet: A forecast needs 3 complete usage days; 1 so far');
    expect(early).toContain('Month-to-date: $10.00 (Dec 1)');
  });
});

describe('spendAltText', () => {
  it('carries month-to-date, forecast, last month and budget', () => {
    const overview = describeSpend(input());

    const alt = spendAltText({
      orgId: ORG,
      orgName: HOSTILE,
      forecast: overview.forecast,
      budgetCents: 900_000,
    });

    expect(alt).toBe(
      `Daily spend of <!channel> & "Ω" 日本語 <@U123>, December 2024; $7,400.00 month-to-date (Dec 1–19); forecast $11,400.00 (likely ${usd(overview.forecast, 'lowCents')} to ${usd(overview.forecast, 'highCents')}); last month $10,200.00; budget $9,000.00.`,
    );
  });
});
