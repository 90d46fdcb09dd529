import { format, precisionFixed } from 'd3-format';
import { type ScaleLinear, scaleLinear } from 'd3-scale';
import { area, line } from 'd3-shape';
import { CHART_FONT } from './font';
import { formatChartMonth } from './format';
import { deriveSpendSeries, type SpendChartSeries } from './series';
import { escapeXml, estimateTextWidth, fitText } from './svg-text';
import type { SpendChartInput, SpendChartOptions } from './types';

/**
 * The spend chart as SVG text (pure: same input, same bytes).
 *
 * Layout: two panels stacked on one day-of-month axis, each with its own dollar axis, because the running total and
 * the daily amounts differ by one to two orders of magnitude: on one shared axis the bars would be flat, and a second
 * y axis on the right makes readers compare a bar with a line that are measured differently. Stacked, each panel
 * says what it shows in its caption and legend, and vertical day lines run through both.
 * - Running total (top): month-to-date as a solid line ending in a dot, the forecast continuing it dashed over a shaded
 *   low-high range, and the budget as a red horizontal line. The legend carries the figures.
 * - Daily (bottom): this month's complete days as bars, days with data that are not complete yet as pale bars, last
 *   month's days as a thin grey line for comparison.
 * - A one-day spike would flatten every other bar. When a day is more than SPIKE_FACTOR times the upper quartile of
 *   the days shown, the daily axis stops just above the largest ordinary day and the spike's bar is drawn to the top,
 *   cut by a white break mark, with its amount printed above it: still the tallest bar, the others still readable.
 *
 * Sized for Slack on a phone, which shows an image about 360 px wide: the picture is laid out in 360 logical pixels
 * (text 10-14 px, lines 1.5-2.5 px) and rendered at 2x. An opaque light card with strong colours reads the same in
 * light and dark clients; every colour that carries meaning has at least 3:1 contrast on the card, text at least 4.5:1
 * (CHART_PALETTE; checked by the tests).
 */
export const CHART_WIDTH = 360;

export const CHART_PALETTE = {
  card: '#FFFFFF',
  border: '#C9D1D9',
  text: '#1F2328',
  muted: '#57606A',
  grid: '#E6E9ED',
  axis: '#6E7781',
  thisMonth: '#0B5CAD',
  budget: '#B42318',
  lastMonth: '#6E7781',
  spikeBreak: '#FFFFFF',
} as const;

/** Opacity of the forecast range and of partial-day bars (both drawn in `thisMonth`). */
const RANGE_OPACITY = 0.2;
const PARTIAL_OPACITY = 0.35;

/** A day above this multiple of the upper quartile of the days shown is drawn clipped (see above). */
export const SPIKE_FACTOR = 4;

const FONT = { title: 14, text: 11, tick: 10 } as const;
const STROKE = { total: 2.5, forecast: 2, budget: 1.5, lastMonth: 1.5, grid: 1 } as const;
const PAD = 12;
const ROW = 16;
const TOP_PLOT_HEIGHT = 112;
const DAILY_PLOT_HEIGHT = 76;
/** Room above the daily plot for a clipped spike's amount. */
const SPIKE_LABEL_ROOM = 12;

/** Whole dollars with thousands separators ("$12,340"); cents under $100 ("$12.34"), where rounding would show. */
export function formatChartDollars(cents: number): string {
  const dollars = cents / 100;
  return Math.abs(dollars) < 100 ? DOLLARS_CENTS(dollars) : DOLLARS(dollars);
}
const DOLLARS = format('$,.0f');
const DOLLARS_CENTS = format('$,.2f');

