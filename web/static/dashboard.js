// The officials' dashboard. Every figure comes from the JSON API
// (/api/v1/stats/*), fetched same-origin with the session cookie; the page
// holds none itself. Charts are Apache ECharts (vendor/echarts.min.js,
// embedded; no CDN). The CSP allows no inline scripts and no inline style
// attributes: ECharts sets element styles through the CSSOM, which the CSP
// allows, and its tooltips are drawn on the canvas (renderMode "richText")
// instead of as HTML with style attributes, which it would block.
(function () {
  'use strict';

  var root = document.getElementById('dashboard');
  if (!root || typeof echarts === 'undefined') {
    return;
  }
  var fixedProvince = root.getAttribute('data-province') || '';
  var $ = function (id) { return document.getElementById(id); };
  var selects = {
    province: $('f-province'),
    occupation: $('f-occupation'),
    channel: $('f-channel'),
    plan: $('f-plan')
  };

  var LEVELS = ['1', '2', '3', '4', '5'];
  var LEVEL_NAMES = { '1': '一级/高级技师', '2': '二级/技师', '3': '三级/高级工', '4': '四级/中级工', '5': '五级/初级工' };
  var LEVEL_SHORT = { '1': '高级技师', '2': '技师', '3': '高级工', '4': '中级工', '5': '初级工' };
  // From the highest level to the lowest: dark to light blue for the
  // high-skilled tiers, greys for the others, so the chart reads at a
  // glance and in greyscale.
  var LEVEL_COLORS = { '1': '#0b3d91', '2': '#1f6fd1', '3': '#5fa2ee', '4': '#9aa5b1', '5': '#cfd6de' };
  var FONT = 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

  var nf = new Intl.NumberFormat('zh-CN');
  function num(n) { return nf.format(n); }
  function pct(f, digits) { return (f * 100).toFixed(digits === undefined ? 2 : digits) + '%'; }
  // chinaTime writes an instant as YYYY-MM-DD hh:mm:ss in China time,
  // the way every page of the site writes dates, whatever the browser's
  // locale and time zone.
  function chinaTime(iso) {
    var d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    return d.toISOString().slice(0, 19).replace('T', ' ') + '（北京时间）';
  }
  // progressPct writes a ratio as a percentage with at least two
  // significant figures and one decimal, so that 16,011 of 110,000,000
  // reads 0.015%, not 0.0%.
  function progressPct(f) {
    var p = f * 100;
    if (!isFinite(p) || p === 0) { return '0%'; }
    var digits = Math.max(1, 1 - Math.floor(Math.log10(Math.abs(p))));
    return p.toFixed(Math.min(digits, 20)) + '%';
  }
  function targetPct(f) {
    var s = (f * 100).toFixed(2).replace(/\.?0+$/, '');
    return s + '%';
  }
  // 110000000 → "1.1 亿", 87200000 → "8,720 万".
  function big(n) {
    if (n >= 1e8) { return String(Math.round(n / 1e6) / 100).replace(/\.?0+$/, '') + ' 亿'; }
    if (n >= 1e4) { return num(Math.round(n / 1e4)) + ' 万'; }
    return num(n);
  }
  // "广西壮族自治区" → "广西": axis labels for 31 provinces need to be short.
  function shortProvince(name) {
    var m = /^(内蒙古|广西|西藏|宁夏|新疆|香港|澳门)/.exec(name);
    if (m) { return m[1]; }
    return name.replace(/(省|市|自治区|特别行政区)$/, '');
  }

  // ---- the query ----

  function params() {
    var p = new URLSearchParams();
    var province = fixedProvince || selects.province.value;
    if (province) { p.set('province', province); }
    if (selects.occupation.value) { p.set('occupation', selects.occupation.value); }
    if (selects.channel.value) { p.set('channel', selects.channel.value); }
    if (selects.plan.value) { p.set('plan', selects.plan.value); }
    return p;
  }

  function withParams(path, p, extra) {
    var q = new URLSearchParams(p);
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    var s = q.toString();
    return s ? path + '?' + s : path;
  }

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (r.status === 401) {
        // The session ended: log in again and come back.
        window.location.assign('/login?next=' + encodeURIComponent(window.location.pathname + window.location.search));
        throw new Error('登录已过期，请重新登录 · Your session has ended; log in again.');
      }
      return r.json().catch(function () { return null; }).then(function (body) {
        if (!r.ok) {
          var msg = body && body.error && body.error.message ? body.error.message : 'HTTP ' + r.status;
          throw new Error(msg);
        }
        return body;
      });
    });
  }

  // ---- charts ----

  var charts = {};
  function chart(id) {
    if (!charts[id]) {
      charts[id] = echarts.init($(id), null, { renderer: 'canvas' });
    }
    return charts[id];
  }

  // rendered resolves when the chart has finished drawing the option set
  // after it is called (animations included).
  function rendered(c) {
    return new Promise(function (resolve) {
      var done = function () { c.off('finished', done); resolve(); };
      c.on('finished', done);
    });
  }

  // legendRoom is the space above a chart's grid for a legend of n
  // entries, which wraps onto more lines in a narrow box.
  function legendRoom(id, n) {
    var perLine = Math.max(1, Math.floor(($(id).clientWidth || 300) / 90));
    return 12 + 26 * Math.ceil(n / perLine);
  }

  var common = {
    textStyle: { fontFamily: FONT },
    aria: { enabled: true },
    tooltip: { renderMode: 'richText', confine: true }
  };

  function levelsChart(tiers) {
    var c = chart('chart-levels');
    var p = rendered(c);
    var total = LEVELS.reduce(function (sum, l) { return sum + (tiers.by_level[l] || 0); }, 0);
    var share = {};
    LEVELS.forEach(function (l) { share[LEVEL_SHORT[l]] = total ? (tiers.by_level[l] || 0) / total : 0; });
    // On a narrow screen the labels round the ring would be cut off:
    // the names and shares go into a legend below it instead.
    var narrow = $('chart-levels').clientWidth < 480;
    c.setOption(Object.assign({}, common, {
      tooltip: Object.assign({}, common.tooltip, { trigger: 'item', formatter: '{b}：{c} 人（{d}%）' }),
      legend: narrow ? { bottom: 0, formatter: function (name) { return name + ' ' + pct(share[name]); } } : { show: false },
      series: [{
        type: 'pie',
        radius: narrow ? ['34%', '60%'] : ['36%', '62%'],
        center: ['50%', narrow ? '42%' : '50%'],
        avoidLabelOverlap: true,
        label: narrow ? { show: false } : { formatter: '{b}\n{d}%' },
        labelLine: { show: !narrow },
        data: LEVELS.map(function (l) {
          return { name: LEVEL_SHORT[l], value: tiers.by_level[l] || 0, itemStyle: { color: LEVEL_COLORS[l] } };
        })
      }]
    }), true);
    return p;
  }

  function provincesChart(table) {
    var c = chart('chart-provinces');
    var p = rendered(c);
    var rows = table.rows.slice().sort(function (a, b) { return b.skilled_workers - a.skilled_workers || a.province.localeCompare(b.province); });
    c.setOption(Object.assign({}, common, {
      tooltip: Object.assign({}, common.tooltip, { trigger: 'axis', axisPointer: { type: 'shadow' } }),
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: legendRoom('chart-provinces', 5), bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: rows.map(function (r) { return shortProvince(r.name); }), axisLabel: { interval: 0, rotate: rows.length > 8 ? 60 : 0 } },
      yAxis: { type: 'value', axisLabel: { formatter: function (v) { return big(v); } } },
      series: LEVELS.map(function (l) {
        return {
          name: LEVEL_SHORT[l], type: 'bar', stack: 'workers', barMaxWidth: 48, itemStyle: { color: LEVEL_COLORS[l] },
          data: rows.map(function (r) { return r.by_level[l] || 0; })
        };
      })
    }), true);
    return p;
  }

  function trendChart(trend) {
    var c = chart('chart-trend');
    var p = rendered(c);
    var years = trend.rows.map(function (r) { return String(r.year); });
    var series = LEVELS.map(function (l) {
      return {
        name: LEVEL_SHORT[l], type: 'bar', stack: 'certificates', barMaxWidth: 48, itemStyle: { color: LEVEL_COLORS[l] },
        data: trend.rows.map(function (r) { return r.certificates[l] || 0; })
      };
    });
    series.push({
      name: '新增技能劳动者', type: 'line', symbol: 'circle', symbolSize: 6, itemStyle: { color: '#c2410c' }, lineStyle: { width: 2 },
      data: trend.rows.map(function (r) { return r.workers_total; })
    });
    c.setOption(Object.assign({}, common, {
      tooltip: Object.assign({}, common.tooltip, { trigger: 'axis' }),
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: legendRoom('chart-trend', 6), bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: years },
      yAxis: { type: 'value', axisLabel: { formatter: function (v) { return big(v); } } },
      series: series
    }), true);
    return p;
  }

  window.addEventListener('resize', function () {
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });

  // ---- headline cards ----

  function setText(id, text) { $(id).textContent = text; }

  function card(prefix, status, valueText, value, targetText, ratio, verdict) {
    var el = $('kpi-' + prefix);
    el.setAttribute('data-status', status);
    var v = $('kpi-' + prefix + '-value');
    v.textContent = valueText;
    v.setAttribute('data-value', String(value));
    setText('kpi-' + prefix + '-target', targetText);
    var bar = $('kpi-' + prefix + '-bar');
    bar.hidden = ratio === null;
    bar.value = ratio === null ? 0 : Math.max(0, Math.min(1, ratio));
    setText('kpi-' + prefix + '-status', verdict);
  }

  function verdict(met, ratio) {
    return met ? '✓ 已达标 · 完成目标的 ' + progressPct(ratio) : '✗ 未达标 · 完成目标的 ' + progressPct(ratio);
  }

  function cards(t) {
    var none = t.skilled_workers === 0;
    var ps = t.progress.skilled_workers;
    if (ps === null || ps === undefined) {
      card('workers', 'na', num(t.skilled_workers), t.skilled_workers, big(t.targets.skilled_workers) + '人（全国）', null,
        '总量目标为全国指标，分省或筛选时不衡量 · The total is a national target.');
    } else {
      card('workers', t.progress.met.skilled_workers ? 'ok' : 'bad', num(t.skilled_workers), t.skilled_workers,
        big(t.targets.skilled_workers) + '人', ps, verdict(t.progress.met.skilled_workers, ps));
    }
    [['technician', 'technician'], ['senior', 'senior_worker'], ['high', 'high_skilled']].forEach(function (k) {
      var share = t.shares[k[1]];
      if (none) {
        card(k[0], 'na', '—', share, targetPct(t.targets[k[1]]), null, '暂无技能劳动者 · No skilled workers in this selection.');
        return;
      }
      card(k[0], t.progress.met[k[1]] ? 'ok' : 'bad', pct(share), share, targetPct(t.targets[k[1]]), t.progress[k[1]],
        verdict(t.progress.met[k[1]], t.progress[k[1]]));
    });
    var certs = $('meta-certificates');
    certs.textContent = num(t.certificates);
    certs.setAttribute('data-value', String(t.certificates));
    var rev = $('meta-revoked');
    rev.textContent = num(t.revoked_certificates);
    rev.setAttribute('data-value', String(t.revoked_certificates));
    setText('meta-plan', t.plan ? t.plan.name : '—');
    var asof = $('meta-asof');
    asof.setAttribute('datetime', t.as_of);
    asof.textContent = chinaTime(t.as_of);
  }

  // ---- the table ----

  var tableRows = [];
  var sortState = { key: 'province', dir: 'asc' };

  function sortValue(r, key) {
    switch (key) {
      case 'province': return r.province;
      case 'skilled_workers': return r.skilled_workers;
      case 'certificates': return r.certificates;
      case 'technician': case 'senior_worker': case 'high_skilled': return r.shares[key];
      default: return r.by_level[key.replace('level', '')] || 0;
    }
  }

  function cell(tr, text, value) {
    var td = document.createElement('td');
    td.textContent = text;
    if (value !== undefined) {
      td.setAttribute('data-value', String(value));
      td.className = 'num';
    }
    tr.appendChild(td);
    return td;
  }

  function renderTable() {
    var key = sortState.key;
    var sign = sortState.dir === 'asc' ? 1 : -1;
    var rows = tableRows.slice().sort(function (a, b) {
      var x = sortValue(a, key), y = sortValue(b, key);
      var c = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return sign * c || a.province.localeCompare(b.province);
    });
    var body = $('province-rows');
    body.textContent = '';
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-province', r.province);
      var th = document.createElement('th');
      th.scope = 'row';
      th.textContent = r.name;
      tr.appendChild(th);
      cell(tr, num(r.skilled_workers), r.skilled_workers);
      LEVELS.forEach(function (l) { cell(tr, num(r.by_level[l] || 0), r.by_level[l] || 0); });
      ['technician', 'senior_worker', 'high_skilled'].forEach(function (k) {
        // Against the plan's target: a mark and a colour (not colour
        // alone), none for a province without skilled workers.
        var met = r.progress.met[k];
        var td = cell(tr, pct(r.shares[k]) + (r.skilled_workers ? (met ? ' ✓' : ' ✗') : ''), r.shares[k]);
        if (r.skilled_workers) {
          td.className += met ? ' ok' : ' bad';
          td.title = met ? '已达标 · target met' : '未达标 · below target';
        }
      });
      cell(tr, num(r.certificates), r.certificates);
      body.appendChild(tr);
    });
    document.querySelectorAll('#province-table thead th').forEach(function (th) {
      var b = th.querySelector('button');
      th.setAttribute('aria-sort', b.getAttribute('data-key') === key ? (sortState.dir === 'asc' ? 'ascending' : 'descending') : 'none');
    });
  }

  document.querySelectorAll('#province-table thead button').forEach(function (b) {
    b.addEventListener('click', function () {
      var key = b.getAttribute('data-key');
      if (sortState.key === key) {
        sortState.dir = sortState.dir === 'asc' ? 'desc' : 'asc';
      } else {
        sortState = { key: key, dir: b.getAttribute('data-type') === 'text' ? 'asc' : 'desc' };
      }
      renderTable();
    });
  });

  // ---- loading ----

  var gen = 0;

  function showError(err) {
    var el = $('dash-error');
    el.textContent = '无法读取统计数据：' + err.message;
    el.hidden = false;
  }

  // scopeText says in words what the figures are about.
  function scopeText() {
    var parts = [];
    var sel = function (s) { return s.options[s.selectedIndex] ? s.options[s.selectedIndex].textContent : ''; };
    parts.push(fixedProvince ? sel(selects.province) + ' · 仅显示本省数据' : (selects.province.value ? sel(selects.province) : '全国'));
    if (selects.occupation.value) { parts.push('职业大类 ' + sel(selects.occupation)); }
    if (selects.channel.value) { parts.push(sel(selects.channel)); }
    return parts.join(' · ');
  }

  function load() {
    gen += 1;
    var my = gen;
    root.setAttribute('data-state', 'loading');
    $('dash-error').hidden = true;
    setText('dash-scope', scopeText());
    var p = params();
    $('csv-tiers').href = withParams('/api/v1/stats/tiers', p, { format: 'csv' });
    $('csv-provinces').href = withParams('/api/v1/stats/provinces', p, { format: 'csv' });
    var tp = new URLSearchParams(p);
    tp.delete('plan'); // the trend is counts only: no targets
    $('csv-trend').href = withParams('/api/v1/stats/trend', tp, { by: 'year', format: 'csv' });
    var shown = new URLSearchParams(p);
    if (fixedProvince) { shown.delete('province'); }
    window.history.replaceState(null, '', shown.toString() ? '?' + shown.toString() : window.location.pathname);
    return Promise.all([
      getJSON(withParams('/api/v1/stats/tiers', p)),
      getJSON(withParams('/api/v1/stats/provinces', p)),
      getJSON(withParams('/api/v1/stats/trend', tp, { by: 'year' }))
    ]).then(function (res) {
      if (my !== gen) { return null; } // a newer choice is loading
      cards(res[0]);
      tableRows = res[1].rows;
      renderTable();
      return Promise.all([levelsChart(res[0]), provincesChart(res[1]), trendChart(res[2])]);
    }).then(function (done) {
      if (done && my === gen) {
        root.setAttribute('data-gen', String(my));
        root.setAttribute('data-state', 'ready');
      }
    }).catch(function (err) {
      if (my === gen) {
        showError(err);
        root.setAttribute('data-gen', String(my));
        root.setAttribute('data-state', 'error');
      }
    });
  }

  function loadPlans() {
    return getJSON('/api/v1/plans').then(function (body) {
      var sel = selects.plan;
      (body.items || []).forEach(function (plan) {
        planNames[plan.id] = plan.name + '（至 ' + plan.end_date + '）';
        if (plan['default']) {
          planNames[''] = '默认：' + planNames[plan.id];
          sel.options[0].textContent = planNames[''];
          return;
        }
        var o = document.createElement('option');
        o.value = plan.id;
        o.textContent = planNames[plan.id];
        sel.appendChild(o);
      });
      showPlanName();
    }).catch(showError);
  }

  // The chosen plan's whole name, under the drop-down: a closed <select>
  // shows only what fits its width, and plan names are long.
  var planNames = {};
  function showPlanName() {
    setText('f-plan-name', planNames[selects.plan.value] || '');
  }
  selects.plan.addEventListener('change', showPlanName);

  // Filters come from the address, so that a view can be bookmarked or
  // sent on, and go back into it as they change.
  var initial = new URLSearchParams(window.location.search);
  ['province', 'occupation', 'channel'].forEach(function (k) {
    if (initial.get(k) && !(k === 'province' && fixedProvince)) { selects[k].value = initial.get(k); }
  });
  Object.keys(selects).forEach(function (k) {
    selects[k].addEventListener('change', load);
  });
  $('filters').addEventListener('submit', function (e) { e.preventDefault(); });

  loadPlans().then(function () {
    if (initial.get('plan')) { selects.plan.value = initial.get('plan'); }
    showPlanName();
    load();
  });
}());
