/** A `.wasm` import in a Worker bundle is a compiled module (wrangler's CompiledWasm rule). */
declare module '*.wasm' {
  const compiled: WebAssembly.Module;
  export default compiled;
}