export function buildSpendChartSvg(input: SpendChartInput, options: SpendChartOptions = {}): string {
  const series = deriveSpendSeries(input);
  const family = options.fontFamily ?? CHART_FONT.family;
  const days = series.daysInMonth;

  // Vertical layout, top to bottom; legends may wrap, so positions are computed, not fixed.
  let y = PAD;
  const title = fitText(input.title, CHART_WIDTH - 2 * PAD, FONT.title, true) || 'Atlas organisation';
  const titleY = y + FONT.title;
  y = titleY + 6;
  const subtitleY = y + FONT.text;
  y = subtitleY + 10;
  const totalLegend = layoutLegend('Running total', totalLegendItems(series), y);
  y = totalLegend.bottom + 6;
  const totalPlot = { top: y, bottom: y + TOP_PLOT_HEIGHT };
  y = totalPlot.bottom + 14;
  const dailyLegend = layoutLegend('Daily', dailyLegendItems(series), y);
  y = dailyLegend.bottom + 4 + SPIKE_LABEL_ROOM;
  const dailyPlot = { top: y, bottom: y + DAILY_PLOT_HEIGHT };
  const tickY = dailyPlot.bottom + 4 + FONT.tick;
  const height = tickY + PAD;

  const totalY = totalScale(series, totalPlot);
  const daily = dailyScale(series, dailyPlot);
  const totalTicks = dollarTicks(totalY, 4);
  const dailyTicks = dollarTicks(daily.scale, 3);
  const labelWidth = Math.max(
    ...[...totalTicks, ...dailyTicks].map((t) => estimateTextWidth(t.label, FONT.tick)),
  );
  const plotLeft = Math.ceil(PAD + labelWidth + 6);
  const plotRight = CHART_WIDTH - PAD;
  const x = scaleLinear()
    .domain([0.5, days + 0.5])
    .range([plotLeft, plotRight]);
  const dayTicks = chooseDayTicks(days, series.completeDays);

  const subtitle =
    series.completeDays === days
      ? `${formatChartMonth(input.year, input.month)} · all ${days} days complete`
      : `${formatChartMonth(input.year, input.month)} · ${series.completeDays} of ${days} days complete`;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" font-family="${escapeXml(family)}">`,
    `<title>${escapeXml(`${title} · ${subtitle}`)}</title>`,
    `<rect class="card" x="0.5" y="0.5" width="${CHART_WIDTH - 1}" height="${height - 1}" rx="8" fill="${CHART_PALETTE.card}" stroke="${CHART_PALETTE.border}"/>`,
    `<text class="title" x="${PAD}" y="${titleY}" font-size="${FONT.title}" font-weight="bold" fill="${CHART_PALETTE.text}">${escapeXml(title)}</text>`,
    `<text class="subtitle" x="${PAD}" y="${subtitleY}" font-size="${FONT.text}" fill="${CHART_PALETTE.muted}">${escapeXml(subtitle)}</text>`,
    totalLegend.svg,
    dailyLegend.svg,
    gridAndAxis('total', totalTicks, totalY, totalPlot, x, dayTicks, false),
    gridAndAxis('daily', dailyTicks, daily.scale, dailyPlot, x, dayTicks, true),
    todayDivider(series, x, totalPlot, dailyPlot),
    totalPanel(series, x, totalY, totalPlot),
    dailyPanel(series, x, daily, dailyPlot),
    dayAxis(dayTicks, series.completeDays, x, tickY),
    '</svg>',
  ];
  return parts.filter((part) => part !== '').join('\n');
}

interface Band {
  readonly top: number;
  readonly bottom: number;
}

interface Tick {
  readonly value: number;
  readonly label: string;
}

type Scale = ScaleLinear<number, number>;

// ---- scales ----------------------------------------------------------------------------------------------------

/** Dollars (not cents) so that ticks fall on round dollar amounts; at least $0-$10 so an empty month has an axis. */
function totalScale(series: SpendChartSeries, plot: Band): Scale {
  const values = [0, ...series.cumulative];
  if (series.forecast) values.push(...series.forecast.low, ...series.forecast.high);
  if (series.budgetCents !== undefined) values.push(series.budgetCents);
  return niceDollarScale(Math.min(...values), Math.max(...values), plot, 4);
}

interface DailyScale {
  readonly scale: Scale;
  /** Cents above which a bar is drawn clipped; undefined when nothing is clipped. */
  readonly clipAboveCents: number | undefined;
}

