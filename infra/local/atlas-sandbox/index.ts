/**
 * The Atlas sandbox: a local HTTP server that behaves like the Atlas Admin API's invoice endpoints (v2, v1.0 and
 * Cloud Manager), shared by the tests, the benchmarks and `npm start`.
 */
export type { ApiKeySeed, DigestAlgorithm, SandboxRole, ServiceAccountSeed } from './auth';
export {
  CSV_COLUMNS,
  createGeneratedCsvStream,
  csvField,
  type GeneratedCsvSpec,
  generateCsvChunks,
  generatedCsvSize,
  renderInvoiceCsv,
} from './csv';
export {
  createDemoSandboxOptions,
  DEMO_API_KEY,
  DEMO_ORG,
  DEMO_ORG_ID,
  DEMO_ORG_NAME,
  DEMO_SERVICE_ACCOUNT,
} from './demo';
export type { PlacedSpike } from './model';
export type { RateLimitOptions } from './rate-limit';
export {
  type AtlasSandbox,
  type AtlasSandboxOptions,
  atlasErrorBody,
  type FaultHandle,
  type FaultSpec,
  type RecordedRequest,
  type SandboxOrgInfo,
  startAtlasSandbox,
} from './server';
export type { SpecViolation } from './spec-check';
export type { DemoChange, DemoStep, InvoiceSeed, OrgSeed } from './store';
