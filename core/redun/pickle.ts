/**
 * A pickle reader that never executes anything: it rebuilds the objects of a
 * pickle (protocols 0-5, as redun writes protocol 3) as plain data. Classes
 * and functions stay names (PyGlobal); `REDUCE`, `NEWOBJ` and `BUILD` record
 * what would have been called (PyObject) instead of calling it, except for
 * the few builtins that only build data (set, frozenset, bytearray,
 * copyreg._reconstructor). From that data, `pyRepr` prints Python's repr (as
 * redun shows values) and `toJson` gives a JSON value.
 */
import { pyFloatRepr } from "./py-json.ts";

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PickleError";
  }
}

/** A Python float (a JS number would read as an int). */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}
export class PyBytes {
  readonly bytes: Uint8Array;
  readonly bytearray: boolean;
  constructor(bytes: Uint8Array, bytearray = false) {
    this.bytes = bytes;
    this.bytearray = bytearray;
  }
}
export class PyList {
  readonly items: Py[];
  constructor(items: Py[] = []) {
    this.items = items;
  }
}
export class PyTuple {
  readonly items: Py[];
  constructor(items: Py[]) {
    this.items = items;
  }
}
export class PyDict {
  readonly entries: [Py, Py][];
  constructor(entries: [Py, Py][] = []) {
    this.entries = entries;
  }
  get(key: string): Py | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }
}
export class PySet {
  readonly items: Py[];
  readonly frozen: boolean;
  constructor(items: Py[], frozen: boolean) {
    this.items = items;
    this.frozen = frozen;
  }
}
/** A class or function, by name: never imported. */
export class PyGlobal {
  readonly module: string;
  readonly name: string;
  constructor(module: string, name: string) {
    this.module = module;
    this.name = name;
  }
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
/** What `cls(*args)` (NEWOBJ / REDUCE) and `BUILD state` would have made. */
export class PyObject {
  state: Py | null = null;
  /** Items appended or set on it (list and dict subclasses). */
  readonly listItems: Py[] = [];
  readonly dictItems: [Py, Py][] = [];
  readonly cls: Py;
  readonly args: Py[];
  constructor(cls: Py, args: Py[]) {
    this.cls = cls;
    this.args = args;
  }
  get className(): string {
    return this.cls instanceof PyGlobal ? this.cls.qualified : "object";
  }
}

export type Py = null | boolean | number | bigint | string | PyFloat | PyBytes | PyList | PyTuple | PyDict | PySet | PyGlobal | PyObject;

const MARK = Symbol("mark");
type Slot = Py | typeof MARK;

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Loose = new TextDecoder("utf-8");

/** Deepest nesting read (each level: a list, tuple, dict or object). */
const MAX_STACK = 100_000;

class Reader {
  pos = 0;
  readonly data: Uint8Array;
  constructor(data: Uint8Array) {
    this.data = data;
  }
  byte(): number {
    if (this.pos >= this.data.length) throw new PickleError("pickle ends early");
    return this.data[this.pos++]!;
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.data.length) throw new PickleError("pickle ends early");
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u16(): number {
    const b = this.take(2);
    return b[0]! | (b[1]! << 8);
  }
  u32(): number {
    const b = this.take(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
  i32(): number {
    return this.u32() | 0;
  }
  u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    if (hi > 0x1fffff) throw new PickleError("length too large");
    return hi * 2 ** 32 + lo;
  }
  line(): string {
    const start = this.pos;
    while (this.pos < this.data.length && this.data[this.pos] !== 0x0a) this.pos++;
    if (this.pos >= this.data.length) throw new PickleError("pickle ends early");
    const text = latin1.decode(this.data.subarray(start, this.pos));
    this.pos++;
    return text;
  }
}

/** Little-endian two's complement bytes (LONG1 / LONG4) as an int. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) n -= 1n << BigInt(bytes.length * 8);
  return toInt(n);
}

function toInt(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function parseIntText(text: string): number | bigint {
  const t = text.trim().replace(/L$/, "");
  if (!/^[-+]?\d+$/.test(t)) throw new PickleError(`bad integer ${JSON.stringify(text)}`);
  return toInt(BigInt(t));
}

/** Python's raw-unicode-escape (UNICODE opcode): only \uXXXX and \UXXXXXXXX are escapes. */
function rawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u, U) => String.fromCodePoint(parseInt(u ?? U, 16)));
}

