// kafkaplane console. Every action goes through POST /console/api/call,
// where the server signs it with the session's AccessKey and runs it
// through the API; this page never sees the secret after sign-in.
'use strict';

const KAFKA = '2019-09-16';
const RAM = '2015-05-01';
let session = null;
let cleanup = [];

// ---- DOM helpers: text is always set as text, never parsed as HTML.
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : String(k));
  }
  return e;
}
const $ = (id) => document.getElementById(id);
let uid = 0;
function field(label, attrs) {
  const id = 'f' + (++uid);
  const tag = attrs && attrs.tag || 'input';
  const a = Object.assign({}, attrs, { id, tag: null, options: null });
  const input = tag === 'select' ? el('select', a, (attrs.options || []).map(o => el('option', { value: o[0], selected: o[0] === attrs.value }, o[1])))
    : el(tag, a);
  return el('div', {}, el('label', { for: id }, label, attrs && attrs.required ? ' *' : ''), input);
}
function formValues(form) {
  const out = {};
  for (const e of form.elements) if (e.name && e.value !== '') out[e.name] = e.value;
  return out;
}
const list = (obj, a, b) => ((obj || {})[a] || {})[b] || [];
const fmtTime = (ms) => ms ? new Date(ms).toLocaleString() : '';
function fmtDur(ms) {
  if (!(ms >= 0)) return '';
  const s = ms / 1000;
  return s < 60 ? s.toFixed(1) + ' s' : Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
}

// ---- API access.
class APIError extends Error {
  constructor(res) {
    const r = res.Response || res;
    super((r.Code || 'Error') + ': ' + (r.Message || ''));
    this.res = res;
  }
}
async function post(path, body) {
  const resp = await fetch(path, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session ? session.CSRFToken : '' },
    body: JSON.stringify(body),
  });
  const data = await resp.json();
  if (resp.status === 401) { showSignIn(); }
  if (!resp.ok) throw new APIError(data);
  return data;
}
// call runs an action and returns the whole console answer.
async function call(action, params, version) {
  return post('/console/api/call', { Version: version || KAFKA, Action: action, Params: params || {} });
}
// api runs an action and returns its response, throwing on an error answer.
async function api(action, params, version) {
  const res = await call(action, params, version);
  if (res.Status !== 200) throw new APIError(res);
  return res.Response;
}
// errorBox shows an error; a RAM denial names the action and resource
// that were refused.
function errorBox(err) {
  const res = err && err.res;
  if (!res) return el('p', { class: 'error', role: 'alert' }, String(err && err.message || err));
  const r = res.Response || res;
  const box = el('div', { class: 'error', role: 'alert', 'data-code': r.Code || '' });
  if (res.Denied) {
    box.append(el('strong', {}, 'Denied by RAM. '), 'Action ', el('code', { class: 'denied-action' }, res.Denied.Action),
      ' on resource ', el('code', { class: 'denied-resource' }, res.Denied.Resource), ' (' + res.Denied.Reason + ').');
  } else {
    box.append(el('strong', {}, r.Code + ': '), r.Message || '');
  }
  return box;
}
// guard runs an async step and puts any error into slot.
async function guard(slot, fn) {
  slot.replaceChildren();
  try { return await fn(); } catch (e) { slot.replaceChildren(errorBox(e)); return undefined; }
}

// ---- Sign-in.
function showSignIn() {
  session = null;
  $('signin-view').hidden = false;
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('who').textContent = '';
  $('view').replaceChildren();
  $('ak-id').focus();
}
async function start() {
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const errP = $('signin-error');
    errP.hidden = true;
    try {
      session = await post('/console/api/signin', formValues(ev.target));
      $('ak-secret').value = '';
      signedIn();
    } catch (e) {
      errP.hidden = false;
      errP.textContent = e.message;
    }
  });
  $('signout').addEventListener('click', async () => {
    try { await post('/console/api/signout', {}); } catch (e) { /* already gone */ }
    showSignIn();
  });
  window.addEventListener('hashchange', route);
  const resp = await fetch('/console/api/session', { credentials: 'same-origin' });
  const data = await resp.json();
  if (resp.ok) { session = data; signedIn(); } else showSignIn();
}
function signedIn() {
  $('signin-view').hidden = true;
  $('nav').hidden = false;
  $('signout').hidden = false;
  $('who').textContent = (session.UserName ? session.UserName + ' · ' : '') + session.AccessKeyId + ' · ' + session.RegionId;
  route();
}

