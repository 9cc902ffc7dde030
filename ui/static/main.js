// Loads the Yew app (wasm-bindgen's `--target web` output); its start function renders it.
import init from './inbox_ui.js';

// The wasm heap (its linear memory) stays reachable for the desktop benchmark, which reports
// its size beside the processes' memory (issue 14, lean at run time).
init().then((wasm) => {
  globalThis.inboxWasm = { memory: wasm.memory };
});
