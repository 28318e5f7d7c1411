// Times for people: local time with its zone ("26 Nov 2026, 10:42 CET"), never bare UTC.

export function formatLocal(iso: string, options: { timeZone?: string; locale?: string } = {}): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(options.locale ?? undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
    timeZone: options.timeZone,
  }).format(date);
}

/** A date of birth ("YYYY-MM-DD") as people read it, without any time-zone shift. */
export function formatBirthDate(value: string | null | undefined, locale?: string): string {
  if (!value) return "not given";
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(locale, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" }).format(date);
}

/** Whether a typed date of birth is a real calendar date, not in the future. */
export function validBirthDate(value: string, today = new Date()): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && y >= 1880 && date <= today;
}
