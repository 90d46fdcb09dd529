import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import { buildSpendChartSvg } from '../../../lib/spend/chart/build-svg';
import { chartFontFiles, drawSpendChartPng } from '../../../lib/spend/chart/rasterise';
import { renderSpendChartPng } from '../../../lib/spend/chart/render-png';
import type { SpendChartInput } from '../../../lib/spend/chart/types';
import { DEMO_INPUT } from './fixtures';
import { readPngSize } from './svg-query';

const nulls = (n: number) => Array<null>(n).fill(null);

/** The SVG's own size at the 2x the renderer draws it. */
function expectedSize(input: SpendChartInput) {
  const height = Number(/height="(\d+)"/.exec(buildSpendChartSvg(input))?.[1]);
  return { width: 720, height: height * 2 };
}

const EDGE_CASES: Record<string, SpendChartInput> = {
  'no budget, no forecast, no previous month': {
    title: 'Plain',
    year: 2025,
    month: 4,
    dailyCents: [100_00, 200_00, ...nulls(28)],
    completeDays: 2,
  },
  'a one-day month so far': {
    title: 'Day one',
    year: 2025,
    month: 5,
    dailyCents: [42_17, ...nulls(30)],
    completeDays: 1,
  },
  'nothing yet': { title: 'New', year: 2025, month: 6, dailyCents: nulls(30), completeDays: 0 },
  'a forecast before any day is complete': {
    title: 'Fresh',
    year: 2025,
    month: 7,
    dailyCents: [1_234, ...nulls(30)],
    completeDays: 0,
    forecast: {
      cumulativeCents: Array.from({ length: 31 }, (_, i) => (i + 1) * 2_000),
      lowCents: Array.from({ length: 31 }, (_, i) => (i + 1) * 1_500),
      highCents: Array.from({ length: 31 }, (_, i) => (i + 1) * 2_600),
    },
  },
  'a zero-spend month': {
    title: 'Quiet',
    year: 2025,
    month: 4,
    dailyCents: Array<number>(30).fill(0),
    completeDays: 30,
    budgetCents: 100_00,
  },
  'a one-day spike': {
    title: 'Spiky',
    year: 2025,
    month: 1,
    dailyCents: [...Array<number>(14).fill(200_00), 9_000_000_00, ...Array<number>(16).fill(210_00)],
    completeDays: 31,
  },
  'February of a leap year': {
    title: 'Leap',
    year: 2024,
    month: 2,
    dailyCents: Array.from({ length: 29 }, (_, i) => 1_000 + 37 * i),
    completeDays: 29,
  },
  'a very long and hostile title': {
    ...DEMO_INPUT,
    title: `<!channel> & "Ω" 日本語 ${'Extremely Long Organisation Name '.repeat(8)}</svg><script/>`,
  },
};

describe('drawSpendChartPng', () => {
  it.each(Object.entries(EDGE_CASES))('renders %s as a PNG at twice the SVG size', async (_name, input) => {
    const png = await drawSpendChartPng(input);

    expect(readPngSize(png)).toEqual(expectedSize(input));
  });

  it('loads the shipped DejaVu Sans files, not system fonts', () => {
    expect(chartFontFiles().map((file) => file.split('/').slice(-2).join('/'))).toEqual([
      'ttf/DejaVuSans.ttf',
      'ttf/DejaVuSans-Bold.ttf',
    ]);
  });
});

describe('renderSpendChartPng', () => {
  it('loads the renderer on first use and returns the demo chart as a 720 px wide PNG', async () => {
    const png = await renderSpendChartPng(DEMO_INPUT);

    expect(readPngSize(png)).toEqual(expectedSize(DEMO_INPUT));
    expect(png.byteLength).toBeGreaterThan(10_000);
  });

  it('refuses an input outside its contract with a ValidationError naming the field', async () => {
    const input = { ...DEMO_INPUT, dailyCents: DEMO_INPUT.dailyCents.slice(0, 30) };

    await expect(renderSpendChartPng(input)).rejects.toThrow(ValidationError);
    await expect(renderSpendChartPng(input)).rejects.toMatchObject({ field: 'dailyCents' });
  });
});
