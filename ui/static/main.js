// Loads the Yew app (wasm-bindgen's `--target web` output); its start function renders it.
import init from './inbox_ui.js';

init();
