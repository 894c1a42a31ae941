/** The inspector's shell: header, navigation and the screen the URL names. */
import { ErrorBoundary } from "hono/jsx/dom";
import { ErrorBox } from "./components/bits.tsx";
import { StoreContext } from "./hooks.ts";
import { link, useRoute, type Route } from "./router.ts";
import { CallNodeScreen } from "./screens/call-node.tsx";
import { ExecutionScreen } from "./screens/execution.tsx";
import { JobScreen } from "./screens/job.tsx";
import { RecordsScreen } from "./screens/records.tsx";
import { SyncScreen } from "./screens/sync.tsx";
import { TagsScreen } from "./screens/tags.tsx";
import { TaskScreen } from "./screens/task.tsx";
import { ValueScreen } from "./screens/value.tsx";
import type { InspectorStore } from "./store.ts";

function screenOf(route: Route) {
  const [name, id] = route.path;
  switch (name) {
    case undefined:
    case "executions":
    case "records":
      return <RecordsScreen route={route} />;
    case "execution":
      return id ? <ExecutionScreen key={id} id={id} /> : null;
    case "job":
      return id ? <JobScreen key={id} id={id} /> : null;
    case "callnode":
      return id ? <CallNodeScreen key={id} id={id} /> : null;
    case "value":
      return id ? <ValueScreen key={id} id={id} /> : null;
    case "task":
      return id ? <TaskScreen key={id} id={id} /> : null;
    case "tags":
      return <TagsScreen route={route} />;
    case "sync":
      return <SyncScreen route={route} />;
    default:
      return <ErrorBox error={`no such page: ${route.path.join("/")}`} />;
  }
}

export function App({ store }: { store: InspectorStore }) {
  const route = useRoute();
  const section = route.path[0] ?? "executions";
  const nav = (path: string, label: string, names: string[]) => (
    <a href={link(path)} class={names.includes(section) ? "current" : ""}>
      {label}
    </a>
  );
  return (
    <StoreContext.Provider value={store}>
      <header class="top">
        <a class="brand" href={link("/executions")}>
          redun-edge
        </a>
        <nav>
          {nav("/executions", "Executions", ["executions", "execution", "job", "value", "callnode"])}
          {nav("/records", "Records", ["records", "task"])}
          {nav("/tags", "Tags", ["tags"])}
          {store.kind === "indexeddb" ? nav("/sync", "Sync", ["sync"]) : null}
        </nav>
        <span class="store" data-testid="store" title={store.kind === "http" ? "the edge's API" : "a store in this browser"}>
          {store.label}
        </span>
      </header>
      <main>
        <ErrorBoundary fallbackRender={(error) => <ErrorBox error={error} />}>{screenOf(route)}</ErrorBoundary>
      </main>
    </StoreContext.Provider>
  );
}
