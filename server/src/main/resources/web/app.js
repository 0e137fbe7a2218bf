// Conveyor web page: upload images for classification, watch the live dashboard,
// browse recent results. Plain ES2020, no build step; Chart.js is the UMD global `Chart`.
'use strict';

(() => {
  const API = {
    info: '/v1/info',
    classify: '/v1/classify',
    stats: '/v1/stats',
    recent: '/v1/recent',
  };
  const STATS_INTERVAL_MS = 1000;
  const RECENT_INTERVAL_MS = 2000;
  const POLL_TIMEOUT_MS = 5000;
  const TOKEN_KEY = 'conveyor.token';

  const state = {
    info: null,
    token: loadToken(),
    charts: null,          // { throughput, latency, ... } once created
    thumbs: new Map(),     // recent id -> { url, failed } (object URLs of gallery images)
    galleryItems: new Map(), // recent id -> gallery DOM node
  };

  // ---------------------------------------------------------------- helpers

  const $ = (selector) => document.querySelector(selector);

  /** Creates an element with an optional class and text (always via textContent). */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const num = (value) => (Number.isFinite(value) ? value : 0);
  const pad2 = (n) => String(n).padStart(2, '0');
  const percent = (score) => `${(num(score) * 100).toFixed(1)}%`;

  function formatMs(ms) {
    if (!Number.isFinite(ms)) return '';
    return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
  }

  /** Epoch seconds -> local "HH:MM:SS". */
  function clock(epochSeconds) {
    const d = new Date(epochSeconds * 1000);
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  }

  function formatDuration(seconds) {
    const s = Math.floor(num(seconds));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return `${d}d ${h}h`;
    if (h > 0) return `${h}h ${pad2(m)}m`;
    if (m > 0) return `${m}m ${pad2(sec)}s`;
    return `${sec}s`;
  }

  function loadToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
  }

  function saveToken(token) {
    state.token = token;
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY);
    } catch { /* storage unavailable: keep it for this page only */ }
  }

  /** fetch() with the bearer token (when one is set) and an optional timeout. */
  async function apiFetch(path, { method = 'GET', body, timeoutMs } = {}) {
    const headers = {};
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const controller = timeoutMs ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : 0;
    try {
      return await fetch(path, { method, body, headers, cache: 'no-store', signal: controller?.signal });
    } finally {
      clearTimeout(timer);
    }
  }

  async function readJson(response) {
    try { return await response.json(); } catch { return null; }
  }

  /** Runs fn every intervalMs (measured start to start), never two at once. */
  function poll(fn, intervalMs) {
    const tick = async () => {
      const started = performance.now();
      try { await fn(); } catch (err) { console.warn('poll failed', err); }
      setTimeout(tick, Math.max(0, intervalMs - (performance.now() - started)));
    };
    tick();
  }

  /** Marks small images (e.g. 28×28 Fashion-MNIST) so they scale up crisp, not blurred. */
  function crispWhenSmall(img) {
    img.addEventListener('load', () => img.classList.toggle('pixelated', img.naturalWidth > 0 && img.naturalWidth < 96));
  }

  // ---------------------------------------------------------------- header

  function renderInfo(info) {
    $('#model-name').textContent = info.model || 'unknown';
    $('#transport').textContent = info.transport || 'unknown';
    $('#results-from').textContent = info.results_from || '';
    $('#results-from-chip').hidden = !info.results_from;
    $('#version').textContent = info.version ? `v${info.version}` : '';
    document.title = info.model ? `Conveyor · ${info.model}` : 'Conveyor';
    if (info.token_required) $('#token-box').hidden = false;
  }

  function setHealth(ok, reason) {
    $('#health').textContent = ok ? 'ok' : 'down';
    const box = $('#health-box');
    box.dataset.state = ok ? 'ok' : 'down';
    box.title = ok ? 'The server answers' : `The server does not answer: ${reason}`;
  }

  function setupToken() {
    const input = $('#token-input');
    input.value = state.token;
    input.addEventListener('change', () => {
      saveToken(input.value.trim());
      retryFailedThumbs();
    });
  }

  // ---------------------------------------------------------------- upload

  function setupUpload() {
    const zone = $('#drop-zone');
    const input = $('#file-input');

    zone.addEventListener('click', () => input.click());
    zone.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); }
    });
    input.addEventListener('change', () => {
      const files = Array.from(input.files || []);
      input.value = ''; // so choosing the same file again fires 'change' again
      submitFiles(files);
    });

    for (const type of ['dragenter', 'dragover']) {
      zone.addEventListener(type, (e) => {
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
        zone.classList.add('dragging');
      });
    }
    zone.addEventListener('dragleave', (e) => {
      if (!zone.contains(e.relatedTarget)) zone.classList.remove('dragging');
    });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('dragging');
      submitFiles(Array.from(e.dataTransfer?.files || []));
    });
    // A file dropped next to the zone must not make the browser navigate away.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());

    $('#clear-results').addEventListener('click', clearResults);
  }

  /** One card and one POST per file, all requests in flight at once. */
  function submitFiles(files) {
    const results = $('#results');
    for (const file of files) {
      const card = createCard(file);
      results.prepend(card);
      classify(file, card);
    }
    updateResultsChrome();
  }

  function updateResultsChrome() {
    const any = $('#results').children.length > 0;
    $('#results-empty').hidden = any;
    $('#clear-results').hidden = !any;
  }

  function clearResults() {
    for (const card of $('#results').querySelectorAll('.result-card')) {
      if (card.dataset.status === 'pending') continue; // keep cards still waiting
      URL.revokeObjectURL(card.dataset.previewUrl);
      card.remove();
    }
    updateResultsChrome();
  }

  function createCard(file) {
    const card = el('article', 'result-card');
    card.dataset.status = 'pending';

    const thumb = el('div', 'card-thumb');
    const img = el('img');
    img.alt = '';
    const url = URL.createObjectURL(file);
    card.dataset.previewUrl = url;
    crispWhenSmall(img);
    img.addEventListener('error', () => thumb.classList.add('no-image'));
    img.src = url;
    thumb.append(img);

    const main = el('div', 'card-main');
    const head = el('div', 'card-head');
    const name = el('span', 'card-name', file.name || 'image');
    name.title = file.name || '';
    head.append(name, el('span', 'badge', 'pending'));

    const body = el('div', 'card-body');
    body.append(el('span', 'spinner'), el('span', 'muted', 'Classifying…'));

    main.append(head, body, el('div', 'card-foot'));
    card.append(thumb, main);
    return card;
  }

  async function classify(file, card) {
    const form = new FormData();
    form.append('image', file, file.name || 'image');
    let response;
    try {
      response = await apiFetch(API.classify, { method: 'POST', body: form });
    } catch (err) {
      showCardError(card, { code: 'NETWORK', message: `Could not reach the server (${err.message}).` });
      return;
    }
    const body = await readJson(response);
    if (response.ok && body && body.status === 'ok') {
      showCardResult(card, body);
    } else {
      // Either a result with status "error", or {"success":false,"error":{…}}, or no JSON at all.
      const error = (body && body.error) || {};
      showCardError(card, {
        code: error.code || `HTTP_${response.status}`,
        message: error.message || response.statusText || 'The request failed.',
      }, body);
    }
  }

  /** Replaces the card's body and footer; sets data-status last so tests see finished content. */
  function finishCard(card, status, bodyNodes, result) {
    card.querySelector('.badge').textContent = status;
    card.querySelector('.card-body').replaceChildren(...bodyNodes);
    const foot = [];
    if (result && Number.isFinite(result.latency_ms)) foot.push(formatMs(result.latency_ms));
    if (result && result.host) foot.push(`on ${result.host}`);
    card.querySelector('.card-foot').textContent = foot.join(' · ');
    card.dataset.status = status;
  }

  function showCardResult(card, result) {
    finishCard(card, 'ok', [predictionList(result.predictions || [])], result);
  }

  function showCardError(card, error, result) {
    const box = el('div', 'error');
    box.append(el('span', 'error-code', error.code), el('p', 'error-message', error.message));
    finishCard(card, 'error', [box], result);
  }

  /** Top-k predictions as horizontal bars: label, bar (width = score), percentage. */
  function predictionList(predictions) {
    const list = el('ol', 'predictions');
    predictions.forEach((p, i) => {
      const row = el('li', i === 0 ? 'prediction top' : 'prediction');
      const bar = el('span', 'bar');
      const fill = el('span', 'bar-fill');
      fill.style.width = `${Math.min(100, Math.max(0, num(p.score) * 100))}%`;
      bar.append(fill);
      const label = el('span', 'label', p.label ?? `#${p.index}`);
      label.title = label.textContent;
      row.append(label, bar, el('span', 'score', percent(p.score)));
      list.append(row);
    });
    return list;
  }

  // ---------------------------------------------------------------- dashboard

  const COLORS = {
    blue: '#2f6fed', teal: '#0f9d8a', orange: '#e8710a',
    purple: '#7c4dff', amber: '#b7791f', red: '#d64545',
  };

  const withAlpha = (hex, alpha) => {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  };

  function baseOptions({ legend = false, integer = false, xGrid = false } = {}) {
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { display: legend, labels: { boxWidth: 12, boxHeight: 2 } } },
      scales: {
        x: { grid: { display: xGrid }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 5 } },
        y: { beginAtZero: true, ticks: integer ? { precision: 0 } : { maxTicksLimit: 6 } },
      },
    };
  }

  function lineChart(canvasId, series, options) {
    return new Chart($(canvasId), {
      type: 'line',
      data: {
        labels: [],
        datasets: series.map((s) => ({
          label: s.label,
          data: [],
          borderColor: s.color,
          backgroundColor: withAlpha(s.color, 0.12),
          fill: series.length === 1 ? 'origin' : false,
          borderWidth: 2,
          // a value with no neighbours (one busy second) draws no line: show it as a dot
          pointRadius: (ctx) => {
            const d = ctx.dataset.data;
            const i = ctx.dataIndex;
            return d[i] != null && d[i - 1] == null && d[i + 1] == null ? 3 : 0;
          },
          pointBackgroundColor: s.color,
          pointHitRadius: 6,
          tension: 0.25,
        })),
      },
      options: baseOptions(options),
    });
  }

  function barChart(canvasId, label, color, horizontal) {
    const options = baseOptions({ integer: true });
    if (horizontal) {
      options.indexAxis = 'y';
      options.scales = {
        x: { beginAtZero: true, ticks: { precision: 0, maxTicksLimit: 6 } },
        y: { grid: { display: false } },
      };
    } else {
      options.scales.x.ticks = { maxRotation: 0, autoSkip: true }; // one tick per batch size when they fit
    }
    return new Chart($(canvasId), {
      type: 'bar',
      data: { labels: [], datasets: [{ label, data: [], backgroundColor: withAlpha(color, 0.75), borderRadius: 4 }] },
      options,
    });
  }

  function createCharts() {
    if (typeof Chart === 'undefined') {
      console.error('Chart.js did not load; the dashboard shows numbers only.');
      return null;
    }
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 11;
    Chart.defaults.color = '#5b6676';
    Chart.defaults.borderColor = '#e5e8ef';
    return {
      throughput: lineChart('#chart-throughput', [{ label: 'img/s', color: COLORS.blue }]),
      latency: lineChart('#chart-latency', [
        { label: 'p50', color: COLORS.teal },
        { label: 'p99', color: COLORS.orange },
      ], { legend: true }),
      batch: lineChart('#chart-batch', [{ label: 'mean batch', color: COLORS.purple }]),
      queue: lineChart('#chart-queue', [{ label: 'queue depth', color: COLORS.amber }], { integer: true }),
      errors: lineChart('#chart-errors', [{ label: 'errors/s', color: COLORS.red }], { integer: true }),
      workers: barChart('#chart-workers', 'results', COLORS.blue, true),
      batchSizes: barChart('#chart-batch-sizes', 'model calls', COLORS.purple, false),
    };
  }

  function renderStats(stats) {
    const totals = stats.totals || {};
    const int = (v) => String(Math.round(num(v)));
    $('#stat-requests').textContent = int(totals.requests);
    $('#stat-ok').textContent = int(totals.ok);
    $('#stat-errors').textContent = int(totals.errors);
    $('#stat-inflight').textContent = int(totals.in_flight);
    $('#stat-queue').textContent = int(totals.queue_depth);
    $('#stat-queue-cap').textContent = int(totals.queue_capacity);
    $('#stat-uptime').textContent = String(Math.floor(num(stats.uptime_s)));
    $('#stat-uptime-human').textContent = formatDuration(stats.uptime_s);
    $('#stats-updated').textContent = `updated ${clock(Date.now() / 1000)}`;
    if (stats.model) $('#model-name').textContent = stats.model;
    if (stats.transport) $('#transport').textContent = stats.transport;
    renderErrorCodes(stats.errors_by_code || {});
    if (state.charts) renderCharts(stats);
  }

  function renderErrorCodes(byCode) {
    const chips = Object.entries(byCode)
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => {
        const chip = el('span', 'code-chip', code);
        chip.append(el('b', null, count));
        return chip;
      });
    $('#error-codes').replaceChildren(...chips);
  }

  function renderCharts(stats) {
    const charts = state.charts;
    const series = stats.series || {};
    const labels = (series.t || []).map(clock);
    const setLine = (chart, ...arrays) => {
      chart.data.labels = labels;
      arrays.forEach((data, i) => { chart.data.datasets[i].data = data || []; });
      chart.update('none');
    };
    setLine(charts.throughput, series.throughput);
    setLine(charts.latency, series.p50_ms, series.p99_ms);
    setLine(charts.batch, series.batch_size);
    setLine(charts.queue, series.queue_depth);
    setLine(charts.errors, series.errors);

    const workers = stats.workers || [];
    charts.workers.data.labels = workers.map((w) => w.name);
    charts.workers.data.datasets[0].data = workers.map((w) => num(w.results));
    charts.workers.update('none');

    // one row per model and version; shown once a result names a version or a second model
    const models = stats.models || [];
    const rows = $('#models-rows');
    rows.replaceChildren(
      ...models.map((m) => {
        const tr = el('tr');
        [m.model, m.version != null ? `v${m.version}` : '—', num(m.ok), num(m.errors),
          `${num(m.p50_ms).toFixed(1)} ms`, `${num(m.p99_ms).toFixed(1)} ms`]
          .forEach((cell) => tr.appendChild(el('td', null, cell)));
        return tr;
      })
    );
    $('#models-card').hidden = !(models.length > 1 || models.some((m) => m.version != null));

    const sizes = Object.entries(stats.batch_sizes || {})
      .map(([size, count]) => [Number(size), num(count)])
      .sort((a, b) => a[0] - b[0]);
    charts.batchSizes.data.labels = sizes.map(([size]) => String(size));
    charts.batchSizes.data.datasets[0].data = sizes.map(([, count]) => count);
    charts.batchSizes.update('none');
    $('#batch-sizes-note').hidden = sizes.length > 0;
  }

  async function pollStats() {
    let response;
    try {
      response = await apiFetch(API.stats, { timeoutMs: POLL_TIMEOUT_MS });
    } catch {
      setHealth(false, 'no answer');
      return;
    }
    if (response.status === 401) {
      setHealth(false, 'a valid API token is needed');
      $('#token-box').hidden = false;
      return;
    }
    const stats = await readJson(response);
    if (!response.ok || !stats) {
      setHealth(false, `HTTP ${response.status}`);
      return;
    }
    setHealth(true);
    renderStats(stats);
  }

  // ---------------------------------------------------------------- gallery

  async function pollRecent() {
    const response = await apiFetch(API.recent, { timeoutMs: POLL_TIMEOUT_MS });
    if (!response.ok) return;
    const body = await readJson(response);
    if (body && Array.isArray(body.results)) renderGallery(body.results);
  }

  /** Keeps one DOM node per result id, so a poll only adds new items and drops old ones. */
  function renderGallery(results) {
    const gallery = $('#gallery');
    const nodes = [];
    const seen = new Set();
    for (const result of results) {
      if (!result || result.id == null) continue;
      const id = String(result.id);
      if (seen.has(id)) continue;
      seen.add(id);
      let node = state.galleryItems.get(id);
      if (!node) {
        node = galleryItem(id, result);
        state.galleryItems.set(id, node);
      }
      nodes.push(node);
    }
    for (const id of Array.from(state.galleryItems.keys())) {
      if (!seen.has(id)) {
        state.galleryItems.delete(id);
        releaseThumb(id);
      }
    }
    const current = Array.from(gallery.children);
    if (current.length !== nodes.length || current.some((node, i) => node !== nodes[i])) {
      gallery.replaceChildren(...nodes);
    }
    $('#gallery-empty').hidden = nodes.length > 0;
  }

  function galleryItem(id, result) {
    const ok = result.status === 'ok';
    const item = el('figure', 'gallery-item');
    item.dataset.status = ok ? 'ok' : 'error';
    item.dataset.id = id;

    const thumb = el('div', 'thumb');
    const img = el('img');
    img.alt = result.source || '';
    crispWhenSmall(img);
    thumb.append(img);
    if (result.image) loadThumb(id, result.image, img, thumb);
    else thumb.classList.add('no-image');

    const caption = el('figcaption', 'g-caption');
    const top = ok && result.predictions && result.predictions[0];
    if (top) {
      caption.append(el('span', 'g-label', top.label), el('span', 'g-score', percent(top.score)));
    } else if (ok) {
      caption.append(el('span', 'g-label', 'no prediction'));
    } else {
      caption.append(el('span', 'g-label g-error', (result.error && result.error.code) || 'ERROR'));
    }

    const meta = [];
    if (Number.isFinite(result.time_ms)) meta.push(clock(result.time_ms / 1000));
    if (Number.isFinite(result.latency_ms)) meta.push(formatMs(result.latency_ms));
    if (result.host) meta.push(result.host);
    const metaLine = el('div', 'g-meta', meta.join(' · '));
    const detail = [result.source, result.error && result.error.message].filter(Boolean).join(': ');
    item.title = [detail, meta.join(' · ')].filter(Boolean).join('\n');
    item.append(thumb, caption, metaLine);
    return item;
  }

  /** Fetches a gallery image with the token and shows it through an object URL (once per id). */
  function loadThumb(id, path, img, thumb) {
    const entry = { url: null, failed: false };
    state.thumbs.set(id, entry);
    apiFetch(path, { timeoutMs: 10000 })
      .then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const blob = await response.blob();
        if (state.thumbs.get(id) !== entry) return; // dropped from the gallery meanwhile
        entry.url = URL.createObjectURL(blob);
        img.src = entry.url;
      })
      .catch(() => {
        entry.failed = true;
        thumb.classList.add('no-image');
      });
  }

  function releaseThumb(id) {
    const entry = state.thumbs.get(id);
    if (entry && entry.url) URL.revokeObjectURL(entry.url);
    state.thumbs.delete(id);
  }

  /** After the token changes, rebuild the gallery items whose image could not be fetched. */
  function retryFailedThumbs() {
    for (const [id, entry] of Array.from(state.thumbs.entries())) {
      if (!entry.failed) continue;
      releaseThumb(id);
      state.galleryItems.delete(id);
    }
  }

  // ---------------------------------------------------------------- start

  async function loadInfo() {
    for (;;) {
      try {
        const response = await apiFetch(API.info, { timeoutMs: POLL_TIMEOUT_MS });
        const info = await readJson(response);
        if (response.ok && info) return info;
        setHealth(false, `HTTP ${response.status}`);
      } catch {
        setHealth(false, 'no answer');
      }
      await sleep(2000);
    }
  }

  async function init() {
    setupUpload();
    setupToken();
    updateResultsChrome();
    state.info = await loadInfo();
    renderInfo(state.info);
    state.charts = createCharts();
    document.body.dataset.ready = 'true';
    poll(pollStats, STATS_INTERVAL_MS);
    poll(pollRecent, RECENT_INTERVAL_MS);
  }

  init();
})();