// ---- Router.
function route() {
  if (!session) return;
  for (const f of cleanup) f();
  cleanup = [];
  const h = location.hash || '#/instances';
  const parts = h.slice(2).split('?')[0].split('/').map(decodeURIComponent);
  const q = new URLSearchParams(h.split('?')[1] || '');
  for (const a of document.querySelectorAll('#nav a')) {
    if (h.startsWith(a.getAttribute('href').replace(/s$/, ''))) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const view = $('view');
  view.replaceChildren();
  if (parts[0] === 'instance' && parts[2] === 'upgrade') upgradePage(view, parts[1]);
  else if (parts[0] === 'instance') instancePage(view, parts[1]);
  else if (parts[0] === 'operation') operationPage(view, parts[1], q.get('instance'));
  else if (parts[0] === 'ram' && parts[1] === 'user') userPage(view, parts[2]);
  else if (parts[0] === 'ram') ramPage(view);
  else if (parts[0] === 'explorer') explorerPage(view);
  else instancesPage(view);
  const h1 = view.querySelector('h1');
  if (h1) { h1.tabIndex = -1; h1.focus(); }
}
function every(ms, fn) {
  const t = setInterval(fn, ms);
  cleanup.push(() => clearInterval(t));
}

// ---- Instances.
const STATUS = { 0: 'Pending deploy', 1: 'Deploying', 5: 'Running', 8: 'Upgrading', 10: 'Released', 15: 'Stopped' };
const VIEW_FAILED = { 101: 'deploy failed', 102: 'upgrade failed' };
function statusText(vo) {
  return (STATUS[vo.ServiceStatus] || 'Status ' + vo.ServiceStatus) + (VIEW_FAILED[vo.ViewInstanceStatusCode] ? ' (' + VIEW_FAILED[vo.ViewInstanceStatusCode] + ')' : '');
}
const version = (vo) => (vo.UpgradeServiceDetailInfo || {}).Current2OpenSourceVersion || '';

function instancesPage(view) {
  const errs = el('div');
  const body = el('tbody');
  const table = el('div', { class: 'scroll' }, el('table', { id: 'instances' },
    el('thead', {}, el('tr', {}, ['Instance', 'Name', 'Status', 'Version', 'Minor version', 'Region', 'Endpoint', ''].map(t => el('th', { scope: 'col' }, t)))), body));
  const startSlot = el('div');
  let shown = '';
  async function load() {
    const r = await guard(errs, () => api('GetInstanceList', {}));
    if (!r) return;
    const vos = list(r, 'InstanceList', 'InstanceVO');
    // Re-render only on a change, so that the keyboard focus stays put.
    const now = JSON.stringify(vos);
    if (now === shown) return;
    shown = now;
    body.replaceChildren(...vos.map(vo => el('tr', { 'data-instance': vo.InstanceId },
      el('td', {}, el('a', { href: '#/instance/' + encodeURIComponent(vo.InstanceId) }, vo.InstanceId)),
      el('td', {}, vo.Name), el('td', { class: 'status' }, statusText(vo)), el('td', {}, version(vo)),
      el('td', {}, vo.KafkaplaneMinorVersion), el('td', {}, vo.RegionId), el('td', { class: 'mono' }, vo.EndPoint),
      el('td', {}, vo.ServiceStatus === 0 ? el('button', { class: 'small', type: 'button', onclick: () => startForm(vo.InstanceId) }, 'Start') : ''))));
    if (!vos.length) body.append(el('tr', {}, el('td', { colspan: 8, class: 'note' }, 'No instances yet. Buy one below.')));
  }
  function startForm(id) {
    const slot = el('div');
    const f = el('form', { class: 'inline', id: 'start-form' },
      field('VPC', { name: 'VpcId', value: 'vpc-console', required: true }),
      field('vSwitch', { name: 'VSwitchId', value: 'vsw-console', required: true }),
      field('Zone', { name: 'ZoneId', value: 'zonea', required: true }),
      field('Version', { tag: 'select', name: 'ServiceVersion', options: [['0.10.2', '0.10.2'], ['2.2.0', '2.2.0']], value: '0.10.2' }),
      el('button', { type: 'submit' }, 'Start instance'));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const ok = await guard(slot, () => api('StartInstance', Object.assign({ InstanceId: id }, formValues(f))));
      if (ok) { startSlot.replaceChildren(el('p', { role: 'status' }, 'Starting ' + id + '…')); load(); }
    });
    startSlot.replaceChildren(el('section', { class: 'card' }, el('h2', {}, 'Start ' + id), f, slot));
    f.elements[0].focus();
  }
  const buySlot = el('div');
  const buy = el('form', { class: 'inline', id: 'buy-form' },
    field('Deploy type', { tag: 'select', name: 'DeployType', options: [['5', 'VPC'], ['4', 'Internet and VPC']], value: '5' }),
    field('Disk type', { tag: 'select', name: 'DiskType', options: [['1', 'SSD'], ['0', 'Ultra disk']], value: '1' }),
    field('Disk size (GB)', { name: 'DiskSize', type: 'number', value: '500', min: 500, required: true }),
    field('Traffic spec', { tag: 'select', name: 'IoMaxSpec', options: [['alikafka.hw.2xlarge', 'alikafka.hw.2xlarge'], ['alikafka.hw.3xlarge', 'alikafka.hw.3xlarge'], ['alikafka.hw.6xlarge', 'alikafka.hw.6xlarge']], value: 'alikafka.hw.2xlarge' }),
    el('button', { type: 'submit' }, 'Buy instance'));
  buy.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await guard(buySlot, () => api('CreatePostPayOrder', formValues(buy)));
    if (r) { buySlot.replaceChildren(el('p', { role: 'status' }, 'Order ' + r.OrderId + ' placed.')); load(); }
  });
  view.append(el('h1', {}, 'Instances'), errs, el('section', { class: 'card' }, table), startSlot,
    el('section', { class: 'card' }, el('h2', {}, 'Buy a pay-as-you-go instance'), buy, buySlot));
  load();
  every(2000, load);
}

