import { createRequire } from 'node:module';
import { renderAsync } from '@resvg/resvg-js';
import { buildSpendChartSvg } from './build-svg';
import { CHART_FONT } from './font';
import type { SpendChartInput } from './types';

/**
 * SVG to PNG with resvg (a native addon, @resvg/resvg-js). Its own file in the poller's bundle (infra/build.ts
 * SPLIT_MODULES), reached only through renderSpendChartPng's `import()`: loading the addon, the chart code and the
 * font costs a cold start nothing until a chart is drawn.
 */

/** The PNG is drawn at this multiple of the SVG's logical pixels (720 px wide for the 360 px layout). */
export const CHART_PIXEL_RATIO = 2;

let fontFiles: string[] | undefined;

/** The font files, resolved as modules from this file: node_modules locally, the function's own once bundled. */
export function chartFontFiles(): string[] {
  if (fontFiles === undefined) {
    const require = createRequire(__filename);
    fontFiles = CHART_FONT.files.map((file) => require.resolve(`${CHART_FONT.package}/${file}`));
  }
  return fontFiles;
}

/** The chart as PNG bytes. Throws ValidationError for an input outside its contract (before any rendering). */
export async function drawSpendChartPng(input: SpendChartInput): Promise<Uint8Array> {
  const svg = buildSpendChartSvg(input);
  const image = await renderAsync(svg, {
    fitTo: { mode: 'zoom', value: CHART_PIXEL_RATIO },
    font: { fontFiles: chartFontFiles(), loadSystemFonts: false, defaultFontFamily: CHART_FONT.family },
    // resvg logs missing glyphs (e.g. CJK in a name) to stderr; the picture shows them as boxes either way.
    logLevel: 'off',
  });
  return image.asPng();
}
