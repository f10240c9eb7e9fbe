// .wgsl files import as their text (tsup's text loader in builds, a small plugin in vitest, a load hook under tsx).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