// ---- One instance.
async function findInstance(id) {
  const r = await api('GetInstanceList', { 'InstanceId.1': id });
  const vo = list(r, 'InstanceList', 'InstanceVO')[0];
  if (!vo) throw new Error('Instance ' + id + ' does not exist in this region.');
  return vo;
}
function instancePage(view, id) {
  const errs = el('div');
  const over = el('section', { class: 'card' });
  const topics = el('section', { class: 'card', id: 'topics' });
  const groups = el('section', { class: 'card', id: 'groups' });
  const config = el('section', { class: 'card' });
  const ops = el('section', { class: 'card', id: 'operations' });
  view.append(el('h1', {}, 'Instance ', el('span', { class: 'mono' }, id)), errs, over,
    el('div', { class: 'grid2' }, topics, groups), ops, config);
  async function loadOverview() {
    const vo = await guard(errs, () => findInstance(id));
    if (!vo) return;
    over.replaceChildren(el('h2', {}, 'Overview'), el('dl', { class: 'kv' }, [
      ['Name', vo.Name], ['Status', statusText(vo)], ['Version', version(vo)],
      ['Minor version', vo.KafkaplaneMinorVersion + (vo.KafkaplaneMinorVersion === vo.KafkaplaneLatestMinorVersion ? ' (latest)' : ' (latest is ' + vo.KafkaplaneLatestMinorVersion + ')')],
      ['Region / zone', vo.RegionId + ' / ' + vo.ZoneId], ['Endpoint', vo.EndPoint], ['Domain endpoint', vo.DomainEndpoint],
      ['Topic limit', vo.TopicNumLimit], ['Created', fmtTime(vo.CreateTime)]
    ].map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
    el('div', { class: 'actions-row' },
      vo.ServiceStatus === 5 ? el('a', { href: '#/instance/' + encodeURIComponent(id) + '/upgrade', id: 'upgrade-link' }, 'Upgrade version…') : '',
      el('a', { href: '#/instances' }, 'All instances')));
    let cfg = {};
    try { cfg = JSON.parse(vo.AllConfig || '{}'); } catch (e) { /* shown raw below */ }
    config.replaceChildren(el('h2', {}, 'Configuration'), el('div', { class: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Key'), el('th', { scope: 'col' }, 'Value'))),
      el('tbody', {}, Object.keys(cfg).sort().map(k => el('tr', {}, el('td', { class: 'mono' }, k), el('td', { class: 'mono' }, String(cfg[k]))))))));
  }
  async function loadTopics() {
    const slot = el('div');
    const body = el('tbody');
    const create = el('form', { class: 'inline', id: 'topic-form' },
      field('Topic', { name: 'Topic', required: true, pattern: '[A-Za-z0-9_\\-]{3,64}' }),
      field('Remark', { name: 'Remark', value: 'created in the console', required: true }),
      field('Partitions', { name: 'PartitionNum', type: 'number', min: 1, max: 360, value: 6 }),
      el('button', { type: 'submit' }, 'Create topic'));
    create.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (await guard(slot, () => api('CreateTopic', Object.assign({ InstanceId: id }, formValues(create))))) loadTopics();
    });
    topics.replaceChildren(el('h2', {}, 'Topics'), el('div', { class: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Topic', 'Partitions', 'Messages / offsets', 'Change'].map(t => el('th', { scope: 'col' }, t)))), body)),
    slot, create);
    const r = await guard(slot, () => api('GetTopicList', { InstanceId: id, PageSize: '100' }));
    if (!r) return;
    for (const t of list(r, 'TopicList', 'TopicVO')) {
      const offs = el('td', {}, '…');
      const add = el('input', { type: 'number', min: 1, max: 360, value: 1, 'aria-label': 'Partitions to add to ' + t.Topic, class: 'num-small' });
      body.append(el('tr', { 'data-topic': t.Topic }, el('td', {}, t.Topic, t.Remark ? el('div', { class: 'note' }, t.Remark) : ''),
        el('td', { class: 'partitions' }, t.PartitionNum), offs,
        el('td', {}, add, el('button', { type: 'button', class: 'small secondary', 'aria-label': 'Add partitions to ' + t.Topic, onclick: async () => {
          if (await guard(slot, () => api('ModifyPartitionNum', { InstanceId: id, Topic: t.Topic, AddPartitionNum: add.value }))) loadTopics();
        } }, 'Add partitions'),
        el('button', { type: 'button', class: 'small danger', 'aria-label': 'Delete topic ' + t.Topic, onclick: async () => {
          if (!confirm('Delete topic ' + t.Topic + '? Its messages are lost.')) return;
          if (await guard(slot, () => api('DeleteTopic', { InstanceId: id, Topic: t.Topic }))) loadTopics();
        } }, 'Delete'))));
      call('GetTopicStatus', { InstanceId: id, Topic: t.Topic }).then(res => {
        if (res.Status !== 200) { offs.textContent = '—'; return; }
        const st = res.Response.TopicStatus;
        const parts = list(st, 'OffsetTable', 'OffsetTable');
        offs.replaceChildren(el('details', {}, el('summary', {}, st.TotalCount + ' messages'),
          el('table', {}, el('thead', {}, el('tr', {}, ['Partition', 'Min', 'Max', 'Last write'].map(x => el('th', { scope: 'col' }, x)))),
            el('tbody', {}, parts.map(p => el('tr', {}, el('td', {}, p.Partition), el('td', {}, p.MinOffset), el('td', {}, p.MaxOffset), el('td', {}, fmtTime(p.LastUpdateTimestamp))))))));
      });
    }
  }
  async function loadGroups() {
    const slot = el('div');
    const body = el('tbody');
    const create = el('form', { class: 'inline', id: 'group-form' },
      field('Group', { name: 'ConsumerId', required: true }), field('Remark', { name: 'Remark' }),
      el('button', { type: 'submit' }, 'Create group'));
    create.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (await guard(slot, () => api('CreateConsumerGroup', Object.assign({ InstanceId: id }, formValues(create))))) loadGroups();
    });
    groups.replaceChildren(el('h2', {}, 'Consumer groups'), el('div', { class: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Group', 'Remark', ''].map(t => el('th', { scope: 'col' }, t)))), body)), slot, create);
    const r = await guard(slot, () => api('GetConsumerList', { InstanceId: id }));
    if (!r) return;
    for (const g of list(r, 'ConsumerList', 'ConsumerVO')) {
      body.append(el('tr', {}, el('td', {}, g.ConsumerId), el('td', {}, g.Remark),
        el('td', {}, el('button', { type: 'button', class: 'small danger', 'aria-label': 'Delete group ' + g.ConsumerId, onclick: async () => {
          if (!confirm('Delete consumer group ' + g.ConsumerId + '?')) return;
          if (await guard(slot, () => api('DeleteConsumerGroup', { InstanceId: id, ConsumerId: g.ConsumerId }))) loadGroups();
        } }, 'Delete'))));
    }
  }
  async function loadOps() {
    const slot = el('div');
    ops.replaceChildren(el('h2', {}, 'Operations'), slot);
    const r = await guard(slot, () => api('ListInstanceOperations', { InstanceId: id }));
    if (!r) return;
    const vos = list(r, 'Operations', 'OperationVO');
    if (!vos.length) { slot.append(el('p', { class: 'note' }, 'No operations yet.')); return; }
    slot.append(el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, ['Operation', 'Type', 'State', 'From', 'To', 'Created', 'Took'].map(t => el('th', { scope: 'col' }, t)))),
      el('tbody', {}, vos.map(o => el('tr', {}, el('td', {}, el('a', { href: '#/operation/' + encodeURIComponent(o.OperationId) + '?instance=' + encodeURIComponent(id) }, o.OperationId)),
        el('td', {}, o.OperationType), el('td', {}, el('span', { class: 'badge s-' + o.OperationState }, o.OperationState)),
        el('td', {}, o.SourceMinorVersion || o.SourceVersion), el('td', {}, o.TargetMinorVersion || o.TargetVersion),
        el('td', {}, fmtTime(o.CreateTime)), el('td', {}, o.EndTime ? fmtDur(o.EndTime - o.CreateTime) : '')))))));
  }
  loadOverview(); loadTopics(); loadGroups(); loadOps();
}

