// Which handler a request path names. Paths are matched on their raw segments, so odd targets
// ("//[", "/%", absolute URLs) are simply not found instead of failing a URL parser.

import { pathSegments } from './static-files.js';

export type ModelAction = 'generate' | 'interpolate' | 'arithmetic' | 'latents';
export const MODEL_ACTIONS: readonly ModelAction[] = ['generate', 'interpolate', 'arithmetic', 'latents'];

export type Route =
  | { kind: 'index' }
  | { kind: 'health' }
  | { kind: 'metrics' }
  | { kind: 'openapi' }
  | { kind: 'models' }
  | { kind: 'model'; name: string }
  | { kind: 'action'; name: string; action: ModelAction }
  | { kind: 'grid'; name: string }
  | { kind: 'model-index' }
  | { kind: 'model-file'; name: string; file: string }
  | { kind: 'site' };

export const ALLOWED_METHODS: Record<Route['kind'], readonly string[]> = {
  index: ['GET', 'HEAD'],
  health: ['GET', 'HEAD'],
  metrics: ['GET', 'HEAD'],
  openapi: ['GET', 'HEAD'],
  models: ['GET', 'HEAD'],
  model: ['GET', 'HEAD'],
  action: ['POST'],
  grid: ['GET', 'HEAD'],
  'model-index': ['GET', 'HEAD'],
  'model-file': ['GET', 'HEAD'],
  site: ['GET', 'HEAD'],
};

/** A short label for metrics and logs (never the raw path, whose values are unbounded). */
export function routeLabel(route: Route | undefined): string {
  if (route === undefined) return 'unknown';
  return route.kind === 'action' ? route.action : route.kind;
}

/** The route of `pathname`, or undefined (404). Paths outside the API fall to the site when one is served. */
export function matchRoute(pathname: string, hasSite: boolean): Route | undefined {
  if (pathname === '/') return { kind: 'index' };
  if (pathname === '/healthz') return { kind: 'health' };
  if (pathname === '/metrics') return { kind: 'metrics' };
  if (pathname === '/openapi.json') return { kind: 'openapi' };
  const raw = pathname.split('/');
  if (raw[1] === 'v1') {
    const parts = pathSegments(pathname.endsWith('/') ? pathname.slice(0, -1) : pathname);
    if (parts[1] !== 'models' || raw.slice(1, -1).includes('') || parts.length < 2) return undefined;
    if (parts.length === 2) return { kind: 'models' };
    const name = parts[2]!;
    if (parts.length === 3) return { kind: 'model', name };
    if (parts.length === 4 && parts[3] === 'grid.png') return { kind: 'grid', name };
    if (parts.length === 4 && (MODEL_ACTIONS as readonly string[]).includes(parts[3]!))
      return { kind: 'action', name, action: parts[3] as ModelAction };
    return undefined;
  }
  if (raw[1] === 'models') {
    if (pathname === '/models/index.json') return { kind: 'model-index' };
    const parts = pathSegments(pathname);
    if (parts.length === 3 && !raw.slice(1).includes('')) return { kind: 'model-file', name: parts[1]!, file: parts[2]! };
    return undefined;
  }
  return hasSite ? { kind: 'site' } : undefined;
}
