// Reads an iCalendar document on stdin and prints, as JSON, every event's
// UID -> {start, end (UTC, ISO 8601), status, sequence}, as ical.js computes them.
import ICAL from "ical.js";

let text = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) text += chunk;

const root = new ICAL.Component(ICAL.parse(text));
for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtimezone);
}
const result = {};
for (const vevent of root.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(vevent);
  result[event.uid] = {
    start: event.startDate.toJSDate().toISOString(),
    end: event.endDate.toJSDate().toISOString(),
    status: vevent.getFirstPropertyValue("status"),
    sequence: event.sequence,
  };
}
process.stdout.write(JSON.stringify(result));