// ---- Upgrade.
// The API page's TargetVersion table: what UpgradeInstanceVersion does
// for each current version, minor version and target.
const UPGRADE_RULES = [
  ['0.10.2', 'not latest', '0.10.2', 'Minor upgrade: stays on 0.10.2, moves to its latest minor version.'],
  ['0.10.2', 'not latest', '2.2.0', 'Major upgrade to 2.2.0, on its latest minor version.'],
  ['0.10.2', 'latest', '2.2.0', 'Major upgrade to 2.2.0, on its latest minor version.'],
  ['2.2.0', 'not latest', '2.2.0', 'Minor upgrade: stays on 2.2.0, moves to its latest minor version.'],
];
async function upgradePage(view, id) {
  const errs = el('div');
  const main = el('div');
  view.append(el('h1', {}, 'Upgrade ', el('span', { class: 'mono' }, id)), errs, main);
  const r = await guard(errs, () => api('GetUpgradableVersions', { InstanceId: id }));
  if (!r) return;
  const latest = r.CurrentMinorVersion === r.LatestMinorVersion ? 'latest' : 'not latest';
  const offers = list(r, 'UpgradableVersions', 'UpgradableVersionVO');
  main.append(el('section', { class: 'card' }, el('h2', {}, 'Current version'),
    el('dl', { class: 'kv' }, el('dt', {}, 'Version'), el('dd', {}, r.CurrentVersion), el('dt', {}, 'Minor version'),
      el('dd', {}, r.CurrentMinorVersion + ' (' + latest + '; latest is ' + r.LatestMinorVersion + ')'))),
  el('section', { class: 'card' }, el('h2', {}, 'What an upgrade does'),
    el('p', { class: 'note' }, 'UpgradeInstanceVersion follows this table; the highlighted rows apply to this instance. A target not listed is refused, and downgrades are never allowed.'),
    el('table', {}, el('thead', {}, el('tr', {}, ['Current version', 'Minor version', 'TargetVersion', 'Result'].map(t => el('th', { scope: 'col' }, t)))),
      el('tbody', {}, UPGRADE_RULES.map(row => el('tr', { class: row[0] === r.CurrentVersion && row[1] === latest ? 'current' : '' }, row.map(c => el('td', {}, c))))))));
  const choose = el('section', { class: 'card' });
  main.append(choose);
  if (!offers.length) {
    choose.append(el('h2', {}, 'Nothing to upgrade'), el('p', {}, 'The instance runs the latest minor version of the newest version it may move to.'));
    return;
  }
  const form = el('form', { id: 'upgrade-form' }, el('fieldset', {}, el('legend', {}, 'Target version'),
    offers.map((o, i) => el('div', {}, el('input', { type: 'radio', name: 'TargetVersion', id: 'tv' + i, value: o.TargetVersion, checked: i === 0, class: 'radio' }),
      ' ', el('label', { for: 'tv' + i, class: 'radio-label' }, o.TargetVersion + ' (minor ' + o.TargetMinorVersion + ')')))),
  el('button', { type: 'submit' }, 'Continue'));
  choose.append(el('h2', {}, 'Choose a version'), form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const target = formValues(form).TargetVersion || form.querySelector('input:checked').value;
    const offer = offers.find(o => o.TargetVersion === target);
    const slot = el('div');
    const confirmBtn = el('button', { type: 'button', id: 'confirm-upgrade' }, 'Confirm upgrade');
    const cancel = el('button', { type: 'button', class: 'secondary', onclick: () => route() }, 'Cancel');
    choose.replaceChildren(el('h2', {}, 'Confirm'), el('p', {}, 'Upgrade ', el('strong', {}, id), ' from ' + r.CurrentMinorVersion + ' to ' + offer.TargetMinorVersion +
      '. The brokers restart one at a time, the controller last; clients stay connected through the roll. This cannot be undone.'),
    el('div', { class: 'actions-row' }, confirmBtn, cancel), slot);
    confirmBtn.focus();
    confirmBtn.addEventListener('click', async () => {
      confirmBtn.disabled = true;
      const ok = await guard(slot, () => api('UpgradeInstanceVersion', { InstanceId: id, TargetVersion: target }));
      if (!ok) { confirmBtn.disabled = false; return; }
      const ops = await guard(slot, () => api('ListInstanceOperations', { InstanceId: id }));
      const op = ops && list(ops, 'Operations', 'OperationVO')[0];
      if (op) location.hash = '#/operation/' + encodeURIComponent(op.OperationId) + '?instance=' + encodeURIComponent(id);
    });
  });
}

