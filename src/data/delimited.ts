/** Quotes a field for TSV/CSV output (RFC 4180) when it holds the delimiter, a quote or a newline. */
export function formatField(value: string | number | null | undefined, delimiter: string): string {
  const s = value === null || value === undefined ? '' : String(value);
  return s.includes(delimiter) || s.includes('"') || s.includes('\n') || s.includes('\r') ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatRow(values: (string | number | null | undefined)[], delimiter: string): string {
  return values.map((v) => formatField(v, delimiter)).join(delimiter);
}
