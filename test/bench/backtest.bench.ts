/**
 * Forecast backtest: how close the month-end spend forecast (lib/spend/forecast.ts) gets to each month's final amount,
 * by day of the month, against the naive "month-to-date ÷ elapsed days × days in month", on the Atlas sandbox's spend
 * history: one organisation with daily line items, 15 closed months (weekends cheaper, a cluster launched mid-month in
 * about half of them and running to the end of the next, a one-day egress spike in about two of three), every invoice
 * CSV streamed from the sandbox on 127.0.0.1 through the real inspector. Deterministic: the same seed and clock give
 * the same table on every machine.
 *
 * Also reports how often each forecast range held the final amount: the recent-days range (what an organisation
 * without archived months gets) and the backtest-calibrated range, each month scored with a calibration learnt from
 * the other months only (leave one out), as an organisation with a year of archive would get it.
 *
 *   npm run bench -- --only=backtest        this section, written into test/bench/RESULTS.md
 *   npx tsx test/bench/backtest.bench.ts    printed only
 * Accuracy, not time: nothing here is timed.
 */
import { fileURLToPath } from 'node:url';
import {
  type BacktestResult,
  type BacktestSample,
  backtestForecasts,
  calibrateForecastRange,
} from '../../lib/spend/backtest';
import type { UsageSeries } from '../../lib/spend/usage-series';
import { loadSandboxHistory } from '../spend/sandbox-history';
import type { BenchOptions, BenchSection } from './lib/report';
import { runStandalone } from './lib/report';
import { isEntryPoint } from './lib/self-process';

const SELF = fileURLToPath(import.meta.url);
/** 16 invoices: 15 closed months and the pending one (not scored: it has no final amount yet). */
const INVOICES = 16;

/** Each month scored with a range calibrated on every other month. */
function leaveOneOut(months: readonly UsageSeries[], all: BacktestResult): BacktestSample[] {
  const scored: BacktestSample[] = [];
  months.forEach((_, m) => {
    const calibration = calibrateForecastRange(all.samples.filter((s) => s.month !== m));
    scored.push(...backtestForecasts(months, { calibration }).samples.filter((s) => s.month === m));
  });
  return scored;
}

const held = (samples: readonly BacktestSample[]) =>
  samples.length === 0
    ? undefined
    : samples.filter((s) => s.finalCents >= s.lowCents && s.finalCents <= s.highCents).length /
      samples.length;

const percent = (value: number | undefined, digits = 1) =>
  value === undefined ? '-' : `${value.toFixed(digits)}%`;
const share = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value * 100)}%`);

export async function run(_options: BenchOptions): Promise<BenchSection> {
  const history = await loadSandboxHistory(INVOICES);
  const result = backtestForecasts(history.months);
  const calibrated = leaveOneOut(history.months, result);
  const rows = result.days.map((day) => {
    const ours = day.forecastMape as number;
    const naive = day.naiveMape as number;
    return [
      String(day.day),
      String(day.samples),
      percent(ours),
      percent(naive),
      ours < naive ? 'forecast' : ours > naive ? 'naive' : 'tie',
      share(day.withinRange),
      share(held(calibrated.filter((s) => s.day === day.day))),
    ];
  });
  rows.push([
    'all days',
    String(result.samples.length),
    percent(result.forecastMape),
    percent(result.naiveMape),
    (result.forecastMape as number) < (result.naiveMape as number) ? 'forecast' : 'naive',
    share(result.withinRange),
    share(held(calibrated)),
  ]);
  const naiveWins = result.days
    .filter((d) => (d.forecastMape as number) >= (d.naiveMape as number))
    .map((d) => d.day);
  const first = history.months[0]?.start ?? '?';
  const last = history.months.at(-1)?.start.slice(0, 7) ?? '?';
  const beats = (result.forecastMape as number) < (result.naiveMape as number);
  return {
    title: 'Month-end forecast backtest on the sandbox spend history',
    header: [
      'complete days',
      'months',
      'forecast MAPE',
      'naive MAPE',
      'closer',
      'range held (recent days)',
      'range held (backtest, leave-one-out)',
    ],
    rows,
    notes: [
      `History: the Atlas sandbox organisation of test/spend/sandbox-history.ts, ${history.months.length} closed months from ${first.slice(0, 7)} to ${last} (final amounts ${usdRange(history.months)}), read from its invoice CSVs by the streaming inspector. "complete days" is d: the forecast made from days 1..d, as the poller sees them on day d + 1.`,
      'MAPE: mean over months of |forecast − final| ÷ final. Naive: month-to-date ÷ d × days in month. Both are scored on the same samples; the forecast said "not enough data" on ' +
        `${result.unavailable} sample(s) (the first days of the first month, which has no earlier month to read a rate from), which are left out.`,
      beats
        ? `Result: the forecast is closer overall (${percent(result.forecastMape, 2)} against ${percent(result.naiveMape, 2)} mean absolute error)${naiveWins.length === 0 ? ' and on every day.' : `; the naive one is as close or closer on day(s) ${naiveWins.join(', ')}. There both under-forecast the months in which a cluster launches or a spike lands later, and the naive one extrapolates an earlier spike over the whole month, which happens to offset part of that.`}`
        : `WRONG: the forecast is not closer than the naive one overall (${percent(result.forecastMape, 2)} against ${percent(result.naiveMape, 2)}).`,
      "The error early in a month is mostly what no forecast can see yet: a cluster launched later that month (+$74.88 a day from its day) or a spike still to come. The forecast's advantage grows once the level and the weekend ratio are read (weekends here run at about 80% of weekdays in total).",
      `Range held: share of samples whose final amount fell inside the forecast's low–high range. The recent-days range (10th–90th percentile of the last 4 weeks' days, applied to every remaining day) covers day-to-day variation, not a launch still to come: ${share(result.withinRange)} overall. The backtest-calibrated range (10th–90th percentile of final ÷ forecast at this point of the month, learnt from the other months) aims at 80%: ${share(held(calibrated))} overall.`,
      'Command: `npm run bench -- --only=backtest` (also part of `npm run bench`); nothing is timed, so the figures do not depend on the machine.',
    ],
  };
}

function usdRange(months: readonly UsageSeries[]): string {
  const totals = months.map(
    (m) => m.dailyCents.reduce((a, b) => a + b, 0) + m.undated.cents + m.outOfPeriod.cents,
  );
  const usd = (cents: number) => `$${Math.round(cents / 100).toLocaleString('en-US')}`;
  return `${usd(Math.min(...totals))} to ${usd(Math.max(...totals))}`;
}

if (isEntryPoint(SELF)) {
  runStandalone(run({ quick: process.argv.includes('--quick') }), {
    failed: (section) => section.notes.some((note) => note.startsWith('WRONG')),
  });
}
