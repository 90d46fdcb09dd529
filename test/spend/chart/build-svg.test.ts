import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import {
  buildSpendChartSvg,
  CHART_PALETTE,
  CHART_WIDTH,
  formatChartDollars,
} from '../../../lib/spend/chart/build-svg';
import type { SpendChartInput } from '../../../lib/spend/chart/types';
import { DEMO_INPUT } from './fixtures';
import { findElements, groupContent, pathPoints, textsIn } from './svg-query';

const nulls = (n: number) => Array<null>(n).fill(null);
const ramp = (n: number, start: number, step: number) =>
  Array.from({ length: n }, (_, i) => start + step * (i + 1));

/** April 2025 (30 days): $100, $300, $200 complete, $50 so far on day 4; forecast +$50/day, budget $1,500. */
const KNOWN: SpendChartInput = {
  title: 'Known Org',
  year: 2025,
  month: 4,
  dailyCents: [100_00, 300_00, 200_00, 50_00, ...nulls(26)],
  previousDailyCents: [150_00, 150_00, null, 120_00],
  completeDays: 3,
  forecast: {
    cumulativeCents: ramp(27, 600_00, 50_00),
    lowCents: ramp(27, 600_00, 40_00),
    highCents: ramp(27, 600_00, 60_00),
  },
  budgetCents: 1_500_00,
};

const yOf = (svg: string, group: string, label: string) => {
  const ticks = findElements(groupContent(svg, `axis axis-${group}`), 'text');
  const tick = ticks.find((t) => t.text === label);
  if (tick === undefined) throw new Error(`no ${label} tick on the ${group} axis`);
  return Number(tick.attributes.y) - 3.5;
};

describe('buildSpendChartSvg for a known series', () => {
  const svg = buildSpendChartSvg(KNOWN);

  it('draws one bar per day with data, in day order, heights in the order of the amounts', () => {
    const bars = findElements(svg, 'rect', 'bar');

    expect(bars.map((b) => b.attributes['data-day'])).toEqual(['1', '2', '3', '4']);
    const heights = bars.map((b) => Number(b.attributes.height));
    expect(heights[1]).toBeGreaterThan(heights[2] ?? 0);
    expect(heights[2]).toBeGreaterThan(heights[0] ?? 0);
    expect(heights[0]).toBeGreaterThan(heights[3] ?? 0);
    // $300 on a $0-$300 axis fills the plot; $100 is a third of it.
    expect((heights[0] ?? 0) / (heights[1] ?? 1)).toBeCloseTo(1 / 3, 2);
  });

  it('draws the day that is not complete yet as a pale bar', () => {
    const partial = findElements(svg, 'rect', 'partial');

    expect(partial.map((b) => b.attributes['data-day'])).toEqual(['4']);
    expect(partial[0]?.attributes['fill-opacity']).toBe('0.35');
  });

  it('draws month-to-date solid from $0 through each complete day, and the forecast dashed from where it ends', () => {
    const mtd = findElements(svg, 'path', 'month-to-date')[0];
    const forecast = findElements(svg, 'path', 'forecast')[0];

    const mtdPoints = pathPoints(mtd?.attributes.d ?? '');
    expect(mtdPoints).toHaveLength(4);
    expect(mtd?.attributes['stroke-dasharray']).toBeUndefined();
    expect(mtdPoints[0]?.[1]).toBe(yOf(svg, 'total', '$0'));
    const forecastPoints = pathPoints(forecast?.attributes.d ?? '');
    expect(forecast?.attributes['stroke-dasharray']).toBe('5 3');
    expect(forecastPoints).toHaveLength(28);
    expect(forecastPoints[0]).toEqual(mtdPoints.at(-1));
    expect(findElements(svg, 'path', 'forecast-range')).toHaveLength(1);
  });

  it('draws the budget as a horizontal line at the $1,500 tick', () => {
    const budget = findElements(svg, 'line', 'budget')[0];

    expect(budget?.attributes.y1).toBe(budget?.attributes.y2);
    expect(Number(budget?.attributes.y1)).toBeCloseTo(yOf(svg, 'total', '$1,500'), 1);
    expect(budget?.attributes.stroke).toBe(CHART_PALETTE.budget);
  });

  it('labels both dollar axes with thousands separators and the day axis with days of the month', () => {
    const total = findElements(groupContent(svg, 'axis axis-total'), 'text').map((t) => t.text);
    const daily = findElements(groupContent(svg, 'axis axis-daily'), 'text').map((t) => t.text);
    const days = findElements(groupContent(svg, 'axis axis-days'), 'text').map((t) => t.text);

    expect(total).toEqual(['$0', '$500', '$1,000', '$1,500', '$2,000', '$2,500']);
    expect(daily).toEqual(['$0', '$100', '$200', '$300']);
    expect(days).toEqual(['1', '3', '10', '15', '20', '25', '30']);
  });

  it('puts the figures in the legend, each next to its line style', () => {
    const legend = findElements(svg, 'g', 'legend-item');
    const labels = textsIn(svg).filter((t) =>
      /^(To date|Forecast|Range|Budget|This month|Partial|Last)/.test(t),
    );

    expect(labels).toEqual([
      'To date $600',
      'Forecast $1,950',
      'Range $1,680–$2,220',
      'Budget $1,500',
      'This month',
      'Partial day',
      'Last month',
    ]);
    expect(legend.map((g) => g.attributes['data-kind'])).toEqual([
      'line',
      'dash',
      'range',
      'line',
      'bar',
      'partial',
      'line',
    ]);
    expect(textsIn(svg)).toContain('Running total');
    expect(textsIn(svg)).toContain('Daily');
  });

  it('draws last month faintly on the daily scale, broken where it has no data', () => {
    const last = findElements(svg, 'path', 'last-month')[0];

    expect(last?.attributes.stroke).toBe(CHART_PALETTE.lastMonth);
    expect((last?.attributes.d ?? '').match(/M/g)).toHaveLength(2);
    expect(pathPoints(last?.attributes.d ?? '')[0]?.[1]).toBeCloseTo(
      yOf(svg, 'daily', '$100') - (yOf(svg, 'daily', '$100') - yOf(svg, 'daily', '$200')) / 2,
      0,
    );
  });

  it('titles the chart with the organisation and the period', () => {
    expect(findElements(svg, 'text', 'title')[0]?.text).toBe('Known Org');
    expect(findElements(svg, 'text', 'subtitle')[0]?.text).toBe('April 2025 · 3 of 30 days complete');
    expect(svg).toMatch(new RegExp(`^<svg [^>]*width="${CHART_WIDTH}"`));
  });

  it('is the same text for the same input', () => {
    expect(buildSpendChartSvg(KNOWN)).toBe(svg);
  });
});

