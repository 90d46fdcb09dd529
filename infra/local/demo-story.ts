import { formatDay, parseMonth } from '../../lib/spend/calendar';
import {
  type AtlasSandboxOptions,
  createDemoSandboxOptions,
  DEMO_ORG,
  DEMO_ORG_ID,
  type PlacedSpike,
} from './atlas-sandbox';
import { DAY_MS } from './atlas-sandbox/model';

/**
 * The demo organisation's story as `npm start` tells it: where in the month it starts, where its spike lands and the
 * budget it is watched against, chosen from the sandbox's own numbers so that the spend watch speaks in the first
 * polls (one story day per poll; Atlas posts a day's charges a day later, so a poll on story day n sees the days
 * before it complete):
 * - the story starts on the 8th of the month it was begun in, so the first poll already has 7 complete days (and last
 *   month's) to read a rate from: its forecast is over the budget;
 * - on the story's first day one project's internet egress runs at 30 times its usual (a runaway export): the second
 *   poll sees the day complete and reports the spike, naming the project, SKU and cluster;
 * - the budget is twice the month's spend through the story's second day, spike included, in whole hundreds of
 *   dollars rounded down: month-to-date passes 50% of it on the third poll, not before.
 * The forecast of the first poll is read from the days before the spike; in every month of the sandbox from 2025 to
 * 2028 it is more than 10% above that budget (15.7% in the closest, February 2027; test/local/demo-story.test.ts
 * checks each month), so the forecast alert comes first. Everything here is a function of the month: the story is
 * the same for every run begun in that month.
 */

/** The day of the month the story starts on. */
export const STORY_START_DAY = 8;
/** Index in the demo organisation's project list of the project whose export spikes. */
export const SPIKE_PROJECT = 0;
export const SPIKE_FACTOR = 30;
/** The budget is twice the month's spend through this story day (the day after the spike). */
export const BUDGET_THROUGH_STORY_DAY = 2;

export interface DemoStory {
  /** `YYYY-MM` */
  readonly month: string;
  /** Epoch ms of the story's first day (UTC midnight). */
  readonly start: number;
  /** `YYYY-MM-DD` of the story's first day. */
  readonly firstDay: string;
  readonly spike: PlacedSpike;
}

/** The story of a month (`YYYY-MM`). Throws RangeError for anything else. */
export function planDemoStory(month: string): DemoStory {
  const firstDay = formatDay(storyDayNumber(month, 1));
  return {
    month,
    start: storyDayNumber(month, 1) * DAY_MS,
    firstDay,
    spike: { day: firstDay, project: SPIKE_PROJECT, factor: SPIKE_FACTOR },
  };
}

/** The day number (days since 1970-01-01) of story day `n` (1 = the first) of a month's story. */
function storyDayNumber(month: string, n: number): number {
  const first = parseMonth(month);
  if (first === undefined) throw new RangeError(`a story month looks like 2026-12 (got ${month})`);
  return first + STORY_START_DAY - 1 + n - 1;
}

/** The sandbox of the story: the demo organisation with the story's spike, its data dated from the story's start. */
export function demoStorySandboxOptions(
  story: DemoStory,
  overrides: Partial<AtlasSandboxOptions> = {},
): AtlasSandboxOptions {
  return createDemoSandboxOptions({
    orgs: [{ ...DEMO_ORG, placedSpike: story.spike }],
    storyStart: story.start,
    ...overrides,
  });
}

/**
 * The story's budget in cents (see the module comment), from what each usage day costs (`AtlasSandbox.usageDayCents`
 * for the demo organisation).
 */
export function chooseDemoBudgetCents(story: DemoStory, usageDayCents: (day: string) => number): number {
  const last = storyDayNumber(story.month, BUDGET_THROUGH_STORY_DAY);
  let spent = 0;
  for (let day = parseMonth(story.month) as number; day <= last; day++)
    spent += usageDayCents(formatDay(day));
  // A day costs far more than $50, so the hundreds below twice the spend are still above twice the day before's.
  return Math.floor((2 * spent) / 10_000) * 10_000;
}

/** `SPEND_BUDGETS` for the story: the demo organisation's budget in whole dollars. */
export function demoSpendBudgets(budgetCents: number): string {
  return `${DEMO_ORG_ID}=${budgetCents / 100}`;
}
