import {
  type AtlasSandboxOptions,
  createDemoSandboxOptions,
  DEMO_ORG_ID,
  type OrgSeed,
} from '../../infra/local/atlas-sandbox';

/** The payer organisation the contract tests add: it links the demo organisation (a cross-org billing setup). */
export const PAYER = 'bbbbbbbbbbbbbbbbbbbbbbbb';

/**
 * The demo sandbox's options plus a payer organisation `PAYER` that links the demo organisation; `payer` sets the
 * payer's name and other seeds, `overrides` any other option (e.g. the service accounts).
 */
export function demoWithPayer(
  payer: Omit<OrgSeed, 'id' | 'linkedOrgIds'>,
  overrides: Partial<AtlasSandboxOptions> = {},
): AtlasSandboxOptions {
  return createDemoSandboxOptions({
    orgs: [...(createDemoSandboxOptions().orgs ?? []), { id: PAYER, ...payer, linkedOrgIds: [DEMO_ORG_ID] }],
    ...overrides,
  });
}
