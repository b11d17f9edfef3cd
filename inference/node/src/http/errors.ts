// How failures become HTTP responses. Client mistakes are 4xx with a one-line message that names the
// parameter; nothing from the server's side (stack traces, file paths, library messages) reaches a
// client: unexpected failures are a bare 500 and are logged in full on the server.

import { GantryError } from '@gantry/core';

/** An error that becomes an HTTP response: `status` and a JSON body {error, ...details}. */
export class HttpError extends GantryError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof details.code === 'string' ? details.code : `http-${status}`, message);
  }
}