/** See SPIKE_FACTOR. Bars and last month's line share this scale. */
function dailyScale(series: SpendChartSeries, plot: Band): DailyScale {
  const shown = [...series.daily, ...(series.previousDaily ?? [])].filter((v): v is number => v !== null);
  const low = Math.min(0, ...shown);
  const high = Math.max(0, ...shown);
  const positive = shown.filter((v) => v > 0).sort((a, b) => a - b);
  const upperQuartile = positive[Math.floor((positive.length - 1) * 0.75)] ?? 0;
  const ordinaryMax = Math.max(0, ...positive.filter((v) => v <= SPIKE_FACTOR * upperQuartile));
  if (positive.length < 4 || high <= SPIKE_FACTOR * upperQuartile) {
    return { scale: niceDollarScale(low, high, plot, 3), clipAboveCents: undefined };
  }
  const scale = niceDollarScale(low, ordinaryMax * 1.1, plot, 3);
  const [, top = 0] = scale.domain();
  return { scale, clipAboveCents: Math.round(top * 100) };
}

function niceDollarScale(lowCents: number, highCents: number, plot: Band, ticks: number): Scale {
  const top = Math.max(highCents / 100, 10);
  return scaleLinear()
    .domain([lowCents / 100, top])
    .range([plot.bottom, plot.top])
    .nice(ticks);
}

function dollarTicks(scale: Scale, count: number): Tick[] {
  const values = scale.ticks(count);
  const step = values.length > 1 ? Math.abs((values[1] ?? 0) - (values[0] ?? 0)) : 1;
  const label = format(`$,.${precisionFixed(step)}f`);
  return values.map((value) => ({ value, label: label(value) }));
}

/** Day 1, the month's last day, the multiples of 5 between, and the last complete day; none closer than 3 days. */
function chooseDayTicks(days: number, completeDays: number): number[] {
  const must = [1, days, ...(completeDays > 0 && completeDays < days ? [completeDays] : [])];
  const round = scaleLinear().domain([1, days]).ticks(6).filter(Number.isInteger);
  const ticks = [...must];
  for (const day of round) if (ticks.every((t) => Math.abs(t - day) >= 3)) ticks.push(day);
  return ticks.sort((a, b) => a - b);
}

// ---- legend ----------------------------------------------------------------------------------------------------

type Swatch = 'line' | 'dash' | 'range' | 'bar' | 'partial';

interface LegendItem {
  readonly kind: Swatch;
  readonly colour: string;
  readonly label: string;
}

function totalLegendItems(series: SpendChartSeries): LegendItem[] {
  const items: LegendItem[] = [];
  if (series.completeDays > 0) {
    items.push({
      kind: 'line',
      colour: CHART_PALETTE.thisMonth,
      label: `To date ${formatChartDollars(series.monthToDateCents)}`,
    });
  }
  const forecast = series.forecast;
  if (forecast !== undefined && series.completeDays < series.daysInMonth) {
    items.push({
      kind: 'dash',
      colour: CHART_PALETTE.thisMonth,
      label: `Forecast ${formatChartDollars(forecast.endCents)}`,
    });
    if (forecast.endLowCents !== forecast.endHighCents) {
      items.push({
        kind: 'range',
        colour: CHART_PALETTE.thisMonth,
        label: `Range ${formatChartDollars(forecast.endLowCents)}–${formatChartDollars(forecast.endHighCents)}`,
      });
    }
  }
  if (series.budgetCents !== undefined) {
    items.push({
      kind: 'line',
      colour: CHART_PALETTE.budget,
      label: `Budget ${formatChartDollars(series.budgetCents)}`,
    });
  }
  return items;
}

function dailyLegendItems(series: SpendChartSeries): LegendItem[] {
  const items: LegendItem[] = [];
  if (series.daily.some((v, i) => v !== null && v !== 0 && i < series.completeDays)) {
    items.push({ kind: 'bar', colour: CHART_PALETTE.thisMonth, label: 'This month' });
  }
  if (series.daily.some((v, i) => v !== null && v !== 0 && i >= series.completeDays)) {
    items.push({ kind: 'partial', colour: CHART_PALETTE.thisMonth, label: 'Partial day' });
  }
  if (series.previousDaily !== undefined) {
    items.push({ kind: 'line', colour: CHART_PALETTE.lastMonth, label: 'Last month' });
  }
  return items;
}

const SWATCH_WIDTH = 16;
const ITEM_GAP = 12;

/**
 * A bold caption and the items on one row when they fit; otherwise the caption on its own row and the items flowing
 * over as many rows as they need, within the card.
 */
