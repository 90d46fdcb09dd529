import type { FetchFunction } from '@slack/web-api';
import { request } from 'undici';

/**
 * WHATWG fetch as `@slack/web-api`'s WebClient calls it (its `FetchFunction`: a POST with a string body and a headers
 * object, `redirect: 'error'`, an abort signal for its timeout), over the `request` of the undici the functions already
 * load for Atlas and the file upload. Without it, WebClient's default `globalThis.fetch` loads Node's own second copy
 * of undici (fetch, WHATWG streams, Headers, Response) on the first post: measured about 26 ms and 22 ms of CPU more
 * per cold start that posts (`npm run bench -- --only=slack-post`).
 *
 * Refuses FormData bodies (WebClient sends them only for file arguments, which this project never passes: files go
 * through `uploadSlackFile`). A redirect is returned as it is (fetch with `redirect: 'error'` would reject), which
 * WebClient reports as an HTTP error, never followed. The body is read whole: WebClient always reads it.
 */
export const fetchOverUndici: FetchFunction = async (url, init = {}) => {
  if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
    throw new TypeError('fetchOverUndici sends string bodies only');
  }
  const response = await request(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
    signal: init.signal,
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  const header = (value: string | string[] | undefined) =>
    value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  return {
    ok: response.statusCode >= 200 && response.statusCode < 300,
    status: response.statusCode,
    statusText: '',
    url: String(url),
    headers: {
      get: (name) => header(response.headers[name.toLowerCase()]),
      entries: () =>
        Object.entries(response.headers).flatMap(([name, value]): [string, string][] => {
          const text = header(value);
          return text === null ? [] : [[name, text]];
        }),
    },
    arrayBuffer: async () =>
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    text: async () => bytes.toString('utf8'),
    json: async () => JSON.parse(bytes.toString('utf8')),
  };
};
