/**
 * CSV as RFC 4180 writes it, with LF line ends (every RFC 4180 reader
 * accepts them, and line tools read them without a stray CR): a field
 * holding a comma, a double quote, CR or LF is quoted, its quotes doubled.
 */

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One line: the fields escaped, joined by commas, ended by LF. */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\n`;
}

/**
 * The records of a CSV text (RFC 4180: quoted fields may hold commas,
 * doubled quotes and line breaks; lines end with CRLF or LF). A last line
 * without its line end counts; an empty text has no records. Throws on a
 * quote that is not closed or is followed by anything but a separator.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let at = 0;
  while (at < text.length) {
    let field: string;
    if (text[at] === '"') {
      field = '';
      at++;
      for (;;) {
        const quote = text.indexOf('"', at);
        if (quote < 0) throw new Error(`CSV: a quoted field is not closed (record ${records.length + 1})`);
        field += text.slice(at, quote);
        at = quote + 1;
        if (text[at] !== '"') break;
        field += '"';
        at++;
      }
      if (at < text.length && !isSeparator(text, at))
        throw new Error(`CSV: text after a closing quote (record ${records.length + 1})`);
    } else {
      const startAt = at;
      while (at < text.length && !isSeparator(text, at)) at++;
      field = text.slice(startAt, at);
    }
    fields.push(field);
    if (text[at] === ',') {
      at++;
      // A comma at the very end leaves one more, empty, field.
      if (at === text.length) fields.push('');
      continue;
    }
    at += text[at] === '\r' ? 2 : 1;
    records.push(fields);
    fields = [];
  }
  if (fields.length > 0) records.push(fields);
  return records;
}

/** A comma, or a line end (LF, or CRLF). */
function isSeparator(text: string, at: number): boolean {
  const c = text[at];
  return c === ',' || c === '\n' || (c === '\r' && text[at + 1] === '\n');
}
