// The params of a path pattern as a type, so a handler's params are typed from the row's path:
// `{name}` is one segment, `{name:digits}` one all-digit segment, `{name*}` the rest as segments.
type ParamOf<S extends string> = S extends `{${infer N}*}`
  ? Record<N, string[]>
  : S extends `{${infer N}:digits}`
    ? Record<N, string>
    : S extends `{${infer N}}`
      ? Record<N, string>
      : unknown;

/** `file/{lib}/{space}/{path*}` → `{lib: string; space: string; path: string[]}`. */
export type ParamsOf<P extends string> = P extends `${infer Head}/${infer Tail}`
  ? ParamOf<Head> & ParamsOf<Tail>
  : ParamOf<P>;

/** The names of a path pattern's params, in order. */
export function paramNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)[^}]*\}/g)].map((m) => m[1]!);
}
