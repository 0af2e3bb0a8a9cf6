// The supervisors' dashboard of the kuozheng ledger: plain JavaScript, no library, nothing fetched
// from anywhere but this server. Figures arrive as integers (money in fen) and rates in [0, 1];
// they are formatted here, at the edge, and each table cell keeps the raw value in data-value.
'use strict';

(function () {
  // ---- state -------------------------------------------------------------------------------

  const TOKEN_KEY = 'kuozheng-token';
  const loads = Number(sessionStorage.getItem('kuozheng-loads') || 0) + 1;
  sessionStorage.setItem('kuozheng-loads', String(loads));
  // window.kz lets a test (or a curious supervisor) see what the page holds; loadId changes only
  // when the page is loaded again.
  const kz = window.kz = {
    loadId: Math.random().toString(36).slice(2) + Date.now().toString(36),
    loads: loads,
    startedAt: performance.now(),
    tableDrawnAt: null,
    seq: 0, // the sequence the figures shown reflect
    liveSeq: 0, // the last sequence announced by /v1/live
    refreshes: 0,
  };

  const S = {
    ins: 'pension',
    group: '',
    sort: { key: null, dir: 1 },
    counties: null, // GET /v1/counties answer
    groups: [], // GET /v1/groups answer's groups
    targets: null,
    series: null,
    seriesAt: 0,
    flagsPage: 1,
    order: [], // county codes in the API's order
    names: {}, // code → name
    live: null,
    forbidden: new Set(),
  };

  const INSURANCES = {
    pension: '养老 pension', unemployment: '失业 unemployment', medical: '医疗 medical',
    work_injury: '工伤 work injury', maternity: '生育 maternity',
  };
  const FLAG_KINDS = {
    arrears_without_enforcement: '欠费未执法 arrears without enforcement',
    waiver_review: '减免待复核 waiver review',
    base_below_floor: '基数低于下限 base below floor',
    park_employer_not_enrolled: '园区单位未参保 park employer not enrolled',
    high_risk_without_work_injury: '高风险未参工伤 high risk, no work injury',
  };
  const MEASURES = {
    pension_insured: '养老参保 pension insured',
    pension_collected_fen: '养老征缴 pension collected',
    unemployment_insured: '失业参保 unemployment insured',
    unemployment_collected_fen: '失业征缴 unemployment collected',
    medical_insured: '医疗参保 medical insured',
    work_injury_insured: '工伤参保 work injury insured',
    maternity_insured: '生育参保 maternity insured',
    contracts_signed: '劳动合同 contracts signed',
  };
  const STAGES = {
    none: '无 none', notice: '催缴通知 notice', inspection: '稽查 inspection', media_exposure: '媒体曝光 media exposure',
    forced_collection: '强制征缴 forced collection', court_application: '申请法院 court application',
    court_result: '法院裁决 court result', closed: '已结清 closed',
  };
  const EVENT_TYPES = {
    'employer.registered': '登记 registered', 'employer.found': '摸底发现 found', 'employer.registration_completed': '补登记 registration completed',
    'employer.changed': '变更 changed', 'survey.counted': '摸底 survey', 'enrollment.recorded': '参保 enrollment',
    'declaration.filed': '申报 declaration', 'assessment.made': '核定 assessment', 'opening_balance.recorded': '期初欠费 opening balance',
    'payment.received': '缴费 payment', 'payment.reversed': '冲正 payment reversed', 'audit_finding.recorded': '稽核 audit finding',
    'waiver.granted': '减免 waiver', 'enforcement.step_recorded': '执法 enforcement', 'contracts.signed': '劳动合同 contracts',
    'employer.transferred': '转移 transfer', 'employer.deregistered': '注销 deregistered',
  };
  const KINDS = { enterprise: '企业 enterprise', institution: '事业单位 institution', individual_business: '个体 individual business', flexible: '灵活就业 flexible' };

  // The county table's columns: `ins` columns read the chosen insurance's figures.
  const COLS = [
    { key: 'name', zh: '区县', en: 'county', kind: 'text' },
    { key: 'insured', ins: true, zh: '参保人数', en: 'insured', kind: 'int' },
    { key: 'coverage_rate', ins: true, zh: '参保率', en: 'coverage', kind: 'rate', num: 'insured', den: 'should_insure' },
    { key: 'contribution_rate', ins: true, zh: '缴费率', en: 'contribution', kind: 'rate', num: 'paid_insured', den: 'insured' },
    { key: 'period_collection_rate', ins: true, zh: '当期征缴率', en: 'collection, period', kind: 'rate', num: 'period_collected_fen', den: 'period_due_fen', money: true },
    { key: 'cumulative_collection_rate', ins: true, zh: '累计征缴率', en: 'collection, cumulative', kind: 'rate', num: 'cumulative_collected_fen', den: 'cumulative_due_fen', money: true },
    { key: 'period_collected_fen', ins: true, zh: '当期实缴', en: 'collected, period', kind: 'money' },
    { key: 'arrears_current_year_fen', ins: true, zh: '当年欠费', en: 'arrears, this year', kind: 'money' },
    { key: 'arrears_prior_years_fen', ins: true, zh: '历年欠费', en: 'arrears, prior years', kind: 'money' },
    { key: 'recovered_fen', ins: true, zh: '清欠', en: 'recovered', kind: 'money' },
    { key: 'flags', zh: '标记', en: 'flags', kind: 'int' },
  ];

  // 20 distinguishable colours; a county keeps its colour whatever the filter.
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22',
    '#7f7f7f', '#393b79', '#ad494a', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#e6550d', '#31a354', '#756bb1'];

  // ---- formatting ----------------------------------------------------------------------------

  const $ = (sel, root) => (root || document).querySelector(sel);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function bi(zh, en) { return [zh + ' ', el('span', { class: 'en' }, en)]; }

  function groupDigits(s) { return s.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }

  function fmtInt(n) {
    if (n === null || n === undefined) return '—';
    return (n < 0 ? '-' : '') + groupDigits(String(Math.abs(Math.trunc(n))));
  }

  // Fen to yuan with two decimals and thousands separators, in integer arithmetic.
  function fmtYuan(fen) {
    if (fen === null || fen === undefined) return '—';
    const neg = fen < 0;
    const a = Math.abs(Math.trunc(fen));
    const yuan = Math.floor(a / 100);
    const cents = String(a % 100).padStart(2, '0');
    return (neg ? '-' : '') + groupDigits(String(yuan)) + '.' + cents;
  }

  // Fen to 万元 (10,000 yuan), for axes and bars.
  function fmtWan(fen, digits) {
    if (fen === null || fen === undefined) return '—';
    let s = (Math.abs(fen) / 1e6).toFixed(digits === undefined ? 1 : digits);
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    const [i, d] = s.split('.');
    return (fen < 0 ? '-' : '') + groupDigits(i) + (d ? '.' + d : '') + '万';
  }

  function fmtRate(r) {
    if (r === null || r === undefined) return '—';
    return (r * 100).toFixed(1) + '%';
  }

  function fmtCell(kind, v) {
    switch (kind) {
      case 'money': return fmtYuan(v);
      case 'rate': return fmtRate(v);
      case 'int': return fmtInt(v);
      default: return v === null || v === undefined ? '—' : String(v);
    }
  }

  function countyName(code) { return S.names[code] || code; }
  function shortId(id) { return id ? id.slice(0, 8) : ''; }

  // ---- API access ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body, path) {
      super((body && (body.detail || body.error)) || ('HTTP ' + status));
      this.status = status;
      this.body = body;
      this.path = path;
    }
  }

  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const getToken = () => sessionStorage.getItem(TOKEN_KEY) || '';

  let tokenPrompt = null; // one prompt at a time, shared by every request that met a 401

  function askToken(reason) {
    if (tokenPrompt) return tokenPrompt;
    const dlg = $('#token-dialog');
    $('#token-reason').replaceChildren(...bi(reason || '服务器要求访问令牌。', 'The server asks for a bearer token.'));
    $('#token-input').value = '';
    tokenPrompt = new Promise(resolve => {
      const done = () => {
        const v = $('#token-input').value.trim();
        if (v) sessionStorage.setItem(TOKEN_KEY, v);
        dlg.removeEventListener('close', done);
        tokenPrompt = null;
        resolve(v);
      };
      dlg.addEventListener('close', done);
      if (!dlg.open) dlg.showModal();
      $('#token-input').focus();
    });
    return tokenPrompt;
  }

  function authHeaders(extra) {
    const h = Object.assign({ Accept: 'application/json' }, extra || {});
    const tok = getToken();
    if (tok) h.Authorization = 'Bearer ' + tok;
    return h;
  }

  // api reads path as JSON: a 401 asks for a token and retries, a 503 for min_seq is retried.
  async function api(path, opts) {
    opts = opts || {};
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(path, { method: opts.method || 'GET', headers: authHeaders(opts.headers), body: opts.body, cache: 'no-store' });
      if (res.status === 401 && attempt < 5) {
        await askToken(getToken() ? '令牌无效或已过期。' : '服务器要求访问令牌。');
        continue;
      }
      if (res.status === 503 && res.headers.get('Retry-After') && attempt < 5) {
        await sleep(1000 * Number(res.headers.get('Retry-After') || 1));
        continue;
      }
      const text = await res.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      if (!res.ok) throw new ApiError(res.status, data, path);
      return { data: data, seq: Number(res.headers.get('X-Ledger-Seq') || 0) };
    }
  }

  // panel runs a panel's loader: a 403 hides the panel (the token's role may not read it), any
  // other error is shown in it.
  async function panel(id, fn) {
    const p = document.getElementById(id);
    try {
      await fn();
      if (p) { p.hidden = false; p.classList.remove('failed'); }
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) {
        S.forbidden.add(id);
        if (p) p.hidden = true;
        showScope();
        return;
      }
      showError(e);
    }
  }

  function showError(e) {
    const box = $('#error');
    box.hidden = false;
    box.textContent = '出错 error: ' + (e && e.message ? e.message : String(e)) + (e && e.path ? ' (' + e.path + ')' : '');
    console.error(e);
  }

  function clearError() { $('#error').hidden = true; }

  // ---- header --------------------------------------------------------------------------------

  function showHeader() {
    const c = S.counties;
    if (c) {
      $('#as-of').textContent = c.as_of;
      $('#period').textContent = c.period;
    }
    $('#seq').textContent = kz.seq ? String(kz.seq) : '—';
    const badge = $('#caught-up');
    const live = S.live;
    let ok = false;
    let text = '—';
    if (live) {
      ok = live.caught_up && kz.seq >= live.seq;
      text = ok ? '已同步 caught up' : '追赶中 catching up' + (live.head ? ' (' + live.head + ')' : '');
    }
    badge.textContent = text;
    badge.className = 'badge ' + (live ? (ok ? 'ok' : 'warn') : '');
    badge.dataset.caughtUp = ok ? 'true' : 'false';
  }

  function setConn(state) {
    const dot = $('#conn');
    dot.className = 'conn ' + state;
    dot.dataset.state = state;
    $('#conn-text').textContent = { on: '实时 live', connecting: '连接中 connecting', off: '已断开 offline' }[state];
  }

  function showScope() {
    const c = S.counties;
    let text = '—';
    if (c) {
      text = c.scope === 'city' ? '全市 all counties' : '可见 ' + c.counties.length + ' 个区县 ' + c.counties.length + ' counties visible';
    }
    if (S.forbidden.size) text += ' · 隐藏 hidden: ' + S.forbidden.size;
    $('#scope').textContent = text;
    $('#scope').title = getToken() ? 'bearer token set' : 'no token sent';
  }

  // ---- county table --------------------------------------------------------------------------

  function figure(f, col) {
    if (col.key === 'name') return f.name || '';
    if (col.key === 'flags') return (f.flags || []).reduce((n, x) => n + (x.count || 0), 0);
    if (col.ins) {
      const x = f.insurances && f.insurances[S.ins];
      return x ? x[col.key] : null;
    }
    return f[col.key];
  }

  function cellTitle(f, col) {
    const x = f.insurances && f.insurances[S.ins];
    if (col.kind === 'rate' && x) {
      const fmt = col.money ? fmtYuan : fmtInt;
      return fmt(x[col.num]) + ' / ' + fmt(x[col.den]);
    }
    if (col.key === 'flags' && f.flags && f.flags.length) {
      return f.flags.map(fl => (FLAG_KINDS[fl.kind] || fl.kind) + ': ' + fl.count).join('\n');
    }
    if (col.key === 'name' && f.code) return f.code + (f.name_en ? ' ' + f.name_en : '');
    return null;
  }

  function buildHead() {
    const tr = $('#counties-head');
    tr.replaceChildren(...COLS.map(col => {
      const th = el('th', { 'data-field': col.key, class: col.kind === 'text' ? 'name' : 'num', scope: 'col', tabindex: 0, title: '排序 sort' },
        col.zh, el('br'), el('span', { class: 'en' }, col.en));
      const sort = () => {
        if (S.sort.key === col.key) S.sort.dir = -S.sort.dir;
        else { S.sort.key = col.key; S.sort.dir = col.kind === 'text' ? 1 : -1; }
        renderCounties();
      };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
      return th;
    }));
  }

  const rowsByKey = new Map();

  // fillRow writes a row's cells, marking those whose value changed since the last drawing.
  function fillRow(tr, f, animate) {
    tr.dataset.insurance = S.ins;
    if (!tr.cells.length) {
      for (const col of COLS) {
        tr.append(el(col.kind === 'text' ? 'th' : 'td', { 'data-field': col.key, class: col.kind === 'text' ? 'name' : 'num', scope: col.kind === 'text' ? 'row' : null }));
      }
    }
    COLS.forEach((col, i) => {
      const td = tr.cells[i];
      const v = figure(f, col);
      const raw = v === null || v === undefined ? '' : String(v);
      const changed = td.dataset.value !== undefined && td.dataset.value !== raw && td.dataset.ins === S.ins;
      td.dataset.value = raw;
      td.dataset.ins = S.ins;
      if (col.key === 'name') {
        td.replaceChildren(f.name || '');
        if (f.code && f.code.length === 6) td.append(el('small', { class: 'code' }, f.code));
      } else {
        td.textContent = fmtCell(col.kind, v);
      }
      const title = cellTitle(f, col);
      if (title) td.title = title; else td.removeAttribute('title');
      if (col.key === 'flags') td.classList.toggle('has-flags', v > 0);
      if (changed && animate) {
        td.classList.remove('changed');
        void td.offsetWidth; // restart the highlight
        td.classList.add('changed');
      }
    });
  }

  function inGroup(code) {
    if (!S.group) return true;
    const c = S.counties && S.counties.counties.find(x => x.code === code);
    return c && String(c.group) === S.group;
  }

  function renderCounties(animate) {
    const data = S.counties;
    if (!data) return;
    let list = (data.counties || []).filter(c => inGroup(c.code));
    if (S.sort.key) {
      const col = COLS.find(c => c.key === S.sort.key);
      list = list.slice().sort((a, b) => {
        const x = figure(a, col), y = figure(b, col);
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        if (col.kind === 'text') return S.sort.dir * String(x).localeCompare(String(y), 'zh-CN');
        return S.sort.dir * (x - y);
      });
    }
    const rows = list.map(c => {
      let tr = rowsByKey.get(c.code);
      if (!tr) { tr = el('tr', { 'data-county': c.code, 'data-group': c.group }); rowsByKey.set(c.code, tr); }
      fillRow(tr, c, animate);
      return tr;
    });
    $('#counties-body').replaceChildren(...rows);
    // Totals: the group chosen, then the city (or the counties the token may see).
    const foot = [];
    if (S.group) {
      const g = S.groups.find(x => String(x.group) === S.group);
      if (g) {
        let tr = rowsByKey.get('group:' + S.group);
        if (!tr) { tr = el('tr', { 'data-county': 'group:' + S.group, class: 'total' }); rowsByKey.set('group:' + S.group, tr); }
        fillRow(tr, Object.assign({}, g, { name: '第' + g.group + '组 group ' + g.group }), animate);
        foot.push(tr);
      }
    }
    if (data.city) {
      let tr = rowsByKey.get('city');
      if (!tr) { tr = el('tr', { 'data-county': 'city', class: 'total' }); rowsByKey.set('city', tr); }
      fillRow(tr, Object.assign({}, data.city, { name: data.scope === 'city' ? '全市 city' : '可见合计 visible' }), animate);
      foot.push(tr);
    }
    $('#counties-foot').replaceChildren(...foot);
    for (const th of $('#counties-head').cells) {
      const on = th.dataset.field === S.sort.key;
      th.classList.toggle('sorted', on);
      th.setAttribute('aria-sort', on ? (S.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      th.dataset.dir = on ? (S.sort.dir > 0 ? '▲' : '▼') : '';
    }
    $('#counties').dataset.seq = String(data.seq);
    if (kz.tableDrawnAt === null && rows.length) {
      kz.tableDrawnAt = performance.now();
      document.body.dataset.tableDrawn = 'true';
    }
  }

  async function loadCounties(minSeq) {
    const q = minSeq ? '?min_seq=' + minSeq : '';
    const r = await api('/v1/counties' + q);
    const data = r.data;
    data.counties = data.counties || [];
    // Answers can arrive out of order: never go back to older figures.
    if (S.counties && data.seq < S.counties.seq) return;
    S.counties = data;
    kz.seq = data.seq;
    for (const c of data.counties) S.names[c.code] = c.name;
    S.order = data.counties.map(c => c.code);
    renderCounties(true);
    clearError();
    showHeader();
    showScope();
    fillCountySelect();
  }

  function fillCountySelect() {
    const sel = $('#flags-county');
    if (sel.options.length > 1) return;
    for (const code of S.order) sel.append(el('option', { value: code }, countyName(code) + ' ' + code));
  }

  async function loadGroups(minSeq) {
    const r = await api('/v1/groups' + (minSeq ? '?min_seq=' + minSeq : ''));
    S.groups = r.data.groups || [];
    const sel = $('#group');
    if (sel.options.length === 1) {
      for (const g of S.groups) sel.append(el('option', { value: g.group }, '第' + g.group + '组 ' + (g.name || '') + ' (group ' + g.group + ')'));
    }
  }

  // ---- targets -------------------------------------------------------------------------------

  function bar(p, compact) {
    const money = p.measure.endsWith('_fen');
    const fmt = money ? v => fmtWan(v) : fmtInt;
    const pct = p.rate === null ? 0 : Math.max(0, Math.min(1, p.rate)) * 100;
    const cls = p.rate === null ? '' : p.rate >= 1 ? 'done' : p.rate >= 0.8 ? 'near' : 'low';
    return el('div', { class: 'bar ' + (compact ? 'compact ' : '') + cls, 'data-measure': p.measure, 'data-value': p.actual, 'data-target': p.target,
      title: (MEASURES[p.measure] || p.measure) + ': ' + (money ? fmtYuan(p.actual) + ' / ' + fmtYuan(p.target) + ' 元' : fmtInt(p.actual) + ' / ' + fmtInt(p.target)) },
    compact ? null : el('span', { class: 'bar-label' }, MEASURES[p.measure] || p.measure),
    el('span', { class: 'bar-track' }, el('span', { class: 'bar-fill', style: 'width:' + pct.toFixed(1) + '%' })),
    el('span', { class: 'bar-num' }, fmtRate(p.rate) + ' ', el('small', null, fmt(p.actual) + '/' + fmt(p.target))));
  }

  function renderTargets() {
    const t = S.targets;
    if (!t) return;
    $('#targets-year').textContent = t.year ? t.year + '年 ' + t.year : '';
    const city = $('#targets-city');
    if (t.note) {
      city.replaceChildren(el('p', { class: 'note' }, '本年度无目标 ' + t.note));
    } else if (!t.city || !t.city.length) {
      city.replaceChildren(el('p', { class: 'note' }, '全市数据不在您的范围 city figures are outside your counties'));
    } else {
      city.replaceChildren(...t.city.map(p => bar(p)));
    }
    const rows = [];
    for (const code of S.order) {
      const list = t.counties && t.counties[code];
      if (!list || !inGroup(code)) continue;
      const pick = m => list.find(p => p.measure === m);
      rows.push(el('tr', { 'data-county': code }, el('th', { scope: 'row', class: 'name' }, countyName(code)),
        el('td', null, pick('pension_insured') ? bar(pick('pension_insured'), true) : '—'),
        el('td', null, pick('pension_collected_fen') ? bar(pick('pension_collected_fen'), true) : '—')));
    }
    $('#targets-counties tbody').replaceChildren(el('tr', null, el('th', null, ''), el('th', null, ...bi('养老参保', 'insured')), el('th', null, ...bi('养老征缴', 'collected'))), ...rows);
  }

  async function loadTargets(minSeq) {
    const r = await api('/v1/targets' + (minSeq ? '?min_seq=' + minSeq : ''));
    S.targets = r.data;
    renderTargets();
  }

  // ---- charts --------------------------------------------------------------------------------

  const SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
    for (const c of children) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function niceStep(max, n) {
    const raw = max / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
    return 10 * mag;
  }

  // lineChart draws lines [{key, name, color, values, strong}] over months into box, with its
  // legend; the viewBox follows the box's width so that text stays readable on a phone.
  function lineChart(box, legend, months, lines, yFmt, yMin) {
    const W = Math.max(300, Math.min(760, box.clientWidth || 640));
    const H = Math.round(Math.max(220, Math.min(320, W * 0.48)));
    const m = { l: 58, r: 14, t: 12, b: 30 };
    let max = yMin || 0;
    for (const ln of lines) for (const v of ln.values) if (v !== null && v > max) max = v;
    if (max <= 0) max = 1;
    const step = niceStep(max, 4);
    const top = Math.ceil(max / step) * step;
    const x = i => m.l + (months.length > 1 ? i * (W - m.l - m.r) / (months.length - 1) : (W - m.l - m.r) / 2);
    const y = v => H - m.b - (v / top) * (H - m.t - m.b);
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', class: 'chart-svg', preserveAspectRatio: 'xMidYMid meet' });
    const grid = svg('g', { class: 'grid' });
    for (let v = 0; v <= top + step / 2; v += step) {
      grid.append(svg('line', { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
      grid.append(svg('text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, yFmt(v)));
    }
    months.forEach((mo, i) => {
      grid.append(svg('line', { x1: x(i), x2: x(i), y1: H - m.b, y2: H - m.b + 4 }));
      const month = Number(mo.slice(5));
      grid.append(svg('text', { x: x(i), y: H - m.b + 17, 'text-anchor': 'middle' }, month + '月'));
    });
    grid.append(svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }));
    grid.append(svg('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
    root.append(grid);
    const plot = svg('g', { class: 'lines' });
    for (const ln of lines) {
      const pts = [];
      const g = svg('g', { 'data-key': ln.key, class: ln.strong ? 'line strong' : 'line' });
      ln.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        pts.push(x(i).toFixed(1) + ',' + y(v).toFixed(1));
        g.append(svg('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: ln.strong ? 3 : 2, fill: ln.color },
          svg('title', null, ln.name + ' ' + months[i] + ': ' + yFmt(v, true))));
      });
      g.prepend(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: ln.color, 'stroke-width': ln.strong ? 3 : 1.6, 'stroke-linejoin': 'round' }));
      plot.append(g);
    }
    root.append(plot);
    box.replaceChildren(root);
    legend.replaceChildren(...lines.map(ln => {
      const li = el('li', { 'data-key': ln.key, class: ln.strong ? 'strong' : null },
        el('span', { class: 'swatch', style: 'background:' + ln.color }), ln.name);
      li.addEventListener('mouseenter', () => { root.classList.add('focus'); plot.querySelector('[data-key="' + ln.key + '"]').classList.add('hi'); });
      li.addEventListener('mouseleave', () => { root.classList.remove('focus'); plot.querySelectorAll('.hi').forEach(n => n.classList.remove('hi')); });
      return li;
    }));
  }

  function colorOf(code) {
    const i = S.order.indexOf(code);
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
  }

  function renderCharts() {
    const s = S.series;
    if (!s) return;
    const counties = (s.counties || []).filter(c => inGroup(c.code));
    const cityName = s.city && s.city.name === '赣州市' ? '赣州市 city' : '可见合计 visible';
    const rateLines = counties.map(c => ({ key: c.code, name: c.name, color: colorOf(c.code), values: c.collection_rate }));
    if (s.city) rateLines.push({ key: 'city', name: cityName, color: '#111', values: s.city.collection_rate, strong: true });
    lineChart($('#chart-rate'), $('#legend-rate'), s.months, rateLines, v => (v * 100).toFixed(0) + '%', 1);
    const arrLines = counties.map(c => ({ key: c.code, name: c.name, color: colorOf(c.code), values: c.arrears_fen }));
    if (s.city && $('#arrears-city').checked) arrLines.push({ key: 'city', name: cityName, color: '#111', values: s.city.arrears_fen, strong: true });
    lineChart($('#chart-arrears'), $('#legend-arrears'), s.months, arrLines, (v, exact) => (exact ? fmtYuan(v) + '元' : fmtWan(v, v < 1e6 && v > 0 ? 2 : 0)));
    $('#panel-charts').dataset.seq = String(s.seq);
  }

  async function loadSeries() {
    for (const id of ['#chart-rate', '#chart-arrears']) {
      if (!S.series) $(id).replaceChildren(el('p', { class: 'computing' }, '计算中 computing…'));
    }
    const r = await api('/v1/series');
    S.series = r.data;
    S.seriesAt = Date.now();
    renderCharts();
  }

  // ---- flags ---------------------------------------------------------------------------------

  async function loadFlags(minSeq) {
    const q = new URLSearchParams({ page: String(S.flagsPage) });
    if ($('#flags-county').value) q.set('county', $('#flags-county').value);
    if ($('#flags-kind').value) q.set('kind', $('#flags-kind').value);
    if (minSeq) q.set('min_seq', String(minSeq));
    const r = await api('/v1/flags?' + q);
    const d = r.data;
    const rows = (d.flags || []).map(f => el('tr', { 'data-county': f.county, 'data-kind': f.kind },
      el('td', { class: 'name' }, countyName(f.county)),
      el('td', null, FLAG_KINDS[f.kind] || f.kind),
      el('td', null, f.employer_id ? el('a', { href: '#/employer/' + f.employer_id, title: f.employer_id }, shortId(f.employer_id)) : '—'),
      el('td', { class: 'detail' }, f.detail || '')));
    if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 4 }, '无标记 no flags')));
    $('#flags tbody').replaceChildren(...rows);
    const pages = Math.max(1, Math.ceil(d.total / d.page_size));
    $('#flags-total').textContent = '共 ' + fmtInt(d.total) + ' 条 ' + fmtInt(d.total) + ' flags';
    $('#flags-page').textContent = d.page + ' / ' + pages;
    $('#flags-prev').disabled = d.page <= 1;
    $('#flags-next').disabled = d.page >= pages;
  }

  // ---- freezes -------------------------------------------------------------------------------

  async function loadFreezes() {
    const r = await api('/v1/freezes');
    const list = (r.data.freezes || []).slice().reverse();
    const rows = list.map(f => {
      const tr = el('tr', { 'data-freeze': f.id, class: 'clickable', tabindex: 0 },
        el('td', null, f.valid_through), el('td', { class: 'num' }, fmtInt(f.through_seq)),
        el('td', null, (f.created_at || '').replace('T', ' ').slice(0, 19)), el('td', { class: 'mono' }, (f.digest || '').slice(0, 12)));
      const open = () => showFreeze(f.id);
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', e => { if (e.key === 'Enter') open(); });
      return tr;
    });
    if (!rows.length) rows.push(el('tr', { class: 'placeholder' }, el('td', { colspan: 4 }, '尚无冻结 no freezes yet')));
    $('#freezes tbody').replaceChildren(...rows);
  }

  const FIGURES = {
    employers: '单位数 employers', should_insure: '应参保 should insure', paid_insured: '足额缴费人数 paid insured',
    period_due_fen: '当期应缴 due, period', cumulative_due_fen: '累计应缴 due, cumulative',
    cumulative_collected_fen: '累计实缴 collected, cumulative', year_collected_fen: '本年征缴 collected, this year',
    late_fee_fen: '滞纳金 late fees', contracts_signed: '劳动合同 contracts signed',
  };

  function figureLabel(path) {
    // e.g. insurances.pension.period_collected_fen
    const parts = path.split('.');
    const last = parts[parts.length - 1];
    const col = COLS.find(c => c.key === last);
    let label = col ? col.zh + ' ' + col.en : FIGURES[last] || last;
    if (parts[0] === 'insurances' && parts[1]) label = (INSURANCES[parts[1]] || parts[1]).split(' ')[0] + ' · ' + label;
    return label;
  }

  function scopeLabel(scope) {
    if (scope === 'city') return '全市 city';
    if (scope.startsWith('group:')) return '第' + scope.slice(6) + '组 group ' + scope.slice(6);
    return countyName(scope);
  }

  async function showFreeze(id) {
    const box = $('#freeze-detail');
    box.hidden = false;
    box.replaceChildren(el('p', { class: 'computing' }, '加载中 loading…'));
    for (const tr of document.querySelectorAll('#freezes tbody tr')) tr.classList.toggle('selected', tr.dataset.freeze === id);
    try {
      const [fr, rs] = await Promise.all([api('/v1/freezes/' + encodeURIComponent(id)), api('/v1/freezes/' + encodeURIComponent(id) + '/restatement')]);
      const f = fr.data, rest = rs.data;
      const figs = f.figures || {};
      const ins = S.ins;
      const rows = (figs.counties || []).map(c => {
        const x = (c.insurances || {})[ins] || {};
        return el('tr', { 'data-county': c.code }, el('th', { scope: 'row', class: 'name' }, c.name),
          el('td', { class: 'num', 'data-field': 'insured', 'data-value': x.insured }, fmtInt(x.insured)),
          el('td', { class: 'num', 'data-field': 'coverage_rate' }, fmtRate(x.coverage_rate)),
          el('td', { class: 'num', 'data-field': 'period_collected_fen', 'data-value': x.period_collected_fen }, fmtYuan(x.period_collected_fen)),
          el('td', { class: 'num', 'data-field': 'period_collection_rate' }, fmtRate(x.period_collection_rate)),
          el('td', { class: 'num', 'data-field': 'arrears_current_year_fen', 'data-value': x.arrears_current_year_fen }, fmtYuan(x.arrears_current_year_fen)));
      });
      const changes = (rest.changes || []).map(c => {
        const money = c.figure.endsWith('_fen');
        const fmt = money ? fmtYuan : fmtInt;
        return el('tr', { 'data-scope': c.scope, 'data-figure': c.figure }, el('td', { class: 'name' }, scopeLabel(c.scope)), el('td', null, figureLabel(c.figure)),
          el('td', { class: 'num' }, fmt(c.frozen)), el('td', { class: 'num' }, fmt(c.now)),
          el('td', { class: 'num ' + (c.delta < 0 ? 'neg' : 'pos') }, (c.delta > 0 ? '+' : '') + fmt(c.delta)));
      });
      const events = (rest.events || []).map(e => el('tr', { 'data-seq': e.seq }, el('td', { class: 'num' }, e.seq),
        el('td', null, EVENT_TYPES[e.type] || e.type), el('td', { class: 'name' }, e.county ? countyName(e.county) : '—'),
        el('td', null, e.employer_id ? el('a', { href: '#/employer/' + e.employer_id }, shortId(e.employer_id)) : '—'),
        el('td', { class: 'nowrap' }, e.occurred_on), el('td', { class: 'nowrap' }, (e.recorded_at || '').replace('T', ' ').slice(0, 19)), el('td', null, e.actor)));
      const head = (...cols) => el('thead', null, el('tr', null, ...cols.map(([zh, en, num]) => el('th', { class: num ? 'num' : null }, ...bi(zh, en)))));
      box.replaceChildren(
        el('h3', null, ...bi('冻结数据', 'Frozen figures'), ' ', el('small', { class: 'mono' }, f.id)),
        el('p', { class: 'note' }, '截至 valid through ' + f.valid_through + ' · 序列 through seq ' + f.through_seq + ' · 链头 chain head ' + (f.chain_head || '').slice(0, 12) + ' · ' + (INSURANCES[ins] || ins)),
        el('div', { class: 'table-wrap scroll-y' }, el('table', { class: 'compact', id: 'freeze-figures' },
          head(['区县', 'county'], ['参保', 'insured', 1], ['参保率', 'coverage', 1], ['当期实缴', 'collected', 1], ['征缴率', 'collection', 1], ['当年欠费', 'arrears', 1]),
          el('tbody', null, ...rows))),
        el('h3', null, ...bi('重述', 'Restatement'), ' ', el('small', null, '冻结后 since the freeze: seq ' + rest.frozen_through_seq + ' → ' + rest.now_seq)),
        changes.length ? el('div', { class: 'table-wrap scroll-y' }, el('table', { class: 'compact', id: 'restatement-changes' },
          head(['范围', 'scope'], ['指标', 'figure'], ['冻结值', 'frozen', 1], ['现值', 'now', 1], ['变动', 'delta', 1]), el('tbody', null, ...changes)))
          : el('p', { class: 'note' }, '无变化 no changes since the freeze'),
        events.length ? el('h3', null, ...bi('相关事件', 'Responsible events'), rest.events_truncated ? el('small', null, ' (仅前 ' + events.length + ' 条 first ' + events.length + ')') : null) : null,
        events.length ? el('div', { class: 'table-wrap scroll-y' }, el('table', { class: 'compact', id: 'restatement-events' },
          head(['序列', 'seq', 1], ['事件', 'event'], ['区县', 'county'], ['单位', 'employer'], ['发生', 'on'], ['记录', 'recorded'], ['操作人', 'actor']), el('tbody', null, ...events))) : null);
    } catch (e) {
      box.replaceChildren(el('p', { class: 'error' }, '无法加载 could not load: ' + e.message));
    }
  }

  // ---- employer page -------------------------------------------------------------------------

  async function searchEmployers(q) {
    const r = await api('/v1/employers?' + new URLSearchParams({ q: q || '', page: '1' }));
    const d = r.data;
    const rows = (d.employers || []).map(e => el('tr', { 'data-employer': e.employer_id },
      el('td', null, el('a', { href: '#/employer/' + e.employer_id }, e.name)), el('td', null, countyName(e.county)),
      el('td', null, KINDS[e.kind] || e.kind), el('td', { class: 'mono' }, e.org_code || '—'), el('td', null, e.registered ? '是 yes' : '否 no')));
    $('#employer-results').hidden = false;
    $('#employer-results tbody').replaceChildren(...rows);
    $('#employer-results-note').textContent = '共 ' + fmtInt(d.total) + ' 个单位 ' + fmtInt(d.total) + ' employers' + (d.total > rows.length ? '，显示前 ' + rows.length + ' 个 showing the first ' + rows.length : '');
  }

  function fact(zh, en, value, attrs) {
    return el('div', attrs || null, el('dt', null, ...bi(zh, en)), el('dd', null, value));
  }

  async function showEmployer(id) {
    const box = $('#employer-detail');
    box.hidden = false;
    $('#employer-name').textContent = '加载中 loading…';
    $('#employer-facts').replaceChildren();
    $('#employer-totals').replaceChildren();
    $('#employer-lines tbody').replaceChildren();
    $('#history tbody').replaceChildren();
    $('#history-chain').textContent = '';
    box.dataset.employer = id;
    try {
      const [er, hr] = await Promise.all([api('/v1/employers/' + encodeURIComponent(id)), api('/v1/employers/' + encodeURIComponent(id) + '/history')]);
      if (box.dataset.employer !== id) return;
      const e = er.data, h = hr.data;
      $('#employer-name').replaceChildren(e.name + ' ', el('small', { class: 'mono' }, e.employer_id));
      const enrolled = Object.entries(e.enrolled || {}).filter(([, n]) => n > 0).map(([k, n]) => (INSURANCES[k] || k).split(' ')[0] + ' ' + n).join('、') || '—';
      $('#employer-facts').replaceChildren(
        fact('区县', 'county', countyName(e.county) + ' ' + e.county),
        fact('类型', 'kind', KINDS[e.kind] || e.kind),
        fact('组织机构代码', 'org code', e.org_code || e.credit_code || '—'),
        fact('风险等级', 'risk class', e.risk_class),
        fact('登记', 'registered', e.registered ? (e.registered_on || '是 yes') : '未登记 not registered'),
        fact('应参保人数', 'workforce', fmtInt(e.workforce)),
        fact('参保', 'enrolled', enrolled),
        fact('执法阶段', 'enforcement stage', STAGES[e.enforcement_stage] || e.enforcement_stage, { 'data-field': 'enforcement_stage', 'data-value': e.enforcement_stage }),
        fact('截至', 'as of', e.as_of + ' · v' + e.version));
      const t = e.totals || {};
      $('#employer-totals').replaceChildren(
        ...[['应缴', 'due', 'due_fen'], ['实缴', 'paid', 'paid_fen'], ['减免', 'waived', 'waived_fen'], ['欠缴', 'outstanding', 'outstanding_fen'],
          ['滞纳金', 'late fee', 'late_fee_fen'], ['当年欠费', 'arrears this year', 'arrears_current_year_fen'],
          ['历年欠费', 'arrears prior years', 'arrears_prior_years_fen'], ['清欠', 'recovered', 'recovered_fen'], ['预缴', 'credit', 'credit_fen']]
          .map(([zh, en, k]) => fact(zh, en, fmtYuan(t[k] || 0) + ' 元', { 'data-field': k, 'data-value': t[k] || 0 })));
      $('#employer-lines tbody').replaceChildren(...(e.lines || []).map(l => el('tr', { class: l.outstanding_fen > 0 ? 'owing' : null },
        el('td', null, l.period), el('td', null, (INSURANCES[l.insurance] || l.insurance)), el('td', null, l.due_date),
        el('td', { class: 'num' }, fmtYuan(l.due_fen)), el('td', { class: 'num' }, fmtYuan(l.paid_fen)), el('td', { class: 'num' }, fmtYuan(l.waived_fen)),
        el('td', { class: 'num', 'data-value': l.outstanding_fen }, fmtYuan(l.outstanding_fen)), el('td', { class: 'num' }, fmtYuan(l.late_fee_fen)))));
      const chain = $('#history-chain');
      chain.textContent = h.chain_ok ? '哈希链完好 chain ok' : '哈希链断裂 chain broken';
      chain.className = 'badge ' + (h.chain_ok ? 'ok' : 'bad');
      chain.dataset.chainOk = String(h.chain_ok);
      $('#history tbody').replaceChildren(...(h.events || []).map(ev => {
        const b = ev.balances || {};
        return el('tr', { 'data-seq': ev.seq, 'data-type': ev.type, class: ev.chain_ok ? null : 'broken' },
          el('td', { class: 'num' }, ev.seq), el('td', null, ev.occurred_on),
          el('td', null, el('details', null, el('summary', null, EVENT_TYPES[ev.type] || ev.type),
            el('pre', null, JSON.stringify(ev.payload, null, 1)), el('small', { class: 'mono' }, 'hash ' + (ev.hash || '').slice(0, 16)))),
          el('td', null, ev.actor), el('td', { class: 'num' }, fmtYuan(b.due_fen)), el('td', { class: 'num' }, fmtYuan(b.paid_fen)),
          el('td', { class: 'num', 'data-value': b.outstanding_fen }, fmtYuan(b.outstanding_fen)), el('td', { class: 'num' }, fmtYuan(b.late_fee_fen)),
          el('td', null, ev.chain_ok ? '✓' : '✗'));
      }));
    } catch (e) {
      const msg = e instanceof ApiError && e.status === 403 ? '无权查看此单位 not allowed to read this employer'
        : e instanceof ApiError && e.status === 404 ? '无此单位 no such employer' : '无法加载 could not load: ' + e.message;
      $('#employer-name').textContent = msg;
    }
  }

  // ---- routing -------------------------------------------------------------------------------

  function route() {
    const h = location.hash || '#/';
    const m = h.match(/^#\/employer(?:\/([^/?]+))?(?:\?q=(.*))?$/);
    $('#view-dashboard').hidden = !!m;
    $('#view-employer').hidden = !m;
    $('#nav-dashboard').classList.toggle('current', !m);
    $('#nav-employer').classList.toggle('current', !!m);
    if (!m) return;
    if (m[1]) {
      showEmployer(decodeURIComponent(m[1]));
    } else {
      $('#employer-detail').hidden = true;
      const q = m[2] ? decodeURIComponent(m[2]) : $('#employer-q').value;
      $('#employer-q').value = q;
      searchEmployers(q).catch(showError);
    }
  }

  // ---- live ----------------------------------------------------------------------------------

  let refreshing = false;
  let pendingSeq = 0;

  // refresh re-reads what the page shows, reflecting at least seq; calls during a refresh are
  // folded into one more.
  async function refresh(seq) {
    pendingSeq = Math.max(pendingSeq, seq);
    if (refreshing) return;
    refreshing = true;
    try {
      for (let tries = 0; pendingSeq > kz.seq && tries < 5; tries++) {
        const want = pendingSeq;
        await panel('panel-counties', async () => {
          await Promise.all([loadCounties(want), S.group ? loadGroups(want) : null]);
          renderCounties(true);
        });
        kz.refreshes++;
        panel('panel-targets', () => loadTargets(want));
        panel('panel-flags', () => loadFlags(want));
        if (Date.now() - S.seriesAt > 30000 && S.series) panel('panel-charts', loadSeries);
        if (kz.seq < want) await sleep(500); // the views answered an older sequence: try again
      }
    } finally {
      refreshing = false;
      showHeader();
    }
  }

  function dispatch(block) {
    let type = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (type !== 'views' || !data.length) return;
    let ev;
    try { ev = JSON.parse(data.join('\n')); } catch (e) { return; }
    S.live = ev;
    kz.liveSeq = ev.seq;
    showHeader();
    if (ev.seq > kz.seq && S.counties) refresh(ev.seq);
  }

  async function live() {
    let backoff = 1000;
    for (;;) {
      setConn('connecting');
      try {
        const res = await fetch('/v1/live', { headers: authHeaders({ Accept: 'text/event-stream' }), cache: 'no-store' });
        if (res.status === 401) {
          setConn('off');
          await askToken('实时更新需要令牌。');
          continue;
        }
        if (res.status === 403) { setConn('off'); return; }
        if (!res.ok || !res.body) throw new Error('live: HTTP ' + res.status);
        setConn('on');
        backoff = 1000;
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          buf = buf.replace(/\r\n/g, '\n');
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            dispatch(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
      } catch (e) {
        console.warn('live stream:', e);
      }
      setConn('off');
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 15000);
    }
  }

  // ---- wiring --------------------------------------------------------------------------------

  function wire() {
    buildHead();
    for (const [k, v] of Object.entries(FLAG_KINDS)) $('#flags-kind').append(el('option', { value: k }, v));
    $('#insurance').addEventListener('change', e => { S.ins = e.target.value; renderCounties(false); });
    $('#group').addEventListener('change', async e => {
      S.group = e.target.value;
      renderCounties(false);
      renderTargets();
      renderCharts();
    });
    $('#arrears-city').addEventListener('change', renderCharts);
    $('#flags-prev').addEventListener('click', () => { S.flagsPage = Math.max(1, S.flagsPage - 1); panel('panel-flags', loadFlags); });
    $('#flags-next').addEventListener('click', () => { S.flagsPage++; panel('panel-flags', loadFlags); });
    $('#flags-county').addEventListener('change', () => { S.flagsPage = 1; panel('panel-flags', loadFlags); });
    $('#flags-kind').addEventListener('change', () => { S.flagsPage = 1; panel('panel-flags', loadFlags); });
    $('#employer-search').addEventListener('submit', e => {
      e.preventDefault();
      const q = $('#employer-q').value.trim();
      const target = '#/employer' + (q ? '?q=' + encodeURIComponent(q) : '');
      if (location.hash === target) route(); else location.hash = target;
    });
    $('#token-change').addEventListener('click', () => askToken('输入新的令牌（留空则不发送）。').then(() => location.reload()));
    $('#token-clear').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); $('#token-input').value = ''; $('#token-dialog').close(); });
    window.addEventListener('hashchange', route);
    let resizeTimer = null;
    window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(renderCharts, 150); });
  }

  async function start() {
    wire();
    route();
    // The table first; the rest after it; the series (slow on a big ledger) last.
    await panel('panel-counties', async () => {
      await Promise.all([loadCounties(0), loadGroups(0).catch(e => { if (!(e instanceof ApiError && e.status === 403)) throw e; })]);
      renderCounties(false);
    });
    live();
    await Promise.all([
      panel('panel-targets', () => loadTargets(0)),
      panel('panel-flags', () => loadFlags(0)),
      panel('panel-freezes', loadFreezes),
    ]);
    await panel('panel-charts', loadSeries);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
