/**
 * The font the chart is drawn with. Lambda has no system fonts and resvg reads TTF/OTF only, so the renderer loads
 * these files itself (`loadSystemFonts: false`). They come from the `dejavu-fonts-ttf` npm package (DejaVu Sans,
 * Bitstream Vera / Arev licence: free to redistribute with its LICENSE), resolved like a module so that the same code
 * finds them in node_modules locally and in `dist/poll-invoices/node_modules/` once built (infra/build.ts copies
 * exactly these files there). DejaVu Sans covers Latin, Greek and Cyrillic; other scripts (e.g. CJK) show as boxes.
 */
export const CHART_FONT = {
  package: 'dejavu-fonts-ttf',
  family: 'DejaVu Sans',
  /** Inside the package: regular for text and numbers, bold for the title and captions. */
  files: ['ttf/DejaVuSans.ttf', 'ttf/DejaVuSans-Bold.ttf'],
  /** Shipped next to the fonts, as the licence asks. */
  licence: 'LICENSE',
} as const;