// ---- Live operation view.
function stepState(st) {
  return { PENDING: 'pending', IN_PROGRESS: st.BrokerId !== undefined ? 'rolling' : 'running', COMPLETE: 'done', FAILED: 'failed' }[st.StepStatus] || st.StepStatus;
}
function operationPage(view, opId, instance) {
  const errs = el('div');
  const head = el('section', { class: 'card', id: 'op-head' });
  const brokers = el('div', { class: 'brokers', id: 'brokers', 'aria-live': 'polite' });
  const chart = el('section', { class: 'card timeline' });
  const steps = el('section', { class: 'card' });
  view.append(el('h1', {}, 'Operation ', el('span', { class: 'mono' }, opId)), errs, head,
    el('section', { class: 'card' }, el('h2', {}, 'Brokers'), brokers), chart, steps);
  let last = null;
  let shown = '';
  function render(res) {
    if (res.Status !== 200) { errs.replaceChildren(errorBox(new APIError(res))); return; }
    errs.replaceChildren();
    const op = res.Response.Operation;
    last = op;
    // Only the clock moves between step changes: update it alone, so
    // that the keyboard focus stays put.
    const now0 = JSON.stringify(op);
    if (now0 === shown) {
      const e = document.getElementById('op-elapsed');
      if (e) e.textContent = fmtDur((op.EndTime || Date.now()) - op.CreateTime);
      for (const d of document.querySelectorAll('[data-since]')) d.textContent = fmtDur(Date.now() - Number(d.dataset.since));
      return;
    }
    shown = now0;
    const now = Date.now();
    const end = op.EndTime || now;
    const state = op.OperationState;
    const st = list(op, 'Steps', 'StepVO');
    head.replaceChildren(el('dl', { class: 'kv' },
      el('dt', {}, 'State'), el('dd', {}, el('span', { class: 'badge s-' + state, id: 'op-state', 'data-state': state }, state === 'COMPLETE' ? 'complete' : state.toLowerCase().replace('_', ' '))),
      el('dt', {}, 'Instance'), el('dd', {}, el('a', { href: '#/instance/' + encodeURIComponent(op.InstanceId) }, op.InstanceId)),
      el('dt', {}, 'Upgrade'), el('dd', {}, (op.SourceMinorVersion || op.SourceVersion) + ' → ' + (op.TargetMinorVersion || op.TargetVersion)),
      el('dt', {}, 'Elapsed'), el('dd', { id: 'op-elapsed' }, fmtDur(end - op.CreateTime)),
      op.ErrorInfo && op.ErrorInfo.ErrorCode ? [el('dt', {}, 'Error'), el('dd', { class: 'error' }, op.ErrorInfo.ErrorCode + ': ' + op.ErrorInfo.ErrorString)] : ''));
    brokers.replaceChildren(...st.filter(s => s.BrokerId !== undefined).map(s => {
      const bs = stepState(s);
      return el('div', { class: 'broker', 'data-broker': s.BrokerId, 'data-state': bs },
        el('strong', {}, 'Broker ' + s.BrokerId), el('span', { class: 'badge s-' + bs }, bs),
        el('div', { class: 'note', 'data-since': s.StartTime && !s.EndTime ? s.StartTime : null }, s.StartTime ? fmtDur((s.EndTime || now) - s.StartTime) : 'waiting'));
    }));
    steps.replaceChildren(el('h2', {}, 'Steps'), el('div', { class: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Step', 'Broker', 'Status', 'Started', 'Took', 'Detail'].map(t => el('th', { scope: 'col' }, t)))),
      el('tbody', {}, st.map(s => el('tr', {}, el('td', { class: 'mono' }, s.StepName), el('td', {}, s.BrokerId ?? ''),
        el('td', {}, el('span', { class: 'badge s-' + stepState(s) }, stepState(s))), el('td', {}, fmtTime(s.StartTime)),
        el('td', { 'data-since': s.StartTime && !s.EndTime ? s.StartTime : null }, s.StartTime ? fmtDur((s.EndTime || now) - s.StartTime) : ''), el('td', {}, s.Detail)))))));
    chart.replaceChildren(el('h2', {}, 'Timeline'), timeline(op, st, end));
  }
  const src = new EventSource('/console/api/watch?OperationId=' + encodeURIComponent(opId) + (session.RegionId ? '&RegionId=' + encodeURIComponent(session.RegionId) : ''));
  src.addEventListener('operation', (ev) => render(JSON.parse(ev.data)));
  src.addEventListener('end', () => src.close());
  src.onerror = () => {
    // The stream is gone (network or server restart): poll instead.
    src.close();
    if (last && (last.OperationState === 'COMPLETE' || last.OperationState === 'FAILED')) return;
    every(1000, async () => {
      if (last && (last.OperationState === 'COMPLETE' || last.OperationState === 'FAILED')) return;
      try { render(await call('DescribeInstanceOperation', { OperationId: opId })); } catch (e) { errs.replaceChildren(errorBox(e)); }
    });
  };
  cleanup.push(() => src.close());
  if (instance) view.append(el('p', {}, el('a', { href: '#/instance/' + encodeURIComponent(instance) }, 'Back to the instance')));
}
// timeline draws one bar per step on a shared time axis, as inline SVG.
function timeline(op, steps, end) {
  const NS = 'http://www.w3.org/2000/svg';
  const s = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const t0 = op.CreateTime, span = Math.max(end - t0, 1000);
  const W = 1100, left = 170, rowH = 24, top = 10, H = top + steps.length * rowH + 30;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Timeline of the operation\'s steps', id: 'op-timeline' });
  const x = (t) => left + (W - left - 20) * (t - t0) / span;
  const colors = { done: '#1a7f37', rolling: '#b86e00', running: '#b86e00', failed: '#c62828', pending: '#c5cbd6' };
  // Gridlines at a round step: 1, 2 or 5 times a power of ten, about
  // five of them.
  const raw = span / 5, pow = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * pow).find(v => v >= raw);
  for (let d = 0; d <= span; d += step) {
    const t = t0 + d;
    const label = d < 60000 ? +(d / 1000).toFixed(3) + ' s' : fmtDur(d);
    svg.append(s('line', { x1: x(t), x2: x(t), y1: top, y2: H - 22, stroke: '#e3e7ee' }), s('text', { x: x(t), y: H - 8, 'text-anchor': 'middle' }, label));
  }
  steps.forEach((st, i) => {
    const y = top + i * rowH;
    const label = st.StepName + (st.BrokerId !== undefined ? ' ' + st.BrokerId : '');
    svg.append(s('text', { x: 4, y: y + 16 }, label));
    const state = stepState(st);
    if (st.StartTime) {
      const x1 = x(st.StartTime), x2 = Math.max(x(st.EndTime || end), x1 + 3);
      const bar = s('rect', { x: x1, y: y + 5, width: x2 - x1, height: 14, rx: 3, fill: colors[state] || '#888' });
      bar.append(s('title', {}, label + ': ' + state + ', ' + fmtDur((st.EndTime || end) - st.StartTime)));
      svg.append(bar);
    } else {
      svg.append(s('text', { x: left, y: y + 16, fill: '#8a94a6' }, 'pending'));
    }
  });
  return svg;
}

