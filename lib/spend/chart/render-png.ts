import { deriveSpendSeries } from './series';
import type { SpendChartInput } from './types';

/**
 * The spend chart as a PNG (720 px wide, opaque), for a Slack upload. The renderer (resvg's native addon, the chart
 * code and its font) is loaded on the first call, not when this module is: a poll that draws no chart never pays for
 * it. Throws ValidationError for an input outside its contract, before loading anything.
 */
export async function renderSpendChartPng(input: SpendChartInput): Promise<Uint8Array> {
  deriveSpendSeries(input);
  const { drawSpendChartPng } = await import('./rasterise');
  return drawSpendChartPng(input);
}