/** A protocol-0 string literal (STRING opcode): a Python repr of bytes. */
function stringLiteral(text: string): string {
  const m = /^(['"])(.*)\1$/s.exec(text.trim());
  if (!m) throw new PickleError("bad STRING literal");
  return m[2]!.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/gs, (_, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: "\n", r: "\r", t: "\t", "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", v: "\v" } as Record<string, string>)[e] ?? `\\${e}`;
  });
}

function isBuiltin(x: Py, module: string, name: string): boolean {
  return x instanceof PyGlobal && x.module === module && x.name === name;
}

/** cls(*args) / func(*args), as data; only data-building builtins are "called". */
function reduce(callable: Py, args: Py): Py {
  const list = args instanceof PyTuple ? args.items : [];
  if (isBuiltin(callable, "builtins", "set") || isBuiltin(callable, "builtins", "frozenset")) {
    const items = list[0] instanceof PyList || list[0] instanceof PyTuple ? [...list[0].items] : [];
    return new PySet(items, (callable as PyGlobal).name === "frozenset");
  }
  if (isBuiltin(callable, "builtins", "bytearray")) {
    const first = list[0];
    if (first instanceof PyBytes) return new PyBytes(first.bytes, true);
    if (typeof first === "string") return new PyBytes(Uint8Array.from(first, (c) => c.charCodeAt(0) & 255), true);
    return new PyBytes(new Uint8Array(0), true);
  }
  if (isBuiltin(callable, "copyreg", "_reconstructor") || isBuiltin(callable, "copy_reg", "_reconstructor")) {
    return new PyObject(list[0] ?? null, []);
  }
  if (isBuiltin(callable, "_codecs", "encode") && typeof list[0] === "string") {
    return new PyBytes(Uint8Array.from(list[0], (c) => c.charCodeAt(0) & 255));
  }
  return new PyObject(callable, list);
}