// ---- RAM.
function ramPage(view) {
  const users = el('section', { class: 'card', id: 'ram-users' });
  const policies = el('section', { class: 'card', id: 'ram-policies' });
  view.append(el('h1', {}, 'RAM'), el('div', { class: 'grid2' }, users, policies));
  async function loadUsers() {
    const slot = el('div');
    const body = el('tbody');
    const f = el('form', { class: 'inline', id: 'user-form' }, field('User name', { name: 'UserName', required: true }),
      field('Display name', { name: 'DisplayName' }), el('button', { type: 'submit' }, 'Create user'));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (await guard(slot, () => api('CreateUser', formValues(f), RAM))) loadUsers();
    });
    users.replaceChildren(el('h2', {}, 'Users'), el('table', {}, el('thead', {}, el('tr', {}, ['User', 'Display name', 'Created', ''].map(t => el('th', { scope: 'col' }, t)))), body), slot, f);
    const r = await guard(slot, () => api('ListUsers', {}, RAM));
    if (!r) return;
    for (const u of list(r, 'Users', 'User')) {
      body.append(el('tr', {}, el('td', {}, el('a', { href: '#/ram/user/' + encodeURIComponent(u.UserName) }, u.UserName)), el('td', {}, u.DisplayName),
        el('td', {}, u.CreateDate), el('td', {}, el('button', { type: 'button', class: 'small danger', 'aria-label': 'Delete user ' + u.UserName, onclick: async () => {
          if (!confirm('Delete RAM user ' + u.UserName + '?')) return;
          if (await guard(slot, () => api('DeleteUser', { UserName: u.UserName }, RAM))) loadUsers();
        } }, 'Delete'))));
    }
  }
  async function loadPolicies() {
    const slot = el('div');
    const body = el('tbody');
    const f = el('form', { id: 'policy-form' }, field('Policy name', { name: 'PolicyName', required: true }),
      field('Description', { name: 'Description' }),
      field('Policy document', { tag: 'textarea', name: 'PolicyDocument', required: true }),
      el('button', { type: 'submit' }, 'Create policy'));
    f.elements.PolicyDocument.value = '{\n  "Version": "1",\n  "Statement": [{"Effect": "Allow", "Action": "alikafka:List*", "Resource": "*"}]\n}';
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (await guard(slot, () => api('CreatePolicy', formValues(f), RAM))) loadPolicies();
    });
    policies.replaceChildren(el('h2', {}, 'Policies'), el('div', { class: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, ['Policy', 'Type', 'Attached', ''].map(t => el('th', { scope: 'col' }, t)))), body)), slot, f);
    const r = await guard(slot, () => api('ListPolicies', {}, RAM));
    if (!r) return;
    for (const p of list(r, 'Policies', 'Policy')) {
      body.append(el('tr', {}, el('td', {}, p.PolicyName, p.Description ? el('div', { class: 'note' }, p.Description) : ''), el('td', {}, p.PolicyType),
        el('td', {}, p.AttachmentCount), el('td', {}, p.PolicyType === 'Custom' ? el('button', { type: 'button', class: 'small danger', 'aria-label': 'Delete policy ' + p.PolicyName, onclick: async () => {
          if (!confirm('Delete policy ' + p.PolicyName + '?')) return;
          if (await guard(slot, () => api('DeletePolicy', { PolicyName: p.PolicyName }, RAM))) loadPolicies();
        } }, 'Delete') : '')));
    }
  }
  loadUsers(); loadPolicies();
}
function userPage(view, name) {
  const keys = el('section', { class: 'card', id: 'user-keys' });
  const pols = el('section', { class: 'card', id: 'user-policies' });
  view.append(el('h1', {}, 'RAM user ', name), el('p', {}, el('a', { href: '#/ram' }, 'All users and policies')), el('div', { class: 'grid2' }, keys, pols));
  async function loadKeys(fresh) {
    const slot = el('div');
    const body = el('tbody');
    const create = el('button', { type: 'button', id: 'create-key' }, 'Create AccessKey');
    create.addEventListener('click', async () => {
      const r = await guard(slot, () => api('CreateAccessKey', { UserName: name }, RAM));
      if (r) loadKeys(r.AccessKey);
    });
    keys.replaceChildren(el('h2', {}, 'AccessKeys'));
    if (fresh) {
      keys.append(el('div', { class: 'secret', role: 'status' }, el('strong', {}, 'Copy the secret now: it is shown only this once.'),
        el('dl', { class: 'kv' }, el('dt', {}, 'AccessKey ID'), el('dd', { class: 'mono' }, fresh.AccessKeyId),
          el('dt', {}, 'AccessKey secret'), el('dd', { class: 'mono', id: 'new-secret' }, fresh.AccessKeySecret))));
    }
    keys.append(el('table', {}, el('thead', {}, el('tr', {}, ['AccessKey ID', 'Status', 'Created', ''].map(t => el('th', { scope: 'col' }, t)))), body), slot, create);
    const r = await guard(slot, () => api('ListAccessKeys', { UserName: name }, RAM));
    if (!r) return;
    for (const k of list(r, 'AccessKeys', 'AccessKey')) {
      const other = k.Status === 'Active' ? 'Inactive' : 'Active';
      body.append(el('tr', {}, el('td', { class: 'mono' }, k.AccessKeyId), el('td', {}, k.Status), el('td', {}, k.CreateDate),
        el('td', {}, el('button', { type: 'button', class: 'small secondary', onclick: async () => {
          if (await guard(slot, () => api('UpdateAccessKey', { UserName: name, UserAccessKeyId: k.AccessKeyId, Status: other }, RAM))) loadKeys();
        } }, other === 'Active' ? 'Enable' : 'Disable'),
        el('button', { type: 'button', class: 'small danger', 'aria-label': 'Delete AccessKey ' + k.AccessKeyId, onclick: async () => {
          if (!confirm('Delete AccessKey ' + k.AccessKeyId + '?')) return;
          if (await guard(slot, () => api('DeleteAccessKey', { UserName: name, UserAccessKeyId: k.AccessKeyId }, RAM))) loadKeys();
        } }, 'Delete'))));
    }
  }
  async function loadPols() {
    const slot = el('div');
    const body = el('tbody');
    const f = el('form', { class: 'inline', id: 'attach-form' },
      field('Policy type', { tag: 'select', name: 'PolicyType', options: [['System', 'System'], ['Custom', 'Custom']], value: 'System' }),
      field('Policy name', { name: 'PolicyName', required: true }), el('button', { type: 'submit' }, 'Attach'));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (await guard(slot, () => api('AttachPolicyToUser', Object.assign({ UserName: name }, formValues(f)), RAM))) loadPols();
    });
    pols.replaceChildren(el('h2', {}, 'Attached policies'), el('table', {}, el('thead', {}, el('tr', {}, ['Policy', 'Type', ''].map(t => el('th', { scope: 'col' }, t)))), body), slot, f);
    const r = await guard(slot, () => api('ListPoliciesForUser', { UserName: name }, RAM));
    if (!r) return;
    for (const p of list(r, 'Policies', 'Policy')) {
      body.append(el('tr', {}, el('td', {}, p.PolicyName), el('td', {}, p.PolicyType),
        el('td', {}, el('button', { type: 'button', class: 'small danger', 'aria-label': 'Detach policy ' + p.PolicyName, onclick: async () => {
          if (await guard(slot, () => api('DetachPolicyFromUser', { UserName: name, PolicyType: p.PolicyType, PolicyName: p.PolicyName }, RAM))) loadPols();
        } }, 'Detach'))));
    }
  }
  loadKeys(); loadPols();
}