describe('buildSpendChartSvg with outside strings', () => {
  it('escapes a hostile title for XML and shortens a long one to the card', () => {
    const title = `<!channel> & "Ω" 日本語 ${'Extremely Long Organisation Name '.repeat(6)}`;

    const svg = buildSpendChartSvg({ ...KNOWN, title });

    const shown = findElements(svg, 'text', 'title')[0]?.text ?? '';
    expect(svg).not.toContain('<!channel>');
    expect(svg).toContain('&lt;!channel&gt; &amp; &quot;Ω&quot; 日本語');
    expect(shown.startsWith('<!channel> & "Ω" 日本語 Extremely')).toBe(true);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown.length).toBeLessThan(40);
  });

  it('drops characters XML cannot carry', () => {
    const svg = buildSpendChartSvg({ ...KNOWN, title: 'Bad\u0000Org\u0007\u202e\ud800' });

    expect(findElements(svg, 'text', 'title')[0]?.text).toBe('BadOrg');
  });
});

describe('buildSpendChartSvg edge cases', () => {
  it('leaves out budget, forecast and last month when they are not given', () => {
    const svg = buildSpendChartSvg({
      title: 'Plain',
      year: 2025,
      month: 4,
      dailyCents: [100_00, 200_00, ...nulls(28)],
      completeDays: 2,
    });

    expect(findElements(svg, 'line', 'budget')).toEqual([]);
    expect(findElements(svg, 'path', 'forecast')).toEqual([]);
    expect(findElements(svg, 'path', 'forecast-range')).toEqual([]);
    expect(findElements(svg, 'path', 'last-month')).toEqual([]);
    expect(findElements(svg, 'g', 'legend-item').map((g) => g.attributes['data-kind'])).toEqual([
      'line',
      'bar',
    ]);
  });

  it('draws a one-day month so far as a single bar and a running total from $0 to that day', () => {
    const svg = buildSpendChartSvg({
      title: 'Day one',
      year: 2025,
      month: 5,
      dailyCents: [42_17, ...nulls(30)],
      completeDays: 1,
    });

    expect(findElements(svg, 'rect', 'bar')).toHaveLength(1);
    expect(pathPoints(findElements(svg, 'path', 'month-to-date')[0]?.attributes.d ?? '')).toHaveLength(2);
    expect(textsIn(svg)).toContain('To date $42.17');
    expect(findElements(groupContent(svg, 'axis axis-days'), 'text')[0]).toMatchObject({
      text: '1',
      attributes: { 'font-weight': 'bold' },
    });
  });

  it('gives a zero-spend month an axis from $0 and says there was no spend', () => {
    const svg = buildSpendChartSvg({
      title: 'Quiet',
      year: 2025,
      month: 4,
      dailyCents: Array<number>(30).fill(0),
      completeDays: 30,
    });

    expect(findElements(svg, 'rect', 'bar')).toEqual([]);
    expect(findElements(svg, 'text', 'empty-note')[0]?.text).toBe('No spend this month');
    expect(findElements(svg, 'g', 'legend-item').map((g) => g.attributes['data-kind'])).toEqual(['line']);
    expect(findElements(groupContent(svg, 'axis axis-daily'), 'text').map((t) => t.text)).toEqual([
      '$0',
      '$5',
      '$10',
    ]);
    expect(textsIn(svg)).toContain('To date $0.00');
  });

  it('clips a one-day spike with a break mark and its amount, keeping the other days readable', () => {
    const ordinary = [200_00, 210_00, 190_00, 205_00, 220_00, 198_00, 202_00, 215_00, 207_00];
    const daily = [...ordinary.slice(0, 4), 5_000_00, ...ordinary.slice(4), ...nulls(20)];
    const svg = buildSpendChartSvg({
      title: 'Spiky',
      year: 2025,
      month: 4,
      dailyCents: daily,
      completeDays: 10,
    });

    const bars = findElements(svg, 'rect', 'bar');
    const spike = bars.find((b) => b.attributes['data-day'] === '5');
    const top = Number(groupContent(svg, 'panel panel-daily').match(/data-top="([\d.]+)"/)?.[1]);
    const tallest = Math.max(...bars.filter((b) => b !== spike).map((b) => Number(b.attributes.height)));
    const plotHeight = Number(spike?.attributes.height);
    expect(spike?.attributes.class).toBe('bar clipped');
    expect(Number(spike?.attributes.y)).toBe(top);
    expect(findElements(svg, 'line', 'spike-break')).toHaveLength(2);
    expect(findElements(svg, 'text', 'spike-label')[0]?.text).toBe('$5,000');
    expect(tallest / plotHeight).toBeGreaterThan(0.7);
  });

  it('does not clip a month whose largest day is an ordinary one', () => {
    const daily = [100_00, 150_00, 120_00, 390_00, 110_00, ...nulls(25)];
    const svg = buildSpendChartSvg({
      title: 'Even',
      year: 2025,
      month: 4,
      dailyCents: daily,
      completeDays: 5,
    });

    expect(findElements(svg, 'rect', 'clipped')).toEqual([]);
    expect(findElements(svg, 'text', 'spike-label')).toEqual([]);
  });

  it('draws February of a leap year with 29 days and refuses 29 days in another year', () => {
    const daily = Array.from({ length: 29 }, (_, i) => 1_000 + i);
    const input = { title: 'Leap', year: 2024, month: 2, dailyCents: daily, completeDays: 29 };

    const svg = buildSpendChartSvg(input);

    expect(findElements(svg, 'rect', 'bar')).toHaveLength(29);
    expect(findElements(groupContent(svg, 'axis axis-days'), 'text').at(-1)?.text).toBe('29');
    expect(() => buildSpendChartSvg({ ...input, year: 2023 })).toThrow(ValidationError);
  });

  it('draws negative days (credits) below the zero line', () => {
    const svg = buildSpendChartSvg({
      title: 'Credit',
      year: 2025,
      month: 4,
      dailyCents: [100_00, -50_00, 80_00, ...nulls(27)],
      completeDays: 3,
    });

    const [first, credit] = findElements(svg, 'rect', 'bar');
    const zero = Number(findElements(groupContent(svg, 'axis axis-daily'), 'line', 'zero')[0]?.attributes.y1);
    expect(Number(first?.attributes.y) + Number(first?.attributes.height)).toBeCloseTo(zero, 0);
    expect(Number(credit?.attributes.y)).toBeCloseTo(zero, 0);
    expect(findElements(groupContent(svg, 'axis axis-daily'), 'text')[0]?.text).toBe('−$50');
  });
});

