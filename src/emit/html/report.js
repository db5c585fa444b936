/*
 * svchunt report: draws the findings embedded in #svchunt-data as a summary, a timeline, a
 * lateral-movement graph and a findings table.
 *
 * Every string in the data comes from event logs, that is from whoever ran the tool, so it only
 * ever reaches the page through textContent, createTextNode or setAttribute on non-script
 * attributes: never innerHTML, never a URL. The page's CSP forbids anything else anyway.
 *
 * The page sets data-ready="true" (and data-ready-ms, time since navigation started) on <html>
 * once everything is drawn, and data-errors when something went wrong; the browser test reads
 * both.
 */
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const root = document.documentElement;
  const errorBox = document.getElementById('report-errors');
  let errorCount = 0;

  function reportError(message) {
    errorCount += 1;
    root.setAttribute('data-errors', String(errorCount));
    errorBox.hidden = false;
    errorBox.appendChild(h('div', null, 'Report error: ' + message));
    console.error('svchunt report: ' + message);
  }
  window.addEventListener('error', (ev) => reportError(ev.message || 'script error'));
  // A violation means something tried to run or load that the report did not ship: injected
  // markup, or a change that broke the hashes. Either way the analyst must know.
  document.addEventListener('securitypolicyviolation', (ev) =>
    reportError('blocked by the report\'s security policy: ' + ev.violatedDirective));

  // ---------------------------------------------------------------- DOM helpers (text only)

  function append(parent, children) {
    if (children === null || children === undefined) return parent;
    if (!Array.isArray(children)) children = [children];
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return parent;
  }

  /** An HTML element; attribute values are set as attributes, children as text nodes. */
  function h(tag, attrs, children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') e.className = v;
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    return append(e, children);
  }

  /** An SVG element. */
  function s(tag, attrs, children) {
    const e = document.createElementNS(SVG_NS, tag);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (v !== null && v !== undefined) e.setAttribute(k, String(v));
      }
    }
    return append(e, children);
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
    return e;
  }

  function cut(text, max) {
    return text.length <= max ? text : text.slice(0, max - 1) + '…';
  }

  // ---------------------------------------------------------------- formatting

  function isoMs(ms) {
    return new Date(Math.floor(ms)).toISOString();
  }

  /** A logged time as the data spells it (full precision), made easier to read. */
  function pretty(t) {
    return t ? t.replace('T', ' ') : '';
  }

  function fmtDuration(ms) {
    const a = Math.abs(ms);
    if (a < 10) return (Math.round(ms * 100) / 100) + ' ms';
    if (a < 1000) return Math.round(ms) + ' ms';
    if (a < 120000) return (ms / 1e3).toFixed(1) + ' s';
    if (a < 7200000) return (ms / 6e4).toFixed(1) + ' min';
    if (a < 172800000) return (ms / 3.6e6).toFixed(1) + ' h';
    return (ms / 864e5).toFixed(1) + ' d';
  }

  function plural(n, word) {
    return n.toLocaleString('en') + ' ' + word + (n === 1 ? '' : 's');
  }

  // ---------------------------------------------------------------- data

  // Milestones since navigation start, written to data-timings for the load-time test.
  const timings = [];
  const mark = (name) => timings.push(name + ':' + Math.round(performance.now()));
  mark('script');
  const data = JSON.parse(document.getElementById('svchunt-data').textContent);
  mark('parsed');
  const F = data.findings;
  const hosts = data.hosts;
  // Role id → label; evidence and findings name roles by their index in data.roles.
  const roles = {};
  const roleIds = data.roles.map(([id, label]) => {
    roles[id] = label;
    return id;
  });
  const campaignById = new Map(data.campaigns.map((c) => [c.id, c]));
  const VERDICT_COLOURS = {
    'remote-execution': '#c0392b',
    'local-execution': '#d35400',
    'privilege-escalation': '#8e44ad',
    'suspicious': '#b7950b',
    'benign': '#7f8c8d',
  };
  // Roles that say the service was removed; their ticks are drawn red.
  const REMOVAL_ROLES = new Set(['key-deleted', 'delete-flag-set', 'delete-capable-open-later']);

  for (let i = 0; i < F.length; i++) {
    const f = F[i];
    f.i = i;
    f.toolLabel = f.tool || 'unknown';
    f.hostName = hosts[f.host].name;
    f.sourceLabel = sourceLabel(f.source);
    f.removal = f.removal === null ? null : roleIds[f.removal];
    f.reasons = f.reasons.map((t) => data.texts[t]);
    f.tool_reasons = f.tool_reasons.map((t) => data.texts[t]);
    let first = f.created_ms;
    let last = f.created_ms;
    for (const e of f.evidence) {
      if (e[2] < first) first = e[2];
      if (e[2] > last) last = e[2];
    }
    f.evFirst = first;
    f.evLast = last;
    f.open = f.deleted_ms === null || f.deleted_ms === undefined;
    f.early = !f.open && f.deleted_ms < f.created_ms;
    if (f.open) {
      // No removal known: solid up to the last sign of life, then a fading tail.
      f.start = f.created_ms;
      f.end = Math.max(f.created_ms, last);
    } else {
      f.start = Math.min(f.created_ms, f.deleted_ms);
      f.end = Math.max(f.created_ms, f.deleted_ms);
    }
  }

  /** Where an installation came from, in a few words: address, then the client's name. */
  function sourceLabel(src) {
    if (!src) return '';
    const said = (x) => x && x !== '-';
    const parts = [src.ip, src.client_host || src.workstation].filter(said);
    return parts.length === 2 ? parts[0] + ' (' + parts[1] + ')' : parts.join('');
  }

  /** The host identity svchunt uses: first label of the name, lower case. */
  function hostKey(name) {
    return name.split('.')[0].toLowerCase();
  }
  const hostIndexByKey = new Map(hosts.map((x, i) => [x.key, i]));

  /** A finding's evidence as objects (made on first use: the data holds compact arrays). */
  function evidenceOf(f) {
    if (!f.ev) {
      // [event id, time, epoch ms, file, record id, position or null, role, detail]
      f.ev = f.evidence.map((e) => ({
        id: e[0], time: e[1], ms: e[2], file: e[3], record: e[4],
        at: e[5] !== null ? e[5] : e[4] !== null ? 'record ' + e[4] : '',
        role: roleIds[e[6]], detail: data.texts[e[7]],
      }));
    }
    return f.ev;
  }

  /** What the filter box searches in a finding (made on first search). */
  function searchText(f) {
    if (f.search === undefined) {
      f.search = [
        f.computer, f.service, f.display || '', f.image, f.command || '', f.user || '',
        f.user_sid || '', f.sourceLabel, f.toolLabel, f.verdict, f.reasons.join('\n'),
        f.campaign || '',
      ].join('\n').toLowerCase();
    }
    return f.search;
  }

  function countBy(list, key) {
    const m = new Map();
    for (const x of list) m.set(key(x), (m.get(key(x)) || 0) + 1);
    return m;
  }

  const toolCounts = countBy(F, (f) => f.toolLabel);
  const tools = Array.from(toolCounts.keys()).sort((a, b) =>
    a === 'unknown' ? 1 : b === 'unknown' ? -1 : a.localeCompare(b));
  // Twenty distinguishable colours: svchunt knows more tool families than ten.
  const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948',
    '#b07aa1', '#ff9da7', '#9c755f', '#17becf', '#1f3a93', '#a0522d', '#2ca02c', '#d62728',
    '#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#005f73', '#ee9b00'];
  const UNKNOWN_TOOL_COLOUR = '#6b7f99';
  const toolIndex = new Map(tools.map((t, i) => [t, i]));
  function toolColour(t) {
    return t === 'unknown' ? UNKNOWN_TOOL_COLOUR : PALETTE[toolIndex.get(t) % PALETTE.length];
  }

  // ---------------------------------------------------------------- filter state

  const state = {
    q: '',
    verdict: '',
    tool: '',
    host: '',
    edge: null,
    sort: 'created',
    dir: 1,
    page: 0,
    expanded: new Set(),
    selected: -1,
  };
  let visible = F.slice();

  function matches(f) {
    if (state.verdict && f.verdict !== state.verdict) return false;
    if (state.tool && f.toolLabel !== state.tool) return false;
    if (state.host && hosts[f.host].key !== state.host) return false;
    if (state.edge && !(f.movement && f.movement.source === state.edge.source && f.computer === state.edge.computer)) return false;
    if (state.q && !searchText(f).includes(state.q)) return false;
    return true;
  }

  const views = [];
  function refresh() {
    visible = F.filter(matches);
    state.page = 0;
    for (const v of views) v(visible);
  }

  // ---------------------------------------------------------------- tooltip

  const tooltip = document.getElementById('tooltip');
  function showTip(ev, lines) {
    clear(tooltip);
    lines.forEach((line, i) => append(tooltip, h('div', { class: i === 0 ? 'tt-head' : null }, line)));
    tooltip.hidden = false;
    const x = Math.min(ev.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
    const y = Math.min(ev.clientY + 14, window.innerHeight - tooltip.offsetHeight - 8);
    tooltip.style.left = Math.max(4, x) + 'px';
    tooltip.style.top = Math.max(4, y) + 'px';
  }
  function hideTip() {
    tooltip.hidden = true;
  }

  function findingLines(f) {
    return [
      f.service + (f.display && f.display !== f.service ? ' (' + f.display + ')' : '') + ' on ' + f.computer,
      'created ' + pretty(f.created),
      f.open ? 'no removal seen' :
        'removed ' + pretty(f.deleted) + ' (' + (roles[f.removal] || 'removal') + ')' +
        (f.early ? ': logged before the creation' : ''),
      f.lifetime_ms !== null ? 'lifetime ' + fmtDuration(f.lifetime_ms) : 'lifetime unknown',
      'tool ' + f.toolLabel + ' · ' + f.verdict,
      'by ' + (f.user || 'unknown account') + ' from ' + (f.sourceLabel || 'unknown source'),
      cut(f.image, 160),
    ];
  }

  // ---------------------------------------------------------------- filters bar

  function buildFilters() {
    const nav = document.getElementById('filters');
    const input = h('input', {
      type: 'search', id: 'filter-text', placeholder: 'Filter: host, service, image path, user, source…',
      'aria-label': 'Filter text',
    });
    let timer = 0;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => { state.q = input.value.trim().toLowerCase(); refresh(); }, 120);
    });
    function select(id, label, all, options, key) {
      const sel = h('select', { id, 'aria-label': label }, [h('option', { value: '' }, all)]);
      for (const [value, text] of options) append(sel, h('option', { value }, text));
      sel.addEventListener('change', () => { state[key] = sel.value; refresh(); });
      return sel;
    }
    const verdictCounts = countBy(F, (f) => f.verdict);
    const vSel = select('filter-verdict', 'Verdict', 'All verdicts',
      data.verdicts.filter((v) => verdictCounts.has(v)).map((v) => [v, v + ' (' + verdictCounts.get(v) + ')']),
      'verdict');
    const tSel = select('filter-tool', 'Tool', 'All tools',
      tools.map((t) => [t, t + ' (' + toolCounts.get(t) + ')']), 'tool');
    const hostCounts = countBy(F, (f) => hosts[f.host].key);
    const hSel = select('filter-host', 'Host', 'All hosts',
      hosts.filter((x) => hostCounts.has(x.key)).map((x) => [x.key, x.name + ' (' + hostCounts.get(x.key) + ')']),
      'host');
    const edgeChip = h('button', { type: 'button', class: 'chip edge-chip', hidden: true });
    edgeChip.addEventListener('click', () => { state.edge = null; refresh(); });
    const count = h('span', { class: 'count', id: 'filter-count' });
    append(nav, [input, vSel, tSel, hSel, edgeChip, count]);
    views.push((list) => {
      count.textContent = list.length === F.length ? plural(F.length, 'finding') :
        list.length.toLocaleString('en') + ' of ' + plural(F.length, 'finding');
      vSel.value = state.verdict;
      tSel.value = state.tool;
      edgeChip.hidden = !state.edge;
      if (state.edge) edgeChip.textContent = 'movement ' + state.edge.label + ' ✕';
    });
  }

  // ---------------------------------------------------------------- summary

  const COVERAGE_COLUMNS = [
    ['system_log', 'System', 'System log read'],
    ['security_log', 'Security', 'Security log read'],
    ['installs_7045', '7045', 'service installs (System)'],
    ['installs_4697', '4697', 'service installs (Security: Audit Security System Extension)'],
    ['privileged_ops_4674', '4674', 'privileged SCM operations (Audit Sensitive Privilege Use): removals'],
    ['state_changes_7036', '7036', 'service started / stopped'],
    ['logons_4624', '4624', 'logons: where an installation came from'],
    ['share_access_5140_5145', '5140/5145', 'share and pipe access (Audit File Share)'],
    ['sysmon', 'Sysmon', 'Sysmon registry events: the exact removal'],
  ];

  function buildSummary() {
    const body = document.querySelector('#summary .body');
    let first = Infinity;
    let last = -Infinity;
    for (const f of F) {
      first = Math.min(first, f.start, f.evFirst);
      last = Math.max(last, f.end, f.evLast);
    }
    const span = F.length ? isoMs(first).replace('T', ' ') + ' – ' + isoMs(last).replace('T', ' ') +
      ' (' + fmtDuration(last - first) + ')' : 'no findings';
    const hostsWithFindings = new Set(F.map((f) => f.host)).size;
    append(body, h('div', { class: 'cards' }, [
      card('Hosts', hosts.length.toLocaleString('en'), hostsWithFindings + ' with findings'),
      card('Findings', F.length.toLocaleString('en'), 'service creations reported'),
      card('Time span', span, 'first to last evidence'),
    ]));

    const verdictCounts = countBy(F, (f) => f.verdict);
    const vList = h('div', { class: 'chips', id: 'summary-verdicts' });
    for (const v of data.verdicts) {
      if (!verdictCounts.has(v)) continue;
      const b = h('button', { type: 'button', class: 'chip', 'data-verdict': v }, [
        h('span', { class: 'swatch', style: null }), v + ' ', h('b', null, String(verdictCounts.get(v))),
      ]);
      b.firstChild.style.background = VERDICT_COLOURS[v];
      b.addEventListener('click', () => { state.verdict = state.verdict === v ? '' : v; refresh(); });
      append(vList, b);
    }
    const tList = h('div', { class: 'chips', id: 'summary-tools' });
    for (const t of tools) {
      const b = h('button', { type: 'button', class: 'chip', 'data-tool': t }, [
        h('span', { class: 'swatch' }), t + ' ', h('b', null, String(toolCounts.get(t))),
      ]);
      b.firstChild.style.background = toolColour(t);
      b.addEventListener('click', () => { state.tool = state.tool === t ? '' : t; refresh(); });
      append(tList, b);
    }
    append(body, h('div', { class: 'split' }, [
      h('div', null, [h('h3', null, 'Findings by verdict'), vList]),
      h('div', null, [h('h3', null, 'Findings by tool'), tList]),
    ]));

    if (data.campaigns.length) {
      append(body, h('h3', null, 'Campaigns (bursts of creations by one account on one host)'));
      const list = h('ul', { class: 'campaigns', id: 'summary-campaigns' });
      for (const c of data.campaigns) {
        const item = h('li', null, [h('b', null, c.id), ': ' + plural(c.size, 'creation') + ' by ' +
          (c.user.name || c.user.sid || 'unknown account') + ' with ' + (c.tool || 'unknown') + ', ' +
          pretty(c.first) + ' – ' + pretty(c.last)]);
        if (c.payload) {
          append(item, h('details', null, [h('summary', null, 'payload smuggled through the service names (' +
            c.payload.length.toLocaleString('en') + ' characters)'), h('pre', { class: 'cmd decoded' }, c.payload)]));
        }
        append(list, item);
      }
      append(body, list);
    }

    append(body, h('h3', null, 'Audit coverage per host'));
    append(body, h('p', { class: 'note' },
      'What each host\'s logs could show. A missing kind limits what its findings can say: ' +
      'without Sysmon or 4674 a removal can only be dated by 7036 "stopped"; without 4624 there ' +
      'is no source; without a System or Security log, creations logged only there are missed.'));
    const perHost = countBy(F, (f) => f.host);
    const head = h('tr', null, [h('th', null, 'Host'), h('th', { class: 'num' }, 'Findings')]
      .concat(COVERAGE_COLUMNS.map(([, label, title]) => h('th', { title }, label)))
      .concat([h('th', null, 'Could not show')]));
    const rows = hosts.map((host, i) => {
      const cov = host.coverage;
      const cells = COVERAGE_COLUMNS.map(([key, label, title]) => {
        if (!cov) return h('td', { class: 'cov unknown', title: 'no coverage known' }, '?');
        return cov[key] ? h('td', { class: 'cov yes', title: title + ': present' }, '✓') :
          h('td', { class: 'cov no', title: title + ': absent' }, '✗');
      });
      return h('tr', { 'data-host': host.key }, [h('td', null, host.name),
        h('td', { class: 'num' }, String(perHost.get(i) || 0))].concat(cells).concat([
        h('td', { class: 'gaps' }, cov ? (host.gaps.length ? host.gaps.join(', ') : 'every evidence kind present') :
          'not known (findings passed without coverage)'),
      ]));
    });
    append(body, h('div', { class: 'scroll' }, h('table', { class: 'coverage' }, [
      h('thead', null, head), h('tbody', null, rows)])));
  }

  function card(title, value, note) {
    return h('div', { class: 'card' }, [h('div', { class: 'card-t' }, title), h('div', { class: 'card-v' }, value),
      h('div', { class: 'card-n' }, note)]);
  }

  // ---------------------------------------------------------------- timeline

  const TL = {
    LABEL_W: 200,
    AXIS_H: 34,
    ROW_H: 14,
    BAR_H: 10,
    LANE_PAD: 8,
    MAX_ROWS: 8,
    MIN_SPAN: 5, // ms: PsExec's removal logged milliseconds before its creation must separate
    TAIL_PX: 28,
    TICK_LIMIT: 2500, // evidence ticks are drawn when at most this many bars are in view
    view: null,
    lanes: [],
    svg: null,
    frame: 0,
  };
  const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4,
    3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5, 12096e5, 24192e5];
  const SPANS = [['10 ms', 10], ['1 s', 1e3], ['1 min', 6e4], ['1 h', 36e5], ['1 d', 864e5], ['1 w', 6048e5]];

  function fullExtent(list) {
    let a = Infinity;
    let b = -Infinity;
    for (const f of list) {
      a = Math.min(a, f.start, f.evFirst);
      b = Math.max(b, f.end, f.evLast);
    }
    if (!isFinite(a)) {
      a = 0;
      b = 864e5;
    }
    // A little room either side, and at least a few milliseconds for a lone creation.
    const pad = Math.max(b - a, 10) * 0.03 + 1;
    return { start: a - pad, end: b + pad };
  }

  function maxSpan() {
    const e = fullExtent(F);
    return Math.max((e.end - e.start) * 2, 8 * 6048e5);
  }

  function packLanes(list) {
    const byHost = new Map();
    for (const f of list) {
      if (!byHost.has(f.host)) byHost.set(f.host, []);
      byHost.get(f.host).push(f);
    }
    const lanes = [];
    for (const hostIdx of Array.from(byHost.keys()).sort((a, b) => a - b)) {
      const items = byHost.get(hostIdx).slice().sort((a, b) => a.start - b.start || a.i - b.i);
      const rowEnds = [];
      const placed = [];
      for (const f of items) {
        let row = rowEnds.findIndex((end) => end < f.start);
        if (row < 0) {
          if (rowEnds.length < TL.MAX_ROWS) {
            row = rowEnds.length;
            rowEnds.push(f.end);
          } else {
            // Too many at once to give each a row: share the one free soonest.
            row = 0;
            for (let r = 1; r < rowEnds.length; r++) if (rowEnds[r] < rowEnds[row]) row = r;
          }
        }
        rowEnds[row] = Math.max(rowEnds[row], f.end);
        placed.push([f, row]);
      }
      lanes.push({ host: hostIdx, rows: Math.max(1, rowEnds.length), items: placed });
    }
    return lanes;
  }

  function buildTimeline() {
    const body = document.querySelector('#timeline .body');
    const bar = h('div', { class: 'toolbar' });
    const button = (label, title, fn) => {
      const b = h('button', { type: 'button', title }, label);
      b.addEventListener('click', fn);
      append(bar, b);
      return b;
    };
    button('Fit', 'Show every lifecycle', () => { TL.view = fullExtent(visible); draw(); });
    button('−', 'Zoom out', () => zoomAt(0.5, 2));
    button('+', 'Zoom in', () => zoomAt(0.5, 0.5));
    append(bar, h('span', { class: 'sep' }, 'span:'));
    for (const [label, ms] of SPANS) {
      button(label, 'Show ' + label + ' around the centre', () => {
        const c = (TL.view.start + TL.view.end) / 2;
        TL.view = { start: c - ms / 2, end: c + ms / 2 };
        draw();
      });
    }
    const info = h('span', { class: 'view-info', id: 'timeline-view' });
    append(bar, info);
    TL.info = info;

    const legend = h('div', { class: 'legend' });
    for (const t of tools) {
      const sw = h('span', { class: 'swatch' });
      sw.style.background = toolColour(t);
      append(legend, h('span', { class: 'item' }, [sw, t]));
    }
    append(legend, [
      h('span', { class: 'item' }, [h('span', { class: 'swatch open' }), 'no removal seen (fades out)']),
      h('span', { class: 'item' }, [h('span', { class: 'swatch early' }), 'removal logged before creation']),
      h('span', { class: 'item' }, [h('span', { class: 'tick-key' }), 'evidence event']),
      h('span', { class: 'item' }, [h('span', { class: 'tick-key removal' }), 'removal evidence']),
      h('span', { class: 'item hint' }, 'wheel: zoom · drag: pan · click a bar: its row · double-click: zoom to it'),
    ]);

    const wrap = h('div', { class: 'tl-wrap' });
    const svg = s('svg', { class: 'tl', id: 'timeline-svg', role: 'img', 'aria-label': 'Service lifecycles per host over time' });
    wrap.appendChild(svg);
    append(body, [bar, legend, wrap]);
    TL.svg = svg;
    TL.wrap = wrap;

    svg.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const rect = svg.getBoundingClientRect();
      const frac = (ev.clientX - rect.left - TL.LABEL_W) / plotWidth();
      zoomAt(Math.min(1, Math.max(0, frac)), Math.exp(ev.deltaY * 0.0015));
    }, { passive: false });

    let drag = null;
    svg.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, view: TL.view, moved: false };
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener('pointermove', (ev) => {
      if (drag) {
        const dx = ev.clientX - drag.x;
        if (Math.abs(dx) > 3) drag.moved = true;
        if (drag.moved) {
          const per = (drag.view.end - drag.view.start) / plotWidth();
          TL.view = { start: drag.view.start - dx * per, end: drag.view.end - dx * per };
          hideTip();
          schedule();
        }
        return;
      }
      const i = barIndex(ev.target);
      if (i >= 0) showTip(ev, findingLines(F[i]));
      else hideTip();
    });
    svg.addEventListener('pointerup', (ev) => {
      const wasDrag = drag && drag.moved;
      drag = null;
      if (wasDrag) return;
      const i = barIndex(ev.target);
      if (i >= 0) selectFinding(i, true);
    });
    svg.addEventListener('pointerleave', hideTip);
    svg.addEventListener('dblclick', (ev) => {
      const i = barIndex(ev.target);
      if (i >= 0) zoomTo(F[i]);
    });

    views.push((list) => {
      TL.lanes = packLanes(list);
      if (!TL.view) TL.view = fullExtent(list);
      draw();
    });
  }

  function barIndex(target) {
    const i = target && target.getAttribute && target.getAttribute('data-i');
    return i === null || i === undefined || i === false ? -1 : Number(i);
  }

  // Widths are measured once (and on resize), never while drawing: reading a width after
  // inserting thousands of SVG nodes forces a full layout in the middle of the work.
  const widths = { timeline: 1000, graph: 1000 };
  function measure() {
    widths.timeline = TL.wrap.clientWidth || 1000;
    widths.graph = document.querySelector('#graph .body').clientWidth || 1000;
  }

  function plotWidth() {
    return Math.max(300, widths.timeline - TL.LABEL_W - 16);
  }

  function zoomAt(frac, factor) {
    const v = TL.view;
    const span = v.end - v.start;
    const next = Math.min(maxSpan(), Math.max(TL.MIN_SPAN, span * factor));
    const anchor = v.start + frac * span;
    TL.view = { start: anchor - frac * next, end: anchor - frac * next + next };
    schedule();
  }

  function zoomTo(f) {
    const span = Math.max(f.end - f.start, f.evLast - f.evFirst, TL.MIN_SPAN * 4);
    const a = Math.min(f.start, f.evFirst);
    TL.view = { start: a - span * 0.15, end: a + span * 1.15 };
    draw();
  }

  function schedule() {
    if (TL.frame) return;
    TL.frame = requestAnimationFrame(() => { TL.frame = 0; draw(); });
  }

  function draw() {
    const svg = clear(TL.svg);
    const W = plotWidth();
    const v = TL.view;
    const span = v.end - v.start;
    const x0 = TL.LABEL_W;
    const px = (ms) => x0 + ((ms - v.start) / span) * W;
    // Keep coordinates near the plot: browsers draw SVG badly far outside it.
    const clampX = (x) => Math.max(x0 - 20, Math.min(x0 + W + 20, x));

    let height = TL.AXIS_H;
    for (const lane of TL.lanes) height += lane.rows * TL.ROW_H + TL.LANE_PAD * 2;
    height = Math.max(height, TL.AXIS_H + 40);
    svg.setAttribute('width', String(x0 + W + 16));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', '0 0 ' + (x0 + W + 16) + ' ' + height);

    const defs = s('defs');
    for (const t of tools) {
      const g = s('linearGradient', { id: 'fade-' + toolIndex.get(t), x1: 0, x2: 1, y1: 0, y2: 0 }, [
        s('stop', { offset: '0', 'stop-color': toolColour(t), 'stop-opacity': '0.9' }),
        s('stop', { offset: '1', 'stop-color': toolColour(t), 'stop-opacity': '0' }),
      ]);
      defs.appendChild(g);
    }
    defs.appendChild(s('clipPath', { id: 'plot-clip' }, s('rect', { x: x0, y: 0, width: W, height })));
    svg.appendChild(defs);

    // Axis and grid.
    const minStep = (span * 110) / W;
    let step = STEPS.find((st) => st >= minStep);
    if (!step) step = Math.ceil(minStep / 24192e5) * 24192e5;
    const axis = s('g', { class: 'axis' });
    let lastDate = '';
    for (let t = Math.ceil(v.start / step) * step; t <= v.end; t += step) {
      const x = px(t);
      axis.appendChild(s('line', { x1: x, x2: x, y1: TL.AXIS_H - 6, y2: height, class: 'grid' }));
      const iso = isoMs(t);
      let label;
      if (step < 1000) label = iso.slice(11, 23);
      else if (step < 60000) label = iso.slice(11, 19);
      else if (step < 864e5) label = iso.slice(11, 16);
      else label = iso.slice(0, 10);
      axis.appendChild(s('text', { x: x + 3, y: TL.AXIS_H - 10, class: 'tlabel' }, label));
      const date = iso.slice(0, 10);
      if (step < 864e5 && date !== lastDate) {
        axis.appendChild(s('text', { x: x + 3, y: 11, class: 'tdate' }, date));
        lastDate = date;
      }
    }
    svg.appendChild(axis);

    const lanesG = s('g', { class: 'lanes' });
    const barsG = s('g', { class: 'bars', 'clip-path': 'url(#plot-clip)' });
    const ticksG = s('g', { class: 'ticks', 'clip-path': 'url(#plot-clip)' });
    const inView = [];
    let y = TL.AXIS_H;
    TL.lanes.forEach((lane, li) => {
      const laneH = lane.rows * TL.ROW_H + TL.LANE_PAD * 2;
      const host = hosts[lane.host];
      lanesG.appendChild(s('rect', { x: 0, y, width: x0 + W + 16, height: laneH, class: li % 2 ? 'lane odd' : 'lane' }));
      const label = s('text', { x: 8, y: y + Math.min(laneH / 2 + 4, 22), class: 'lane-label' },
        cut(host.name, 26) + ' (' + lane.items.length + ')');
      label.appendChild(s('title', null, host.name));
      lanesG.appendChild(label);
      for (const [f, row] of lane.items) {
        const by = y + TL.LANE_PAD + row * TL.ROW_H + (TL.ROW_H - TL.BAR_H) / 2;
        const tailEnd = f.open ? f.end + (TL.TAIL_PX * span) / W : f.end;
        if (tailEnd < v.start || f.start > v.end) continue;
        inView.push([f, by]);
      }
      y += laneH;
    });
    if (!TL.lanes.length) {
      lanesG.appendChild(s('text', { x: 12, y: TL.AXIS_H + 24, class: 'empty' }, 'No findings in the current filter.'));
    }

    for (const [f, by] of inView) {
      const xa = clampX(px(f.start));
      const xb = clampX(px(f.end));
      const w = Math.max(3, xb - xa);
      const colour = toolColour(f.toolLabel);
      const cls = 'bar v-' + f.verdict + (f.early ? ' early' : '') + (f.open ? ' open' : '') +
        (f.i === state.selected ? ' sel' : '');
      barsG.appendChild(s('rect', { x: xa, y: by, width: w, height: TL.BAR_H, rx: 2, fill: colour, class: cls, 'data-i': f.i }));
      if (f.open) {
        barsG.appendChild(s('rect', {
          x: xa + w, y: by, width: TL.TAIL_PX, height: TL.BAR_H,
          fill: 'url(#fade-' + toolIndex.get(f.toolLabel) + ')', class: 'tail', 'data-i': f.i,
        }));
      }
    }
    const ticksShown = inView.length <= TL.TICK_LIMIT;
    if (ticksShown) {
      for (const [f, by] of inView) {
        for (const e of evidenceOf(f)) {
          if (e.ms < v.start || e.ms > v.end) continue;
          const x = px(e.ms);
          const removal = e.role === f.removal || REMOVAL_ROLES.has(e.role);
          ticksG.appendChild(s('line', {
            x1: x, x2: x, y1: by - 2, y2: by + TL.BAR_H + 2,
            class: removal ? 'tick removal' : 'tick', 'data-i': f.i,
          }));
        }
      }
    }
    svg.appendChild(lanesG);
    svg.appendChild(barsG);
    svg.appendChild(ticksG);
    svg.setAttribute('data-bars', String(inView.length));
    TL.info.textContent = 'showing ' + isoMs(v.start).replace('T', ' ').slice(0, 23) + ' – ' +
      isoMs(v.end).replace('T', ' ').slice(0, 23) + ' (' + fmtDuration(span) + ')' +
      (ticksShown ? '' : ' · zoom in to see evidence ticks');
  }

  // ---------------------------------------------------------------- lateral-movement graph

  function buildGraph() {
    const body = document.querySelector('#graph .body');
    append(body, h('p', { class: 'note' },
      'Where installations came from (the installing logon\'s client address, else the client ' +
      'host name a tool leaked) to the host that ran the service: the edges of ' +
      '`svchunt hunt --format graph`. Remote executions only; local runs, privilege escalation, ' +
      'suspicious and ordinary installs are left out. Edge label: account · tool · count; click ' +
      'an edge to filter the report to it.'));
    const wrap = h('div', { class: 'graph-wrap' });
    append(body, wrap);
    views.push((list) => drawGraph(wrap, list));
  }

  function drawGraph(wrap, list) {
    clear(wrap);
    const edges = new Map();
    const nodes = new Map();
    const node = (key, label, kind) => {
      if (!nodes.has(key)) nodes.set(key, { key, label, kinds: new Set(), aliases: new Set(), layer: 0, pos: 0 });
      nodes.get(key).kinds.add(kind);
      return nodes.get(key);
    };
    for (const f of list) {
      // Edges are exactly `--format graph`'s: one per (source, computer), the source as the
      // graph printer names it (carried in f.movement). Only the drawing joins nodes: a source
      // whose client name is a host of this report is drawn as that host.
      if (!f.movement) continue;
      const mv = f.movement;
      const asHost = mv.hosts.map(hostKey).find((k) => hostIndexByKey.has(k));
      const a = asHost !== undefined ?
        node('host:' + asHost, hosts[hostIndexByKey.get(asHost)].name, 'source') :
        node('src:' + mv.source, mv.source, 'source');
      for (const name of mv.hosts) a.aliases.add(name);
      a.aliases.add(mv.source);
      const b = node('host:' + hosts[f.host].key, hosts[f.host].name, 'target');
      const key = mv.source + '\u0000' + f.computer;
      if (!edges.has(key)) {
        edges.set(key, { a, b, source: mv.source, computer: f.computer, host: f.host, count: 0, accounts: new Map(), tools: new Map(), first: Infinity, last: -Infinity });
      }
      const e = edges.get(key);
      e.count += 1;
      const acct = f.user || 'unknown account';
      e.accounts.set(acct, (e.accounts.get(acct) || 0) + 1);
      e.tools.set(f.toolLabel, (e.tools.get(f.toolLabel) || 0) + 1);
      e.first = Math.min(e.first, f.created_ms);
      e.last = Math.max(e.last, f.created_ms);
    }
    if (!edges.size) {
      append(wrap, h('p', { class: 'empty' }, 'No remote executions in the current filter.'));
      wrap.setAttribute('data-edges', '0');
      return;
    }
    // A source's label names the client host(s) it was seen as: "10.0.0.5 (ATTACKER)".
    for (const n of nodes.values()) {
      if (n.key.startsWith('src:')) {
        const others = Array.from(n.aliases).filter((x) => x !== n.label).sort();
        if (others.length) n.label = n.label + ' (' + others.join(', ') + ')';
      }
    }
    const nodeList = Array.from(nodes.values()).sort((x, y) => x.label.localeCompare(y.label) || (x.key < y.key ? -1 : 1));
    const edgeList = Array.from(edges.values()).sort((x, y) =>
      x.a.label.localeCompare(y.a.label) || x.b.label.localeCompare(y.b.label) || (x.source + x.computer < y.source + y.computer ? -1 : 1));

    // Layers: longest path from the nodes nothing points at, so A → B → C reads left to right.
    // Bounded relaxation: a cycle (B moved back to A) cannot push layers on for ever.
    const maxLayer = Math.min(nodeList.length - 1, 6);
    for (let round = 0; round < nodeList.length; round++) {
      let changed = false;
      for (const e of edgeList) {
        if (e.a === e.b) continue;
        const want = Math.min(maxLayer, e.a.layer + 1);
        if (e.b.layer < want) {
          e.b.layer = want;
          changed = true;
        }
      }
      if (!changed) break;
    }
    const layers = [];
    for (const n of nodeList) {
      while (layers.length <= n.layer) layers.push([]);
      layers[n.layer].push(n);
    }
    layers.forEach((col) => col.forEach((n, i) => { n.pos = i; }));
    // Two barycentre sweeps put each node near the nodes it is joined to: fewer crossings.
    for (let sweep = 0; sweep < 2; sweep++) {
      for (let l = 1; l < layers.length; l++) {
        const bary = new Map();
        for (const n of layers[l]) {
          const preds = edgeList.filter((e) => e.b === n && e.a.layer < l).map((e) => e.a.pos);
          bary.set(n, preds.length ? preds.reduce((p, q) => p + q, 0) / preds.length : n.pos);
        }
        layers[l].sort((x, y) => bary.get(x) - bary.get(y) || x.label.localeCompare(y.label));
        layers[l].forEach((n, i) => { n.pos = i; });
      }
    }

    const NODE_W = 190;
    const NODE_H = 26;
    const ROW = 46;
    const width = Math.max(640, widths.graph);
    const cols = layers.length;
    const colGap = cols > 1 ? (width - NODE_W - 40) / (cols - 1) : 0;
    // Edge labels are stacked left of their target, so a node with many incoming edges gets
    // the height for all their labels.
    const LABEL_H = 13;
    const incoming = new Map(nodeList.map((n) => [n, []]));
    for (const e of edgeList) incoming.get(e.b).push(e);
    const slot = (n) => Math.max(ROW, incoming.get(n).length * LABEL_H + 20);
    const colHeight = (col) => col.reduce((sum, n) => sum + slot(n), 0);
    const tallest = Math.max(...layers.map(colHeight));
    const height = tallest + 40;
    for (const col of layers) {
      let y = 20 + (tallest - colHeight(col)) / 2;
      for (const n of col) {
        n.x = 20 + n.layer * colGap;
        n.y = y + (slot(n) - NODE_H) / 2;
        y += slot(n);
      }
    }
    for (const list of incoming.values()) {
      list.sort((p, q) => p.a.y - q.a.y || p.a.label.localeCompare(q.a.label));
      list.forEach((e, i) => { e.labelY = e.b.y + NODE_H / 2 + (i - (list.length - 1) / 2) * LABEL_H + 4; });
    }
    const svg = s('svg', { class: 'graph', id: 'graph-svg', width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'Lateral movement: sources to targets' });
    svg.appendChild(s('defs', null, s('marker', {
      id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto',
    }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }))));

    const edgesG = s('g', { class: 'edges' });
    const maxCount = Math.max(...edgeList.map((e) => e.count));
    for (const e of edgeList) {
      const x1 = e.a.x + NODE_W;
      const y1 = e.a.y + NODE_H / 2;
      let d;
      let lx;
      let ly;
      if (e.a === e.b) {
        d = 'M' + x1 + ',' + (y1 - 6) + ' C' + (x1 + 40) + ',' + (y1 - 30) + ' ' + (x1 + 40) + ',' + (y1 + 30) + ' ' + x1 + ',' + (y1 + 6);
        lx = x1 + 34;
        ly = y1;
      } else {
        const x2 = e.b.x;
        const y2 = e.b.y + NODE_H / 2;
        const dx = Math.max(40, Math.abs(x2 - x1) / 2);
        d = 'M' + x1 + ',' + y1 + ' C' + (x1 + dx) + ',' + y1 + ' ' + (x2 - dx) + ',' + y2 + ' ' + x2 + ',' + y2;
        // Labels stand in a column just left of their target, one line per incoming edge in
        // the order of their sources: midway labels of crossing edges pile up on each other.
        lx = x2 - 14;
        ly = e.labelY;
      }
      const accounts = Array.from(e.accounts.entries()).sort((p, q) => q[1] - p[1] || p[0].localeCompare(q[0]));
      const toolsHere = Array.from(e.tools.entries()).sort((p, q) => q[1] - p[1] || p[0].localeCompare(q[0]));
      const acctText = cut(accounts[0][0], 28) + (accounts.length > 1 ? ' +' + (accounts.length - 1) : '');
      const toolText = toolsHere.map((t) => t[0]).join('/');
      const label = acctText + ' · ' + cut(toolText, 24) + ' · ×' + e.count;
      const g = s('g', { class: 'edge', 'data-source': e.source, 'data-target': e.computer, 'data-count': e.count, tabindex: 0 });
      const sw = 1.5 + 4 * Math.log(1 + e.count) / Math.log(1 + maxCount);
      g.appendChild(s('path', { d, class: 'edge-hit' }));
      g.appendChild(s('path', { d, class: 'edge-line', 'stroke-width': sw.toFixed(2), 'marker-end': 'url(#arrow)' }));
      g.appendChild(s('text', { x: lx, y: ly, class: 'elabel', 'text-anchor': e.a === e.b ? 'start' : 'end' }, label));
      const tip = [e.source + ' → ' + e.computer, plural(e.count, 'execution'),
        'accounts: ' + accounts.map(([n, c]) => n + ' ×' + c).join(', '),
        'tools: ' + toolsHere.map(([n, c]) => n + ' ×' + c).join(', '),
        'first ' + isoMs(e.first).replace('T', ' ') + ', last ' + isoMs(e.last).replace('T', ' ')];
      g.addEventListener('pointermove', (ev) => showTip(ev, tip));
      g.addEventListener('pointerleave', hideTip);
      const pick = () => {
        state.edge = { source: e.source, computer: e.computer, label: e.source + ' → ' + e.computer };
        hideTip();
        refresh();
      };
      g.addEventListener('click', pick);
      g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') pick(); });
      edgesG.appendChild(g);
    }
    const nodesG = s('g', { class: 'nodes' });
    for (const n of nodeList) {
      const kind = n.kinds.has('target') ? (n.kinds.has('source') ? 'both' : 'target') : 'source';
      const g = s('g', { class: 'node n-' + kind, 'data-key': n.key, transform: 'translate(' + n.x + ',' + n.y + ')' });
      g.appendChild(s('rect', { width: NODE_W, height: NODE_H, rx: 5 }));
      g.appendChild(s('text', { x: 8, y: 17 }, cut(n.label, 27)));
      g.appendChild(s('title', null, n.label + (kind === 'source' ? ' (source)' : kind === 'target' ? ' (target host)' : ' (source and target)')));
      nodesG.appendChild(g);
    }
    svg.appendChild(edgesG);
    svg.appendChild(nodesG);
    wrap.appendChild(svg);
    wrap.setAttribute('data-edges', String(edgeList.length));
  }

  // ---------------------------------------------------------------- findings table

  const PAGE = 200;
  const verdictRank = new Map(data.verdicts.map((v, i) => [v, i]));
  const COLUMNS = [
    { key: 'created', label: 'Created (UTC)', get: (f) => f.created_ms, text: (f) => pretty(f.created) },
    { key: 'host', label: 'Host', get: (f) => f.computer.toLowerCase(), text: (f) => f.computer },
    { key: 'service', label: 'Service', get: (f) => f.service.toLowerCase(), text: (f) => f.service + (f.display && f.display !== f.service ? ' (' + f.display + ')' : ''), cls: 'service' },
    { key: 'image', label: 'Image path', get: (f) => f.image.toLowerCase(), text: (f) => f.image, cls: 'image' },
    { key: 'user', label: 'User', get: (f) => (f.user || '').toLowerCase(), text: (f) => f.user || '' },
    { key: 'source', label: 'Source', get: (f) => f.sourceLabel.toLowerCase(), text: (f) => f.sourceLabel },
    { key: 'tool', label: 'Tool', get: (f) => f.toolLabel, text: (f) => f.toolLabel },
    { key: 'verdict', label: 'Verdict', get: (f) => verdictRank.get(f.verdict), text: (f) => f.verdict, cls: 'verdict' },
    { key: 'lifetime', label: 'Lifetime', get: (f) => (f.lifetime_ms === null ? Infinity : f.lifetime_ms), text: (f) => (f.lifetime_ms === null ? 'not removed' : fmtDuration(f.lifetime_ms)), cls: 'num' },
    { key: 'removal', label: 'Removal evidence', get: (f) => f.removal || '~', text: (f) => (f.removal ? roles[f.removal] : 'not seen'), cls: 'removal' },
  ];

  const T = {};

  function buildTable() {
    const body = document.querySelector('#findings .body');
    const table = h('table', { class: 'findings', id: 'findings-table' });
    const headRow = h('tr');
    for (const c of COLUMNS) {
      const th = h('th', { scope: 'col', 'data-key': c.key, class: c.cls || null },
        h('button', { type: 'button' }, c.label));
      th.addEventListener('click', () => {
        if (state.sort === c.key) state.dir = -state.dir;
        else {
          state.sort = c.key;
          state.dir = 1;
        }
        state.page = 0;
        drawTable();
      });
      headRow.appendChild(th);
    }
    T.head = headRow;
    T.tbody = h('tbody');
    append(table, [h('thead', null, headRow), T.tbody]);
    T.pager = h('div', { class: 'pager' });
    append(body, [h('p', { class: 'note' }, 'Click a header to sort, a row to see its evidence.'),
      h('div', { class: 'scroll' }, table), T.pager]);
    views.push(() => drawTable());
  }

  function sortedVisible() {
    const col = COLUMNS.find((c) => c.key === state.sort);
    const dir = state.dir;
    return visible.slice().sort((a, b) => {
      const x = col.get(a);
      const y = col.get(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return c * dir || a.i - b.i;
    });
  }

  function drawTable() {
    for (const th of T.head.children) {
      const k = th.getAttribute('data-key');
      if (k === state.sort) th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    const rows = sortedVisible();
    T.rows = rows;
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const from = state.page * PAGE;
    const tbody = clear(T.tbody);
    const frag = document.createDocumentFragment();
    for (const f of rows.slice(from, from + PAGE)) {
      const tr = h('tr', { class: 'frow' + (f.i === state.selected ? ' sel' : ''), 'data-i': f.i, tabindex: 0, 'aria-expanded': state.expanded.has(f.i) ? 'true' : 'false' });
      for (const c of COLUMNS) {
        const text = c.text(f);
        const td = h('td', { class: c.cls || null }, c.key === 'image' ? cut(text, 90) : text);
        if (c.key === 'verdict') td.appendChild(h('span', { class: 'vdot' })).style.background = VERDICT_COLOURS[f.verdict];
        if (c.key === 'image' && text.length > 90) td.setAttribute('title', text);
        tr.appendChild(td);
      }
      const toggle = () => {
        if (state.expanded.has(f.i)) state.expanded.delete(f.i);
        else state.expanded.add(f.i);
        drawTable();
      };
      tr.addEventListener('click', toggle);
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); toggle(); } });
      frag.appendChild(tr);
      if (state.expanded.has(f.i)) frag.appendChild(h('tr', { class: 'detail', 'data-i': f.i }, h('td', { colspan: COLUMNS.length }, details(f))));
    }
    tbody.appendChild(frag);
    if (!rows.length) tbody.appendChild(h('tr', null, h('td', { colspan: COLUMNS.length, class: 'empty' }, 'No findings in the current filter.')));

    clear(T.pager);
    const nav = (label, page, disabled) => {
      const b = h('button', { type: 'button', disabled: disabled || null }, label);
      b.addEventListener('click', () => { state.page = page; drawTable(); });
      return b;
    };
    append(T.pager, [
      nav('« first', 0, state.page === 0),
      nav('‹ previous', state.page - 1, state.page === 0),
      h('span', null, rows.length ? (from + 1).toLocaleString('en') + '–' + Math.min(rows.length, from + PAGE).toLocaleString('en') + ' of ' + rows.length.toLocaleString('en') : '0 rows'),
      nav('next ›', state.page + 1, state.page >= pages - 1),
      nav('last »', pages - 1, state.page >= pages - 1),
    ]);
  }

  function details(f) {
    const dl = h('dl', { class: 'facts' });
    const fact = (k, v) => {
      if (v === null || v === undefined || v === '') return;
      append(dl, [h('dt', null, k), h('dd', null, v)]);
    };
    fact('Service', f.service);
    if (f.display && f.display !== f.service) fact('Display name', f.display);
    fact('Image path', h('pre', { class: 'cmd' }, f.image));
    if (f.command) fact('Decoded command', h('pre', { class: 'cmd decoded' }, f.command));
    fact('Type / start / runs as', [f.service_type, f.start_type, f.service_account].map((x) => x || '?').join(' / '));
    fact('Installed by', (f.user || 'unknown') + (f.user_sid && f.user_sid !== f.user ? ' (' + f.user_sid + ')' : ''));
    if (f.source) {
      const src = f.source;
      fact('Source', [
        src.logon_id ? 'logon ' + src.logon_id : null,
        src.logon_type !== null ? 'type ' + src.logon_type : null,
        src.ip ? 'from ' + src.ip : null,
        src.workstation && src.workstation !== '-' ? 'workstation ' + src.workstation : null,
        src.client_host ? 'client host ' + src.client_host : null,
        src.auth ? src.auth : null,
        src.logon_time ? 'at ' + pretty(src.logon_time) : null,
      ].filter(Boolean).join(', ') || 'not known');
      if (src.pipes.length) fact('Pipes opened', src.pipes.join(', '));
      if (src.files_written.length) fact('Files written', src.files_written.join(', '));
    } else {
      fact('Source', 'installing logon not found in the logs');
    }
    fact('Created', pretty(f.created));
    fact('Removed', f.open ? 'no removal seen' : pretty(f.deleted) + ' by ' + (roles[f.removal] || '?') + (f.early ? ' (logged before the creation)' : ''));
    fact('Lifetime', f.lifetime_ms === null ? 'unknown' : fmtDuration(f.lifetime_ms) + ' (' + f.lifetime_ms + ' ms)');
    fact('Tool', f.toolLabel + (f.tool_confidence ? ' (' + f.tool_confidence + ' confidence)' : ''));
    if (f.tool_reasons.length) fact('Tool because', h('ul', null, f.tool_reasons.map((r) => h('li', null, r))));
    if (f.campaign) {
      const c = campaignById.get(f.campaign);
      fact('Campaign', f.campaign + (c ? ': ' + plural(c.size, 'creation') + ' from ' + pretty(c.first) + ' to ' + pretty(c.last) : ''));
      if (c && c.payload) fact('Campaign payload', h('pre', { class: 'cmd decoded' }, c.payload));
    }
    fact('Verdict', f.verdict);
    if (f.reasons.length) fact('Because', h('ul', null, f.reasons.map((r) => h('li', null, r))));

    const show = h('button', { type: 'button', class: 'show-on-timeline' }, 'Show on the timeline');
    show.addEventListener('click', (ev) => {
      ev.stopPropagation();
      state.selected = f.i;
      zoomTo(f);
      document.getElementById('timeline').scrollIntoView({ behavior: 'smooth' });
    });

    const ev = h('table', { class: 'evidence' }, [
      h('thead', null, h('tr', null, ['Time (UTC)', 'Event', 'What it is', 'Detail', 'File', 'Record id', 'Position'].map((x) => h('th', null, x)))),
      h('tbody', null, evidenceOf(f).map((e) => h('tr', { class: e.role === f.removal ? 'removal' : null }, [
        h('td', { class: 'nowrap' }, pretty(e.time)),
        h('td', { class: 'num' }, String(e.id)),
        h('td', null, roles[e.role] || e.role),
        h('td', null, e.detail),
        h('td', { class: 'file' }, data.files[e.file]),
        h('td', { class: 'num' }, e.record === null ? '' : String(e.record)),
        h('td', { class: 'nowrap' }, e.at),
      ]))),
    ]);
    const box = h('div', { class: 'detail-box' }, [dl, show, h('h4', null, plural(f.evidence.length, 'evidence event')), h('div', { class: 'scroll' }, ev)]);
    box.addEventListener('click', (e) => e.stopPropagation());
    return box;
  }

  /** Bring finding `i` into the table, expanded, and scroll to it. */
  function selectFinding(i, scroll) {
    state.selected = i;
    if (!matches(F[i])) {
      state.q = '';
      state.verdict = '';
      state.tool = '';
      state.host = '';
      state.edge = null;
      document.getElementById('filter-text').value = '';
      document.getElementById('filter-host').value = '';
      refresh();
    }
    state.expanded.add(i);
    const pos = sortedVisible().findIndex((f) => f.i === i);
    state.page = Math.max(0, Math.floor(pos / PAGE));
    drawTable();
    draw();
    if (scroll) {
      const row = T.tbody.querySelector('tr.frow[data-i="' + i + '"]');
      if (row) row.scrollIntoView({ behavior: 'smooth', block: 'center' });
    }
  }

  // ---------------------------------------------------------------- start

  mark('prepared');
  buildFilters();
  buildSummary();
  buildTimeline();
  buildGraph();
  buildTable();
  measure();
  mark('built');
  refresh();
  mark('drawn');

  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { measure(); draw(); drawGraph(document.querySelector('#graph .graph-wrap'), visible); }, 150);
  });

  // Force style and layout now, so data-ready-ms counts them, not just the script.
  void document.body.offsetHeight;
  mark('laid-out');
  root.setAttribute('data-timings', timings.join(' '));
  root.setAttribute('data-ready-ms', String(Math.round(performance.now())));
  root.setAttribute('data-ready', 'true');
})();