// ---- API explorer.
let actionsCache = null;
async function explorerPage(view) {
  const errs = el('div');
  view.append(el('h1', {}, 'API explorer'), errs);
  if (!actionsCache) {
    try {
      const resp = await fetch('/console/api/actions', { credentials: 'same-origin' });
      if (!resp.ok) throw new APIError(await resp.json());
      actionsCache = (await resp.json()).Actions;
    } catch (e) { errs.append(errorBox(e)); return; }
  }
  const byProduct = {};
  for (const a of actionsCache) {
    const group = a.Extension ? 'kafkaplane extensions' : a.Product;
    (byProduct[group] = byProduct[group] || []).push(a);
  }
  const sel = el('select', { id: 'explorer-action' }, Object.keys(byProduct).sort().map(g => el('optgroup', { label: g },
    byProduct[g].map(a => el('option', { value: a.Version + '/' + a.Name }, a.Name)))));
  const info = el('p', { class: 'note', id: 'explorer-info' });
  const form = el('form', { id: 'explorer-form' });
  const out = el('div', { id: 'explorer-out' });
  view.append(el('div', { class: 'grid2' },
    el('section', { class: 'card' }, el('label', { for: 'explorer-action' }, 'Action'), sel, info, form),
    el('section', { class: 'card' }, el('h2', {}, 'Request and response'), out)));
  function build() {
    const [v, n] = sel.value.split('/');
    const a = actionsCache.find(x => x.Version === v && x.Name === n);
    info.replaceChildren('RAM action ', el('code', {}, a.RAMAction || '—'), ' on ', el('code', {}, a.Resource), a.Regional ? ' · regional (RegionId ' + session.RegionId + ' unless given)' : '');
    const fields = a.Params.map(p => {
      const hint = p.Kind === 'Integer' ? ` (${p.Min}–${p.Max})` : p.Kind === 'RepeatList' ? ' (comma-separated)' : p.Kind === 'TagList' ? ' (key=value, one a line)' : '';
      const attrs = { name: p.Name, 'data-kind': p.Kind, required: p.Required, 'aria-required': p.Required ? 'true' : null };
      if (p.Enum) return field(p.Name + hint, Object.assign(attrs, { tag: 'select', options: [['', '(not set)']].concat(p.Enum.map(x => [x, x])) }));
      if (p.Kind === 'Boolean') return field(p.Name, Object.assign(attrs, { tag: 'select', options: [['', '(not set)'], ['true', 'true'], ['false', 'false']] }));
      if (p.Kind === 'Integer') return field(p.Name + hint, Object.assign(attrs, { type: 'number', min: p.Min, max: p.Max }));
      if (p.Kind === 'JSON' || p.Kind === 'TagList') return field(p.Name + hint, Object.assign(attrs, { tag: 'textarea' }));
      return field(p.Name + hint, Object.assign(attrs, { maxlength: p.MaxLen || null }));
    });
    if (a.Regional) fields.push(field('RegionId', { name: 'RegionId', placeholder: session.RegionId }));
    form.replaceChildren(...fields, el('button', { type: 'submit', id: 'explorer-send' }, 'Send as ' + session.AccessKeyId));
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const params = {};
      for (const e of form.elements) {
        if (!e.name || e.value === '') continue;
        const kind = e.dataset.kind;
        if (kind === 'RepeatList') e.value.split(',').map(x => x.trim()).filter(Boolean).forEach((x, i) => { params[e.name + '.' + (i + 1)] = x; });
        else if (kind === 'TagList') e.value.split('\n').map(x => x.trim()).filter(Boolean).forEach((x, i) => {
          const [k, ...rest] = x.split('=');
          params[e.name + '.' + (i + 1) + '.Key'] = k;
          if (rest.length) params[e.name + '.' + (i + 1) + '.Value'] = rest.join('=');
        });
        else params[e.name] = e.value;
      }
      out.replaceChildren(el('p', { class: 'note' }, 'Sending…'));
      let res;
      try { res = await call(a.Name, params, a.Version); } catch (e) { out.replaceChildren(errorBox(e)); return; }
      const copy = el('button', { type: 'button', class: 'small secondary', id: 'copy-cli' }, 'Copy');
      const cli = el('pre', { id: 'explorer-cli' }, res.Call);
      copy.addEventListener('click', async () => {
        try { await navigator.clipboard.writeText(res.Call); copy.textContent = 'Copied'; } catch (e) {
          const r = document.createRange(); r.selectNodeContents(cli); getSelection().removeAllRanges(); getSelection().addRange(r);
        }
      });
      out.replaceChildren(
        res.Status !== 200 ? errorBox(new APIError(res)) : el('p', { role: 'status' }, el('span', { class: 'badge s-done' }, 'HTTP 200')),
        el('h2', {}, 'Command line'), el('div', { class: 'cli' }, cli, copy),
        el('h2', {}, 'Parameters'), el('pre', {}, JSON.stringify(params, null, 2)),
        el('h2', {}, 'Signed request'), el('pre', {}, res.Request.Method + ' ' + res.Request.URL + '\n' + Object.entries(res.Request.Headers).map(([k, v]) => k + ': ' + v).join('\n')),
        el('h2', {}, 'String to sign'), el('pre', { id: 'explorer-sts' }, res.Request.StringToSign),
        el('details', {}, el('summary', {}, 'Canonical request'), el('pre', {}, res.Request.CanonicalRequest)),
        el('h2', {}, 'Response (HTTP ' + res.Status + ')'), el('pre', { id: 'explorer-response' }, JSON.stringify(res.Response, null, 2)));
    };
  }
  sel.addEventListener('change', build);
  const first = actionsCache.find(x => x.Name === 'GetInstanceList');
  if (first) sel.value = first.Version + '/' + first.Name;
  build();
}

start();
