// Figures arrive as integers (money in fen) and rates in [0, 1]; they are formatted here, at
// the edge.

function groupDigits(s) { return s.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }

export function fmtInt(n) {
  if (n === null || n === undefined) return '—';
  return (n < 0 ? '-' : '') + groupDigits(String(Math.abs(Math.trunc(n))));
}

// Fen to yuan with two decimals and thousands separators, in integer arithmetic.
export function fmtYuan(fen) {
  if (fen === null || fen === undefined) return '—';
  const neg = fen < 0;
  const a = Math.abs(Math.trunc(fen));
  const yuan = Math.floor(a / 100);
  const cents = String(a % 100).padStart(2, '0');
  return (neg ? '-' : '') + groupDigits(String(yuan)) + '.' + cents;
}

// fmtYuanDigits is fmtYuan of fen written as digits, exact however many (a Number holds whole
// fen exactly up to 2^53 only): the desk's hint beside an amount as it is typed.
export function fmtYuanDigits(digits) {
  const d = digits.replace(/^0+(?=\d)/, '').padStart(3, '0');
  return groupDigits(d.slice(0, -2)) + '.' + d.slice(-2);
}

// Fen to 万元 (10,000 yuan) with two decimals, rounded half away from zero, in integer
// arithmetic: the page's one unit for money (the unit goes in the column's header); the
// exports word flags with the same figures (api/labels.go wan).
export function fmtWan(fen) {
  if (fen === null || fen === undefined) return '—';
  const h = Math.floor((Math.abs(Math.trunc(fen)) + 5000) / 10000); // hundredths of 万元
  return (fen < 0 && h > 0 ? '-' : '') + groupDigits(String(Math.floor(h / 100))) + '.' + String(h % 100).padStart(2, '0');
}

// fmtMoney is fen with its unit in a language (0 Chinese, 1 English): in 万元 from one 万元 on,
// in 元 below it (where 万元 would read 0.00): labels.go's money.
export function fmtMoney(fen, lang) {
  if (Math.abs(fen) < 1000000) return fmtYuan(fen) + (lang ? ' yuan' : ' 元');
  return fmtWan(fen) + (lang ? ' ×10k yuan' : ' 万元');
}

// fmtRate shows a rate to a tenth of a percent; one short of 1 never shows 100.0% (all collected),
// nor one off 0 shows 0.0% (or -0.0%).
export function fmtRate(r) {
  if (r === null || r === undefined) return '—';
  const s = (r * 100).toFixed(1);
  return (r < 1 && s === '100.0' ? '99.9' : r > 0 && s === '0.0' ? '0.1' : r < 0 && s === '-0.0' ? '-0.1' : s) + '%';
}

export function fmtCell(kind, v) {
  switch (kind) {
    case 'money': return fmtWan(v);
    case 'rate': return fmtRate(v);
    case 'int': return fmtInt(v);
    default: return v === null || v === undefined ? '—' : String(v);
  }
}

// An RFC 3339 timestamp to the second, as "2006-12-31 09:30:00".
export function fmtTime(ts) { return (ts || '').replace('T', ' ').slice(0, 19); }

export function shortId(id) { return id ? id.slice(0, 8) : ''; }
