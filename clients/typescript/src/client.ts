/**
 * The StackPro API client: openapi-fetch typed by the generated schema (schema.d.ts), with
 * - the base URL,
 * - the access token as a bearer on every request,
 * - one refresh on a 401 with the rotating refresh token (concurrent 401s share one refresh), then
 *   the request sent again once,
 * - an Idempotency-Key on every POST (a retry of the same call must reuse it: see `post` below),
 * - the error envelope as a typed error (`StackProApiError`, with `unwrap`).
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type Schemas = components["schemas"];
/** The one error body of the API: branch on `code`, show `message`, map `fields` to inputs. */
export type ApiErrorBody = Schemas["Error"];

export interface Tokens {
  access: string;
  refresh: string;
}

/** Where the tokens live (memory by default; a browser app may keep the refresh token elsewhere). */
export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}

export interface StackProClientOptions {
  /** The API's origin, e.g. "https://api.example.com" (no trailing /api/v1). */
  baseUrl: string;
  tokens?: TokenStore;
  /** Called when the refresh token is refused: the user must log in again. */
  onSessionExpired?: () => void;
  /** A fresh key per POST; defaults to crypto.randomUUID(). */
  idempotencyKey?: () => string;
  fetch?: typeof globalThis.fetch;
}

/** An API error: the HTTP status plus the envelope's stable `code`, `message` and `fields`. */
export class StackProApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string[]>;
  readonly body: ApiErrorBody;
  readonly requestId: string | null;
  readonly retryAfterSeconds: number | null;

  constructor(status: number, body: ApiErrorBody, headers: Headers) {
    super(body.message);
    this.name = "StackProApiError";
    this.status = status;
    this.code = body.code;
    this.fields = body.fields ?? {};
    this.body = body;
    this.requestId = headers.get("X-Request-ID");
    const retryAfter = headers.get("Retry-After");
    this.retryAfterSeconds = retryAfter === null ? null : Number(retryAfter);
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { code?: unknown }).code === "string" &&
    typeof (value as { message?: unknown }).message === "string"
  );
}

/**
 * The data of a successful call, or a thrown `StackProApiError`:
 *   const me = unwrap(await api.GET("/api/v1/auth/me/"));
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  const { data, error, response } = result;
  if (response.ok && error === undefined) {
    return data as T;
  }
  const body = isErrorBody(error)
    ? error
    : { code: "http_error", message: `HTTP ${response.status}: ${typeof error === "string" ? error : ""}` };
  throw new StackProApiError(response.status, body, response.headers);
}

const REFRESH_PATH = "/api/v1/auth/token/refresh/";
// Calls whose 401 means "wrong credentials or token", not "access token expired".
const NO_REFRESH_PATHS = new Set(["/api/v1/auth/token/", REFRESH_PATH, "/api/v1/auth/logout/"]);

export interface StackProClient {
  /** openapi-fetch, typed by the schema: api.GET("/api/v1/projects/", { params: { query: { limit: 50 } } }). */
  api: Client<paths>;
  tokens: TokenStore;
  /** POST /api/v1/auth/token/ and keep the pair. */
  login(email: string, password: string): Promise<Tokens>;
  /** POST /api/v1/auth/logout/ (blacklists the refresh token) and forget the pair. */
  logout(): Promise<void>;
  /** Exchange the refresh token for a new pair (it rotates: the old one stops working). */
  refresh(): Promise<Tokens>;
}

export function createStackProClient(options: StackProClientOptions): StackProClient {
  const tokens = options.tokens ?? memoryTokenStore();
  const newKey = options.idempotencyKey ?? (() => globalThis.crypto.randomUUID());
  const baseFetch = options.fetch ?? globalThis.fetch;
  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: baseFetch });
  // A copy of each request as first sent, to send it again after a refresh (its body is read once).
  const originals = new Map<string, Request>();
  let refreshing: Promise<Tokens> | null = null;

  async function refresh(): Promise<Tokens> {
    refreshing ??= (async () => {
      try {
        const current = tokens.get();
        if (current === null) {
          throw new StackProApiError(401, { code: "not_authenticated", message: "Not logged in." }, new Headers());
        }
        const result = await api.POST(REFRESH_PATH, { body: { refresh: current.refresh } });
        if (result.error !== undefined) {
          tokens.set(null);
          options.onSessionExpired?.();
        }
        const pair = unwrap(result);
        tokens.set({ access: pair.access, refresh: pair.refresh });
        return { access: pair.access, refresh: pair.refresh };
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  const auth: Middleware = {
    onRequest({ request, schemaPath, id }) {
      const current = tokens.get();
      if (current !== null && !request.headers.has("Authorization") && schemaPath !== REFRESH_PATH) {
        request.headers.set("Authorization", `Bearer ${current.access}`);
      }
      if (request.method === "POST" && !request.headers.has("Idempotency-Key")) {
        request.headers.set("Idempotency-Key", newKey());
      }
      if (!NO_REFRESH_PATHS.has(schemaPath) && current !== null) {
        originals.set(id, request.clone());
      }
      return request;
    },
    async onResponse({ response, schemaPath, id, options: merged }) {
      const original = originals.get(id);
      originals.delete(id);
      if (response.status !== 401 || original === undefined || NO_REFRESH_PATHS.has(schemaPath)) {
        return response;
      }
      const pair = await refresh();
      const again = new Request(original, { headers: new Headers(original.headers) });
      again.headers.set("Authorization", `Bearer ${pair.access}`);
      return merged.fetch(again);
    },
    onError({ id }) {
      originals.delete(id);
    },
  };
  api.use(auth);

  return {
    api,
    tokens,
    async login(email, password) {
      const pair = unwrap(await api.POST("/api/v1/auth/token/", { body: { email, password } }));
      const next = { access: pair.access, refresh: pair.refresh };
      tokens.set(next);
      return next;
    },
    async logout() {
      const current = tokens.get();
      if (current !== null) {
        const result = await api.POST("/api/v1/auth/logout/", { body: { refresh: current.refresh } });
        if (result.error !== undefined) {
          unwrap(result);
        }
      }
      tokens.set(null);
    },
    refresh,
  };
}