function layoutLegend(
  caption: string,
  items: readonly LegendItem[],
  top: number,
): { svg: string; bottom: number } {
  const right = CHART_WIDTH - PAD;
  const widths = items.map((item) => SWATCH_WIDTH + 4 + estimateTextWidth(item.label, FONT.text));
  const captionEnd = PAD + estimateTextWidth(caption, FONT.text, true) + ITEM_GAP;
  const oneRow = captionEnd + widths.reduce((sum, w) => sum + w + ITEM_GAP, 0) - ITEM_GAP <= right;
  let baseline = top + FONT.text;
  const parts = [
    `<text class="caption" x="${PAD}" y="${baseline}" font-size="${FONT.text}" font-weight="bold" fill="${CHART_PALETTE.text}">${escapeXml(caption)}</text>`,
  ];
  let cursor = captionEnd;
  if (!oneRow && items.length > 0) {
    baseline += ROW;
    cursor = PAD;
  }
  items.forEach((item, i) => {
    const width = widths[i] ?? 0;
    if (cursor + width > right && cursor > PAD) {
      baseline += ROW;
      cursor = PAD;
    }
    parts.push(
      `<g class="legend-item" data-kind="${item.kind}">${swatch(item, cursor, baseline - 4)}<text x="${round(cursor + SWATCH_WIDTH + 4)}" y="${baseline}" font-size="${FONT.text}" fill="${CHART_PALETTE.text}">${escapeXml(item.label)}</text></g>`,
    );
    cursor += width + ITEM_GAP;
  });
  return { svg: `<g class="legend">${parts.join('')}</g>`, bottom: baseline - FONT.text + ROW };
}

function swatch(item: LegendItem, left: number, middle: number): string {
  const x1 = round(left);
  const x2 = round(left + SWATCH_WIDTH);
  switch (item.kind) {
    case 'line':
      return `<line x1="${x1}" y1="${middle}" x2="${x2}" y2="${middle}" stroke="${item.colour}" stroke-width="${STROKE.total}" stroke-linecap="round"/>`;
    case 'dash':
      return `<line x1="${x1}" y1="${middle}" x2="${x2}" y2="${middle}" stroke="${item.colour}" stroke-width="${STROKE.forecast}" stroke-dasharray="${FORECAST_DASH}"/>`;
    case 'range':
      return `<rect x="${x1}" y="${middle - 5}" width="${SWATCH_WIDTH}" height="10" fill="${item.colour}" fill-opacity="${RANGE_OPACITY}"/>`;
    case 'bar':
      return `<rect x="${round(left + 4)}" y="${middle - 5}" width="8" height="10" fill="${item.colour}"/>`;
    case 'partial':
      return `<rect x="${round(left + 4)}" y="${middle - 5}" width="8" height="10" fill="${item.colour}" fill-opacity="${PARTIAL_OPACITY}"/>`;
  }
}

const FORECAST_DASH = '5 3';

// ---- panels ----------------------------------------------------------------------------------------------------

function gridAndAxis(
  name: string,
  ticks: readonly Tick[],
  y: Scale,
  plot: Band,
  x: Scale,
  dayTicks: readonly number[],
  baseline: boolean,
): string {
  const [left, right] = x.range() as [number, number];
  const parts = ticks.map((tick) => {
    const at = round(y(tick.value));
    return `<line x1="${left}" y1="${at}" x2="${right}" y2="${at}" stroke="${CHART_PALETTE.grid}" stroke-width="${STROKE.grid}"/><text x="${left - 5}" y="${round(at + 3.5)}" text-anchor="end" font-size="${FONT.tick}" fill="${CHART_PALETTE.muted}">${escapeXml(tick.label)}</text>`;
  });
  for (const day of dayTicks) {
    const at = round(x(day));
    parts.push(
      `<line x1="${at}" y1="${plot.top}" x2="${at}" y2="${plot.bottom}" stroke="${CHART_PALETTE.grid}" stroke-width="${STROKE.grid}"/>`,
    );
  }
  const zero = round(y(0));
  parts.push(
    `<line class="zero" x1="${left}" y1="${zero}" x2="${right}" y2="${zero}" stroke="${CHART_PALETTE.axis}" stroke-width="${baseline ? 1.2 : 1}"/>`,
  );
  return `<g class="axis axis-${name}">${parts.join('')}</g>`;
}