/** Read a pickle into Py data. Throws PickleError on anything it cannot read. */
export function unpickle(data: Uint8Array): Py {
  const r = new Reader(data);
  const stack: Slot[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Py>();
  const pop = (): Py => {
    if (stack.length === 0) throw new PickleError("stack underflow");
    const top = stack.pop()!;
    if (top === MARK) throw new PickleError("unexpected mark");
    return top;
  };
  const top = (): Py => {
    const t = stack[stack.length - 1];
    if (t === undefined || t === MARK) throw new PickleError("stack underflow");
    return t;
  };
  const popMark = (): Py[] => {
    const at = marks.pop();
    if (at === undefined) throw new PickleError("no mark");
    // The mark itself is the first slot taken.
    return stack.splice(at).slice(1) as Py[];
  };
  const push = (x: Py) => {
    if (stack.length > MAX_STACK) throw new PickleError("pickle too deep");
    stack.push(x);
  };
  const appendTo = (target: Py, items: Py[]) => {
    if (target instanceof PyList) target.items.push(...items);
    else if (target instanceof PyObject) target.listItems.push(...items);
    else throw new PickleError("APPEND to a non-list");
  };
  const setItemsOn = (target: Py, items: Py[]) => {
    if (items.length % 2) throw new PickleError("odd SETITEMS");
    const pairs: [Py, Py][] = [];
    for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
    if (target instanceof PyDict) target.entries.push(...pairs);
    else if (target instanceof PyObject) target.dictItems.push(...pairs);
    else throw new PickleError("SETITEM on a non-dict");
  };
  const get = (i: number): Py => {
    if (!memo.has(i)) throw new PickleError(`memo ${i} missing`);
    return memo.get(i)!;
  };

  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x80: r.byte(); break; // PROTO
      case 0x95: r.take(8); break; // FRAME
      case 0x2e: { // STOP
        const result = pop();
        return result;
      }
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x49: { // INT
        const text = r.line();
        push(text === "01" ? true : text === "00" ? false : parseIntText(text));
        break;
      }
      case 0x4c: push(parseIntText(r.line())); break; // LONG
      case 0x4a: push(r.i32()); break; // BININT
      case 0x4b: push(r.byte()); break; // BININT1
      case 0x4d: push(r.u16()); break; // BININT2
      case 0x8a: push(decodeLong(r.take(r.byte()))); break; // LONG1
      case 0x8b: push(decodeLong(r.take(r.i32()))); break; // LONG4
      case 0x46: push(new PyFloat(Number(r.line()))); break; // FLOAT
      case 0x47: push(new PyFloat(new DataView(r.take(8).slice().buffer).getFloat64(0, false))); break; // BINFLOAT
      case 0x53: push(stringLiteral(r.line())); break; // STRING
      case 0x54: push(latin1.decode(r.take(r.i32()))); break; // BINSTRING
      case 0x55: push(latin1.decode(r.take(r.byte()))); break; // SHORT_BINSTRING
      case 0x56: push(rawUnicodeEscape(r.line())); break; // UNICODE
      case 0x58: push(decodeUtf8(r.take(r.u32()))); break; // BINUNICODE
      case 0x8c: push(decodeUtf8(r.take(r.byte()))); break; // SHORT_BINUNICODE
      case 0x8d: push(decodeUtf8(r.take(r.u64()))); break; // BINUNICODE8
      case 0x42: push(new PyBytes(r.take(r.u32()).slice())); break; // BINBYTES
      case 0x43: push(new PyBytes(r.take(r.byte()).slice())); break; // SHORT_BINBYTES
      case 0x8e: push(new PyBytes(r.take(r.u64()).slice())); break; // BINBYTES8
      case 0x96: push(new PyBytes(r.take(r.u64()).slice(), true)); break; // BYTEARRAY8
      case 0x5d: push(new PyList()); break; // EMPTY_LIST
      case 0x6c: push(new PyList(popMark())); break; // LIST
      case 0x61: { // APPEND
        const item = pop();
        appendTo(top(), [item]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x29: push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        push(new PyTuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        push(new PyTuple([a, b, c]));
        break;
      }
      case 0x7d: push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const d = new PyDict();
        setItemsOn(d, popMark());
        push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        setItemsOn(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItemsOn(top(), items);
        break;
      }
      case 0x8f: push(new PySet([], false)); break; // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet)) throw new PickleError("ADDITEMS to a non-set");
        s.items.push(...items);
        break;
      }
      case 0x91: push(new PySet(popMark(), true)); break; // FROZENSET
      case 0x28: marks.push(stack.length); stack.push(MARK); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: push(top()); break; // DUP
      case 0x67: push(get(parseInt(r.line(), 10))); break; // GET
      case 0x68: push(get(r.byte())); break; // BINGET
      case 0x6a: push(get(r.u32())); break; // LONG_BINGET
      case 0x70: memo.set(parseInt(r.line(), 10), top()); break; // PUT
      case 0x71: memo.set(r.byte(), top()); break; // BINPUT
      case 0x72: memo.set(r.u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x63: { // GLOBAL
        const module = r.line();
        push(new PyGlobal(module, r.line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof name !== "string" || typeof module !== "string") throw new PickleError("STACK_GLOBAL needs two strings");
        push(new PyGlobal(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop(), cls = pop();
        push(new PyObject(cls, args instanceof PyTuple ? args.items : []));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        const args = pop(), cls = pop();
        push(new PyObject(cls, args instanceof PyTuple ? args.items : []));
        break;
      }
      case 0x69: { // INST
        const module = r.line();
        const name = r.line();
        push(new PyObject(new PyGlobal(module, name), popMark()));
        break;
      }
      case 0x6f: { // OBJ
        const items = popMark();
        push(new PyObject(items[0] ?? null, items.slice(1)));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        break;
      }
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")} at byte ${r.pos - 1}`);
    }
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  // Short ASCII (names, keys, most values): cheaper by hand than a TextDecoder call.
  if (bytes.length <= 64) {
    let ascii = true;
    for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    // Python writes lone surrogates with "surrogatepass"; show them replaced rather than fail.
    return utf8Loose.decode(bytes);
  }
}

// ---- names and repr ------------------------------------------------------------

/** The Python type name of a value, as redun's type registry names builtins (`builtins.str`). */
export function pyTypeName(x: Py): string {
  if (x === null) return "builtins.NoneType";
  switch (typeof x) {
    case "boolean": return "builtins.bool";
    case "number":
    case "bigint": return "builtins.int";
    case "string": return "builtins.str";
  }
  if (x instanceof PyFloat) return "builtins.float";
  if (x instanceof PyBytes) return x.bytearray ? "builtins.bytearray" : "builtins.bytes";
  if (x instanceof PyList) return "builtins.list";
  if (x instanceof PyTuple) return "builtins.tuple";
  if (x instanceof PyDict) return "builtins.dict";
  if (x instanceof PySet) return x.frozen ? "builtins.frozenset" : "builtins.set";
  if (x instanceof PyGlobal) return "builtins.type";
  return x.className;
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]|[^\S ]|\u00a0/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Python's repr of a str: single quotes unless it holds ' and no ", non-printables escaped. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c < 0x7f || !NON_PRINTABLE.test(ch)) out += c === 0x7f ? "\\x7f" : ch;
    else out += c < 0x100 ? `\\x${hex(c, 2)}` : c < 0x10000 ? `\\u${hex(c, 4)}` : `\\U${hex(c, 8)}`;
  }
  return out + quote;
}

function bytesRepr(b: Uint8Array): string {
  let hasSingle = false, hasDouble = false;
  for (const c of b) {
    if (c === 0x27) hasSingle = true;
    if (c === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = `b${quote}`;
  for (const c of b) {
    if (c === 0x5c) out += "\\\\";
    else if (c === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\x${hex(c, 2)}`;
  }
  return out + quote;
}

/** Budgeted text: stops growing once past its limit, so a huge value's repr costs its limit, not its size. */
class Out {
  text = "";
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  get full(): boolean {
    return this.text.length > this.limit;
  }
  add(s: string): void {
    if (!this.full) this.text += s;
  }
}

/** Depth of nested values and nested pickles followed. */
const MAX_DEPTH = 64;

function stateDict(obj: PyObject): PyDict | null {
  let state = obj.state;
  // (state, slotstate): __getstate__ of objects with __slots__.
  if (state instanceof PyTuple && state.items.length === 2) {
    const [a, b] = state.items;
    const merged = new PyDict([...(a instanceof PyDict ? a.entries : []), ...(b instanceof PyDict ? b.entries : [])]);
    return merged;
  }
  return state instanceof PyDict ? state : null;
}

function field(obj: PyObject, name: string): Py | undefined {
  return stateDict(obj)?.get(name);
}

/** A nested pickle held in bytes (redun's expressions keep their arguments so), read; undefined when unreadable. */
function nested(x: Py | undefined, depth: number): Py | undefined {
  if (!(x instanceof PyBytes) || depth > MAX_DEPTH) return undefined;
  try {
    return unpickle(x.bytes);
  } catch {
    return undefined;
  }
}

const OPERATORS: Record<string, [symbol: string, reverse: boolean]> = {
  eq: ["==", false], ne: ["!=", false], lt: ["<", false], le: ["<=", false], gt: [">", false], ge: [">=", false],
  add: ["+", false], radd: ["+", true], sub: ["-", false], rsub: ["-", true], mul: ["*", false], rmul: ["*", true],
  div: ["/", false], rdiv: ["/", true], and: ["&", false], rand: ["&", true], or: ["|", false], ror: ["|", true],
};

function writeArguments(out: Out, args: Py | undefined, kwargs: Py | undefined, depth: number): void {
  const parts: (() => void)[] = [];
  if (args instanceof PyTuple || args instanceof PyList) for (const a of args.items) parts.push(() => write(out, a, depth + 1));
  if (kwargs instanceof PyDict) {
    const entries = [...kwargs.entries].sort(([a], [b]) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
    for (const [k, v] of entries) parts.push(() => {
      out.add(`${typeof k === "string" ? k : reprOf(k, depth + 1)}=`);
      write(out, v, depth + 1);
    });
  }
  parts.forEach((part, i) => {
    if (i) out.add(", ");
    part();
  });
}

function reprOf(x: Py, depth: number, limit = 4096): string {
  const out = new Out(limit);
  write(out, x, depth);
  return out.text;
}

/** Known redun classes print as redun prints them; anything else as redun's PreviewClass would. */
function writeObject(out: Out, obj: PyObject, depth: number): void {
  const cls = obj.cls instanceof PyGlobal ? obj.cls : null;
  const module = cls?.module ?? "";
  const name = cls?.name ?? "object";
  if (module === "redun.file" && typeof field(obj, "path") === "string") {
    const hash = field(obj, "hash");
    return out.add(`${name}(path=${field(obj, "path") as string}, hash=${typeof hash === "string" ? hash.slice(0, 8) : "None"})`);
  }
  if (module === "redun.task" && (name === "Task" || name === "SchedulerTask")) {
    const ns = field(obj, "namespace");
    const n = field(obj, "name");
    const hash = field(obj, "hash");
    const fullName = typeof ns === "string" && ns ? `${ns}.${String(n)}` : String(n);
    return out.add(`Task(fullname=${fullName}, hash=${typeof hash === "string" ? hash.slice(0, 8) : "None"})`);
  }
  if (module === "redun.expression") {
    if ((name === "TaskExpression" || name === "SchedulerExpression") && typeof field(obj, "task_name") === "string") {
      out.add(`${field(obj, "task_name") as string}(`);
      writeArguments(out, nested(field(obj, "args"), depth), nested(field(obj, "kwargs"), depth), depth);
      return out.add(")");
    }
    if (name === "SimpleExpression" && typeof field(obj, "func_name") === "string") {
      return writeSimpleExpression(out, field(obj, "func_name") as string, nested(field(obj, "args"), depth), nested(field(obj, "kwargs"), depth), depth);
    }
    if (name === "ValueExpression") {
      out.add("ValueExpression(");
      write(out, nested(field(obj, "value"), depth) ?? null, depth + 1);
      return out.add(")");
    }
  }
  if (module === "redun.scheduler" && name === "ErrorValue") {
    out.add("ErrorValue(");
    write(out, field(obj, "error") ?? null, depth + 1);
    return out.add(")");
  }
  if (module === "builtins" && /(Error|Exception|Warning|Exit|Interrupt|Iteration)$/.test(name)) {
    // BaseException.__repr__: Name(*args).
    out.add(`${name}(`);
    obj.args.forEach((a, i) => {
      if (i) out.add(", ");
      write(out, a, depth + 1);
    });
    return out.add(")");
  }
  // redun's PreviewClass: Name(*args, key=value, ...).
  out.add(`${name}(`);
  let first = true;
  const sep = () => {
    if (!first) out.add(", ");
    first = false;
  };
  for (const a of obj.args) {
    sep();
    write(out, a, depth + 1);
  }
  for (const [k, v] of stateDict(obj)?.entries ?? []) {
    sep();
    out.add(`${typeof k === "string" ? k : reprOf(k, depth + 1)}=`);
    write(out, v, depth + 1);
  }
  out.add(")");
}

function writeSimpleExpression(out: Out, func: string, args: Py | undefined, kwargs: Py | undefined, depth: number): void {
  const items = args instanceof PyTuple ? args.items : [];
  const op = OPERATORS[func];
  if (op && items.length === 2) {
    const [left, right] = op[1] ? [items[1]!, items[0]!] : [items[0]!, items[1]!];
    out.add("(");
    write(out, left, depth + 1);
    out.add(` ${op[0]} `);
    write(out, right, depth + 1);
    return out.add(")");
  }
  if (func === "getitem" && items.length === 2) {
    write(out, items[0]!, depth + 1);
    out.add("[");
    write(out, items[1]!, depth + 1);
    return out.add("]");
  }
  if (func === "getattr" && items.length === 2) {
    write(out, items[0]!, depth + 1);
    return out.add(`.${String(items[1])}`);
  }
  if (func === "call" && items.length === 3) {
    write(out, items[0]!, depth + 1);
    out.add("(");
    writeArguments(out, items[1], items[2], depth);
    return out.add(")");
  }
  out.add(`SimpleExpression('${func}', `);
  write(out, args ?? new PyTuple([]), depth + 1);
  out.add(", ");
  write(out, kwargs ?? new PyDict(), depth + 1);
  out.add(")");
}

function writeItems(out: Out, items: readonly Py[], depth: number): void {
  for (let i = 0; i < items.length && !out.full; i++) {
    if (i) out.add(", ");
    write(out, items[i]!, depth + 1);
  }
}

function write(out: Out, x: Py, depth: number): void {
  if (out.full) return;
  if (depth > MAX_DEPTH) return out.add("...");
  if (x === null) return out.add("None");
  switch (typeof x) {
    case "boolean": return out.add(x ? "True" : "False");
    case "number":
    case "bigint": return out.add(String(x));
    case "string": return out.add(strRepr(x));
  }
  if (x instanceof PyFloat) return out.add(Number.isFinite(x.value) ? pyFloatRepr(x.value) : Number.isNaN(x.value) ? "nan" : x.value > 0 ? "inf" : "-inf");
  if (x instanceof PyBytes) return out.add(x.bytearray ? `bytearray(${bytesRepr(x.bytes)})` : bytesRepr(x.bytes));
  if (x instanceof PyList) {
    out.add("[");
    writeItems(out, x.items, depth);
    return out.add("]");
  }
  if (x instanceof PyTuple) {
    out.add("(");
    writeItems(out, x.items, depth);
    return out.add(x.items.length === 1 ? ",)" : ")");
  }
  if (x instanceof PyDict) {
    out.add("{");
    x.entries.forEach(([k, v], i) => {
      if (out.full) return;
      if (i) out.add(", ");
      write(out, k, depth + 1);
      out.add(": ");
      write(out, v, depth + 1);
    });
    return out.add("}");
  }
  if (x instanceof PySet) {
    if (x.items.length === 0) return out.add(x.frozen ? "frozenset()" : "set()");
    out.add(x.frozen ? "frozenset({" : "{");
    writeItems(out, x.items, depth);
    return out.add(x.frozen ? "})" : "}");
  }
  if (x instanceof PyGlobal) return out.add(`<class '${x.qualified}'>`);
  return writeObject(out, x, depth);
}

/** Python's repr of a value, at most `limit` characters (then cut). */
export function pyRepr(x: Py, limit = 4096): string {
  const text = reprOf(x, 0, limit);
  return text.length > limit ? text.slice(0, limit) : text;
}
