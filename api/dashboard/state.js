// What the page holds, shared by its modules.

const loads = Number(sessionStorage.getItem('kuozheng-loads') || 0) + 1;
sessionStorage.setItem('kuozheng-loads', String(loads));

// window.kz lets a test (or a curious supervisor) see what the page holds; loadId changes only
// when the page is loaded again.
export const kz = window.kz = {
  loadId: Math.random().toString(36).slice(2) + Date.now().toString(36),
  loads: loads,
  startedAt: performance.now(),
  tableDrawnAt: null,
  seq: 0, // the sequence the figures shown reflect
  groupsSeq: 0, // the sequence of the groups' totals shown, the same as seq once a refresh ends
  liveSeq: 0, // the last sequence announced by /v1/live
  refreshes: 0,
  chartDraws: 0, // how often the charts were drawn, so that a test can wait for a redraw
  lateDropped: 0, // answers dropped for arriving after a newer one, or for another choice
};

export const S = {
  ins: 'pension',
  group: '',
  segment: '', // the segment whose payers the figures count ('' every payer): GET /v1/counties?segment=
  sort: { key: null, dir: 1 },
  counties: null, // GET /v1/counties answer
  groups: [], // GET /v1/groups answer's groups
  groupsLoaded: false, // the groups were asked for (an answer or a 403): a group a link names can be checked
  groupsSegment: '', // the segment of those groups' figures
  targets: null,
  series: null,
  seriesAt: 0,
  correctionsAt: 0, // when the corrections panel was last read
  flagsPage: 1,
  order: [], // county codes in the API's order
  names: {}, // code → name
  live: null,
  forbidden: new Set(),
  today: '', // the business date the employer page read as today (an uncut employer's as_of)
  history: null, // the employer's history as the page last read it uncut (null: cut, which leaves events out)
  principal: null, // who the token acts for, from the employer list's answer
  searchParams: null, // the current search's query
  nextCursor: '',
  conn: 'off', // the live stream: on, connecting or off
  flagsQuery: { county: '', kind: '', q: '', sort: 'amount' }, // the flags panel's filters and order
  hidden: { rate: new Set(), arrears: new Set() }, // the chart lines a legend click hid
};

export function countyName(code) { return S.names[code] || code; }

export function inGroup(code) {
  if (!S.group) return true;
  const c = S.counties && S.counties.counties.find(x => x.code === code);
  return c && String(c.group) === S.group;
}
