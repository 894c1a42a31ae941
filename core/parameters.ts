/**
 * A function's parameters read from its source text: for the CLI's task
 * arguments (a live task) and the dataflow view (a recorded task's source).
 * Text only, so CallGraph can use it without the task registry.
 */

/**
 * A task function's parameters, read from its source so a command line can
 * name them (`--names a,b --fail true`) and refuse names it does not have:
 * - `names`: plain parameters in order (null for a destructuring one), and
 *   whether a `...rest` parameter ends them;
 * - `object`: one destructured object parameter (`({ name, n = 1 })`): its
 *   keys, and `open` when it takes other keys too (`...rest`, computed keys).
 * null when the source cannot be read so.
 */
export type TaskParameters =
  | { kind: "names"; names: (string | null)[]; rest: boolean }
  | { kind: "object"; keys: string[]; open: boolean };

const IDENT = /^[A-Za-z_$][\w$]*/;

/** The parameters of a function, from its source text (see TaskParameters). */
export function functionParameters(fn: (...args: never[]) => unknown): TaskParameters | null {
  return sourceParameters(Function.prototype.toString.call(fn));
}

/** The parameters of a function from its text (a recorded task's `source`); see TaskParameters. */
export function sourceParameters(source: string): TaskParameters | null {
  let text = source.trimStart();
  text = text.replace(/^async\s+/, "");
  const single = /^([A-Za-z_$][\w$]*)\s*=>/.exec(text);
  let list: string;
  if (single) list = single[1]!;
  else {
    const open = text.indexOf("(");
    if (open === -1) return null;
    const close = matching(text, open);
    if (close === -1) return null;
    list = text.slice(open + 1, close);
  }
  const params = splitTopLevel(list);
  if (params.length === 1 && params[0]!.startsWith("{")) {
    const close = matching(params[0]!, 0);
    if (close === -1) return null;
    const keys: string[] = [];
    let open = false;
    for (const entry of splitTopLevel(params[0]!.slice(1, close))) {
      if (entry.startsWith("...")) open = true;
      else {
        const key = /^(?:([A-Za-z_$][\w$]*)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')/.exec(entry);
        if (key) keys.push(key[1] ?? key[2] ?? key[3]!);
        else open = true;
      }
    }
    return { kind: "object", keys, open };
  }
  const names: (string | null)[] = [];
  let rest = false;
  for (const param of params) {
    if (param.startsWith("...")) {
      rest = true;
      break;
    }
    names.push(IDENT.exec(param)?.[0] ?? null);
  }
  return { kind: "names", names, rest };
}

/** Index of the bracket closing the one at `open`, skipping strings, templates and comments; -1 if none. */
function matching(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "/" && text[i + 1] === "/") i = endOf(text, "\n", i + 2);
    else if (c === "/" && text[i + 1] === "*") i = endOf(text, "*/", i + 2) + 1;
    else if (c === '"' || c === "'" || c === "`") i = endOfString(text, i);
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function endOf(text: string, token: string, from: number): number {
  const at = text.indexOf(token, from);
  return at === -1 ? text.length : at;
}

function endOfString(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
    else if (quote === "`" && text[i] === "$" && text[i + 1] === "{") {
      i = matching(text, i + 1);
      if (i === -1) return text.length;
    }
  }
  return text.length;
}

/** Split at commas outside brackets, strings and comments; parts trimmed, empty ones dropped. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === "(" || c === "[" || c === "{") i = matching(list, i);
    else if (c === '"' || c === "'" || c === "`") i = endOfString(list, i);
    else if (c === "/" && list[i + 1] === "/") i = endOf(list, "\n", i + 2);
    else if (c === "/" && list[i + 1] === "*") i = endOf(list, "*/", i + 2) + 1;
    else if (c === ",") {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
    if (i === -1) return [];
  }
  parts.push(list.slice(start));
  return parts.map((p) => p.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "").trim()).filter(Boolean);
}
