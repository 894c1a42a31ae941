/**
 * The inspector's entry: picks the store the URL names (inspector/store.ts)
 * and renders the app into #app.
 */
import { render } from "hono/jsx/dom";
import { App } from "./app.tsx";
import { storeFromLocation } from "./store.ts";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App store={storeFromLocation(location)} />, root);
}
