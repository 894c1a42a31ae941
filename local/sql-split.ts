/**
 * Split a migration file into single statements for `D1.batch` (D1's `exec`
 * splits on newlines, which breaks multi-line statements). Knows comments,
 * quoted strings and identifiers, and the `BEGIN ... END` body of a trigger,
 * whose inner semicolons do not end the statement.
 */
export function splitSql(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let depth = 0;
  let words: string[] = [];
  let i = 0;
  const push = (end: number) => {
    const text = stripComments(sql.slice(start, end)).trim();
    if (text) out.push(text);
    start = end + 1;
    words = [];
    depth = 0;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl === -1 ? sql.length : nl + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close === -1 ? sql.length : close + 2;
    } else if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === close) {
          if (close !== "]" && sql[j + 1] === close) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (words.length < 3) words.push(word);
      const isTrigger = words[0] === "CREATE" && (words[1] === "TRIGGER" || words[2] === "TRIGGER");
      if (isTrigger && (word === "BEGIN" || word === "CASE")) depth++;
      else if (isTrigger && word === "END" && depth > 0) depth--;
      i = j;
    } else if (c === ";") {
      if (depth === 0) push(i);
      i++;
    } else i++;
  }
  push(sql.length);
  return out;
}

/** Drop comments outside quotes (D1 accepts them inside a statement, but a statement of only comments fails). */
function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "-" && text[i + 1] === "-") {
      const nl = text.indexOf("\n", i);
      i = nl === -1 ? text.length : nl;
    } else if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      i = close === -1 ? text.length : close + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === c && text[j + 1] !== c)) j += text[j] === c ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
