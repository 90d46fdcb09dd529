import { describe, expect, it } from 'vitest';
import { createLazyAtlas } from '../../lib/command/lazy-atlas';
import { FakeAtlas } from '../support/fakes';
import { atlasInvoice, ORG_B } from './fixtures';

describe('createLazyAtlas', () => {
  it('builds the client on the first call only, then reuses it', async () => {
    let builds = 0;
    const real = new FakeAtlas({ [ORG_B]: async () => atlasInvoice() });
    const lazy = createLazyAtlas(async () => {
      builds += 1;
      return real;
    });
    expect(builds).toBe(0);
    const [a, b] = await Promise.all([lazy.getInvoice(ORG_B, 'x'), lazy.getInvoice(ORG_B, 'y')]);
    expect(a.id).toBe(b.id);
    expect(builds).toBe(1);
    expect(real.calls).toEqual([`${ORG_B}/x`, `${ORG_B}/y`]);
  });

  it('tries to build again after a failed build', async () => {
    let attempts = 0;
    const lazy = createLazyAtlas(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('module failed to load');
      return new FakeAtlas({ [ORG_B]: async () => atlasInvoice() });
    });
    await expect(lazy.getInvoice(ORG_B, 'x')).rejects.toThrow('module failed to load');
    await expect(lazy.getInvoice(ORG_B, 'x')).resolves.toMatchObject({ orgId: ORG_B });
  });
});
