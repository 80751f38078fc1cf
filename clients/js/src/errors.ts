/** Errors of the client: a server's problem details (RFC 9457) as a typed object, and a server that could not be
 * reached. */

/** One field at fault in a request, named in the request's terms (`run.energy_j`, `query.since`). */
export interface FieldError {
  field: string;
  message: string;
}

/** The body of every error the server answers (`application/problem+json`). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [key: string]: unknown;
}

/** The server answered with an error: `status`, and the problem details it sent (`problem.detail` says the fix). */
export class ProblemError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails;
  readonly method: string;
  readonly url: string;

  constructor(problem: ProblemDetails, method: string, url: string) {
    const fields = problem.errors?.length ? ` (${problem.errors.map((e) => `${e.field}: ${e.message}`).join("; ")})` : "";
    super(`${method} ${url} answered ${problem.status} ${problem.title}: ${problem.detail}${problem.errors?.length && !problem.detail.includes(problem.errors[0].message) ? fields : ""}`);
    this.name = "ProblemError";
    this.status = problem.status;
    this.problem = problem;
    this.method = method;
    this.url = url;
  }

  /** The problem's slug: `invalid-request`, `unauthorized`, ... (the end of its `type` URL). */
  get slug(): string {
    return this.problem.type.split("/").pop() ?? "";
  }

  /** The fields at fault (empty unless the request was not valid). */
  get errors(): FieldError[] {
    return this.problem.errors ?? [];
  }
}

/** The server could not be reached (refused, timed out, DNS), or failed (5xx) on every try. */
export class NetworkError extends Error {
  readonly cause?: unknown;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/** An argument of a client call that cannot be used: the message names it and what to give instead. */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgumentError";
  }
}

/** Whether a failed send is worth trying again later (unreachable, 5xx, 429), not a refusal (4xx). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  if (error instanceof ProblemError) return error.status >= 500 || error.status === 429 || error.status === 408;
  return false;
}
