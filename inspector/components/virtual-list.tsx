/**
 * A list that renders only the rows in view (plus a margin), so a job tree
 * of 10,000 rows costs what 50 do. Rows have one fixed height.
 */
import { useState, type Child } from "hono/jsx/dom";

const MARGIN = 12;

export function VirtualList({
  count,
  rowHeight,
  maxHeight,
  renderRow,
  testId,
}: {
  count: number;
  rowHeight: number;
  maxHeight: number;
  renderRow: (index: number) => Child;
  testId?: string;
}) {
  const [top, setTop] = useState(0);
  const height = Math.min(maxHeight, count * rowHeight);
  const first = Math.max(0, Math.floor(top / rowHeight) - MARGIN);
  const last = Math.min(count, Math.ceil((top + height) / rowHeight) + MARGIN);
  const rows: Child[] = [];
  for (let i = first; i < last; i++) rows.push(renderRow(i));
  return (
    <div
      class="vlist"
      data-testid={testId}
      data-count={count}
      style={{ height: `${height}px` }}
      onScroll={(e: Event) => setTop((e.currentTarget as HTMLElement).scrollTop)}
    >
      <div class="vlist-inner" style={{ height: `${count * rowHeight}px` }}>
        <div class="vlist-rows" style={{ transform: `translateY(${first * rowHeight}px)` }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