describe('formatChartDollars', () => {
  it('rounds to whole dollars with separators from $100, and shows cents below', () => {
    expect(formatChartDollars(1_234_567_89)).toBe('$1,234,568');
    expect(formatChartDollars(100_00)).toBe('$100');
    expect(formatChartDollars(99_99)).toBe('$99.99');
    expect(formatChartDollars(0)).toBe('$0.00');
  });
});

describe('CHART_PALETTE', () => {
  /** WCAG 2 relative luminance and contrast ratio. */
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
  };
  const contrast = (a: string, b: string) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
  };

  it('gives text at least 4.5:1 and every line or bar at least 3:1 on the opaque card', () => {
    expect(contrast(CHART_PALETTE.text, CHART_PALETTE.card)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(CHART_PALETTE.muted, CHART_PALETTE.card)).toBeGreaterThanOrEqual(4.5);
    for (const colour of [CHART_PALETTE.thisMonth, CHART_PALETTE.budget, CHART_PALETTE.lastMonth]) {
      expect(contrast(colour, CHART_PALETTE.card)).toBeGreaterThanOrEqual(3);
    }
  });

  it('is an opaque light card: the picture does not depend on Slack’s theme', () => {
    const svg = buildSpendChartSvg(DEMO_INPUT);
    const card = findElements(svg, 'rect', 'card')[0];

    expect(card?.attributes.fill).toBe('#FFFFFF');
    expect(card?.attributes['fill-opacity']).toBeUndefined();
    expect(luminance(CHART_PALETTE.card)).toBeGreaterThan(0.9);
  });
});
