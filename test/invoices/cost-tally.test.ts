import { describe, expect, it } from 'vitest';
import { createCostTally, rankCostLines } from '../../lib/invoices/cost-tally';

describe('rankCostLines', () => {
  it('orders largest first, then by name and id, and keeps the top N', () => {
    const tally = createCostTally(10);
    tally.total('b', 'Beta', 'id-2').cents = 500;
    tally.total('a', 'Alpha', 'id-1').cents = 500;
    tally.total('c', 'Gamma').cents = -100;
    tally.total('d', 'Delta').cents = 900;

    expect(rankCostLines(tally.totals(), 3)).toEqual([
      { name: 'Delta', cents: 900 },
      { name: 'Alpha', id: 'id-1', cents: 500 },
      { name: 'Beta', id: 'id-2', cents: 500 },
    ]);
    expect(rankCostLines(tally.totals(), 0)).toEqual([]);
  });
});