/** A dotted line between the last complete day and the rest, through both panels. */
function todayDivider(series: SpendChartSeries, x: Scale, total: Band, daily: Band): string {
  if (series.completeDays === 0 || series.completeDays === series.daysInMonth) return '';
  const at = round(x(series.completeDays + 0.5));
  return [total, daily]
    .map(
      (plot) =>
        `<line class="today" x1="${at}" y1="${plot.top}" x2="${at}" y2="${plot.bottom}" stroke="${CHART_PALETTE.axis}" stroke-width="1" stroke-dasharray="1 2"/>`,
    )
    .join('\n');
}

type Point = readonly [x: number, y: number];

function totalPanel(series: SpendChartSeries, x: Scale, y: Scale, plot: Band): string {
  const parts: string[] = [];
  const [left, right] = x.range() as [number, number];
  const start: Point = [left, y(0)];
  const lastActual: Point =
    series.completeDays === 0 ? start : [x(series.completeDays), y(series.monthToDateCents / 100)];
  const forecast = series.forecast;
  if (forecast !== undefined && forecast.cumulative.length > 0) {
    const days = forecast.cumulative.map((_, i) => series.completeDays + i + 1);
    const range = area<number>()
      .x((i) => (i < 0 ? lastActual[0] : x(days[i] ?? 0)))
      .y0((i) => (i < 0 ? lastActual[1] : y((forecast.low[i] ?? 0) / 100)))
      .y1((i) => (i < 0 ? lastActual[1] : y((forecast.high[i] ?? 0) / 100)))
      .digits(1);
    const indices = [-1, ...days.map((_, i) => i)];
    if (
      forecast.endLowCents !== forecast.endHighCents ||
      forecast.low.some((v, i) => v !== forecast.high[i])
    ) {
      parts.push(
        `<path class="forecast-range" d="${range(indices) ?? ''}" fill="${CHART_PALETTE.thisMonth}" fill-opacity="${RANGE_OPACITY}" stroke="none"/>`,
      );
    }
    const points: Point[] = [
      lastActual,
      ...forecast.cumulative.map((cents, i): Point => [x(days[i] ?? 0), y(cents / 100)]),
    ];
    parts.push(
      `<path class="forecast" d="${polyline(points)}" fill="none" stroke="${CHART_PALETTE.thisMonth}" stroke-width="${STROKE.forecast}" stroke-dasharray="${FORECAST_DASH}" stroke-linejoin="round"/>`,
    );
  }
  if (series.budgetCents !== undefined) {
    const at = round(y(series.budgetCents / 100));
    parts.push(
      `<line class="budget" x1="${left}" y1="${at}" x2="${right}" y2="${at}" stroke="${CHART_PALETTE.budget}" stroke-width="${STROKE.budget}"/>`,
    );
  }
  if (series.completeDays > 0) {
    const points: Point[] = [
      start,
      ...series.cumulative.map((cents, i): Point => [x(i + 1), y(cents / 100)]),
    ];
    parts.push(
      `<path class="month-to-date" d="${polyline(points)}" fill="none" stroke="${CHART_PALETTE.thisMonth}" stroke-width="${STROKE.total}" stroke-linejoin="round" stroke-linecap="round"/>`,
      `<circle class="today-total" cx="${round(lastActual[0])}" cy="${round(lastActual[1])}" r="3.5" fill="${CHART_PALETTE.thisMonth}" stroke="${CHART_PALETTE.card}" stroke-width="1.5"/>`,
    );
  }
  return `<g class="panel panel-total" data-top="${plot.top}">${parts.join('\n')}</g>`;
}

function polyline(points: readonly Point[]): string {
  return line<Point>().digits(1)(points) ?? '';
}

function dailyPanel(series: SpendChartSeries, x: Scale, daily: DailyScale, plot: Band): string {
  const y = daily.scale;
  const [top, bottom] = [plot.top, plot.bottom];
  const slot = x(1.5) - x(0.5);
  const barWidth = Math.max(1, slot * 0.72);
  const zero = y(0);
  const bars: string[] = [];
  const spikeLabels: string[] = [];
  let lastLabelRight = Number.NEGATIVE_INFINITY;
  series.daily.forEach((cents, i) => {
    if (cents === null || cents === 0) return;
    const day = i + 1;
    const clipped = daily.clipAboveCents !== undefined && cents > daily.clipAboveCents;
    const end = clipped ? top : Math.min(bottom, Math.max(top, y(cents / 100)));
    const y0 = Math.min(zero, end);
    const h = Math.max(0.5, Math.abs(zero - end));
    const left = x(day) - barWidth / 2;
    const partial = day > series.completeDays;
    const classes = ['bar', ...(partial ? ['partial'] : []), ...(clipped ? ['clipped'] : [])].join(' ');
    bars.push(
      `<rect class="${classes}" data-day="${day}" data-cents="${cents}" x="${round(left)}" y="${round(y0)}" width="${round(barWidth)}" height="${round(h)}" fill="${CHART_PALETTE.thisMonth}"${partial ? ` fill-opacity="${PARTIAL_OPACITY}"` : ''}/>`,
    );
    if (clipped) {
      // Two white strokes across the bar: the bar is cut, its true height is off the scale.
      const breakAt = top + 7;
      for (const offset of [0, 4]) {
        bars.push(
          `<line class="spike-break" x1="${round(left - 1)}" y1="${round(breakAt + offset + 2)}" x2="${round(left + barWidth + 1)}" y2="${round(breakAt + offset - 2)}" stroke="${CHART_PALETTE.spikeBreak}" stroke-width="1.5"/>`,
        );
      }
      const label = formatChartDollars(cents);
      const width = estimateTextWidth(label, FONT.tick, true);
      const [plotLeft, plotRight] = x.range() as [number, number];
      const centre = Math.min(plotRight - width / 2, Math.max(plotLeft + width / 2, x(day)));
      if (centre - width / 2 > lastLabelRight + 2) {
        spikeLabels.push(
          `<text class="spike-label" data-day="${day}" x="${round(centre)}" y="${top - 3}" text-anchor="middle" font-size="${FONT.tick}" font-weight="bold" fill="${CHART_PALETTE.text}">${escapeXml(label)}</text>`,
        );
        lastLabelRight = centre + width / 2;
      }
    }
  });
  const parts = [`<g class="bars">${bars.join('\n')}</g>`, ...spikeLabels];
  if (series.previousDaily !== undefined) {
    const previous = series.previousDaily;
    const path = line<number | null>()
      .defined((cents) => cents !== null)
      .x((_, i) => x(i + 1))
      .y((cents) => Math.min(bottom, Math.max(top, y((cents ?? 0) / 100))))
      .digits(1)(previous);
    parts.push(
      `<path class="last-month" d="${path ?? ''}" fill="none" stroke="${CHART_PALETTE.lastMonth}" stroke-width="${STROKE.lastMonth}" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  if (series.daily.every((cents) => cents === null || cents === 0)) {
    const [left, right] = x.range() as [number, number];
    const note = series.daily.every((cents) => cents === null)
      ? 'No usage recorded yet'
      : series.completeDays === series.daysInMonth
        ? 'No spend this month'
        : 'No spend recorded yet';
    parts.push(
      `<text class="empty-note" x="${round((left + right) / 2)}" y="${round((top + bottom) / 2)}" text-anchor="middle" font-size="${FONT.text}" fill="${CHART_PALETTE.muted}">${note}</text>`,
    );
  }
  return `<g class="panel panel-daily" data-top="${top}">${parts.join('\n')}</g>`;
}

function dayAxis(ticks: readonly number[], completeDays: number, x: Scale, baseline: number): string {
  const labels = ticks.map((day) => {
    const bold = day === completeDays ? ' font-weight="bold"' : '';
    const fill = day === completeDays ? CHART_PALETTE.text : CHART_PALETTE.muted;
    return `<text x="${round(x(day))}" y="${baseline}" text-anchor="middle" font-size="${FONT.tick}"${bold} fill="${fill}">${day}</text>`;
  });
  return `<g class="axis axis-days">${labels.join('')}</g>`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
